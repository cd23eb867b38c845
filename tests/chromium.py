"""Debian's Chromium through Playwright, for the browser tests and the benchmarks alike.

Never a downloaded browser: /usr/bin/chromium, or CHATAPP_TEST_CHROMIUM.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

CHROMIUM = os.environ.get("CHATAPP_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@asynccontextmanager
async def chromium(path: str = CHROMIUM) -> AsyncIterator[Any]:
    """A headless Chromium, driven by Playwright's async API."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
