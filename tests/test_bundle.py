"""`make bundle`: PyInstaller builds the one-folder desktop bundle, and the bundle serves.

The build takes about a minute and a quarter on the 2-core CI machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chatapp import __version__
from tests.app_server import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_bundle_builds_and_answers_healthz(tmp_path: Path, data_dir: Path) -> None:
    build = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "native" / "build.py"), str(tmp_path / "dist")],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    program = tmp_path / "dist" / "chatapp" / "chatapp"
    assert program.is_file() and os.access(program, os.X_OK)

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["CHATAPP_DATA_DIR"] = str(data_dir)
    log = tmp_path / "bundle.log"
    with log.open("wb") as out:
        # With arguments the bundle is the chatapp command: here a server, no window.
        proc = subprocess.Popen(
            [str(program), "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,  # not this checkout: everything must come from the bundle
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = None
        for _ in range(600):  # bounded by attempts
            assert proc.poll() is None, log.read_text()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, log.read_text()
        assert health.json() == {"status": "ok", "database": "ok", "version": __version__}
        # The pages and their static files came along: a new site asks for its owner.
        first = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert first.status_code == 307 and first.headers["location"] == "/setup"
        setup = httpx.get(f"http://127.0.0.1:{port}/setup", timeout=10)
        assert setup.status_code == 200 and "chat.css" in setup.text
        css = httpx.get(f"http://127.0.0.1:{port}/static/chat.css", timeout=10)
        assert css.status_code == 200
        assert css.text == (ROOT / "pages" / "static" / "chat.css").read_text()
        assert (data_dir / "chatapp.db").is_file()
        # Its markdown workers are the bundle's own program, started as workers and ready.
        children = children_of(proc.pid)
        assert sum("--render-worker" in command for command in children) == 2, children
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def children_of(pid: int) -> list[str]:
    """The command lines of a process's children, read from /proc (other processes may end
    while it is read: they are skipped)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"PPid:\t{pid}\n" in status.read_text(errors="replace"):
                command = status.with_name("cmdline").read_bytes()
                found.append(command.replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found
