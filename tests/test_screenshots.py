"""The README's pictures, taken from the real UI in Chromium (`make screenshots`)."""

from __future__ import annotations

from pathlib import Path

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import REPLY, set_up

SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


async def test_screenshots(browser, app: AppServer, fake: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport=SIZES["desktop"])
    page = await context.new_page()
    await set_up(page, app)
    for question in ("Plan a weekend in Lisbon", "Explain Python decorators", "Sourdough tips"):
        await page.get_by_label("Message").fill(question)  # a few topics for the sidebar
        await page.keyboard.press("Enter")
        await page.get_by_text(f"You said: {question}").wait_for()
        await page.get_by_role("button", name="New chat").click()
        await page.get_by_text("How can I help?").wait_for()
        await page.wait_for_load_state("networkidle")  # its websocket is up: keys count
    fake.enqueue(Reply(REPLY, chunk_size=40))
    await page.get_by_label("Message").fill("Show me an add function")
    await page.keyboard.press("Enter")
    await page.get_by_text("That is all.").wait_for()
    await page.get_by_role("button", name="Send").wait_for()
    topic_url = page.url
    cookies = await context.cookies()
    await context.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        for scheme in ("light", "dark"):
            shot = await browser.new_context(
                viewport=viewport, color_scheme=scheme, is_mobile=size == "phone"
            )
            await shot.add_cookies(cookies)
            view = await shot.new_page()
            await view.goto(topic_url)
            await view.get_by_text("That is all.").wait_for()
            dark = await view.evaluate("document.body.classList.contains('body--dark')")
            assert dark == (scheme == "dark")
            await view.screenshot(path=SCREENSHOTS / f"{size}-{scheme}.png")
            await shot.close()
