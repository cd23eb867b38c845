"""The real MCP servers the tool tests run: mcp-server-time (PyPI) and the reference
server-everything (npm, installed by `make mcp-servers` into tools/mcp-everything), over
stdio and Streamable HTTP, and chatapp's own misbehaving test server.

A server that is not installed skips its tests on a developer's machine and fails them in
CI (`CI=true`), where `make test` installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.app_server import end

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = (
    ROOT / "tools/mcp-everything/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)


def missing(what: str) -> None:
    message = f"{what} is not installed: run `make mcp-servers` (make test does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def time_server() -> dict[str, object]:
    """mcp-server-time, from the dev extra, as a local command."""
    try:
        import mcp_server_time  # noqa: F401
    except ImportError:
        missing("mcp-server-time")
    return {"transport": "stdio", "command": sys.executable, "args": ["-m", "mcp_server_time"]}


def test_server() -> dict[str, object]:
    """tests/mcp_test_server.py: sleeps, crashes and answers too much on cue."""
    return {
        "transport": "stdio",
        "command": sys.executable,
        "args": ["-m", "tests.mcp_test_server"],
    }


def everything_stdio() -> dict[str, object]:
    node = _node()
    return {"transport": "stdio", "command": node, "args": [str(EVERYTHING), "stdio"]}


@contextmanager
def everything_http() -> Iterator[str]:
    """server-everything in its Streamable HTTP mode on a free port; yields its URL."""
    node = _node()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [node, str(EVERYTHING), "streamableHttp"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30  # a start-up guard, not a measurement
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("server-everything did not start in its streamableHttp mode")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        end(process, timeout=10)


def _node() -> str:
    import shutil

    node = shutil.which("node")
    if node is None or not EVERYTHING.exists():
        missing("@modelcontextprotocol/server-everything (and Node.js)")
    assert node is not None
    return node
