"""Streaming render cost: naive whole-reply re-render per chunk vs. LiveMarkdown's frozen blocks."""

from __future__ import annotations

import time

from benchmarks.common import Figure, write_results
from pages.live_markdown import TAIL_INTERVAL
from services.markdown import CACHE, render
from services.markdown_blocks import BlockSplitter

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
    CACHE.clear()
    sent, start = 0, time.process_time()
    for end in range(CHUNK, len(text) + CHUNK, CHUNK):
        sent += len(render(text[:end]).encode())
    return time.process_time() - start, sent


def live(text: str) -> tuple[float, int]:
    """LiveMarkdown's rules on a simulated clock: each finished block rendered and sent once;
    the tail with a newly finished block, or else at most once per TAIL_INTERVAL."""
    CACHE.clear()
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
    CACHE.clear()
    start = time.perf_counter()
    render(document)
    return len(document) / (time.perf_counter() - start) / 1e6


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
    print(f"streaming render of a {len(text):,}-character reply in {CHUNK}-character chunks")
    print(f"  {'':22}{'CPU s':>10}{'bytes sent':>14}")
    print(f"  {'naive re-render':22}{naive_cpu:>10.3f}{naive_bytes:>14,}")
    print(f"  {'LiveMarkdown':22}{live_cpu:>10.3f}{live_bytes:>14,}")
    cpu, sent = figures["cpu_ratio"], figures["bytes_ratio"]
    print(f"  ratio (target <= 2 %): CPU {cpu:.2%}, bytes {sent:.2%}")
    print(f"render throughput, 1 MB document: {figures['render_mb_per_s']} MB/s")
    table = [
        Figure("render: CPU vs naive re-render", round(cpu * 100, 2), "%", 2),
        Figure("render: bytes vs naive re-render", round(sent * 100, 2), "%", 2),
        Figure("render: 1 MB document", figures["render_mb_per_s"], "MB/s"),
    ]
    write_results("render", figures, table)
    return table


if __name__ == "__main__":
    main()
