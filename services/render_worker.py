"""A markdown worker process: blocks in on stdin, HTML out on stdout, each within a budget.

`services.render_pool` starts a few of these (`python -m services.render_worker BUDGET`) and
talks to each over its pipes. A frame is a 4-byte big-endian length, then that much JSON:
in, a list of markdown blocks; out, first `{"ready": true}` once the worker has imported and
warmed up, then for each list a list of `[html, plain]` pairs (`plain`: the block is
shown as escaped text, because rendering it raised or ran out of time), and `retire`: true
when the worker has grown and should be replaced.

The budget is a timer signal: it interrupts markdown2, Pygments and `re` alike (a regular
expression in catastrophic backtracking checks for signals), and the exception it raises
derives from BaseException, so no `except Exception` inside a library swallows it. An
interrupted render unwinds like any exception, so the worker goes on with the next block.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
from typing import BinaryIO

from services.markdown import plain_fallback, render_html, warm_up

# Peak resident memory (KiB on Linux) after which the worker asks to be replaced: a hostile
# block can make markdown2 allocate a lot, and CPython rarely gives that back to the system.
RETIRE_KIB = 400 * 1024


class OutOfTime(BaseException):
    """The block's budget ran out."""


def _alarm(signum: int, frame: object) -> None:
    raise OutOfTime


def render_within(text: str, budget: float) -> tuple[str, bool]:
    """`text` as HTML, or as escaped text when rendering raises or takes over `budget` s."""
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        return render_html(text), False
    except (OutOfTime, Exception):  # RecursionError, MemoryError, a library's own bug
        return plain_fallback(text), True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None  # the app closed our stdin: time to go
    return stream.read(int.from_bytes(head, "big"))


def write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(len(body).to_bytes(4, "big") + body)
    stream.flush()


def serve(budget: float, source: BinaryIO, sink: BinaryIO) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the app's to handle
    warm_up()
    write_frame(sink, b'{"ready": true}')  # the app starts timing our answers from here
    while (frame := read_frame(source)) is not None:
        results = [render_within(text, budget) for text in json.loads(frame)]
        retire = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > RETIRE_KIB
        write_frame(sink, json.dumps({"results": results, "retire": retire}).encode())
        if retire:
            return


def main(argv: list[str]) -> None:
    budget = float(argv[0]) if argv else 0.5
    serve(budget, sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
