"""A long topic in Chromium: it opens at its latest messages and loads older ones on scroll up."""

from __future__ import annotations

from pathlib import Path

from pages.conversation import OLDER_PAGE, WINDOW
from services.store import open_store
from tests.app_server import AppServer
from tests.seed import conversation, seed
from tests.test_browser_chat import OWNER, set_up

COUNT = WINDOW + 2 * OLDER_PAGE + 10  # three loads to reach the first message


async def seed_long_topic(data_dir: Path) -> tuple[str, list[str]]:
    """A topic of COUNT messages "Message 0" … in the app's own database; its id and theirs."""
    store = await open_store(f"sqlite:///{data_dir / 'chatapp.db'}")
    try:
        user = await store.get_user_by_email(OWNER[0])
        assert user is not None
        topic, messages = conversation(user.id, "Long topic", COUNT, lambda n: f"Message {n}")
        await seed(store, [(topic, messages)])
    finally:
        await store.close()
    return topic.id, [m.id for m in messages]


async def test_a_long_topic_shows_its_latest_messages_then_older_ones_on_scroll_up(  # type: ignore[no-untyped-def]
    browser, app: AppServer, data_dir: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    topic_id, ids = await seed_long_topic(data_dir)

    await page.goto(f"{app.url}/topic/{topic_id}")
    messages = page.locator(".messages [data-message-id]")
    await page.get_by_text(f"Message {COUNT - 1}", exact=True).wait_for()
    await page.wait_for_load_state("networkidle")
    assert await messages.count() == WINDOW
    assert await page.get_by_text("Message 0", exact=True).count() == 0

    expected = WINDOW
    while expected < COUNT:
        first = messages.first
        first_id = await first.get_attribute("data-message-id")
        await page.evaluate("window.scrollTo({ top: 0 })")  # the reader scrolls to the top
        expected = min(COUNT, expected + OLDER_PAGE)
        await page.wait_for_function(
            f"document.querySelectorAll('.messages [data-message-id]').length === {expected}"
        )
        # The messages load above: the one the reader was at stays where they were looking.
        box = await page.locator(f"#m-{first_id}").bounding_box()
        assert box is not None and 0 <= box["y"] < 800
    await page.get_by_text("Message 0", exact=True).wait_for()
    assert await page.get_by_role("button", name="Load older messages").is_hidden()
    ids_in_page = await messages.evaluate_all("(all) => all.map((m) => m.dataset.messageId)")
    assert ids_in_page == ids  # every message once, oldest first

    # A link to an old message (a search hit) loads older messages until it can show it.
    await page.goto(f"{app.url}/")
    await page.goto(f"{app.url}/topic/{topic_id}#m-{ids[3]}")
    await page.locator(f"#m-{ids[3]}.message-hit").wait_for()
    assert await page.locator(f"#m-{ids[3]}").is_visible()
    assert not errors
