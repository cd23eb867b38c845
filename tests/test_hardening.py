"""What the real app sends a browser: cookie flags and security headers, plain and behind TLS."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from chatapp.app import MachineLane, add_machine_lane
from tests.app_server import run_app


@pytest.mark.parametrize("https_only", [False, True])
def test_the_session_cookie_is_httponly_lax_and_secure_behind_tls(
    data_dir: Path, https_only: bool
) -> None:
    env = {"CHATAPP_HTTPS_ONLY": "true"} if https_only else {}
    with run_app(data_dir=data_dir, env=env) as app:
        response = httpx.get(f"{app.url}/login")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("session=")
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert ("secure" in cookie.split("; ")) == https_only
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def test_pages_are_never_cached_but_their_static_files_are(data_dir: Path) -> None:
    """A page holds one user's data: no-store. The files it loads are the same for everyone, so
    a page opened again loads them from the browser's cache; NiceGUI's are versioned in their
    URL, so they never change under it."""
    with run_app(data_dir=data_dir) as app:
        page = httpx.get(f"{app.url}/login", follow_redirects=True)  # no account yet: /setup
        assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
        versioned = re.search(r'src="(/_nicegui/[^/"]+/static/quasar[^"]*\.js)"', page.text)
        assert versioned is not None
        nicegui = httpx.get(f"{app.url}{versioned[1]}")
        ours = [httpx.get(f"{app.url}{path}") for path in ("/static/app.css", "/static/app.js")]
    assert nicegui.status_code == 200 and "immutable" in nicegui.headers["cache-control"]
    for response in ours:
        assert response.status_code == 200
        assert "max-age=" in response.headers["cache-control"]
        assert "no-store" not in response.headers["cache-control"]


def test_api_health_and_metrics_requests_start_no_browser_session(data_dir: Path) -> None:
    """Only pages get a session cookie: a client without cookies (curl, a script, a health
    check) asking the API, /healthz or /metrics gets none, and with it no per-browser storage
    the server would keep. They still get the security headers and the JSON errors."""
    env = {"CHATAPP_METRICS_TOKEN": "metrics secret"}
    with run_app(data_dir=data_dir, env=env) as app:
        answers = [
            httpx.get(f"{app.url}/healthz"),
            httpx.get(f"{app.url}/metrics", headers={"Authorization": "Bearer metrics secret"}),
            httpx.get(f"{app.url}/api/v1/healthz"),
            httpx.get(f"{app.url}/api/v1/me"),  # no token: 401
        ]
        page = httpx.get(f"{app.url}/login")
    assert [a.status_code for a in answers] == [200, 200, 200, 401]
    for answer in answers:
        assert "set-cookie" not in answer.headers, answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert answers[3].json()["error"]["code"]
    assert page.headers["set-cookie"].startswith("session=")


def test_the_machine_lane_is_added_once_however_often_the_app_is_made() -> None:
    """In-process tests build the app on NiceGUI's one FastAPI app again and again: wrapping
    its middleware build each time nested the wrappers, and every build ran twice as often."""
    app = FastAPI()
    add_machine_lane(app)
    wrapped = app.build_middleware_stack
    add_machine_lane(app)
    assert app.build_middleware_stack is wrapped
    stack = app.build_middleware_stack()
    assert isinstance(stack, MachineLane) and not isinstance(stack.browser, MachineLane)
