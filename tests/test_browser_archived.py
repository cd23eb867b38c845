"""Real Chromium on a topic's state: an archived chat opened by its address says so and is
unarchived in one click; the sidebar counts the messages a topic shows, not its other versions."""

from __future__ import annotations

from typing import Any

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_a11y import audit
from tests.test_browser_chat import ARTIFACTS, set_up
from tests.test_browser_details import ask

NOTE = "This chat is archived. Unarchive it to continue the conversation."


def caption(page: Any, topic_id: str) -> Any:
    """The line under a topic's title in the sidebar ("2 messages · now")."""
    return page.locator(f'[data-topic-id="{topic_id}"] .text-xs').first


def topic_id(page: Any) -> str:
    return str(page.url.rsplit("/topic/", 1)[1])


async def test_a_regenerated_reply_leaves_the_count_at_what_the_topic_shows(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    await ask(page, "Name a colour", "Blue.", fake)
    tid = topic_id(page)
    fake.enqueue(Reply("Another version."))
    await page.get_by_role("button", name="Regenerate reply").click()
    await page.get_by_text("Another version.").wait_for()
    await page.get_by_role("button", name="Send").wait_for()
    await page.reload()
    await page.get_by_text("Another version.").wait_for()
    assert (await caption(page, tid).inner_text()).startswith("2 messages")
    await page.get_by_role("button", name="Previous version").click()  # the first reply again
    await page.get_by_text("Blue.").wait_for()
    await page.reload()
    await page.get_by_text("Blue.").wait_for()
    assert (await caption(page, tid).inner_text()).startswith("2 messages")


async def test_an_archived_chat_opened_by_its_address_says_so_and_unarchives(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await set_up(page, app)
    await ask(page, "Plan a day in Lisbon", "Morning: Alfama. Afternoon: Belém.", fake)
    tid = topic_id(page)
    box = page.get_by_role("textbox", name="Message")
    note = page.locator(".archived-note")

    # archived from the sidebar while it is shown: the note takes the box's place at once
    await page.locator(f'[data-topic-id="{tid}"] .topic-menu').click()
    await page.get_by_role("menuitem", name="Archive").click()
    await note.get_by_text(NOTE).wait_for()
    await box.wait_for(state="hidden")
    # the list is empty, but not because there are no chats
    await page.locator(".topic-list").get_by_text("All your chats are archived.").wait_for()

    # opened by its address later: the same
    await page.goto(f"{app.url}/topic/{tid}")
    await page.get_by_text("Morning: Alfama.").wait_for()
    await note.get_by_text(NOTE).wait_for()
    assert not await box.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    problems = []
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        for name, width, height in (("desktop", 1280, 800), ("phone", 390, 844)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.reload()  # laid out for the width from the start, as a phone would
            await note.get_by_text(NOTE).wait_for()
            await page.evaluate("Promise.allSettled(document.getAnimations().map(a => a.finished))")
            await page.screenshot(path=ARTIFACTS / f"archived-{name}-{scheme}.png")
            shape = await note.bounding_box()
            assert shape is not None and 0 <= shape["x"] <= shape["x"] + shape["width"] <= width
        problems += await audit(page, f"archived chat, {scheme}")
    assert not problems, problems
    await page.set_viewport_size({"width": 1280, "height": 800})

    # one click: back in the list, the note gone, the box there to write in
    await note.get_by_role("button", name="Unarchive").click()
    await note.wait_for(state="hidden")
    await box.wait_for()
    await page.locator(f'[data-topic-id="{tid}"]').wait_for()
    await page.reload()
    await page.get_by_text("Morning: Alfama.").wait_for()
    assert not await note.is_visible()
    await ask(page, "And the evening?", "Evening: Bairro Alto.", fake)
