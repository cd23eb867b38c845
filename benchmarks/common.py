"""What the benchmarks share: figures with targets, the results folder, the fake model server
and the real app in their own processes, an SSE client, Chromium, percentiles and memory."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.app_server import AppServer, free_port
from tests.chromium import chromium

__all__ = ["chromium"]  # the benchmarks' Chromium is the tests' one

RESULTS = Path(__file__).parent / "results"
OWNER = ("bench@example.com", "bench password 1")


@dataclass
class Figure:
    """One measured figure and its target: `value <= limit` (or `>=`); no limit: for reading."""

    name: str
    value: float | None
    unit: str
    limit: float | None = None
    better: str = "<="
    note: str = ""

    @property
    def target(self) -> str:
        return "" if self.limit is None else f"{self.better} {self.limit:g} {self.unit}".strip()

    @property
    def met(self) -> bool | None:
        if self.limit is None or self.value is None:
            return None
        return self.value <= self.limit if self.better == "<=" else self.value >= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target": self.target, "met": self.met}


def write_results(name: str, data: dict[str, Any], figures: list[Figure]) -> None:
    """benchmarks/results/<name>.json: the raw figures and the table rows of one benchmark."""
    RESULTS.mkdir(exist_ok=True)
    body = {"measured": data, "figures": [f.as_dict() for f in figures]}
    (RESULTS / f"{name}.json").write_text(json.dumps(body, indent=2))


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "met?")]
    for f in figures:
        value = "n/a" if f.value is None else f"{f.value:,.{_digits(f.value)}f} {f.unit}".strip()
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append((f.name + (f" ({f.note})" if f.note else ""), value, f.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _digits(value: float) -> int:
    if value == int(value) and abs(value) >= 10:
        return 0
    return 2 if abs(value) < 100 else 1


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# ----- the fake model server, in its own process ----------------------------------------------


@contextmanager
def fake_server(
    *, chars: int, chunk_size: int, delay: float, reasoning_chars: int = 0
) -> Iterator[str]:
    """tests.fake_openai serving every chat request with one paced reply (thinking first, as
    `reasoning_content`, when `reasoning_chars`); yields its base URL.

    Its own process, so its pace does not depend on how busy the benchmark's client is.
    """
    port = free_port()
    command = [sys.executable, "-m", "tests.fake_openai", "--port", str(port)]
    command += ["--chars", str(chars), "--chunk-size", str(chunk_size), "--delay", str(delay)]
    command += ["--reasoning-chars", str(reasoning_chars)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=15)


def sent_times(base_url: str) -> list[list[float]]:
    """When the fake sent each text chunk (time.monotonic()), per chat request, oldest first."""
    root = base_url.removesuffix("/v1")
    return [entry["sent_at"] for entry in httpx.get(f"{root}/fake/sent", timeout=30).json()]


# ----- the real app, in its own process -------------------------------------------------------


@contextmanager
def app_server(fake_url: str, **env: str) -> Iterator[tuple[AppServer, str]]:
    """`chatapp` on a fresh data folder with an owner account; yields it and a bearer token."""
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as folder:
        data_dir = Path(folder) / "data"
        subprocess.run(
            [sys.executable, "-m", "chatapp", "user", "add", OWNER[0], "--password-stdin"],
            input=OWNER[1] + "\n",
            text=True,
            check=True,
            capture_output=True,
            env={**os.environ, "CHATAPP_DATA_DIR": str(data_dir)},
        )
        settings = {
            "OPENAI_BASE_URL": fake_url,
            "OPENAI_API_KEY": "bench",
            "CHATAPP_AUTO_TITLE": "false",
            "CHATAPP_REPLIES_PER_MINUTE": "100000",
            "CHATAPP_LOG_LEVEL": "WARNING",
            **env,
        }
        server = AppServer(data_dir, settings).start()
        try:
            login = httpx.post(
                f"{server.url}/api/v1/auth/token",
                data={"username": OWNER[0], "password": OWNER[1]},
                timeout=30,
            )
            login.raise_for_status()
            yield server, login.json()["access_token"]
        finally:
            server.stop()


def api_client(server: AppServer, token: str, **limits: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        limits=httpx.Limits(
            max_connections=limits.get("connections", 200),
            max_keepalive_connections=limits.get("connections", 200),
        ),
    )


async def new_topic(client: httpx.AsyncClient) -> str:
    response = await client.post("/topics", json={})
    response.raise_for_status()
    return str(response.json()["id"])


async def stream_reply(client: httpx.AsyncClient, topic_id: str, content: str) -> Reply:
    """POST a message and read the SSE reply; each delta's arrival time and text."""
    reply = Reply(sent=time.monotonic())
    async with client.stream(
        "POST", f"/topics/{topic_id}/messages", json={"content": content}
    ) as response:
        response.raise_for_status()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                if event == "delta":
                    reply.deltas.append((time.monotonic(), json.loads(line[5:])["text"]))
                elif event in ("done", "error"):
                    reply.status = event
    return reply


@dataclass
class Reply:
    """A streamed reply as a client saw it: when it asked, then each text piece's arrival."""

    sent: float
    deltas: list[tuple[float, str]] = field(default_factory=list)
    status: str = ""

    @property
    def first_token(self) -> float:
        return self.deltas[0][0] - self.sent

    @property
    def gaps(self) -> list[float]:
        times = [at for at, _ in self.deltas]
        return [b - a for a, b in itertools.pairwise(times)]

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.deltas)


# ----- Chromium -------------------------------------------------------------------------------


async def signed_in_page(browser: Any, server: AppServer) -> Any:
    """A new page signed in as the owner, on the new-chat page with its websocket up."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{server.url}/login")
    await page.wait_for_load_state("networkidle")
    await page.get_by_label("Email").fill(OWNER[0])
    await page.get_by_label("Password").fill(OWNER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")
    return page
