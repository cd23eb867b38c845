"""The topic sidebar through NiceGUI's simulated user: order, rename, delete + undo, search."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from nicegui import ElementFilter, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

import pages.sidebar
from services.errors import NotFound
from services.store import Store, open_store
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_ui_auth import set_up_owner
from tests.test_ui_chat import send, shown_topic, wait_for


@pytest.fixture
async def store(data_dir: Path) -> AsyncIterator[Store]:
    """A second connection to the app's own SQLite file, to check what was really saved."""
    opened = await open_store(f"sqlite:///{data_dir / 'chatapp.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def titles_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Automatic titles on (the UI fake turns them off); request it before `user`."""
    monkeypatch.setenv("CHATAPP_AUTO_TITLE", "true")


async def owner_id(store: Store) -> str:
    (owner,) = await store.list_users()
    return owner.id


def rows(user: User) -> list[tuple[str, str]]:
    """(title, caption) of each sidebar row, top to bottom."""
    assert user.client is not None
    with user.client:
        links = list(ElementFilter(kind=ui.link, marker="topic-link"))
        result = []
        for link in links:
            column = link.parent_slot.parent if link.parent_slot else None
            captions = [
                c.text if isinstance(c, ui.label) else re.sub(r"<[^>]*>", "", c.content)
                for c in column.default_slot.children
                if isinstance(c, ui.label | ui.html)
            ]
            result.append((link.text, html.unescape(captions[0]) if captions else ""))
        return result


async def new_topic(user: User, text: str) -> str:
    """Start a topic from the new-chat page, wait for the reply, and return its id."""
    await user.open("/")
    await send(user, text)
    await user.should_see(f"You said: {text}", retries=100)
    return await shown_topic(user)


async def test_a_new_message_moves_its_topic_to_the_top(ui_fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    first = await new_topic(user, "alpha question")
    await new_topic(user, "beta question")
    await wait_for(
        lambda: [t for t, _ in rows(user)] == ["beta question", "alpha question"], "newest first"
    )
    assert rows(user)[1] == ("alpha question", "2 messages · now")

    user.find(marker="topic-link", content="alpha question").click()
    await user.should_see("You said: alpha question", retries=50)
    assert await shown_topic(user) == first
    await send(user, "alpha again")
    await user.should_see("You said: alpha again", retries=100)
    await wait_for(
        lambda: rows(user)[0] == ("alpha question", "4 messages · now"),
        "alpha on top with 4 messages",
    )


async def test_rename_in_place(ui_fake: FakeOpenAI, user: User, store: Store) -> None:
    await set_up_owner(user)
    topic_id = await new_topic(user, "first words here")
    user.find(marker=f"topic-menu-{topic_id}").click()
    user.find(marker="rename").click()
    box = user.find(marker="rename-input")
    box.clear().type("Holiday plans").trigger("keydown.enter.prevent")
    await wait_for(lambda: rows(user) and rows(user)[0][0] == "Holiday plans", "the new title")
    await user.should_see("Holiday plans", marker="chat-title")  # the header follows
    topic = await store.get_topic(await owner_id(store), topic_id)
    assert topic.title == "Holiday plans"

    # Escape leaves the title as it was.
    user.find(marker=f"topic-menu-{topic_id}").click()
    user.find(marker="rename").click()
    user.find(marker="rename-input").clear().type("Not this").trigger("keydown.escape.stop")
    await wait_for(lambda: rows(user) and rows(user)[0][0] == "Holiday plans", "unchanged")


async def test_delete_can_be_undone_and_then_happens(
    ui_fake: FakeOpenAI, user: User, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages.sidebar, "UNDO_SECONDS", 1.0)
    await set_up_owner(user)
    keep = await new_topic(user, "keep me")
    doomed = await new_topic(user, "delete me")
    await user.open(f"/topic/{keep}")
    await user.should_see("You said: keep me")

    user.find(marker=f"topic-menu-{doomed}").click()
    user.find(marker="delete").click()
    await user.should_see(marker="undo-toast")
    await wait_for(lambda: [t for t, _ in rows(user)] == ["keep me"], "the row to go")
    user.find(marker="undo").click()
    await wait_for(lambda: [t for t, _ in rows(user)] == ["delete me", "keep me"], "undo")
    me = await owner_id(store)
    assert (await store.get_topic(me, doomed)).title == "delete me"

    user.find(marker=f"topic-menu-{doomed}").click()
    user.find(marker="delete").click()
    await wait_for(lambda: [t for t, _ in rows(user)] == ["keep me"], "the row to go")
    for _ in range(300):  # the deletion runs once the undo time is over
        if [t.id for t in await store.list_topics(me)] == [keep]:
            break
        await asyncio.sleep(0.01)
    assert [t.id for t in await store.list_topics(me)] == [keep]
    with pytest.raises(NotFound):
        await store.get_topic(me, doomed)


async def test_deleting_the_open_topic_offers_undo_on_the_new_chat_page(
    ui_fake: FakeOpenAI, user: User
) -> None:
    await set_up_owner(user)
    topic_id = await new_topic(user, "open and delete")
    user.find(marker=f"topic-menu-{topic_id}").click()
    user.find(marker="delete").click()
    await user.should_see("How can I help?", retries=50)
    await user.should_see(marker="undo-toast")
    user.find(marker="undo").click()
    await user.should_see("You said: open and delete", retries=50)
    assert await shown_topic(user) == topic_id


async def test_search_finds_titles_and_messages(ui_fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    ui_fake.enqueue(Reply("The capital of Australia is Canberra."))
    canberra = await new_topic_with_reply(user, "capital question", "Canberra")
    await new_topic(user, "pasta recipe")
    user.find(marker="search").type("canberra")
    await wait_for(lambda: [t for t, _ in rows(user)] == ["capital question"], "one hit")
    _title, snippet = rows(user)[0]
    assert "Canberra" in snippet  # shows which message matched
    user.find(marker="topic-link", content="capital question").click()
    await wait_for(lambda: user.back_history[-1].startswith(f"/topic/{canberra}#m-"), "the hit")
    await user.should_see("The capital of Australia is Canberra.", retries=50)

    user.find(marker="search").clear().type("zebra")
    await user.should_see("Nothing matches", retries=50)
    user.find(marker="search").clear().type("pasta")
    await wait_for(lambda: [t for t, _ in rows(user)] == ["pasta recipe"], "title hit")
    assert rows(user)[0][1] == "in the title"


async def new_topic_with_reply(user: User, text: str, seen: str) -> str:
    await user.open("/")
    await send(user, text)
    await user.should_see(seen, retries=100)
    return await shown_topic(user)


async def test_an_automatic_title_reaches_the_sidebar_and_header(
    ui_fake: FakeOpenAI, titles_on: None, user: User
) -> None:
    await set_up_owner(user)
    ui_fake.enqueue(Reply("Here is how to bake bread.", delay=0.05), "Baking Bread at Home")
    await send(user, "how do I bake bread, step by step please")
    await user.should_see("Here is how to bake bread.", retries=100)
    await wait_for(lambda: rows(user) and rows(user)[0][0] == "Baking Bread at Home", "title")
    await user.should_see("Baking Bread at Home", marker="chat-title")


async def test_export_all_then_import_brings_the_chats_back(
    ui_fake: FakeOpenAI, user: User, store: Store
) -> None:
    await set_up_owner(user)
    await new_topic(user, "first chat")
    second = await new_topic(user, "second chat")
    await user.open("/account")
    user.find(marker="export-all").click()
    archive = json.loads((await user.download.next()).content)
    assert [t["title"] for t in archive["topics"]] == ["first chat", "second chat"]

    me = await owner_id(store)
    for topic in await store.list_topics(me):
        await store.delete_topic(me, topic.id)
    (uploader,) = user.find(marker="import").elements
    assert isinstance(uploader, ui.upload)
    data = json.dumps(archive).encode()
    await uploader.handle_uploads([SmallFileUpload("chatapp.json", "application/json", data)])
    await user.should_see("Imported 2 chats.", retries=50)
    restored = await store.list_topics(me)
    assert [t.title for t in restored] == ["second chat", "first chat"]
    assert second not in {t.id for t in restored}  # new ids
    messages = await store.list_messages(me, restored[0].id)
    assert [m.content for m in messages] == ["second chat", "You said: second chat"]
    await uploader.handle_uploads([SmallFileUpload("chatapp.json", "application/json", data)])
    await user.should_see("Imported 0 chats. Skipped 2 chats already imported.", retries=50)
    assert await store.count_topics(me) == 2

    bad = b'{"format": "something else"}'
    await uploader.handle_uploads([SmallFileUpload("x.json", "application/json", bad)])
    await user.should_see("Nothing was imported.", retries=50)
    assert await store.count_topics(me) == 2


async def test_a_topic_exports_as_markdown_and_json(ui_fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    topic_id = await new_topic(user, "export me please")
    user.find(marker=f"topic-menu-{topic_id}").click()
    user.find(marker="export-markdown").click()
    text = (await user.download.next()).text
    assert text.startswith("# export me please\n")
    assert "## You · " in text and "You said: export me please" in text
    user.find(marker=f"topic-menu-{topic_id}").click()
    user.find(marker="export-json").click()
    record = json.loads((await user.download.next()).content)
    assert record["format"] == "chatapp.topic" and len(record["topic"]["messages"]) == 2


async def test_share_link_shows_a_read_only_copy_until_revoked(
    ui_fake: FakeOpenAI, user: User
) -> None:
    await set_up_owner(user)
    topic_id = await new_topic(user, "share this chat")

    async def open_share_dialog() -> None:
        await user.open(f"/topic/{topic_id}")
        # The page is served once its settings' timer waits for the browser; the sidebar is
        # drawn after that, by the page's handler still running.
        await user.should_see(marker=f"topic-menu-{topic_id}", retries=50)
        user.find(marker=f"topic-menu-{topic_id}").click()
        user.find(marker="share").click()

    await open_share_dialog()
    await user.should_see("This chat is not shared.", retries=50)
    user.find(marker="create-share").click()
    await user.should_see(marker="share-link", retries=50)
    (link,) = user.find(marker="share-link").elements
    path = "/share/" + link.value.rsplit("/share/", 1)[1]  # type: ignore[attr-defined]

    # A visitor without a session (the simulated user's requests share one context, so the
    # owner's page is opened again afterwards).
    anonymous = httpx.AsyncClient(transport=user.http_client._transport, base_url="http://test")
    page = await anonymous.get(path)
    assert page.status_code == 200
    assert "You said: share this chat" in page.text and "Olivia" not in page.text

    await open_share_dialog()
    await user.should_see(marker="revoke-share", retries=50)
    user.find(marker="revoke-share").click()
    await user.should_see("This chat is not shared.", retries=50)
    assert (await anonymous.get(path)).status_code == 404
    await anonymous.aclose()
