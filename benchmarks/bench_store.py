"""Store: the first page of the topic list with message counts, for a user with 1,000 topics
and 100,000 messages, on SQLite (a real file) and on mongomock (MongoDB's stand-in here); and
search over those messages (Latin, Chinese, Japanese, Korean) on SQLite."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks.common import Figure, median, write_results
from services.store import Store, open_store
from tests.seed import conversation, owner, seed

TOPICS = 1_000
MESSAGES_PER_TOPIC = 100
RUNS = 30


# One message in eight of each kind. A letter that changes with the message follows 索引, so a
# two-letter search has hundreds of trigrams to ask for, as it would in a real history.
TEXTS = [
    "Message {i}: a line of ordinary chat text, about as long as a short question.",
    "第{i}条：我们今天讨论数据库索引{c}的设计和查询优化，以及缓存策略（cache）。",
    "Reply {i}: use a bulk insert and one transaction for the whole batch of rows.",
    "{i}番目：日本語テストの結果を確認して、次のリリースに備えます。",
    "Message {i}: how do I make the build faster on a machine with two cores?",
    "{i}번째: 데이터베이스를 백업하고 쿼리 성능을 측정했습니다.",
    "第{i}段：模型回答的内容需要按段落渲染，代码块要高亮显示。",
    "{i}: 请把这个函数改写成异步的，并加上类型注解和测试。",
]
SEARCHES = {  # name: query
    "latin_word": "ordinary",
    "latin_two_words": "bulk insert",
    "zh_4": "查询优化",
    "zh_2": "索引",
    "ja": "日本語テスト",
    "ko": "데이터",
    "mixed": "缓存 cache",
}


def text(index: int) -> str:
    return TEXTS[index % len(TEXTS)].format(i=index, c=chr(0x4E00 + index % 300))


async def timed(call: Callable[[], Awaitable[object]], runs: int = RUNS) -> float:
    """Median milliseconds of `call` over `runs` runs, after one warm-up."""
    await call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return median(times)


async def measure(store: Store) -> dict[str, float]:
    user = await owner(store, "bench@example.com")
    start = time.perf_counter()
    topics = [conversation(user.id, f"Topic {n}", MESSAGES_PER_TOPIC, text) for n in range(TOPICS)]
    await seed(store, topics)
    seeded = time.perf_counter() - start

    async def first_page() -> object:
        return await store.list_topics(user.id, limit=50)

    async def page_with_total() -> object:  # what GET /api/v1/topics does
        return await store.list_topics(user.id, limit=50), await store.count_topics(user.id)

    async def deep_page() -> object:
        return await store.list_topics(user.id, limit=50, offset=900)

    page = await store.list_topics(user.id, limit=50)
    assert len(page) == 50 and all(t.message_count == MESSAGES_PER_TOPIC for t in page)
    return {
        "seed_s": round(seeded, 1),
        "list_ms": round(await timed(first_page), 2),
        "list_with_total_ms": round(await timed(page_with_total), 2),
        "page_at_900_ms": round(await timed(deep_page), 2),
    }


async def searches(store: Store) -> dict[str, float]:
    """Median ms of each search of SEARCHES, over the data `measure` seeded."""
    user = await owner(store, "bench@example.com")
    got = {}
    for name, query in SEARCHES.items():
        hits = await store.search(user.id, query)
        assert hits, f"{query!r} found nothing"

        async def search(query: str = query) -> object:
            return await store.search(user.id, query)

        got[f"search_{name}_ms"] = round(await timed(search), 2)
    return got


async def on_sqlite() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as folder:
        store = await open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            return {**await measure(store), **await searches(store)}
        finally:
            await store.close()


async def on_mongomock() -> dict[str, float]:
    from mongomock_motor import AsyncMongoMockClient

    from services.store.mongo import MongoStore

    store = await MongoStore.open("mongodb://localhost/bench", client=AsyncMongoMockClient())
    try:
        return await measure(store)
    finally:
        await store.close()


def main() -> list[Figure]:
    sqlite = asyncio.run(on_sqlite())
    mongo = asyncio.run(on_mongomock())
    print(
        f"store: topic list of a user with {TOPICS:,} topics, "
        f"{TOPICS * MESSAGES_PER_TOPIC:,} messages"
    )
    print(f"  {'':12}{'seed s':>8}{'page ms':>10}{'+ total ms':>12}{'page 900 ms':>13}")
    for name, got in (("SQLite", sqlite), ("mongomock", mongo)):
        print(
            f"  {name:12}{got['seed_s']:>8}{got['list_ms']:>10}"
            f"{got['list_with_total_ms']:>12}{got['page_at_900_ms']:>13}"
        )
    print(f"search, SQLite, {TOPICS * MESSAGES_PER_TOPIC:,} messages: median ms")
    for name, query in SEARCHES.items():
        print(f"  {name:16}{query:14}{sqlite[f'search_{name}_ms']:>8}")
    slowest = max(SEARCHES, key=lambda name: sqlite[f"search_{name}_ms"])
    figures = [
        Figure("store: topic list + total, SQLite", sqlite["list_with_total_ms"], "ms", 20),
        Figure("store: topic list + total, mongomock", mongo["list_with_total_ms"], "ms"),
        Figure(
            "store: search 100k messages, SQLite, slowest query",
            sqlite[f"search_{slowest}_ms"],
            "ms",
            50,
            note=f"{slowest}: {SEARCHES[slowest]}",
        ),
        *(
            Figure(f"store: search, SQLite, {SEARCHES[name]}", sqlite[f"search_{name}_ms"], "ms")
            for name in ("latin_word", "zh_2", "zh_4")
        ),
    ]
    write_results("store", {"sqlite": sqlite, "mongomock": mongo}, figures)
    return figures


if __name__ == "__main__":
    main()
