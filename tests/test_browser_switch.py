"""Real Chromium: topics open inside the page, with the address, title and history to match.

`window.__marker` is set once in the page; a page load would lose it, so each check that it
is still there proves the switch before it happened in place.
"""

from __future__ import annotations

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import set_up

STILL_HERE = "window.__marker === 'set before switching'"


async def ask(page, text: str) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.keyboard.press("Enter")


async def shows(page, text: str, title: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """The pane shows `text`, the header and the tab `title`, the address bar `path`."""
    await page.locator(".q-page").get_by_text(text, exact=True).wait_for()
    await page.wait_for_function("(path) => location.pathname === path", arg=path)
    assert await page.locator(".chat-title").inner_text() == title
    # The tab's title comes in an update of its own, after the header's.
    await page.wait_for_function("(title) => document.title === title", arg=f"{title} · chatapp")
    assert await page.evaluate(STILL_HERE), "that was a page load, not a switch"


async def topic_path(page) -> str:  # type: ignore[no-untyped-def]
    await page.wait_for_function("location.pathname.startsWith('/topic/')")
    return str(await page.evaluate("location.pathname"))


async def test_topics_switch_in_place_with_address_title_history_and_drafts(  # type: ignore[no-untyped-def]
    browser, app: AppServer
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await page.evaluate("window.__marker = 'set before switching'")

    await ask(page, "alpha question")  # the new topic opens in place
    alpha = await topic_path(page)
    await shows(page, "You said: alpha question", "alpha question", alpha)
    await page.get_by_role("button", name="New chat").click()
    await shows(page, "How can I help?", "New chat", "/")
    await ask(page, "beta question")
    beta = await topic_path(page)
    await shows(page, "You said: beta question", "beta question", beta)

    # The sidebar opens the other topic, and marks it as the one shown.
    await page.get_by_role("textbox", name="Message").fill("a draft for beta")
    await page.get_by_role("link", name="alpha question").click()
    await shows(page, "You said: alpha question", "alpha question", alpha)
    assert await page.locator(".q-page").get_by_text("beta question").count() == 0
    current = page.locator(".topic-link[aria-current=page]")
    assert await current.inner_text() == "alpha question"
    assert (
        await page.get_by_role("textbox", name="Message").input_value() == ""
    )  # drafts are per topic

    # Back and forward walk the topics opened, still in place.
    await page.go_back()
    await shows(page, "You said: beta question", "beta question", beta)
    assert await page.get_by_role("textbox", name="Message").input_value() == "a draft for beta"
    assert await current.inner_text() == "beta question"
    await page.go_back()
    await shows(page, "How can I help?", "New chat", "/")
    assert await current.count() == 0
    await page.go_forward()
    await shows(page, "You said: beta question", "beta question", beta)

    # A reload, or the address opened directly, draws the same topic by itself.
    await page.reload()
    await page.locator(".q-page").get_by_text("You said: beta question").wait_for()
    assert await page.title() == "beta question · chatapp"
    assert await current.inner_text() == "beta question"
    response = await page.goto(f"{app.url}/topic/no-such-topic")
    assert response is not None and response.status == 404
    await page.get_by_text("This topic does not exist.").wait_for()
    assert await page.title() == "Not found · chatapp"
    assert await page.get_by_role("textbox", name="Message").count() == 0  # nothing to write to
    await page.wait_for_load_state("networkidle")  # the websocket is up: links open in place
    await page.evaluate("window.__marker = 'set before switching'")
    await page.get_by_role("link", name="Start a new chat").click()
    await shows(page, "How can I help?", "New chat", "/")
    assert await page.get_by_role("textbox", name="Message").is_visible()
    assert not errors


async def test_a_reply_streams_on_while_another_topic_is_open(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)
    await ask(page, "short one")
    await page.get_by_text("You said: short one").wait_for()
    await page.evaluate("window.__marker = 'set before switching'")
    short = await topic_path(page)

    await page.get_by_role("button", name="New chat").click()
    fake.enqueue(Reply("tick " * 250 + "THE END", chunk_size=5, delay=0.02))
    await ask(page, "count slowly")
    slow = await topic_path(page)
    reply = page.locator("[data-role=assistant]").last
    await reply.get_by_text("tick tick", exact=False).wait_for()
    assert await reply.get_by_text("THE END").count() == 0  # still being written

    await page.get_by_role("link", name="short one").click()  # away while it streams
    await shows(page, "You said: short one", "short one", short)
    await page.wait_for_timeout(300)
    assert await page.get_by_text("THE END").count() == 0  # not drawn into this topic
    await page.get_by_role("link", name="count slowly").click()
    await page.wait_for_function("(path) => location.pathname === path", arg=slow)
    # Followed again from where it is: it finishes on this page, which was never reloaded.
    await page.locator("[data-role=assistant]").last.get_by_text("THE END").wait_for()
    assert await page.evaluate(STILL_HERE)
    # Send comes back once the reply is drawn finished, a moment after its last words show.
    await page.get_by_role("button", name="Send").wait_for(timeout=5_000)
    asked = [seen for seen in fake.requests if seen.path.endswith("/chat/completions")]
    assert len(asked) == 2  # the reply went on; it was not asked for again
    assert not errors
