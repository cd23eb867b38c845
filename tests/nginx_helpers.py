"""Run the shipped nginx config for real on loopback ports, with a throwaway certificate."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SHIPPED_CONF = Path(__file__).resolve().parent.parent / "packaging" / "nginx" / "chatapp.conf"
STICKY_UPSTREAM = SHIPPED_CONF.parent / "sticky-upstream.conf"
SHIPPED_UPSTREAM = """upstream chatapp {
    server 127.0.0.1:8080;
    keepalive 16;
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_cert(openssl: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day; returns (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _replace_once(text: str, old: str, new: str) -> str:
    """Swap one line of the shipped file; if it changed shape, say so rather than test less."""
    count = text.count(old)
    assert count == 1, f"expected {old!r} once in {SHIPPED_CONF.name}, found {count}"
    return text.replace(old, new)


def sticky(text: str, app_ports: Sequence[int]) -> str:
    """chatapp.conf changed as sticky-upstream.conf says: its upstream, the two add_header lines."""
    upstream = STICKY_UPSTREAM.read_text()
    shipped_servers = re.findall(r"^    server 127\.0\.0\.1:\d+;\n", upstream, re.M)
    assert len(shipped_servers) == 2, upstream
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in app_ports)
    upstream = upstream.replace("".join(shipped_servers), servers)
    text = _replace_once(text, SHIPPED_UPSTREAM, upstream)
    for line in ('# add_header Set-Cookie "chatapp_affinity=', "# add_header Strict-Transport"):
        text = _replace_once(text, line, line.removeprefix("# "))
    return text


def render_conf(
    *,
    http_port: int,
    https_port: int,
    app_ports: Sequence[int],
    cert: Path,
    key: Path,
) -> str:
    """The shipped server blocks with only addresses, ports and certificate paths changed.

    One app port: chatapp.conf as shipped. Several: with sticky-upstream.conf applied.
    """
    text = SHIPPED_CONF.read_text()
    if len(app_ports) > 1:
        text = sticky(text, app_ports)
    else:
        text = _replace_once(text, "server 127.0.0.1:8080;", f"server 127.0.0.1:{app_ports[0]};")
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        # A real site uses the default port, so its redirect needs none; this one does.
        ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
        ("/etc/letsencrypt/live/chat.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/chat.example.com/privkey.pem", str(key)),
    ]:
        text = _replace_once(text, old, new)
    return text


def main_conf(folder: Path, site: Path) -> str:
    """A minimal nginx.conf keeping pid, logs and temp files in `folder`, in the foreground."""
    # As root nginx would run its workers as `nobody`, who cannot enter pytest's tmp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
worker_processes 1;
worker_shutdown_timeout 5s;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} notice;
events {{ worker_connections 256; }}
http {{
    # Which process answered each request, for the tests of several processes.
    log_format upstream '$upstream_addr $status "$request" affinity=$cookie_chatapp_affinity';
    access_log {folder / "access.log"} upstream;
{temp}
    include {site};
}}
"""


@dataclass
class Nginx:
    http_port: int
    https_port: int
    folder: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def error_log(self) -> str:
        return (self.folder / "error.log").read_text()

    def access_log(self) -> list[str]:
        return (self.folder / "access.log").read_text().splitlines()


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    # Bounded by attempts rather than a clock threshold: nginx binds within milliseconds.
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx is not listening on {port}:\n{log.read_text()}")


@contextmanager
def run_nginx(
    nginx: str, openssl: str, folder: Path, *, app_port: int = 0, app_ports: Sequence[int] = ()
) -> Iterator[Nginx]:
    """Start nginx with the rendered shipped config; stop it gracefully afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_cert(openssl, folder)
    server = Nginx(http_port=free_port(), https_port=free_port(), folder=folder)
    site = folder / "chatapp.conf"
    site.write_text(
        render_conf(
            http_port=server.http_port,
            https_port=server.https_port,
            app_ports=list(app_ports) or [app_port],
            cert=cert,
            key=key,
        )
    )
    conf = folder / "nginx.conf"
    conf.write_text(main_conf(folder, site))
    check = subprocess.run(
        [nginx, "-t", "-q", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    log = folder / "error.log"
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(server.https_port, proc, log)
        yield server
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: finish open connections, then exit
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
