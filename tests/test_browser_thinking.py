"""Real Chromium: a thinking model's reasoning streams open above the answer, folds into
"Thought for N s" when the answer starts, and opens again by click or keyboard."""

from __future__ import annotations

from pathlib import Path

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import set_up

SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
ARTIFACTS = Path(__file__).parent / "artifacts"
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
REASONING = (
    "The user wants the **sum** of the first ten numbers. Gauss's trick: pair them up, "
    "1 + 10, 2 + 9 and so on, five pairs of 11.\n\n"
    "- five pairs\n- each 11\n\nSo 5 × 11 = 55. Let me double-check by adding them in order: "
    "1, 3, 6, 10, 15, 21, 28, 36, 45, 55. Yes. "
) * 2
ANSWER = "The sum of 1 to 10 is **55**: five pairs of 11 (1 + 10, 2 + 9, …)."


async def test_thinking_streams_then_folds_and_opens_again(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply(ANSWER, reasoning=REASONING, chunk_size=4, delay=0.02))
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await page.get_by_role("textbox", name="Message").fill("Add the numbers 1 to 10")
    await page.keyboard.press("Enter")

    block = page.locator("[data-role=assistant] details.thinking").last
    summary = block.locator("summary")
    await block.locator("strong").first.wait_for()  # thinking, rendered as markdown, live
    await block.locator("li").first.wait_for()  # a few lines in, for the picture
    assert await block.evaluate("details => details.open")
    assert (await summary.inner_text()).startswith("Thinking…")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "thinking-live.png")

    answer = page.locator("[data-role=assistant] .markdown").last
    await page.get_by_text("five pairs of 11 (1 + 10").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Send").wait_for()  # the reply has finished
    await page.wait_for_function(
        "() => document.querySelector('details.thinking summary')"
        "?.innerText.startsWith('Thought for')"
    )
    assert not await block.evaluate("details => details.open")
    assert "55" in await answer.inner_text()
    await page.screenshot(path=SCREENSHOTS / "thinking-folded.png")

    await summary.click()  # opens again, with the whole reasoning
    assert await block.evaluate("details => details.open")
    await block.get_by_text("Let me double-check").first.wait_for()
    await summary.focus()
    await page.keyboard.press("Enter")  # and the keyboard folds it
    assert not await block.evaluate("details => details.open")

    await page.reload()  # stored: folded, with how long it thought
    await page.get_by_text("five pairs of 11 (1 + 10").wait_for()
    stored = page.locator("details.thinking").last
    assert (await stored.locator("summary").inner_text()).startswith("Thought for")
    assert not await stored.evaluate("details => details.open")
    assert "Gauss" not in await answer.inner_text()  # the answer holds no reasoning
    assert not errors

    # The other widths and themes, opened: for looking at (tests/artifacts).
    url, cookies = page.url, await page.context.cookies()
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport, scheme in [
        ("phone-light", {"width": 390, "height": 844}, "light"),
        ("phone-dark", {"width": 390, "height": 844}, "dark"),
        ("desktop-dark", {"width": 1280, "height": 800}, "dark"),
    ]:
        context = await browser.new_context(viewport=viewport, color_scheme=scheme)
        await context.add_cookies(cookies)
        view = await context.new_page()
        await view.goto(url)
        await view.locator("details.thinking summary").last.click()
        await view.get_by_text("Let me double-check").first.wait_for()
        assert await view.evaluate(SIDEWAYS) <= 0, f"{name}: the page scrolls sideways"
        await view.screenshot(path=ARTIFACTS / f"thinking-{name}.png")
        await context.close()
