"""Real Chromium: pinned and archived topics, thumbs on a reply, a reply's model and time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from babel.dates import format_time

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI
from tests.test_browser_chat import OWNER, set_up

ARTIFACTS = Path(__file__).parent / "artifacts"


@contextmanager
def api(app: AppServer) -> Iterator[httpx.Client]:
    """The owner's API client (the account `set_up` made)."""
    with httpx.Client(base_url=f"{app.url}/api/v1", timeout=30) as client:
        token = client.post("/auth/token", data={"username": OWNER[0], "password": OWNER[1]})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


async def titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return await page.locator(".topic-list .topic-link").all_inner_texts()


async def choose(page, title: str, entry: str) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_role("button", name=f"Options for {title}").click()
    await page.get_by_role("menuitem", name=entry, exact=True).click()


async def test_pin_and_archive_survive_a_reload(browser, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await set_up(page, app)
    with api(app) as client:
        for title in ("Alpha notes", "Beta plans", "Gamma ideas"):
            assert client.post("/topics", json={"title": title}).status_code == 201
    await page.reload()
    await page.get_by_role("link", name="Gamma ideas").wait_for()
    assert await titles(page) == ["Gamma ideas", "Beta plans", "Alpha notes"]

    await choose(page, "Alpha notes", "Pin")
    await page.locator(".topic-group", has_text="Pinned").wait_for()
    await choose(page, "Beta plans", "Archive")
    await page.get_by_role("button", name="1 archived chat").wait_for()
    assert await titles(page) == ["Alpha notes", "Gamma ideas"]

    await page.reload()
    await page.get_by_role("link", name="Alpha notes").wait_for()
    assert await titles(page) == ["Alpha notes", "Gamma ideas"]  # pinned on top, Beta away
    groups = await page.locator(".topic-group").all_inner_texts()
    assert groups[0] == "Pinned"
    await page.get_by_role("button", name="1 archived chat").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sidebar-pinned.png")

    # Search still finds the archived topic, and says it is archived.
    await page.get_by_label("Search chats").fill("Beta")
    hit = page.locator(".topic-row", has_text="Beta plans")
    await hit.get_by_text("Archived", exact=True).wait_for()
    await page.screenshot(path=ARTIFACTS / "sidebar-search-archived.png")
    await page.get_by_label("Search chats").fill("")
    await page.get_by_role("link", name="Gamma ideas").wait_for()

    # The archived view lists it; unarchiving brings it back to the list.
    await page.get_by_role("button", name="1 archived chat").click()
    await page.get_by_role("button", name="Back to chats").wait_for()
    assert await titles(page) == ["Beta plans"]
    await page.screenshot(path=ARTIFACTS / "sidebar-archived-view.png")
    await choose(page, "Beta plans", "Unarchive")
    await page.get_by_text("No archived chats.").wait_for()
    await page.get_by_role("button", name="Back to chats").click()
    await page.get_by_role("link", name="Beta plans").wait_for()
    assert await titles(page) == ["Alpha notes", "Gamma ideas", "Beta plans"]
    await page.reload()
    await page.get_by_role("link", name="Beta plans").wait_for()
    assert await titles(page) == ["Alpha notes", "Gamma ideas", "Beta plans"]
    assert await page.get_by_role("button", name="1 archived chat").count() == 0
    await context.close()


async def test_pinned_and_archived_on_a_phone_in_the_dark(browser, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", has_touch=True
    )
    page = await context.new_page()
    await set_up(page, app)
    with api(app) as client:
        ids = [client.post("/topics", json={"title": t}).json()["id"] for t in ("Kept", "Away")]
        client.patch(f"/topics/{ids[0]}", json={"pinned": True})
        client.patch(f"/topics/{ids[1]}", json={"archived": True})
    await page.reload()
    await page.get_by_role("button", name="Show or hide topics").click()
    await page.locator(".topic-group", has_text="Pinned").wait_for()
    await page.get_by_role("button", name="1 archived chat").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sidebar-pinned-phone-dark.png")
    await page.get_by_role("button", name="1 archived chat").click()
    await page.get_by_role("link", name="Away").wait_for()
    await page.screenshot(path=ARTIFACTS / "sidebar-archived-phone-dark.png")
    await context.close()


async def test_thumbs_up_is_kept_and_exported(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue("A reply worth a thumb.")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await set_up(page, app)
    await page.get_by_label("Message").fill("Say something good")
    await page.keyboard.press("Enter")
    reply = page.locator("[data-role=assistant]").last
    up = reply.get_by_role("button", name="Good reply")
    down = reply.get_by_role("button", name="Bad reply")
    await up.wait_for()
    assert await up.get_attribute("aria-pressed") == "false"
    await up.click()
    await reply.locator("[aria-label='Good reply'][aria-pressed=true]").wait_for()
    assert await down.get_attribute("aria-pressed") == "false"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "reply-thumbs.png")

    await page.reload()
    reply = page.locator("[data-role=assistant]").last
    await reply.locator("[aria-label='Good reply'][aria-pressed=true]").wait_for()
    assert await reply.get_by_role("button", name="Bad reply").get_attribute("aria-pressed") == (
        "false"
    )

    title = await page.locator(".topic-list .topic-link").first.inner_text()
    async with page.expect_download() as download:
        await choose(page, title, "Export as JSON")
    exported = json.loads((await (await download.value).path()).read_text())
    messages = exported["topic"]["messages"]
    assert [m.get("rating") for m in messages] == [None, "up"]

    # Pressing it again takes it back.
    await reply.get_by_role("button", name="Good reply").click()
    await reply.locator("[aria-label='Good reply'][aria-pressed=false]").wait_for()
    await page.reload()
    reply = page.locator("[data-role=assistant]").last
    await reply.locator("[aria-label='Good reply'][aria-pressed=false]").wait_for()
    await context.close()


async def test_a_reply_shows_its_model_and_time_in_the_readers_zone(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    zone = "Pacific/Kiritimati"  # UTC+14: a time shown in UTC would not match
    fake.enqueue("The time is now.")
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, timezone_id=zone, locale="en-US"
    )
    page = await context.new_page()
    await set_up(page, app)
    await page.get_by_label("Message").fill("What time is it?")
    await page.keyboard.press("Enter")
    meta = page.locator("[data-role=assistant] .reply-meta").last
    await meta.wait_for()
    with api(app) as client:
        topic = client.get("/topics").json()["items"][0]
        question, reply = client.get(f"/topics/{topic['id']}/messages").json()["messages"]
    created = datetime.fromisoformat(reply["created_at"])
    expected = format_time(created, "short", tzinfo=ZoneInfo(zone), locale="en")
    assert await meta.locator(".reply-model").inner_text() == reply["model"]
    assert await meta.locator(".reply-time").inner_text() == expected
    assert "tokens" in await meta.inner_text()
    asked = datetime.fromisoformat(question["created_at"]).astimezone(ZoneInfo(zone))
    hover = await page.locator("[data-role=user] .message").last.get_attribute("title")
    assert hover is not None and asked.strftime("%-I:%M") in hover
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "reply-meta.png")
    cookies, address = await context.cookies(), page.url
    await context.close()
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", timezone_id=zone
    )
    await phone.add_cookies(cookies)
    view = await phone.new_page()
    await view.goto(address)
    shown = view.locator("[data-role=assistant] .reply-meta .reply-time").last
    assert await shown.inner_text() == expected
    await view.screenshot(path=ARTIFACTS / "reply-meta-phone-dark.png")
    await phone.close()
