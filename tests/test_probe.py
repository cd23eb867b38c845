"""The event-loop lag probe writes samples a benchmark can window by time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from chatapp.probe import probe_loop, read_samples


async def test_the_probe_writes_lag_samples_and_flushes_them_when_cancelled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lag.txt"
    seen: list[float] = []
    start = time.monotonic()
    task = asyncio.create_task(probe_loop(path=path, observe=seen.append, flush_every=0.05))
    while len(seen) < 20:
        await asyncio.sleep(0.01)
    time.sleep(0.05)  # noqa: ASYNC251 (the point: a blocked loop: the next sample is late)
    while len(seen) < 25:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    samples = read_samples(path, start)
    assert len(samples) == len(seen)  # every sample reached the file, the last ones on cancel
    assert all(lag >= 0 for lag in samples)
    assert max(samples) >= 40  # the blocked 50 ms shows (a floor, never a ceiling on time)
    assert read_samples(path, start, start) == []  # a window outside the run is empty
