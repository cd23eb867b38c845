"""What the real app sends a browser: cookie flags and security headers, plain and behind TLS."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

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
