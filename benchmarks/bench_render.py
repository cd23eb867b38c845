"""Render cost: naive whole-reply re-render per chunk vs. LiveMarkdown's frozen blocks; the
worker pool's round trip; and the event loop while the hostile corpus renders."""

from __future__ import annotations

import asyncio
import statistics
import time
from functools import cache

from benchmarks.common import Figure, write_results
from pages.live_markdown import TAIL_INTERVAL
from services.markdown import render_html
from services.markdown_blocks import BlockSplitter
from services.render_pool import Renderer
from tests.hostile_markdown import CORPUS

CHUNK = 20
CHUNK_INTERVAL = 0.010  # a fast model: one 20-character chunk every 10 ms


def realistic_reply(target: int = 20_000) -> str:
    """Prose, a list, a table and three code blocks, repeated to about `target` characters."""
    part = (
        "## Section {n}\n\nHere is an explanation with **bold**, *italic* and `inline code`, "
        "long enough to wrap across a couple of lines in the chat pane.\n\n"
        "- first point about the topic\n- second point, a little longer than the first\n"
        "- third point\n\n| name | value |\n| --- | --- |\n| alpha | 1 |\n| beta | 2 |\n\n"
        "```python\ndef compute_{n}(items: list[int]) -> int:\n    total = 0\n"
        "    for item in items:\n        total += item * {n}\n    return total\n```\n\n"
    )
    text, n = "", 0
    while len(text) < target:
        text += part.format(n=n)
        n += 1
    return text


def naive(text: str) -> tuple[float, int]:
    """What re-rendering a whole `ui.markdown` per chunk costs: CPU and bytes sent."""
    render = cache(render_html)  # a fresh cache, as the pool's cache serves blocks again
    sent, start = 0, time.process_time()
    for end in range(CHUNK, len(text) + CHUNK, CHUNK):
        sent += len(render(text[:end]).encode())
    return time.process_time() - start, sent


def live(text: str) -> tuple[float, int]:
    """LiveMarkdown's rules on a simulated clock: each finished block rendered and sent once;
    the tail with a newly finished block, or else at most once per TAIL_INTERVAL. Measured
    in-process: the CPU time of rendering itself, which the app spends in its workers."""
    render = cache(render_html)
    splitter = BlockSplitter()
    sent, clock, last_flush = 0, 0.0, -1.0
    start = time.process_time()
    for begin in range(0, len(text), CHUNK):
        clock += CHUNK_INTERVAL
        finished = splitter.feed(text[begin : begin + CHUNK])
        for block in finished:
            sent += len(render(block).encode())
        if finished or clock - last_flush >= TAIL_INTERVAL:
            sent += len(render(splitter.tail).encode())
            last_flush = clock
    sent += len(render(splitter.tail).encode())  # finish()
    return time.process_time() - start, sent


def throughput(size: int = 1_000_000) -> float:
    document = realistic_reply(size)
    start = time.perf_counter()
    asyncio.run(_render_once(document))
    return len(document) / (time.perf_counter() - start) / 1e6


async def _render_once(document: str) -> None:
    pool = Renderer(2)
    await pool.start()
    await pool.render("warm")  # a worker is up
    await pool.render(document)
    await pool.close()


async def _lag_while(work: asyncio.Future[object] | asyncio.Task[object]) -> list[float]:
    """How late the event loop wakes a 5 ms sleeper (ms) until `work` is done."""
    lags = []
    while not work.done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - before - 0.005) * 1000)
    return lags


async def hostile() -> dict[str, float]:
    """The hostile corpus through the pool (each case on its own, as replies come), with the
    loop's lag meanwhile; and the same corpus rendered on the loop, as before the pool."""
    pool = Renderer(2)
    await pool.start()
    await asyncio.gather(pool.render("warm"), pool.render("*warm*"))
    slowest = 0.0

    async def one(text: str) -> None:
        nonlocal slowest
        start = time.perf_counter()
        await pool.render(text)
        slowest = max(slowest, time.perf_counter() - start)

    async def corpus() -> None:
        for text in CORPUS.values():
            await one(text)

    lags = await _lag_while(asyncio.ensure_future(corpus()))
    small, direct = [], []
    for n in range(200):  # a small block's round trip, uncached, vs rendering it right here
        text = f"A *small* block number {n}, with `code`."
        start = time.perf_counter()
        await pool.render(text)
        small.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        render_html(text + " ")
        direct.append((time.perf_counter() - start) * 1000)
    await pool.close()

    async def on_loop() -> None:  # the old way: each case rendered in the app's own thread
        for name, text in CORPUS.items():
            if name != "link openers":  # seconds on its own; the others show the point
                render_html(text)
                await asyncio.sleep(0)

    baseline = await _lag_while(asyncio.ensure_future(on_loop()))
    return {
        "lag_p99_ms": _p99(lags),
        "lag_max_ms": max(lags),
        "baseline_lag_p99_ms": _p99(baseline),
        "baseline_lag_max_ms": max(baseline),
        "slowest_case_s": slowest,
        "small_block_ms": statistics.median(small),
        "small_block_in_process_ms": statistics.median(direct),
    }


def _p99(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * 0.99))]


def main() -> list[Figure]:
    text = realistic_reply()
    naive_cpu, naive_bytes = naive(text)
    live_cpu, live_bytes = live(text)
    figures = {
        "reply_chars": len(text),
        "naive_cpu_s": round(naive_cpu, 3),
        "naive_bytes": naive_bytes,
        "live_cpu_s": round(live_cpu, 3),
        "live_bytes": live_bytes,
        "cpu_ratio": round(live_cpu / naive_cpu, 4),
        "bytes_ratio": round(live_bytes / naive_bytes, 4),
        "render_mb_per_s": round(throughput(), 2),
    }
    rough = asyncio.run(hostile())
    figures.update({key: round(value, 3) for key, value in rough.items()})
    print(f"streaming render of a {len(text):,}-character reply in {CHUNK}-character chunks")
    print(f"  {'':22}{'CPU s':>10}{'bytes sent':>14}")
    print(f"  {'naive re-render':22}{naive_cpu:>10.3f}{naive_bytes:>14,}")
    print(f"  {'LiveMarkdown':22}{live_cpu:>10.3f}{live_bytes:>14,}")
    cpu, sent = figures["cpu_ratio"], figures["bytes_ratio"]
    print(f"  ratio (target <= 2 %): CPU {cpu:.2%}, bytes {sent:.2%}")
    print(f"render throughput, 1 MB document: {figures['render_mb_per_s']} MB/s")
    print(f"hostile corpus ({len(CORPUS)} cases) through the worker pool:")
    print(f"  event-loop lag p99 {rough['lag_p99_ms']:.1f} ms, max {rough['lag_max_ms']:.1f} ms")
    print(
        f"  rendered on the loop instead: p99 {rough['baseline_lag_p99_ms']:.1f} ms, "
        f"max {rough['baseline_lag_max_ms']:.1f} ms"
    )
    print(f"  slowest case to its HTML or fallback: {rough['slowest_case_s']:.3f} s")
    print(
        f"small block: {rough['small_block_ms']:.2f} ms through the pool, "
        f"{rough['small_block_in_process_ms']:.2f} ms rendered in-process (median)"
    )
    table = [
        Figure("render: CPU vs naive re-render", round(cpu * 100, 2), "%", 2),
        Figure("render: bytes vs naive re-render", round(sent * 100, 2), "%", 2),
        Figure("render: 1 MB document", figures["render_mb_per_s"], "MB/s"),
        Figure("render: loop lag p99, hostile corpus", figures["lag_p99_ms"], "ms", 50),
        Figure("render: slowest hostile case", figures["slowest_case_s"], "s", 1),
        Figure("render: small block via the pool", figures["small_block_ms"], "ms"),
    ]
    write_results("render", figures, table)
    return table


if __name__ == "__main__":
    main()
