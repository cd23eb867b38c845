"""Thinking: how soon a thinking model's first thoughts show in the page, over a direct client.

The fake model server (its own process) thinks first: 400 characters of `reasoning_content`,
then a 400-character answer, a chunk every 20 ms. The baseline reads the thoughts directly
with `AsyncOpenAI`, taking turns with the page's sends as in the relay benchmark; the page's
figure is from Enter to the first change of the reply's thinking block.
"""

from __future__ import annotations

import asyncio
from typing import Any

from openai import AsyncOpenAI

from benchmarks.bench_relay import CHUNK_SIZE, CHUNKS, DELAY, direct, in_page, summary
from benchmarks.common import (
    Figure,
    api_client,
    app_server,
    chromium,
    fake_server,
    median,
    new_topic,
    write_results,
)

RUNS = 12
FIELD = "reasoning_content"


async def measure() -> dict[str, Any]:
    chars = CHUNKS * CHUNK_SIZE
    with (
        fake_server(chars=chars, chunk_size=CHUNK_SIZE, delay=DELAY, reasoning_chars=chars) as fake,
        app_server(fake) as (server, token),
    ):
        baseline: list[Any] = []
        sdk = AsyncOpenAI(base_url=fake, api_key="bench", max_retries=0)
        async with sdk, api_client(server, token) as client:
            topic = await new_topic(client)
            await direct(sdk, FIELD)  # warmed up: a connection open, code paths run once
            async with chromium() as browser:
                runs = await in_page(
                    browser, server, topic, sdk, baseline, runs=RUNS, part=".thinking", field=FIELD
                )
    first = [seen[0] - sent for sent, seen in runs if seen and sent is not None]
    return {
        "direct": summary(baseline),
        "page": {"first_thought_ms": round(median(first), 2), "runs": len(first)},
    }


def main() -> list[Figure]:
    got = asyncio.run(measure())
    direct_ms = got["direct"]["first_token_ms"]
    page_ms = got["page"]["first_thought_ms"]
    added = round(page_ms - direct_ms, 2)
    got["added_ms"] = added
    print(f"thinking: {CHUNKS} chunks of thought, then the answer; medians of {RUNS}")
    print(f"  direct AsyncOpenAI, first thought: {direct_ms} ms")
    print(f"  page, first thinking words shown:  {page_ms} ms (added {added} ms)")
    figures = [Figure("thinking: page first thought, added", added, "ms", 20)]
    write_results("thinking", got, figures)
    return figures


if __name__ == "__main__":
    main()
