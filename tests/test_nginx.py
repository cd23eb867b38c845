"""The shipped nginx site in front of the real app: TLS, /chat/ sub-path, websocket, streaming."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatapp.security import CONTENT_SECURITY_POLICY
from tests.app_server import AppServer, run_app
from tests.conftest import require_tool
from tests.fake_openai import FakeOpenAI, Reply
from tests.nginx_helpers import Nginx, run_nginx

OWNER = {"email": "owner@example.com", "password": "correct horse battery"}


@pytest.fixture
def app(fake: FakeOpenAI, data_dir: Path) -> Iterator[AppServer]:
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "CHATAPP_AUTO_TITLE": "false",
        # As docs/deployment.md says to run it behind TLS.
        "CHATAPP_HTTPS_ONLY": "true",
        "CHATAPP_FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


@pytest.fixture
def proxy(app: AppServer, tmp_path: Path) -> Iterator[Nginx]:
    nginx, openssl = require_tool("nginx"), require_tool("openssl")
    with run_nginx(nginx, openssl, tmp_path / "nginx", app_port=app.port) as server:
        yield server
    # nginx logs problems it handled on its own (a refused upgrade, a broken upstream) here.
    assert "[crit]" not in server.error_log() and "[alert]" not in server.error_log()


def client(proxy: Nginx) -> httpx.Client:
    # verify=False: the certificate is the test's own, self-signed.
    return httpx.Client(base_url=proxy.base, verify=False, timeout=10)


def test_plain_http_answers_307_to_https_with_the_same_path(proxy: Nginx) -> None:
    with httpx.Client() as http:
        response = http.post(
            f"http://127.0.0.1:{proxy.http_port}/chat/api/v1/auth/token?keep=1", json={"a": 1}
        )
    assert response.status_code == 307
    assert response.headers["location"] == f"{proxy.base}/chat/api/v1/auth/token?keep=1"


def test_app_answers_under_the_sub_path_with_security_headers_once(proxy: Nginx) -> None:
    with client(proxy) as http:
        health = http.get("/chat/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        page = http.get("/chat/")
    # NiceGUI puts the prefix back in front of redirects: / sends a new site to set-up.
    assert page.status_code in (302, 303, 307)
    assert page.headers["location"] == "/chat/setup"
    for name, value in [
        ("strict-transport-security", "max-age=63072000"),
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ]:
        assert health.headers.get_list(name) == [value], name


async def test_browser_sets_up_and_chats_through_nginx(
    proxy: Nginx, fake: FakeOpenAI, browser
) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(ignore_https_errors=True)
    page = await context.new_page()
    sockets: list[str] = []
    problems: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # A CSP violation is reported on the console, not as a page error.
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    await page.goto(f"{proxy.base}/chat/")
    assert page.url == f"{proxy.base}/chat/setup"
    await page.get_by_label("Your name").fill("Owner")
    await page.get_by_label("Email").fill(OWNER["email"])
    await page.get_by_label("Password", exact=True).fill(OWNER["password"])
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(f"{proxy.base}/chat/")

    words = [f"word{i}" for i in range(40)]
    fake.enqueue(Reply(" ".join(words), chunk_size=6, delay=0.05))
    await page.get_by_label("Message").fill("Hello through nginx")
    await page.get_by_label("Message").press("Enter")
    await page.wait_for_url(f"{proxy.base}/chat/topic/*")

    # Watch the reply grow: several different partial texts before the last word.
    reply = page.locator('[data-role="assistant"] .assistant-message').last
    seen: list[str] = []
    for _ in range(600):
        text = (await reply.text_content()) if await reply.count() else ""
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if words[-1] in text:
            break
        await asyncio.sleep(0.02)
    assert words[-1] in seen[-1], seen
    assert len(seen) >= 3, f"the reply did not stream, it arrived as {seen}"

    assert sockets and all(
        url.startswith(f"wss://127.0.0.1:{proxy.https_port}/chat/_nicegui_ws/") for url in sockets
    ), sockets
    # Topics switch in place under the sub-path too: the page stays (its marker), the address
    # keeps /chat/, and back goes where it was.
    topic_url = page.url
    await page.evaluate("window.__marker = 'kept'")
    await page.get_by_role("button", name="New chat").click()
    await page.wait_for_url(f"{proxy.base}/chat/")
    await page.get_by_text("How can I help?").wait_for()
    await page.get_by_role("link", name="Hello through nginx").click()
    await page.wait_for_url(topic_url)
    await reply.get_by_text(words[-1]).wait_for()
    await page.go_back()
    await page.wait_for_url(f"{proxy.base}/chat/")
    await page.get_by_text("How can I help?").wait_for()
    assert await page.evaluate("window.__marker") == "kept"

    assert not problems, problems
    assert fake.chats[-1].json["messages"][-1]["content"] == "Hello through nginx"
    await context.close()


def test_api_reply_streams_as_sse_through_nginx(
    proxy: Nginx, app: AppServer, fake: FakeOpenAI
) -> None:
    from tests.test_api import add_user, events

    add_user(app.data_dir, OWNER["email"], OWNER["password"])
    fake.enqueue(Reply("one two three four five six", chunk_size=4, delay=0.05))
    with client(proxy) as http:
        token = http.post(
            "/chat/api/v1/auth/token",
            data={"username": OWNER["email"], "password": OWNER["password"]},
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        topic = http.post("/chat/api/v1/topics", json={}).json()
        with http.stream(
            "POST", f"/chat/api/v1/topics/{topic['id']}/messages", json={"content": "count"}
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            received = list(events(response))
    deltas = [data["text"] for name, data in received if name == "delta"]
    assert len(deltas) >= 5 and "".join(deltas) == "one two three four five six"
    assert received[-1][0] == "done"
