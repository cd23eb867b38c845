"""A session that ends under an open page, in real Chromium: the sign-in page says why, and the
draft the user was writing is there again once they are back."""

from __future__ import annotations

from pathlib import Path

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI
from tests.test_browser_chat import OWNER, set_up

ARTIFACTS = Path(__file__).parent / "artifacts"
ENDED = "Your session ended. Please sign in again."
DRAFT = "A question I was still writing when my session ended"


async def sign_in(page) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_label("Email").fill(OWNER[0])
    await page.get_by_label("Password", exact=True).fill(OWNER[1])
    await page.get_by_role("button", name="Sign in").click()


async def sign_out_everywhere(browser, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    """From another browser: sign in there, then end every other session."""
    context = await browser.new_context()
    other = await context.new_page()
    await other.goto(f"{app.url}/login")
    await other.wait_for_load_state("networkidle")
    await sign_in(other)
    await other.get_by_text("How can I help?").wait_for()
    await other.goto(f"{app.url}/account")
    await other.wait_for_load_state("networkidle")
    await other.get_by_role("button", name="Sign out everywhere").click()
    await other.wait_for_url(f"{app.url}/login")
    await context.close()


async def test_an_ended_session_says_so_and_keeps_the_draft(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    box = page.get_by_role("textbox", name="Message")
    await box.fill(DRAFT)
    await sign_out_everywhere(browser, app)

    # Acting in the page (sending) finds the session gone.
    await box.press("Enter")
    await page.wait_for_url("**/login?expired=1")
    notice = page.get_by_role("status").filter(has_text=ENDED)
    await notice.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "session-ended-1280.png")
    assert not fake.chats, "the message went to the model without a session"
    await sign_in(page)
    await page.get_by_text("How can I help?").wait_for()
    assert await box.input_value() == DRAFT

    # Loading a page with a revoked session says so too, and comes back to that page.
    await page.goto(f"{app.url}/account")
    await page.wait_for_load_state("networkidle")
    await sign_out_everywhere(browser, app)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.emulate_media(color_scheme="dark")  # the sign-in page follows the system
    await page.reload()
    await page.wait_for_url("**/login?expired=1&next=/account")
    await notice.wait_for()
    await page.screenshot(path=ARTIFACTS / "session-ended-390-dark.png")
    await sign_in(page)
    await page.wait_for_url(f"{app.url}/account")

    # A plain visit to the sign-in page is a plain form.
    context = await browser.new_context()
    stranger = await context.new_page()
    await stranger.goto(f"{app.url}/")
    await stranger.wait_for_url(f"{app.url}/login")
    await stranger.get_by_role("button", name="Sign in").wait_for()
    assert await stranger.get_by_text(ENDED).count() == 0
    await context.close()
