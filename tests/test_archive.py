"""Exports, imports (chatapp archives and ChatGPT's conversations.json) and share links,
through the services on a real SQLite file and the fake model server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.context import Services
from services.errors import InvalidInput, NotFound, TooLarge
from services.models import Rating, User
from tests.fake_openai import FakeOpenAI
from tests.test_chat import collect

CHATGPT = Path(__file__).parent / "data" / "chatgpt_conversations.json"


async def shape(services: Services, user: User) -> list[tuple[str, list[str], list[str]]]:
    """Per topic (oldest first): title, the active branch's texts, and every message as
    'parent text -> text', which captures the tree whatever the ids are."""
    result = []
    topics = await services.store.list_topics(user.id, limit=1000)
    for topic in reversed(topics):
        messages = await services.store.list_messages(user.id, topic.id)
        text = {m.id: m.content for m in messages}
        tree = sorted(f"{text.get(m.parent_id or '', '')} -> {m.content}" for m in messages)
        branch = [t.message.content for t in await services.chat.conversation(user.id, topic.id)]
        result.append((topic.title, branch, tree))
    return result


async def branched_topic(services: Services, user: User, fake: FakeOpenAI) -> str:
    topic = await services.topics.create_topic(user.id, title="Branches")
    fake.enqueue("answer one", "answer two", "answer to the edit")
    first = await services.chat.send(user.id, topic.id, "question")
    await collect(first)
    await collect(await services.chat.regenerate(user.id, first.message.id))
    assert first.message.parent_id is not None
    await collect(await services.chat.edit(user.id, first.message.parent_id, "edited question"))
    return topic.id


async def test_archive_round_trip_keeps_titles_texts_branches_and_the_active_path(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    await branched_topic(services, alice, fake)
    plain = await services.topics.create_topic(alice.id, title="Plain")
    await collect(await services.chat.send(alice.id, plain.id, "hello"))
    archive = await services.archive.archive(alice.id)
    assert archive["format"] == "chatapp.archive" and len(archive["topics"]) == 2

    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    imported = await services.archive.import_file(bob.id, json.dumps(archive).encode())
    assert [t.title for t in imported.topics] == ["Branches", "Plain"]
    assert imported.skipped == 0
    assert await shape(services, bob) == await shape(services, alice)


async def test_importing_the_same_file_again_skips_what_is_already_there(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    await branched_topic(services, alice, fake)
    await services.topics.create_topic(alice.id, title="Plain")
    archive = json.dumps(await services.archive.archive(alice.id)).encode()
    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    assert len((await services.archive.import_file(bob.id, archive)).topics) == 2
    again = await services.archive.import_file(bob.id, archive)
    assert (again.topics, again.skipped) == ([], 2)
    assert await services.store.count_topics(bob.id) == 2
    # ChatGPT's export too; and a topic deleted since comes back, the others are skipped.
    first = await services.archive.import_file(bob.id, CHATGPT.read_bytes())
    await services.topics.delete_topic(bob.id, first.topics[0].id)
    third = await services.archive.import_file(bob.id, CHATGPT.read_bytes())
    assert [t.title for t in third.topics] == ["Trip to Lisbon"] and third.skipped == 2
    assert await services.store.count_topics(bob.id) == 5
    # A changed file is new: an edited archive imports the changed topic only.
    changed = json.loads(archive)
    changed["topics"][1]["title"] = "Plain, renamed"
    edited = await services.archive.import_file(bob.id, json.dumps(changed).encode())
    assert [t.title for t in edited.topics] == ["Plain, renamed"] and edited.skipped == 1


async def test_markdown_export_reads_like_the_conversation(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic_id = await branched_topic(services, alice, fake)
    text = await services.archive.topic_markdown(alice.id, topic_id)
    assert text.startswith("# Branches\n")
    assert "## You · " in text and "## Assistant (gpt-4o-mini) · " in text
    assert "edited question" in text and "answer to the edit" in text
    assert "answer one" not in text  # only the branch on screen
    single = await services.archive.topic_json(alice.id, topic_id)
    assert single["format"] == "chatapp.topic"
    assert len(single["topic"]["messages"]) == 5  # every branch


async def test_chatgpt_export_imports_with_branches_images_and_current_node(
    services: Services, alice: User
) -> None:
    topics = (await services.archive.import_file(alice.id, CHATGPT.read_bytes())).topics
    assert [t.title for t in topics] == [
        "Trip to Lisbon",
        "What is in this picture",
        "Python decorators",
    ]
    listed = await services.store.list_topics(alice.id)
    assert [t.title for t in listed] == [
        "Python decorators",
        "What is in this picture",
        "Trip to Lisbon",
    ]  # by original activity
    trip, picture, decorators = topics
    branch = await services.chat.conversation(alice.id, trip.id)
    assert [t.message.content for t in branch] == [
        "Plan a 3-day trip to Lisbon",
        "Day 1: Alfama. Day 2: Belém. Day 3: Sintra.",
    ]
    assert len(branch[0].sibling_ids) == 2  # the first question survives as a version
    assert branch[1].message.model == "gpt-4o"
    # the branch shown (no system, tool or empty root message; the other version aside)
    assert trip.message_count == 2
    (question, _answer) = await services.chat.conversation(alice.id, picture.id)
    assert question.message.content == "[image omitted]\nWhat animal is this?"
    assert trip.created_at.year == 2024 and decorators.message_count == 2


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"not json at all", InvalidInput, "not JSON"),
        (b'{"hello": "world"}', InvalidInput, "not a chatapp export"),
        (b'{"format": "chatapp.archive", "version": 2, "topics": []}', InvalidInput, "version"),
        (b'[{"title": "x"}]', InvalidInput, "mapping"),
    ],
)
async def test_foreign_or_malformed_files_are_refused_and_nothing_is_imported(
    services: Services, alice: User, data: bytes, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        await services.archive.import_file(alice.id, data)
    assert await services.store.count_topics(alice.id) == 0


async def test_one_bad_topic_leaves_the_whole_import_out(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    await branched_topic(services, alice, fake)
    archive = await services.archive.archive(alice.id)
    broken = json.loads(json.dumps(archive["topics"][0]))
    broken["title"] = "Broken"
    broken["messages"][-1]["parent_id"] = "no-such-message"
    archive["topics"].append(broken)
    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    with pytest.raises(InvalidInput, match=r"Broken.*missing"):
        await services.archive.import_file(bob.id, json.dumps(archive).encode())
    assert await services.store.count_topics(bob.id) == 0


async def test_an_import_over_the_size_limit_is_refused(
    services: Services, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.archive_import.MAX_IMPORT_BYTES", 1000)
    with pytest.raises(TooLarge):
        await services.archive.import_file(alice.id, CHATGPT.read_bytes())


async def test_a_share_is_a_snapshot_only_its_owner_can_make_or_revoke(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic_id = await branched_topic(services, alice, fake)
    share = await services.archive.share(alice.id, topic_id)
    assert len(share.id) >= 24
    seen = await services.archive.open_share(share.id)
    assert seen.snapshot["title"] == "Branches"
    assert [m["content"] for m in seen.snapshot["messages"]] == [
        "edited question",
        "answer to the edit",
    ]
    assert "alice" not in json.dumps(seen.snapshot)  # nothing of the user but the topic
    await collect(await services.chat.send(alice.id, topic_id, "later"))
    assert len((await services.archive.open_share(share.id)).snapshot["messages"]) == 2

    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    for attempt in (services.archive.share, services.archive.unshare, services.archive.shared):
        with pytest.raises(NotFound):
            await attempt(bob.id, topic_id)
    again = await services.archive.share(alice.id, topic_id)  # a new link replaces the old
    with pytest.raises(NotFound):
        await services.archive.open_share(share.id)
    assert await services.archive.unshare(alice.id, topic_id)
    with pytest.raises(NotFound):
        await services.archive.open_share(again.id)
    third = await services.archive.share(alice.id, topic_id)
    await services.topics.delete_topic(alice.id, topic_id)
    with pytest.raises(NotFound):
        await services.archive.open_share(third.id)


async def test_pins_archives_and_thumbs_go_out_and_come_back(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    kept = await services.topics.create_topic(alice.id, title="Kept")
    away = await services.topics.create_topic(alice.id, title="Away")
    fake.enqueue("good answer", "bad answer")
    good = await services.chat.send(alice.id, kept.id, "first")
    await collect(good)
    bad = await services.chat.send(alice.id, away.id, "second")
    await collect(bad)
    await services.chat.rate(alice.id, good.message.id, Rating.UP)
    await services.chat.rate(alice.id, bad.message.id, Rating.DOWN)
    await services.topics.mark_topic(alice.id, kept.id, pinned=True)
    await services.topics.mark_topic(alice.id, away.id, archived=True)
    with pytest.raises(InvalidInput):  # a question is not a reply to judge
        await services.chat.rate(alice.id, good.question.id, Rating.UP)  # type: ignore[union-attr]

    markdown = await services.archive.topic_markdown(alice.id, kept.id)
    assert "## Assistant (gpt-4o-mini) · " in markdown and " · 👍\n" in markdown
    archive = await services.archive.archive(alice.id)
    by_title = {t["title"]: t for t in archive["topics"]}
    assert by_title["Kept"]["pinned"] is True and "archived" not in by_title["Kept"]
    assert by_title["Away"]["archived"] is True
    assert [m.get("rating") for m in by_title["Away"]["messages"]] == [None, "down"]

    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    await services.archive.import_file(bob.id, json.dumps(archive).encode())
    (listed,) = await services.topics.list_topics(bob.id, limit=10)
    assert (listed.title, listed.pinned) == ("Kept", True)
    (archived,) = await services.topics.list_topics(bob.id, limit=10, archived=True)
    assert archived.title == "Away"
    ratings = [
        m.rating
        for topic in (listed, archived)
        for m in await services.store.list_messages(bob.id, topic.id)
    ]
    assert ratings == [None, Rating.UP, None, Rating.DOWN]
