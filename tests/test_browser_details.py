"""Real Chromium on the finishing details: search marks the words it found (Latin and
Chinese) in snippets that wrap instead of being cut, the message box hides what scrolls under
it, a phone's action buttons are finger-sized, and the usage page draws its chart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_a11y import audit
from tests.test_browser_chat import ARTIFACTS, set_up

LONG = (
    "When the table grows past a few million rows, a covering index on the columns the "
    "query filters by keeps the lookups fast, and the planner can skip the table entirely."
)
CHINESE = "我们今天讨论数据库索引的设计和查询优化，以及如何避免全表扫描带来的性能问题"

# Every visible message action and topic menu button: its box, and what it is.
TARGETS = """() => [...document.querySelectorAll('.message-actions .q-btn, .topic-menu')]
  .filter((b) => b.getClientRects().length > 0 && getComputedStyle(b).visibility !== 'hidden')
  .map((b) => { const r = b.getBoundingClientRect();
                return [b.getAttribute('aria-label'), r.width, r.height]; })"""


async def ask(page: Any, text: str, answer: str, fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(answer))
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.keyboard.press("Enter")
    await page.get_by_text(answer[:30]).first.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Send").wait_for()


async def new_chat(page: Any) -> None:
    await page.get_by_role("button", name="New chat").click()
    await page.get_by_text("How can I help?").wait_for()


async def search(page: Any, words: str) -> Any:
    """The first hit's snippet, once the search has answered."""
    await page.get_by_label("Search chats").fill(words)
    await page.get_by_role("status").get_by_text(re.compile("found")).wait_for()
    return page.locator(".search-snippet").first


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_search_marks_its_words_and_wraps_long_snippets(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI, scheme: str
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, color_scheme=scheme
    )
    page = await context.new_page()
    await set_up(page, app)
    await ask(page, "Tell me about database indexes", LONG, fake)
    await new_chat(page)
    await ask(page, "用中文说", CHINESE, fake)
    await new_chat(page)

    snippet = await search(page, "covering index")
    await snippet.wait_for()
    marks = await snippet.locator("mark").all_inner_texts()
    assert [m.lower() for m in marks] == ["covering", "index"]  # not "index" inside "indexes"
    lines = await snippet.evaluate(
        "(el) => Math.round(el.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(el).lineHeight))"
    )
    assert lines == 2  # wrapped to two lines, not cut at the sidebar's edge
    width = await snippet.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert width[0] <= width[1]
    ARTIFACTS.mkdir(exist_ok=True)
    await page.locator(".chat-drawer").screenshot(path=ARTIFACTS / f"search-marks-{scheme}.png")
    assert await audit(page, f"search ({scheme})") == []

    await search(page, "索引")
    snippet = page.locator(".search-snippet", has_text=CHINESE[:4])
    await snippet.locator("mark").first.wait_for()
    assert await snippet.locator("mark").all_inner_texts() == ["索引"]

    # Hostile text stays text: the snippet is escaped, the only tags are the marks.
    await page.get_by_label("Search chats").fill("")
    await ask(page, "<img src=x onerror=alert(1)> about script tags", "<b>bold</b> script", fake)
    await search(page, "script")
    snippet = page.locator(".search-snippet", has_text="bold")
    await snippet.locator("mark").first.wait_for()
    assert await snippet.locator("img, b").count() == 0
    assert "<b>bold</b>" in await snippet.inner_text()


async def test_phone_buttons_are_finger_sized_and_the_box_is_opaque(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    await set_up(page, app)
    await ask(page, "first", "Fine.", fake)
    fake.enqueue(Reply("Another version."))
    await page.get_by_role("button", name="Regenerate reply").click()
    await page.get_by_text("Another version.").wait_for()
    await page.get_by_role("button", name="Send").wait_for()
    targets = await page.evaluate(TARGETS)
    assert len(targets) >= 4, targets  # copy, edit, copy, regenerate, and the version arrows
    small = [t for t in targets if t[1] < 40 or t[2] < 40]
    assert not small, small
    await page.screenshot(path=ARTIFACTS / "phone-actions.png")
    await page.get_by_role("button", name="Show or hide topics").click()
    await page.locator(".topic-menu").first.wait_for()
    await page.wait_for_timeout(400)  # the drawer slides in
    targets = await page.evaluate(TARGETS)
    assert any(label and label.startswith("Options for") for label, _, _ in targets)
    small = [t for t in targets if t[1] < 40 or t[2] < 40]
    assert not small, small

    # The message box's background is opaque: nothing shows through it.
    background = await page.locator(".chat-footer").evaluate(
        "(el) => getComputedStyle(el).backgroundColor"
    )
    assert background in ("rgb(255, 255, 255)", "rgb(18, 18, 18)"), background


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_usage_page_draws_a_chart(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI, scheme: str
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=scheme
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await ask(page, "count my tokens", "Counted.", fake)
    await page.goto(f"{app.url}/usage")
    chart = page.get_by_role("img", name=re.compile("Chart of the tokens"))
    await chart.locator("canvas").wait_for()
    box = await chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] >= 300
    # Drawn: the canvas has pixels of more than one colour (bars, axes, labels).
    colours = await chart.locator("canvas").evaluate(
        """(canvas) => { const data = canvas.getContext('2d')
             .getImageData(0, 0, canvas.width, canvas.height).data;
           const seen = new Set();
           for (let i = 0; i < data.length; i += 4 * 97) seen.add(data.slice(i, i + 4).join());
           return seen.size; }"""
    )
    assert colours > 3
    await page.screenshot(path=ARTIFACTS / f"usage-chart-{scheme}.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.wait_for_timeout(300)
    await page.screenshot(path=ARTIFACTS / f"usage-chart-{scheme}-phone.png", full_page=True)
    assert await audit(page, f"usage ({scheme})") == []
    assert not errors
