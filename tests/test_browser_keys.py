"""Real Chromium, keyboard only: ChatGPT's shortcuts (new chat, focus the box, copy the last
reply, the sidebar, the help dialog), none of them while an input method composes, and arrow
keys moving inside the account menu and a topic's ⋯ menu."""

from __future__ import annotations

import re
from typing import Any

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_a11y import audit
from tests.test_browser_chat import ARTIFACTS, set_up

# A Ctrl+Shift+O keydown an input method is still composing (pinyin, kana): not a shortcut.
COMPOSING = """() => document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {
  key: "O", code: "KeyO", ctrlKey: true, shiftKey: true, isComposing: true, bubbles: true,
  cancelable: true}))"""


async def ask(page: Any, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.keyboard.press("Enter")
    await page.get_by_text(f"You said: {text}").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Send").wait_for()  # the reply has finished


async def focused(page: Any) -> str:
    """The accessible-ish name of the focused element: its aria-label or its text."""
    return str(
        await page.evaluate(
            "(document.activeElement.getAttribute('aria-label')"
            " || document.activeElement.innerText || '').trim()"
        )
    )


async def test_shortcuts_open_a_new_chat_copy_the_reply_and_list_themselves(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await ask(page, "first question")
    await page.wait_for_url(re.compile(r"/topic/"))
    topic_url = page.url

    # While an input method composes, the keys are the candidate's, not a shortcut.
    await page.get_by_role("textbox", name="Message").fill("拼")
    await page.evaluate(COMPOSING)
    await page.wait_for_timeout(300)
    assert page.url == topic_url

    # Copy the last reply, from the message box.
    await page.keyboard.press("Control+Shift+C")
    await page.get_by_text("Copied").first.wait_for()
    # The toast and the clipboard come in one update; the clipboard's write is asynchronous.
    await page.wait_for_function(
        "async () => (await navigator.clipboard.readText()) === 'You said: first question'"
    )

    # New chat.
    await page.keyboard.press("Control+Shift+O")
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_url(f"{app.url}/")

    # Shift+Esc puts the focus back in the message box, from wherever it is.
    await page.get_by_role("button", name="Account menu for Olivia").focus()
    await page.keyboard.press("Shift+Escape")
    assert await focused(page) == "Message"

    # The sidebar hides and comes back.
    drawer = page.locator(".chat-drawer")
    await page.keyboard.press("Control+Shift+S")
    await drawer.locator("xpath=ancestor-or-self::aside").first.wait_for(state="hidden")
    await page.keyboard.press("Control+Shift+S")
    await drawer.locator("xpath=ancestor-or-self::aside").first.wait_for(state="visible")

    # Ctrl+/ opens the list of shortcuts; so does the account menu's entry.
    await page.keyboard.press("Control+/")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    await dialog.wait_for()
    listed = await dialog.locator(".shortcut-row").all_inner_texts()
    words = [" ".join(row.split()) for row in listed]
    assert "New chat Ctrl Shift O" in words
    assert "Copy the last reply Ctrl Shift C" in words
    assert "Show keyboard shortcuts Ctrl /" in words
    assert "Stop the reply Esc" in words
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "shortcuts-dialog.png")
    assert await audit(page, "shortcuts dialog") == []
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    await page.get_by_role("button", name="Account menu for Olivia").click()
    await page.get_by_role("menuitem", name="Keyboard shortcuts").click()
    await dialog.wait_for()
    await page.keyboard.press("Escape")

    # On a page without the topic list, New chat goes to the chat page.
    await page.goto(f"{app.url}/usage")
    await page.get_by_role("heading", name=re.compile("Tokens used")).wait_for()
    await page.wait_for_load_state("networkidle")
    await page.keyboard.press("Control+Shift+O")
    await page.get_by_text("How can I help?").wait_for()
    assert not errors


async def test_arrow_keys_move_inside_menus_and_esc_returns_to_the_button(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    await ask(page, "a topic with a menu")

    account = page.get_by_role("button", name="Account menu for Olivia")
    await account.focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("menuitem", name="Usage").wait_for()
    await page.keyboard.press("ArrowDown")
    assert await focused(page) == "Account settings"
    await page.keyboard.press("ArrowDown")
    assert await focused(page) == "Usage"
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowUp")  # round the top, to the last entry
    assert await focused(page) == "Sign out"
    await page.keyboard.press("Home")
    assert await focused(page) == "Account settings"
    await page.keyboard.press("Escape")
    await page.get_by_role("menuitem", name="Usage").wait_for(state="hidden")
    assert await focused(page) == "Account menu for Olivia"
    # Enter picks the entry that has the focus.
    await page.keyboard.press("Enter")
    await page.get_by_role("menuitem", name="Usage").wait_for()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{app.url}/usage")

    await page.go_back()
    options = page.get_by_role("button", name=re.compile("^Options for"))
    await options.first.focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("menuitem", name="Rename").wait_for()
    for _ in range(3):
        await page.keyboard.press("ArrowDown")
    assert await focused(page) == "Archive"  # Rename, Pin, Archive: the third entry
    await page.keyboard.press("End")
    assert await focused(page) == "Delete"
    await page.keyboard.press("ArrowDown")  # round the bottom, to the first entry
    assert await focused(page) == "Rename"
    await page.keyboard.press("Escape")
    await page.get_by_role("menuitem", name="Rename").wait_for(state="hidden")
    assert (await focused(page)).startswith("Options for")


async def test_esc_closes_a_menu_first_and_stops_the_reply_next(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("word " * 2000, chunk_size=5, delay=0.02))
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    await page.get_by_role("textbox", name="Message").fill("Talk for a long time")
    await page.keyboard.press("Enter")
    stop = page.get_by_role("button", name="Stop")
    await stop.wait_for()
    await page.get_by_role("button", name="Account menu for Olivia").click()
    await page.get_by_role("menuitem", name="Usage").wait_for()
    await page.keyboard.press("Escape")
    await page.get_by_role("menuitem", name="Usage").wait_for(state="hidden")
    assert await stop.is_visible() and not fake.disconnects  # the reply goes on
    await page.keyboard.press("Escape")
    await page.get_by_text("Stopped.").wait_for()
