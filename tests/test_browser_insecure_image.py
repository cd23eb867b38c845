"""An image at an http:// address in a reply, in real Chromium: said to be blocked as insecure,
not offered as a "click to load" that the page's own policy would then refuse."""

from __future__ import annotations

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import set_up


async def test_an_http_image_is_said_to_be_insecure(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("A cat: ![cat](http://img.example/cat.png) and that is all."))
    page = await browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await set_up(page, app)
    await page.get_by_label("Message").fill("Show me a cat")
    await page.keyboard.press("Enter")
    reply = page.locator("[data-role=assistant] .markdown").last
    await reply.get_by_text("that is all").wait_for()
    notice = reply.locator(".image-blocked")
    assert await notice.inner_text() == (
        "Image from img.example not shown: its address is not secure (http)"
    )
    assert await reply.locator(".image-placeholder, img").count() == 0
    assert not [line for line in console if "Content Security Policy" in line]
