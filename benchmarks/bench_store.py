"""Store: the first page of the topic list with message counts, for a user with 1,000 topics
and 100,000 messages, on SQLite (a real file) and on mongomock (MongoDB's stand-in here)."""

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


def text(index: int) -> str:
    return f"Message {index}: a line of ordinary chat text, about as long as a short question."


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


async def on_sqlite() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as folder:
        store = await open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            return await measure(store)
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
    figures = [
        Figure("store: topic list + total, SQLite", sqlite["list_with_total_ms"], "ms", 20),
        Figure("store: topic list + total, mongomock", mongo["list_with_total_ms"], "ms"),
    ]
    write_results("store", {"sqlite": sqlite, "mongomock": mongo}, figures)
    return figures


if __name__ == "__main__":
    main()
