"""Hostile replies streamed through the fake model server into real Chromium: each finishes
on the page, the page never scrolls sideways (desktop and phone), and the server keeps
answering other clients meanwhile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.hostile_markdown import CORPUS
from tests.test_browser_chat import set_up

ARTIFACTS = Path(__file__).parent / "artifacts"
CASES = [
    "backticks after a word",
    "list nested 400 deep",
    "link openers",  # past the budget: shown as plain text
    "table 60 columns",
    "word of 30000 letters",
    "chinese table 40 columns",
    "code line of 20000 characters",
    "quote nested 3000 deep",
]
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# What sticks out past the right edge, for the failure message.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(-5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"""


async def keep_asking(url: str, answered: list[float], stop: asyncio.Event) -> None:
    """Another client: /healthz again and again, each answer's time noted."""
    async with httpx.AsyncClient(timeout=60) as client:
        while not stop.is_set():
            response = await client.get(f"{url}/healthz")
            assert response.status_code == 200
            answered.append(time.monotonic())
            await asyncio.sleep(0.05)


async def test_hostile_replies_finish_and_the_page_holds(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    answered: list[float] = []
    stop = asyncio.Event()
    other_client = asyncio.create_task(keep_asking(app.url, answered, stop))
    replies = page.locator("[data-role=assistant]")
    try:
        for n, name in enumerate(CASES):
            text = CORPUS[name]
            fake.enqueue(Reply(text, chunk_size=max(8, len(text) // 150), delay=0.01))
            await page.get_by_role("textbox", name="Message").fill(f"Case {n}: {name}")
            await page.keyboard.press("Enter")
            started = time.monotonic()
            await replies.nth(n).wait_for(timeout=30_000)
            # Finished: drawn as a stored reply (with its actions), no longer live.
            await (
                replies.nth(n)
                .get_by_role("button", name="Regenerate reply")
                .wait_for(timeout=60_000)
            )
            ended = time.monotonic()
            assert any(started < at < ended for at in answered), f"{name}: no other answer"
            assert await replies.nth(n).locator(".markdown").inner_text(), f"{name}: empty"
            assert await page.evaluate(SIDEWAYS) <= 0, f"{name}: the page scrolls sideways"
    finally:
        stop.set()
        await other_client
    assert await replies.count() == len(CASES)
    assert await page.locator(".md-plain-note").count() >= 1  # the case past the budget
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "hostile-desktop.png")
    fallback = page.locator("[data-role=assistant]").filter(has=page.locator(".md-plain"))
    await fallback.first.screenshot(path=ARTIFACTS / "hostile-plain-text.png")
    for width, theme in [(390, "light"), (390, "dark"), (1280, "dark")]:
        await page.set_viewport_size({"width": width, "height": 844 if width < 500 else 800})
        await page.reload()  # as a phone opens it: the sidebar folded away
        await replies.last.get_by_role("button", name="Regenerate reply").wait_for()
        if theme == "dark":
            await page.evaluate("document.body.classList.add('body--dark')")
        assert await page.evaluate(SIDEWAYS) <= 0, (
            f"{width} px {theme}: scrolls sideways, past the edge: "
            + str(await page.evaluate(WIDEST))
        )
        await page.screenshot(path=ARTIFACTS / f"hostile-{width}-{theme}.png")
    assert not errors
