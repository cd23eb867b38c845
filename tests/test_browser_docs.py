"""The API's documentation pages in real Chromium: drawn from the app's own files, under its own
Content-Security-Policy, with no request leaving the app (an offline machine shows them too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app_server import AppServer

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])  # /redoc leads to /docs
async def test_docs_draw_from_the_app_alone(browser, app: AppServer, path: str):  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    requested: list[str] = []
    console: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    await page.goto(f"{app.url}{path}")
    # Swagger UI lists the operations, the token route among them.
    token = page.locator(".opblock-summary-path[data-path='/api/v1/auth/token']")
    await token.wait_for(timeout=30_000)
    assert await page.locator(".opblock").count() > 10
    assert page.url == f"{app.url}/docs"
    await page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"docs{path.replace('/', '-')}.png")
    assert f"{app.url}/openapi.json" in requested
    outside = [url for url in requested if not url.startswith(f"{app.url}/")]
    assert not outside, f"requests leaving the app: {outside}"
    blocked = [line for line in console if "Content Security Policy" in line]
    assert not blocked, blocked
    assert not [line for line in console if line.startswith(("error", "pageerror"))], console
