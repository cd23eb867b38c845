"""A person's whole first session in real Chromium, on a fresh data folder and the fake model
server, with accessible locators only (so every control it uses has a name); then two tabs,
a phone, the dark theme and the keyboard alone."""

from __future__ import annotations

import json
from typing import Any

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import OWNER, REPLY, set_up

LONG = "tick " * 3000


async def send(page: Any, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.keyboard.press("Enter")


async def wait_idle(page: Any) -> None:
    await page.get_by_role("button", name="Send").wait_for()


async def row_menu(page: Any, title: str) -> Any:
    """Open a topic's ⋯ menu; returns the menu (the newest one open).

    The list redraws when a topic changes (here or in another tab); a click that lands as
    the row is replaced opens nothing, so, as a person would, it clicks again.
    """
    menu = page.get_by_role("menu").last
    for attempt in range(3):
        await page.get_by_role("button", name=f"Options for {title}").click()
        try:
            await menu.wait_for(timeout=3000)
            return menu
        except Exception:
            if attempt == 2:
                raise
    return menu


async def test_the_whole_journey(browser: Any, app: AppServer, fake: FakeOpenAI) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # First run: the owner account, then the empty chat page.
    await set_up(page, app)

    # Send; the reply streams with highlighted code and a table.
    fake.enqueue(Reply(REPLY, chunk_size=8, delay=0.02))
    await send(page, "Show me an add function")
    await page.get_by_text("That is all.").wait_for()
    await wait_idle(page)
    await page.locator(".codehilite .k").first.wait_for()
    assert await page.locator(".markdown table td").first.inner_text() == "1"

    # Copy the code block.
    await page.get_by_role("button", name="Copy code").first.click()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == "def add(a: int, b: int) -> int:\n    return a + b"

    # Stop a long reply: what arrived stays.
    fake.enqueue(Reply(LONG, chunk_size=5, delay=0.02))
    await send(page, "Count for me")
    await page.get_by_text("tick tick tick").first.wait_for()
    await page.get_by_role("button", name="Stop").click()
    await page.get_by_text("Stopped.").wait_for()

    # Regenerate it: a second version, with the switcher.
    fake.enqueue("A shorter answer.")
    await page.get_by_role("button", name="Regenerate reply").last.click()
    await page.get_by_text("A shorter answer.").wait_for()
    await page.get_by_text("2/2").wait_for()

    # Edit the question in place and send it again: the original stays as version 1.
    fake.enqueue("Counting to three: 1, 2, 3.")
    await page.get_by_role("button", name="Edit message").last.click()
    await page.get_by_role("textbox", name="Edit message").fill("Count to three")
    await page.locator("[data-role=user]").last.get_by_role("button", name="Send").click()
    await page.get_by_text("Counting to three: 1, 2, 3.").wait_for()
    await wait_idle(page)

    # Rename the topic in place.
    await (
        (await row_menu(page, "Show me an add function"))
        .get_by_role("menuitem", name="Rename")
        .click()
    )
    box = page.get_by_label("New title")
    await box.fill("Adding numbers")
    await box.press("Enter")
    await page.get_by_role("link", name="Adding numbers").wait_for()

    # A second topic, then search finds the first by a word of a message.
    await page.get_by_role("button", name="New chat").click()
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")  # its websocket is up: keys count
    fake.enqueue("Lisbon has trams and custard tarts.")
    await send(page, "Ideas for Lisbon")
    await page.get_by_text("custard tarts").wait_for()
    await wait_idle(page)
    await page.get_by_label("Search chats").fill("three")
    await page.get_by_role("status").get_by_text("1 found").wait_for()
    await page.get_by_role("link", name="Adding numbers").click()
    await page.locator(".message-hit").wait_for()  # opened at the message that matched

    # Export the topic as Markdown.
    menu = await row_menu(page, "Adding numbers")
    async with page.expect_download() as download_info:
        await menu.get_by_role("menuitem", name="Export as Markdown").click()
    download = await download_info.value
    text = (await download.path()).read_text()
    assert text.startswith("# Adding numbers") and "Counting to three" in text

    # Delete with undo, then for good.
    await (await row_menu(page, "Ideas for Lisbon")).get_by_role("menuitem", name="Delete").click()
    await page.get_by_role("button", name="Undo").click()
    await page.get_by_role("link", name="Ideas for Lisbon").wait_for()
    await (await row_menu(page, "Ideas for Lisbon")).get_by_role("menuitem", name="Delete").click()
    await page.get_by_role("link", name="Ideas for Lisbon").wait_for(state="detached")

    # Sign out, sign in again: the remaining topic is there.
    await page.get_by_role("button", name="Account menu for Olivia").click()
    await page.get_by_role("menuitem", name="Sign out").click()
    await page.get_by_label("Email").fill(OWNER[0])
    await page.get_by_label("Password").fill(OWNER[1])
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("link", name="Adding numbers").wait_for()
    assert await page.get_by_role("link", name="Ideas for Lisbon").count() == 0
    assert not errors
    await context.close()


async def test_two_tabs_stay_consistent(browser: Any, app: AppServer, fake: FakeOpenAI) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    first = await context.new_page()
    await set_up(first, app)
    fake.enqueue("First answer.")
    await send(first, "Shared topic")
    await first.get_by_text("First answer.").wait_for()
    second = await context.new_page()
    await second.goto(first.url)
    await second.get_by_text("First answer.").wait_for()

    fake.enqueue(Reply("Streaming into both tabs at once. " * 8, chunk_size=6, delay=0.02))
    await send(first, "Again please")
    await second.get_by_text("Again please").wait_for()  # the other tab follows the reply
    await second.get_by_text("at once. Streaming").first.wait_for()
    await wait_idle(first)

    await (await row_menu(first, "Shared topic")).get_by_role("menuitem", name="Rename").click()
    await first.get_by_label("New title").fill("Renamed in tab one")
    await first.get_by_label("New title").press("Enter")
    await second.get_by_role("link", name="Renamed in tab one").wait_for()  # no reload
    await context.close()


async def test_phone_drawer_and_dark_theme(browser: Any, app: AppServer, fake: FakeOpenAI) -> None:
    desktop = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await desktop.new_page()
    await set_up(page, app)
    fake.enqueue("Phones are small.")
    await send(page, "Hello from the desk")
    await page.get_by_text("Phones are small.").wait_for()
    cookies = await desktop.cookies()
    await desktop.close()

    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, color_scheme="dark"
    )
    await phone.add_cookies(cookies)
    page = await phone.new_page()
    await page.goto(f"{app.url}/")
    await page.get_by_text("How can I help?").wait_for()
    topic = page.get_by_role("link", name="Hello from the desk")
    assert not await topic.is_visible()  # the list is a drawer on a phone
    assert await page.evaluate("document.body.classList.contains('body--dark')")  # the system's
    await page.get_by_role("button", name="Show or hide topics").click()
    await topic.click()
    await page.get_by_text("Phones are small.").wait_for()

    # Light chosen on the account page overrides the system, and is remembered.
    await page.goto(f"{app.url}/account")
    await page.get_by_text("Light", exact=True).click()
    await page.wait_for_function("!document.body.classList.contains('body--dark')")
    await page.reload()
    await page.get_by_text("Change password").first.wait_for()
    assert not await page.evaluate("document.body.classList.contains('body--dark')")
    await phone.close()


async def test_keyboard_only(browser: Any, app: AppServer, fake: FakeOpenAI) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    composer = page.get_by_role("textbox", name="Message")
    await composer.focus()
    await page.keyboard.type("first line")
    await page.keyboard.press("Shift+Enter")  # a new line, not a send
    await page.keyboard.type("second line")
    assert await composer.input_value() == "first line\nsecond line"
    fake.enqueue(Reply(LONG, chunk_size=5, delay=0.02))
    await page.keyboard.press("Enter")
    await page.get_by_text("tick tick tick").first.wait_for()
    await page.keyboard.press("Escape")  # stops the reply
    await page.get_by_text("Stopped.").wait_for()
    assert fake.chats[-1].json["messages"][-1]["content"] == "first line\nsecond line"

    # Tab reaches the topic link and its menu button, each showing focus.
    reached: list[dict[str, str]] = []
    for _ in range(40):
        await page.keyboard.press("Tab")
        reached.append(
            await page.evaluate(
                """() => { const e = document.activeElement;
                    const shown = e.closest('.topic-row') || e;
                    return {name: e.getAttribute('aria-label') || e.innerText || '',
                            cls: e.className.toString(),
                            outline: getComputedStyle(shown).outlineStyle} }"""
            )
        )
    names = [json.dumps(r) for r in reached]
    link = next(r for r in reached if "topic-link" in r["cls"])
    assert link["outline"] != "none", names  # the row shows where the focus is
    assert any(r["name"] == "Options for first line second line" for r in reached), names


async def test_reload_mid_stream_reattaches(browser: Any, app: AppServer, fake: FakeOpenAI) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    words = " ".join(f"w{n:03d}" for n in range(300))
    fake.enqueue(Reply(words, chunk_size=8, delay=0.02))
    await send(page, "Stream and reload")
    await page.get_by_text("w050").wait_for()
    await page.reload()
    reply = page.locator("[data-role=assistant] .markdown").last
    await reply.wait_for()
    first = len(await reply.inner_text())
    await page.get_by_text("w299").wait_for()  # it kept growing after the reload, to the end
    assert len(await reply.inner_text()) > first
    await wait_idle(page)
