"""The real app in a child process on a free 127.0.0.1 port, as an operator would run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    """`chatapp` started with `--port`; `start()` waits until /healthz answers."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    # Another entry point (tests.launch_server), more arguments, and a line for its stdin.
    module: str = "chatapp"
    args: list[str] = field(default_factory=list)
    stdin: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> AppServer:
        self.port = self.port or free_port()
        env = {**os.environ, "CHATAPP_DATA_DIR": str(self.data_dir), **self.env}
        env.pop("PYTEST_CURRENT_TEST", None)  # NiceGUI would think it runs inside pytest
        self.log = self.data_dir.parent / f"app-{self.port}.log"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "--port", str(self.port), *self.args],
                env={"CHATAPP_HOST": "127.0.0.1", **env},
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: stop() also ends a window it opened.
                start_new_session=True,
            )
        assert self.process.stdin is not None
        self.process.stdin.write(self.stdin.encode() + b"\n")
        self.process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chatapp exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"chatapp did not answer /healthz in {timeout} s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        if self.process is not None:
            end(self.process)
        if self.process is not None:
            # Whatever it started and left behind (a native window's process) goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to save anything."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text()


def end(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM, and SIGKILL when that was not enough within `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def run_app(*, data_dir: Path, env: dict[str, str] | None = None) -> Iterator[AppServer]:
    server = AppServer(data_dir, dict(env or {})).start()
    try:
        yield server
    finally:
        server.stop()
