"""Memory: chatapp's resident size idle, and its growth over 1,000 streamed replies.

The growth is measured from after a warm-up of 100 replies (caches, pools and lazily imported
code are in place by then) to after 1,000 more, each streamed through the API.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from benchmarks.common import (
    Figure,
    api_client,
    app_server,
    fake_server,
    new_topic,
    rss_mb,
    stream_reply,
    write_results,
)

WARM_UP = 100
REPLIES = 1_000
AT_ONCE = 10


async def replies(client: httpx.AsyncClient, topics: list[str], count: int) -> int:
    """`count` replies, AT_ONCE at a time (one per topic); how many completed."""
    done = 0
    for start in range(0, count, AT_ONCE):
        batch = await asyncio.gather(
            *(stream_reply(client, topic, f"reply {start}") for topic in topics)
        )
        done += sum(r.status == "done" for r in batch)
    return done


async def measure() -> dict[str, Any]:
    with (
        fake_server(chars=200, chunk_size=8, delay=0.002) as fake,
        app_server(fake) as (server, token),
    ):
        assert server.process is not None
        pid = server.process.pid
        await asyncio.sleep(3)
        idle = rss_mb(pid)
        async with api_client(server, token) as client:
            topics = [await new_topic(client) for _ in range(AT_ONCE)]
            await replies(client, topics, WARM_UP)
            await asyncio.sleep(2)
            warm = rss_mb(pid)
            complete = await replies(client, topics, REPLIES)
            await asyncio.sleep(2)
            after = rss_mb(pid)
    return {
        "idle_mb": round(idle, 1),
        "warm_mb": round(warm, 1),
        "after_mb": round(after, 1),
        "growth_mb": round(after - warm, 1),
        "growth_from_idle_mb": round(after - idle, 1),
        "complete": complete,
    }


def main() -> list[Figure]:
    got = asyncio.run(measure())
    print("memory: resident size of the chatapp process")
    print(f"  idle after start:                {got['idle_mb']} MB")
    print(f"  after {WARM_UP} replies (warm):       {got['warm_mb']} MB")
    print(f"  after {REPLIES:,} more ({got['complete']} complete): {got['after_mb']} MB")
    figures = [
        Figure("memory: resident size idle", got["idle_mb"], "MB", 150),
        Figure(f"memory: growth over {REPLIES:,} replies", got["growth_mb"], "MB", 10),
    ]
    write_results("memory", got, figures)
    return figures


if __name__ == "__main__":
    main()
