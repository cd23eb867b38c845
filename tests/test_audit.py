"""`make audit` (tools/audit.py): the lock's pins against fake OSV and PyPI servers on 127.0.0.1.

The real audit runs in CI (.ci/run) against pypi.org; these tests prove it finds what those
services report, through both of its paths: pip-audit against OSV, and PyPI's JSON API.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from tools import audit

Result = subprocess.CompletedProcess[str]

ROOT = Path(__file__).resolve().parent.parent

VULNERABILITY = {
    "id": "PYSEC-2099-1",
    "aliases": ["CVE-2099-0001"],
    "summary": "a hole",
    "fixed_in": ["2.1"],
    "link": "https://osv.dev/vulnerability/PYSEC-2099-1",
    "withdrawn": None,
}


def project(newest: str, *vulnerabilities: dict[str, Any], yanked: str = "") -> dict[str, Any]:
    """PyPI's JSON for a project whose newest release is `newest`; `yanked` pulls release 1.0."""
    releases = {newest: [{"yanked": False, "yanked_reason": None}]}
    if yanked:
        releases["1.0"] = [{"yanked": True, "yanked_reason": yanked}]
    return {"info": {"version": newest}, "releases": releases, "vulnerabilities": vulnerabilities}


# The same hole as OSV tells it: fixed releases come from the affected ranges.
OSV_RECORD = {
    "id": "GHSA-xxxx-yyyy-zzzz",
    "aliases": ["CVE-2099-0001"],
    "summary": "a hole",
    "details": "a hole in hole",
    "modified": "2099-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"name": "hole", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.1"}]}],
        }
    ],
}

PROJECTS = {
    "safe": project("1.0"),
    "hole": project("2.0", VULNERABILITY),
    "mended": project("3.0", {**VULNERABILITY, "withdrawn": "2099-01-02T00:00:00Z"}),
    "older": project("5.0"),
    "pulled": project("1.1", yanked="remote code execution"),
}


class Services(BaseHTTPRequestHandler):
    """PyPI's `/pypi/<name>/json` and OSV's `POST /v1/query`, from PROJECTS."""

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if self.server.pypi_down or len(parts) != 3 or parts[0] != "pypi" or parts[2] != "json":  # type: ignore[attr-defined]
            self.answer(404, {"message": "Not Found"})
        elif parts[1] in PROJECTS:
            self.answer(200, PROJECTS[parts[1]])
        else:
            self.answer(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = canonicalize_name(query["package"]["name"])
        vulns = []
        if name == "hole" and query["version"] == "2.0":
            vulns.append(OSV_RECORD)
        self.answer(200, {"vulns": vulns} if vulns else {})

    def answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def services() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Services)
    server.pypi_down = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_audit(server: ThreadingHTTPServer, lock: Path, *, osv: bool) -> Result:
    port = server.server_address[1]
    osv_url = f"http://127.0.0.1:{port if osv else closed_port()}/v1/query"
    command = [sys.executable, str(ROOT / "tools" / "audit.py"), str(lock), "--osv-url", osv_url]
    command += ["--pypi-json", f"http://127.0.0.1:{port}/pypi"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def lock_file(tmp_path: Path, *pins: str) -> Path:
    path = tmp_path / "requirements.lock"
    path.write_text("# a lock\n" + "".join(f"{pin}\n" for pin in pins))
    return path


def test_pypi_path_reports_vulnerable_and_yanked_pins_and_names_what_it_could_not_ask(
    services: ThreadingHTTPServer, tmp_path: Path
) -> None:
    lock = lock_file(tmp_path, "safe==1.0", "Hole==2.0", "mended==3.0", "older==4.0", "pulled==1.0")
    result = run_audit(services, lock, osv=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot be reached: asking" in result.stdout
    assert "VULNERABLE Hole==2.0: PYSEC-2099-1, CVE-2099-0001 (fixed in 2.1)" in result.stdout
    assert "YANKED     pulled==1.0: remote code execution" in result.stdout
    assert "not asked  older==4.0: PyPI answers here only for 5.0" in result.stdout
    assert "mended" not in result.stdout  # a withdrawn report is no finding
    assert "5 pins: 3 audited" in result.stdout and "2 problem(s) found" in result.stdout


def test_pypi_path_passes_a_clean_lock(services: ThreadingHTTPServer, tmp_path: Path) -> None:
    result = run_audit(services, lock_file(tmp_path, "safe==1.0", "mended==3.0"), osv=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 pins: 2 audited" in result.stdout and "0 problem(s) found" in result.stdout


def test_an_audit_nobody_answers_fails(services: ThreadingHTTPServer, tmp_path: Path) -> None:
    services.pypi_down = True  # type: ignore[attr-defined]
    result = run_audit(services, lock_file(tmp_path, "safe==1.0"), osv=False)
    assert result.returncode == 2
    assert "the audit could not run" in result.stderr


def test_osv_path_runs_pip_audit(services: ThreadingHTTPServer, tmp_path: Path) -> None:
    result = run_audit(services, lock_file(tmp_path, "safe==1.0", "hole==2.0"), osv=True)
    assert "auditing 2 pins with pip-audit" in result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^hole +2\.0 +CVE-2099-0001 +2\.1$", result.stdout, re.MULTILINE)
    assert "Found 1 known vulnerability in 1 package" in result.stderr


def test_osv_path_passes_a_clean_lock(services: ThreadingHTTPServer, tmp_path: Path) -> None:
    result = run_audit(services, lock_file(tmp_path, "safe==1.0"), osv=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerabilities found" in result.stderr


@pytest.mark.parametrize("line", ["nicegui>=3.0", "nicegui", "not a requirement!"])
def test_a_lock_line_that_is_not_a_pin_is_refused(tmp_path: Path, line: str) -> None:
    with pytest.raises(SystemExit, match=r"requirements\.lock:2: "):
        audit.read_lock(lock_file(tmp_path, line))


def test_the_tests_run_on_the_locked_set() -> None:
    """make test installs with the lock as constraints, so what is audited is what was tested."""
    pins = audit.read_lock(ROOT / "requirements.lock")
    assert len(pins) > 50
    names = {canonicalize_name(name) for name, _ in pins}
    assert {"nicegui", "openai", "motor", "aiosqlite", "pyjwt", "libpass", "nh3"} <= names
    differ = []
    for name, pinned in pins:
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            differ.append(f"{name}: locked {pinned}, installed {installed}")
    assert not differ, "run make test again (it reinstalls on a new lock): " + "; ".join(differ)
