"""Two chatapp processes behind nginx with sticky sessions, sharing one SQLite file and Redis.

As docs/scaling.md describes: nginx runs chatapp.conf with sticky-upstream.conf applied,
both processes use the same data folder (database and secrets) and the same
CHATAPP_REDIS_URL. A browser signs in on one process and is signed in on the other; a topic
made on either is listed by both. A third process without Redis is the control: the same
browser is signed out there, so it is Redis that carries the sign-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis

from tests.app_server import AppServer
from tests.conftest import require_tool
from tests.fake_openai import FakeOpenAI, Reply
from tests.nginx_helpers import Nginx, free_port, run_nginx

OWNER = ("owner@example.com", "correct horse battery")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a loopback port, keeping nothing on disk."""
    server = require_tool("redis-server")
    port = free_port()
    log = tmp_path / "redis.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        for _ in range(200):  # bounded by attempts: redis binds within milliseconds
            assert proc.poll() is None, log.read_text()
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"redis-server does not answer:\n{log.read_text()}")
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def log_lines(proxy: Nginx, enough: Callable[[list[str]], bool]) -> list[str]:
    """The access log once `enough` holds for it: nginx writes a line after the response
    has gone (and for a websocket, once it closes), so the client can be a step ahead."""
    for _ in range(200):  # bounded by attempts
        lines = proxy.access_log()
        if enough(lines):
            return lines
        time.sleep(0.05)
    raise AssertionError(f"the access log never got there:\n{lines[-20:]}")


def upstream_of(proxy: Nginx, affinity: str) -> str:
    """The app address nginx sent the (last) request carrying this affinity cookie to."""
    mark = f" affinity={affinity}"
    lines = log_lines(proxy, lambda lines: any(line.endswith(mark) for line in lines))
    return [line for line in lines if line.endswith(mark)][-1].split()[0]


def affinity_for_each(proxy: Nginx, ports: list[int]) -> dict[int, str]:
    """One affinity cookie value that nginx routes to each port (found by asking nginx)."""
    found: dict[int, str] = {}
    with httpx.Client(base_url=proxy.base, verify=False, timeout=10) as http:
        for i in range(64):
            value = f"probe{i}"
            http.get(
                "/chat/healthz", headers={"cookie": f"chatapp_affinity={value}"}
            ).raise_for_status()
            port = int(upstream_of(proxy, value).rsplit(":", 1)[1])
            found.setdefault(port, value)
            if len(found) == len(ports):
                return found
    raise AssertionError(f"nginx sent 64 different affinities to {found} only")


def check_new_browsers_stick(proxy: Nginx) -> None:
    """A new browser gets an affinity cookie, and its first request went where that leads.

    Eight new browsers: were the first request routed some other way, some of them would
    see their second request go to the other process (all eight alike by chance: 1 in 128).
    """
    for _ in range(8):
        before = len(proxy.access_log())
        with httpx.Client(base_url=proxy.base, verify=False, timeout=10) as http:
            value = http.get("/chat/healthz").cookies["chatapp_affinity"]
            http.get("/chat/healthz").raise_for_status()  # the client sends the cookie back
        first, second = log_lines(proxy, lambda lines, n=before: len(lines) >= n + 2)[-2:]
        assert first.endswith(" affinity=-") and second.endswith(f" affinity={value}")
        assert first.split()[0] == second.split()[0], (first, second)


def page_status(app: AppServer, cookies: str) -> tuple[int, str]:
    """GET / straight from one process with the browser's cookies: (status, redirect)."""
    response = httpx.get(f"{app.url}/", headers={"cookie": cookies}, timeout=10)
    return response.status_code, response.headers.get("location", "")


async def test_two_processes_share_sign_in_and_topics_through_redis(
    tmp_path: Path, data_dir: Path, fake: FakeOpenAI, redis_url: str, browser
) -> None:  # type: ignore[no-untyped-def]
    nginx, openssl = require_tool("nginx"), require_tool("openssl")
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "CHATAPP_AUTO_TITLE": "false",
        "CHATAPP_HTTPS_ONLY": "true",
        "CHATAPP_REDIS_URL": redis_url,
        "CHATAPP_REDIS_KEY_PREFIX": "test-chatapp:",
    }
    with ExitStack() as stack:
        # The same data folder: one SQLite file and one pair of secrets for both.
        first = AppServer(data_dir, env).start()
        stack.callback(first.stop)
        second = AppServer(data_dir, env).start()
        stack.callback(second.stop)
        proxy = stack.enter_context(
            run_nginx(nginx, openssl, tmp_path / "nginx", app_ports=[first.port, second.port])
        )
        session = await _browse(proxy, first, second, fake, browser, redis_url)
        # The control: a third process with the same database and secrets, but no Redis.
        no_redis = {k: v for k, v in env.items() if not k.startswith("CHATAPP_REDIS")}
        control = AppServer(data_dir, no_redis).start()
        stack.callback(control.stop)
        assert page_status(control, session) == (307, "/login"), "signed in without Redis?"
        for app in (first, second):
            assert page_status(app, session) == (200, "")
        assert "[crit]" not in proxy.error_log() and "[alert]" not in proxy.error_log()


async def _browse(  # type: ignore[no-untyped-def]
    proxy: Nginx, first: AppServer, second: AppServer, fake: FakeOpenAI, browser, redis_url: str
) -> str:
    """Sign in through nginx on the first process, then use the second; the session cookie."""
    base = f"{proxy.base}/chat"
    check_new_browsers_stick(proxy)
    affinity = affinity_for_each(proxy, [first.port, second.port])

    context = await browser.new_context(ignore_https_errors=True)
    problems: list[str] = []

    async def stick_to(app: AppServer) -> None:
        await context.add_cookies(
            [{"name": "chatapp_affinity", "value": affinity[app.port], "url": f"{base}/"}]
        )

    # Set up the owner and chat on the first process.
    await stick_to(first)
    page = await context.new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(f"{base}/")
    assert page.url == f"{base}/setup"
    await page.get_by_label("Your name").fill("Olivia")
    await page.get_by_label("Email").fill(OWNER[0])
    await page.get_by_label("Password", exact=True).fill(OWNER[1])
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")
    fake.enqueue(Reply("Answer from the first process"))
    await page.get_by_label("Message").fill("Hello from the first process")
    await page.keyboard.press("Enter")
    await page.get_by_text("Answer from the first process").wait_for()
    await page.get_by_role("button", name="Send").wait_for()  # the reply has finished

    # The same browser, now sent to the second process: still signed in, same topic list.
    await stick_to(second)
    await page.goto(f"{base}/")
    assert page.url == f"{base}/", "the second process sent the browser to sign in"
    topics = page.locator(".topic-list")
    await topics.get_by_text("Hello from the first process").wait_for()
    await page.wait_for_load_state("networkidle")  # keys pressed before it connects are lost
    fake.enqueue(Reply("Answer from the second process"))
    await page.get_by_label("Message").fill("Hello from the second process")
    await page.keyboard.press("Enter")
    await page.get_by_text("Answer from the second process").wait_for()
    await page.get_by_role("button", name="Send").wait_for()

    # And back: the first process lists the topic made on the second.
    await stick_to(first)
    await page.goto(f"{base}/")
    assert page.url == f"{base}/"
    await topics.get_by_text("Hello from the second process").wait_for()
    await topics.get_by_text("Hello from the first process").wait_for()

    # The sign-in lives in Redis, under the configured prefix.
    keys = redis.Redis.from_url(redis_url).keys("test-chatapp:user-*")
    assert keys, "no user storage in Redis"
    session = [c for c in await context.cookies() if c["name"] == "session"]
    assert len(session) == 1, session
    assert not problems, problems
    await context.close()

    # nginx really did send each phase to its process, websockets included (a websocket is
    # logged when it closes, as they all have now).
    def websocket_of_each(lines: list[str]) -> bool:
        return all(
            any(
                " 101 " in line and line.endswith(f"affinity={affinity[app.port]}")
                for line in lines
            )
            for app in (first, second)
        )

    log = log_lines(proxy, websocket_of_each)
    for app in (first, second):
        mine = [line for line in log if line.endswith(f"affinity={affinity[app.port]}")]
        assert {line.split()[0] for line in mine} == {f"127.0.0.1:{app.port}"}, mine
    return f"session={session[0]['value']}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/0", "CHATAPP_REDIS_URL: Value error, must start with redis://"),
        ("redis://127.0.0.1:{port}/0", "CHATAPP_REDIS_URL: Redis does not answer"),
    ],
)
def test_unusable_redis_stops_start_up_with_one_line(url: str, message: str) -> None:
    env = {**os.environ, "CHATAPP_REDIS_URL": url.format(port=free_port())}
    result = subprocess.run(
        [sys.executable, "-m", "chatapp", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"chatapp: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
