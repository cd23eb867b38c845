"""Concurrency: 100 replies streamed at once through the API of one chatapp process.

The fake model server (its own process) sends each reply at 50 chunks a second. Figures: how
many complete, the event-loop lag inside chatapp while they stream (its probe, p50 / p99),
and the rate at which text reaches the clients against the rate the fake sent it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Figure,
    api_client,
    app_server,
    fake_server,
    median,
    new_topic,
    percentile,
    sent_times,
    stream_reply,
    write_results,
)
from chatapp.probe import read_samples

STREAMS = 100
CHUNKS = 400  # 8 seconds at 50 a second
CHUNK_SIZE = 8
DELAY = 0.02


def rate(times: list[float], chars: int) -> float:
    """Characters a second between the first and the last piece."""
    return chars / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


async def measure(probe: Path) -> dict[str, Any]:
    chars = CHUNKS * CHUNK_SIZE
    with (
        fake_server(chars=chars, chunk_size=CHUNK_SIZE, delay=DELAY) as fake,
        app_server(fake, CHATAPP_LOOP_PROBE=str(probe)) as (server, token),
    ):
        async with api_client(server, token) as client:
            topics = [await new_topic(client) for _ in range(STREAMS)]
            idle_start = time.monotonic()
            await asyncio.sleep(3)
            idle_end = start = time.monotonic()
            replies = await asyncio.gather(
                *(stream_reply(client, topic, "go") for topic in topics), return_exceptions=True
            )
            end = time.monotonic()
        sent = sent_times(fake)
        await asyncio.sleep(1.5)  # the probe writes once a second
        lags = read_samples(probe, start, end)
        idle_lags = read_samples(probe, idle_start, idle_end)
    ok = [r for r in replies if not isinstance(r, BaseException)]
    complete = [r for r in ok if r.status == "done" and r.chars == chars]
    received = [rate([at for at, _ in r.deltas], r.chars) for r in ok if r.deltas]
    sent_rates = [rate(times, len(times) * CHUNK_SIZE) for times in sent if times]
    return {
        "streams": STREAMS,
        "complete": len(complete),
        "failed": [repr(r) for r in replies if isinstance(r, BaseException)][:5],
        "seconds": round(end - start, 2),
        "lag_p50_ms": round(percentile(lags, 50), 2),
        "lag_p99_ms": round(percentile(lags, 99), 2),
        "lag_max_ms": round(max(lags), 2),
        "idle_lag_p99_ms": round(percentile(idle_lags, 99), 2),
        "samples": len(lags),
        "sent_chars_per_s": round(median(sent_rates), 1),
        "received_chars_per_s": round(median(received), 1),
        "delivered_ratio": round(sum(received) / sum(sent_rates), 4),
        "first_token_ms_p50": round(median([r.first_token for r in ok if r.deltas]) * 1000, 1),
    }


def main() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as folder:
        got = asyncio.run(measure(Path(folder) / "lag.txt"))
    print(
        f"concurrency: {STREAMS} replies at once, {CHUNKS} chunks each at "
        f"{1 / DELAY:.0f} a second, through the API"
    )
    print(f"  complete: {got['complete']}/{STREAMS} in {got['seconds']} s")
    print(
        f"  event-loop lag: p50 {got['lag_p50_ms']} ms, p99 {got['lag_p99_ms']} ms, "
        f"max {got['lag_max_ms']} ms ({got['samples']} samples; idle p99 "
        f"{got['idle_lag_p99_ms']} ms)"
    )
    print(
        f"  rate per stream: fake sent {got['sent_chars_per_s']} chars/s, clients got "
        f"{got['received_chars_per_s']} chars/s: {got['delivered_ratio']:.1%} delivered"
    )
    figures = [
        Figure(f"concurrency: replies complete of {STREAMS}", got["complete"], "", STREAMS, ">="),
        Figure("concurrency: event-loop lag p50", got["lag_p50_ms"], "ms"),
        Figure("concurrency: event-loop lag p99", got["lag_p99_ms"], "ms", 50),
        Figure(
            "concurrency: delivered rate of sent",
            round(got["delivered_ratio"] * 100, 1),
            "%",
            95,
            ">=",
        ),
    ]
    write_results("concurrency", got, figures)
    return figures


if __name__ == "__main__":
    main()
