"""The event-loop lag probe: how late a 10 ms sleep wakes up, sampled all the time.

A busy loop (too much work between awaits) delays every page update and every SSE frame by
that much. With CHATAPP_LOOP_PROBE=<file> the probe appends one line per sample,
`<time.monotonic()> <lag in ms>`, written once a second, so a benchmark can take the
percentiles of any window of a run; with /metrics on, the lag also feeds the
`chatapp_event_loop_lag_seconds` histogram.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

INTERVAL = 0.01


async def probe_loop(
    *,
    path: Path | None = None,
    observe: Callable[[float], None] | None = None,
    interval: float = INTERVAL,
    flush_every: float = 1.0,
) -> None:
    """Run until cancelled: sample the lag of `asyncio.sleep(interval)`, in seconds."""
    lines: list[str] = []
    last_flush = time.monotonic()
    try:
        while True:
            before = time.monotonic()
            await asyncio.sleep(interval)
            now = time.monotonic()
            lag = max(0.0, now - before - interval)
            if observe is not None:
                observe(lag)
            if path is not None:
                lines.append(f"{now:.4f} {lag * 1000:.2f}\n")
                if now - last_flush >= flush_every:
                    _append(path, lines)
                    lines, last_flush = [], now
    finally:
        if path is not None and lines:
            _append(path, lines)


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a") as file:  # a few hundred short lines a second: not worth a thread
        file.writelines(lines)


def read_samples(path: Path, start: float = 0.0, end: float = float("inf")) -> list[float]:
    """The lags (ms) the probe wrote for samples taken between `start` and `end` (monotonic)."""
    samples = []
    for line in path.read_text().splitlines():
        at, _, lag = line.partition(" ")
        if start <= float(at) <= end:
            samples.append(float(lag))
    return samples
