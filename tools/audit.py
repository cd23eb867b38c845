"""Known vulnerabilities in the locked dependencies (requirements.lock): `make audit`, run by CI.

pip-audit asks OSV (api.osv.dev) about every pinned release; where OSV answers, this runs
pip-audit and passes its verdict on. Where it does not (the machines CI runs on reach pypi.org
but no other host), the audit asks PyPI's JSON API instead. That API answers here only for a
project's newest release (`/pypi/<name>/json`; the per-release address gives 404), and its
`vulnerabilities` field is the record pip-audit's own PyPI service reads, which PyPI fills
from OSV. So:

- a pin that is its project's newest release is audited in full;
- a pin that PyPI has marked yanked fails the audit whatever the newest release is;
- a pin behind the newest release cannot be asked about here: it is listed, and `make lock`
  moves the pins forward (then `make test` proves the new set).

Exit status: 0 nothing known, 1 a vulnerability or a yanked pin, 2 the audit could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
OSV_URL = "https://api.osv.dev/v1/query"
PYPI_JSON = "https://pypi.org/pypi"
TRIES = 3
CONCURRENCY = 8


@dataclass
class Finding:
    name: str
    version: str
    newest: str = ""
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    yanked: str | None = None  # the reason PyPI gives, "" when it gives none

    @property
    def audited(self) -> bool:
        return Version(self.version) == Version(self.newest)


def read_lock(path: Path) -> list[tuple[str, str]]:
    """The `name==version` pins of a lock file, or SystemExit naming the line that isn't one."""
    pins = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise SystemExit(f"{path.name}:{number}: not a requirement: {error}") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise SystemExit(f"{path.name}:{number}: {line!r} is not pinned with ==")
        pins.append((requirement.name, specifiers[0].version))
    return pins


def reachable(url: str, timeout: float = 5.0) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=timeout).close()
    except OSError:
        return False
    return True


async def ask_pypi(client: httpx.AsyncClient, base: str, name: str, version: str) -> Finding:
    url = f"{base}/{canonicalize_name(name)}/json"
    for attempt in range(TRIES):
        try:
            response = await client.get(url)
            response.raise_for_status()
            data = response.json()
            break
        except (httpx.HTTPError, ValueError):
            if attempt == TRIES - 1:
                raise
            await asyncio.sleep(2**attempt)
    finding = Finding(name, version, newest=data["info"]["version"])
    files = data.get("releases", {}).get(version) or []
    if files and all(file.get("yanked") for file in files):
        finding.yanked = files[0].get("yanked_reason") or ""
    if finding.audited:
        reported = data.get("vulnerabilities") or []
        finding.vulnerabilities = [entry for entry in reported if not entry.get("withdrawn")]
    return finding


async def ask_all(base: str, pins: list[tuple[str, str]]) -> list[Finding]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:

        async def one(name: str, version: str) -> Finding:
            async with limit:
                return await ask_pypi(client, base, name, version)

        return await asyncio.gather(*(one(name, version) for name, version in pins))


def report(findings: list[Finding]) -> int:
    bad = 0
    for finding in findings:
        pin = f"{finding.name}=={finding.version}"
        for vulnerability in finding.vulnerabilities:
            bad += 1
            ids = ", ".join([vulnerability.get("id", "?"), *vulnerability.get("aliases", [])])
            fixed = ", ".join(vulnerability.get("fixed_in") or []) or "no fixed release yet"
            print(f"VULNERABLE {pin}: {ids} (fixed in {fixed}) {vulnerability.get('link', '')}")
        if finding.yanked is not None:
            bad += 1
            print(f"YANKED     {pin}: {finding.yanked or 'PyPI gives no reason'}")
    behind = [f for f in findings if not f.audited]
    for finding in behind:
        pin = f"{finding.name}=={finding.version}"
        print(f"not asked  {pin}: PyPI answers here only for {finding.newest}")
    audited = len(findings) - len(behind)
    print(
        f"{len(findings)} pins: {audited} audited through PyPI's JSON API (newest releases), "
        f"{len(behind)} behind the newest release and not asked about (`make lock` moves them "
        f"forward); {bad} problem(s) found"
    )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", nargs="?", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--osv-url", default=OSV_URL, help="OSV's query address, for pip-audit")
    parser.add_argument("--pypi-json", default=PYPI_JSON, help="PyPI's JSON API")
    args = parser.parse_args(argv)
    pins = read_lock(args.lock)
    if reachable(args.osv_url):
        print(f"auditing {len(pins)} pins with pip-audit against {args.osv_url}", flush=True)
        command = [sys.executable, "-m", "pip_audit", "--requirement", str(args.lock), "--no-deps"]
        command += ["--disable-pip", "--strict", "--progress-spinner", "off"]
        command += ["--vulnerability-service", "osv", "--osv-url", args.osv_url]
        return subprocess.call(command)
    print(f"{args.osv_url} cannot be reached: asking {args.pypi_json} instead", flush=True)
    try:
        findings = asyncio.run(ask_all(args.pypi_json, pins))
    except (httpx.HTTPError, ValueError) as error:
        print(f"the audit could not run: {args.pypi_json} gave {error!r}", file=sys.stderr)
        return 2
    return report(findings)


if __name__ == "__main__":
    sys.exit(main())
