"""`make bench`: run every benchmark, then print one table of all figures with their targets.

Each benchmark measures chatapp against a baseline in the same run and writes its figures to
benchmarks/results/<name>.json; the table goes to results/summary.json too. Nothing here
passes or fails on time: a missed target is a "NO" in the table, and the run goes on.
`python -m benchmarks store relay` runs only those.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from datetime import UTC, datetime

from benchmarks.common import RESULTS, Figure, table

ALL = ["render", "store", "relay", "thinking", "concurrency", "long_topic", "memory"]


def machine() -> str:
    cores = len(__import__("os").sched_getaffinity(0))
    with open("/proc/meminfo") as meminfo:
        total = int(meminfo.readline().split()[1]) / 1024 / 1024
    return f"{cores} cores, {total:.0f} GiB, Python {platform.python_version()}"


def main(names: list[str]) -> None:
    figures: list[Figure] = []
    started = time.monotonic()
    for name in names:
        print(f"\n== {name} ==", flush=True)
        begun = time.monotonic()
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            figures.extend(module.main())
        except Exception:
            traceback.print_exc()
            figures.append(Figure(f"{name}: the benchmark failed (see above)", None, ""))
        print(f"({name}: {time.monotonic() - begun:.0f} s)", flush=True)
    elapsed = time.monotonic() - started
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"\nchatapp benchmarks, {when}, {machine()}, {elapsed / 60:.1f} min\n")
    print(table(figures))
    missed = [f.name for f in figures if f.met is False]
    print(f"\n{len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else ""))
    RESULTS.mkdir(exist_ok=True)
    summary = {
        "date": when,
        "machine": machine(),
        "minutes": round(elapsed / 60, 1),
        "figures": [f.as_dict() for f in figures],
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2))


main(sys.argv[1:] or ALL)
