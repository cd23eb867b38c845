"""axe-core (bundled by axe-playwright-python, no download) on the real pages in Chromium:
no critical or serious violation, light and dark; every button has an accessible name."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import OWNER, REPLY, set_up

BLOCKING = {"critical", "serious"}


async def audit(page: Any, where: str) -> list[str]:
    """The blocking violations on the page, one line each (all of them are printed)."""
    await page.wait_for_timeout(300)  # menus and dialogs fade in and out: let them finish
    await page.evaluate("Promise.allSettled(document.getAnimations().map(a => a.finished))")
    results = await Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        targets = [
            (node["html"][:70], (node.get("any") or [{}])[0].get("message", "")[:110])
            for node in violation["nodes"]
        ][:4]
        line = f"{where}: [{violation['impact']}] {violation['id']}: {violation['help']} {targets}"
        print(line)
        if violation["impact"] in BLOCKING:
            found.append(line)
    unnamed = await page.evaluate(
        """() => [...document.querySelectorAll('button, [role=button]')]
            .filter(b => b.offsetParent !== null && getComputedStyle(b).visibility !== 'hidden')
            .filter(b => !(b.getAttribute('aria-label') || b.innerText.trim()
                           || b.getAttribute('title') || b.getAttribute('aria-labelledby')))
            .map(b => b.outerHTML.slice(0, 120))"""
    )
    found += [f"{where}: button without a name: {html}" for html in unnamed]
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_pages_have_no_serious_accessibility_violations(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI, scheme: str
) -> None:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, color_scheme=scheme
    )
    page = await context.new_page()
    problems: list[str] = []

    async def check(where: str) -> None:
        problems.extend(await audit(page, where))

    await page.goto(f"{app.url}/")
    await page.get_by_label("Your name").wait_for()
    await check("set-up")
    await set_up(page, app)

    fake.enqueue(Reply(REPLY, chunk_size=40))
    await page.get_by_label("Message").fill("Show me an add function")
    await page.keyboard.press("Enter")
    await page.get_by_text("That is all.").wait_for()
    await page.get_by_role("button", name="Send").wait_for()
    await check("chat")

    await page.locator(".topic-menu").first.click()
    await page.get_by_text("Rename").wait_for()
    await check("topic menu")
    await page.keyboard.press("Escape")

    await page.get_by_role("button", name="Chat settings").click()
    await page.get_by_text("Chat settings").first.wait_for()
    await check("settings dialog")
    await page.keyboard.press("Escape")

    await page.goto(f"{app.url}/account")
    await page.get_by_text("Change password").first.wait_for()
    await check("account")
    await page.goto(f"{app.url}/usage")
    await page.get_by_text("Tokens used").wait_for()
    await check("usage")

    await context.clear_cookies()
    await page.goto(f"{app.url}/login")
    await page.get_by_label("Email").wait_for()
    await check("login")
    assert OWNER  # the account the chat pages used
    await context.close()
    assert not problems, "\n".join(problems)
