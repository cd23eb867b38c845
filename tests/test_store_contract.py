"""One contract for every store: SQLite on a file, Mongo on mongomock (and a real server if set)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest
from mongomock_motor import AsyncMongoMockClient, enabled_gridfs_integration

from services.errors import Conflict, NotFound, StoreUnavailable
from services.models import (
    Attachment,
    Message,
    MessageStatus,
    Rating,
    Role,
    ToolCall,
    ToolCallStatus,
    ToolServer,
    Topic,
    Usage,
    UsageRecord,
    UsageRow,
    User,
    utcnow,
)
from services.store import Store, UnknownDatabaseURL, open_store
from services.store.mongo import MongoStore
from services.store.sqlite import SqliteStore
from services.store.sqlite_migrations import MIGRATIONS, run_script

REAL_MONGO = os.environ.get("CHATAPP_TEST_MONGODB_URL", "")

Opener = Callable[[], Awaitable[Store]]


@pytest.fixture(
    params=[
        "sqlite",
        "mongomock",
        pytest.param(
            "mongodb",
            marks=pytest.mark.skipif(
                not REAL_MONGO, reason="CHATAPP_TEST_MONGODB_URL is not set (no MongoDB server)"
            ),
        ),
    ]
)
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the store under test; calling it again reopens the same data."""
    kind = request.param
    if kind == "sqlite":

        async def open_sqlite() -> Store:
            return await open_store(f"sqlite:///{tmp_path / 'contract.db'}")

        yield open_sqlite
    elif kind == "mongomock":
        client = AsyncMongoMockClient()

        async def open_mock() -> Store:
            return await MongoStore.open("mongodb://localhost/contract", client=client)

        with enabled_gridfs_integration():  # GridFS (attachments' bytes) on mongomock
            yield open_mock
    else:
        name = f"chatapp_test_{uuid.uuid4().hex[:8]}"
        base, _, query = REAL_MONGO.partition("?")
        url = f"{base.rstrip('/').rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
        yield lambda: open_store(url)
        cleanup = await open_store(url)
        assert isinstance(cleanup, MongoStore)
        await cleanup.client.drop_database(name)
        await cleanup.close()


@pytest.fixture
async def store(opener: Opener) -> AsyncIterator[Store]:
    opened = await opener()
    yield opened
    await opened.close()


async def make_user(store: Store, email: str) -> User:
    return await store.create_user(User(email=email, password_hash="x"))


async def say(store: Store, user: User, topic_id: str, text: str, parent: str | None = None,
              role: Role = Role.USER) -> Message:  # fmt: skip
    return await store.add_message(Message(topic_id, user.id, role, text, parent_id=parent))


async def test_users(store: Store) -> None:
    alice = await make_user(store, "Alice@Example.com")
    assert (await store.get_user_by_email("alice@example.COM")).id == alice.id  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        await make_user(store, "alice@example.com")
    assert await store.count_users() == 1
    updated = await store.update_user(alice.id, display_name="Al", settings={"theme": "dark"})
    assert (updated.display_name, updated.settings) == ("Al", {"theme": "dark"})
    assert await store.bump_token_version(alice.id) == 1
    assert (await store.get_user(alice.id)).token_version == 1  # type: ignore[union-attr]
    assert await store.get_user("nobody") is None


async def test_topics_newest_activity_first_with_counts_and_pages(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topics = [await store.create_topic(alice.id, f"topic {i}") for i in range(5)]
    listed = await store.list_topics(alice.id)
    assert [t.title for t in listed] == ["topic 4", "topic 3", "topic 2", "topic 1", "topic 0"]
    bump = await say(store, alice, topics[1].id, "bump")
    await say(store, alice, topics[1].id, "again", bump.id)
    listed = await store.list_topics(alice.id, limit=2)
    assert [(t.title, t.message_count) for t in listed] == [("topic 1", 2), ("topic 4", 0)]
    page = await store.list_topics(alice.id, limit=2, offset=2)
    assert [t.title for t in page] == ["topic 3", "topic 2"]
    assert await store.count_topics(alice.id) == 5
    renamed = await store.rename_topic(alice.id, topics[0].id, "Renamed ✓")
    assert renamed.title == "Renamed ✓"
    settings = await store.update_topic_settings(alice.id, topics[0].id, {"model": "m"})
    assert settings.settings == {"model": "m"}


async def test_pinned_topics_come_first_and_archived_ones_leave_the_list(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    bob = await make_user(store, "b@example.com")
    topics = [await store.create_topic(alice.id, f"topic {i}") for i in range(5)]
    before = await store.get_topic(alice.id, topics[1].id)
    pinned = await store.mark_topic(alice.id, topics[1].id, pinned=True)
    assert (pinned.pinned, pinned.archived) == (True, False)
    assert pinned.updated_at == before.updated_at  # pinning is not activity
    await store.mark_topic(alice.id, topics[3].id, archived=True)
    await store.mark_topic(alice.id, topics[0].id, pinned=True, archived=True)
    listed = await store.list_topics(alice.id, archived=False)
    assert [t.title for t in listed] == ["topic 1", "topic 4", "topic 2"]
    assert [
        t.title for t in await store.list_topics(alice.id, archived=False, limit=1, offset=1)
    ] == ["topic 4"]
    archived = await store.list_topics(alice.id, archived=True)
    assert [(t.title, t.pinned) for t in archived] == [("topic 0", True), ("topic 3", False)]
    assert [t.title for t in await store.list_topics(alice.id)] == [
        "topic 1", "topic 0", "topic 4", "topic 3", "topic 2"
    ]  # fmt: skip
    counts = [await store.count_topics(alice.id, archived=a) for a in (None, False, True)]
    assert counts == [5, 3, 2]
    hits = await store.search(alice.id, "topic")
    assert {h.topic.title: h.topic.archived for h in hits}["topic 3"] is True
    # activity still orders pinned topics among themselves, and unpinning puts one back
    await say(store, alice, topics[2].id, "bump")
    unpinned = await store.mark_topic(alice.id, topics[1].id, pinned=False)
    assert not unpinned.pinned
    assert [t.title for t in await store.list_topics(alice.id, archived=False)] == [
        "topic 2", "topic 4", "topic 1"
    ]  # fmt: skip
    back = await store.mark_topic(alice.id, topics[3].id, archived=False)
    assert not back.archived and (await store.get_topic(alice.id, topics[3].id)).archived is False
    assert (await store.mark_topic(alice.id, topics[4].id)).title == "topic 4"  # nothing asked
    with pytest.raises(NotFound):
        await store.mark_topic(bob.id, topics[4].id, pinned=True)
    assert not (await store.get_topic(alice.id, topics[4].id)).pinned


async def test_a_reply_keeps_its_rating(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    bob = await make_user(store, "b@example.com")
    topic = await store.create_topic(alice.id, "t")
    question = await say(store, alice, topic.id, "q")
    reply = await say(store, alice, topic.id, "a", question.id, role=Role.ASSISTANT)
    assert reply.rating is None
    await store.rate_message(alice.id, reply.id, Rating.UP)
    stored = await store.get_message(alice.id, reply.id)
    assert stored.rating is Rating.UP and stored.updated_at == reply.updated_at
    await store.update_message(alice.id, reply.id, content="a, edited")  # the rating stays
    assert (await store.list_messages(alice.id, topic.id))[1].rating is Rating.UP
    await store.rate_message(alice.id, reply.id, Rating.DOWN)
    assert (await store.path_to(alice.id, reply.id))[-1].rating is Rating.DOWN
    await store.rate_message(alice.id, reply.id, None)
    assert (await store.get_message(alice.id, reply.id)).rating is None
    with pytest.raises(NotFound):
        await store.rate_message(bob.id, reply.id, Rating.UP)


async def test_the_end_of_a_long_branch_and_the_answers_to_given_messages(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    root = await say(store, alice, topic.id, "q0")
    other_root = await say(store, alice, topic.id, "q0 edited")
    branch = [root]
    for n in range(1, 8):
        branch.append(await say(store, alice, topic.id, f"m{n}", branch[-1].id))
    side = await say(store, alice, topic.id, "m3 again", branch[2].id)
    leaf = branch[-1]
    latest = await store.path_to(alice.id, leaf.id, limit=3)
    assert [m.content for m in latest] == ["m5", "m6", "m7"]
    assert [m.id for m in await store.path_to(alice.id, leaf.id, limit=100)] == [
        m.id for m in branch
    ]
    assert [m.id for m in await store.path_to(alice.id, leaf.id)] == [m.id for m in branch]
    children = await store.child_ids(alice.id, topic.id, {None, branch[2].id, leaf.id})
    assert children == {
        None: [root.id, other_root.id],
        branch[2].id: [branch[3].id, side.id],
        leaf.id: [],
    }
    bob = await make_user(store, "b@example.com")
    with pytest.raises(NotFound):
        await store.child_ids(bob.id, topic.id, {None})
    with pytest.raises(NotFound):
        await store.path_to(bob.id, leaf.id, limit=3)


async def test_a_path_within_a_budget_reads_no_further(store: Store) -> None:
    """A prompt's history: the messages from the leaf up whose text fits the budget, and the
    one that passes it (system messages cost nothing), without the rest of the branch."""
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    branch = [await say(store, alice, topic.id, "a" * 10)]
    for n, text in enumerate(["b" * 10, "system text " * 9, "c" * 10, "d" * 10]):
        role = Role.SYSTEM if n == 1 else Role.USER
        branch.append(await say(store, alice, topic.id, text, branch[-1].id, role))
    leaf = branch[-1]

    def texts(path: list[Message]) -> list[str]:
        return [m.content[:1] for m in path]

    assert texts(await store.path_to(alice.id, leaf.id, budget=5)) == ["d"]
    assert texts(await store.path_to(alice.id, leaf.id, budget=20)) == ["b", "s", "c", "d"]
    assert texts(await store.path_to(alice.id, leaf.id, budget=30)) == ["a", "b", "s", "c", "d"]
    everything = await store.path_to(alice.id, leaf.id)
    assert await store.path_to(alice.id, leaf.id, budget=10_000) == everything
    assert texts(await store.path_to(alice.id, leaf.id, limit=2, budget=100)) == ["c", "d"]


async def test_branches_path_and_siblings(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    question = await say(store, alice, topic.id, "q")
    first = await say(store, alice, topic.id, "a1", question.id, Role.ASSISTANT)
    second = await say(store, alice, topic.id, "a2", question.id, Role.ASSISTANT)
    follow = await say(store, alice, topic.id, "q2", first.id)
    assert [m.content for m in await store.path_to(alice.id, follow.id)] == ["q", "a1", "q2"]
    assert [m.id for m in await store.siblings(alice.id, second.id)] == [first.id, second.id]
    assert (await store.get_topic(alice.id, topic.id)).active_leaf_id == follow.id
    await store.set_active_leaf(alice.id, topic.id, second.id)
    assert (await store.get_topic(alice.id, topic.id)).active_leaf_id == second.id
    other = await store.create_topic(alice.id, "other")
    with pytest.raises(NotFound):  # a parent must be in the same topic
        await say(store, alice, other.id, "x", question.id)


async def test_a_question_and_its_reply_are_added_together(store: Store) -> None:
    """add_messages: one write for a question and the reply being written to it."""
    alice, bob = await make_user(store, "a@example.com"), await make_user(store, "b@example.com")
    topic = await store.create_topic(alice.id, "t")
    before = await say(store, alice, topic.id, "first")
    question = Message(topic.id, alice.id, Role.USER, "q", parent_id=before.id)
    reply = Message(
        topic.id,
        alice.id,
        Role.ASSISTANT,
        "",
        parent_id=question.id,
        status=MessageStatus.STREAMING,
    )
    added = await store.add_messages([question, reply])
    assert [m.id for m in added] == [question.id, reply.id]
    saved = await store.path_to(alice.id, reply.id)
    assert [(m.content, m.status) for m in saved] == [
        ("first", MessageStatus.COMPLETE),
        ("q", MessageStatus.COMPLETE),
        ("", MessageStatus.STREAMING),
    ]
    assert saved[1].created_at == saved[2].created_at
    topic_now = await store.get_topic(alice.id, topic.id)
    assert (topic_now.message_count, topic_now.active_leaf_id) == (3, reply.id)
    assert [t.id for t in await store.list_topics(alice.id)] == [topic.id]

    other = await store.create_topic(alice.id, "other")
    refused = [
        # the first must answer a message of the same topic
        [Message(other.id, alice.id, Role.USER, "x", parent_id=before.id)],
        # and the topic must be the user's
        [Message(topic.id, bob.id, Role.USER, "intrusion")],
    ]
    for messages in refused:
        with pytest.raises(NotFound):
            await store.add_messages(messages)
    unlinked = [
        Message(topic.id, alice.id, Role.USER, "a"),
        Message(topic.id, alice.id, Role.USER, "b"),
    ]
    with pytest.raises(ValueError, match="answer the one before"):
        await store.add_messages(unlinked)
    with pytest.raises(ValueError, match="no messages"):
        await store.add_messages([])
    assert len(await store.list_messages(alice.id, topic.id)) == 3
    assert await store.list_messages(alice.id, other.id) == []


async def test_update_in_place_and_interrupted_on_start(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    reply = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING)
    )
    await store.update_message(alice.id, reply.id, content="partial")
    saved = await store.get_message(alice.id, reply.id)
    assert (saved.content, saved.status) == ("partial", MessageStatus.STREAMING)
    assert await store.mark_streaming_interrupted() == 1
    saved = await store.get_message(alice.id, reply.id)
    assert (saved.content, saved.status) == ("partial", MessageStatus.INTERRUPTED)
    assert len(await store.list_messages(alice.id, topic.id)) == 1


async def test_reasoning_is_kept_apart_from_the_answer(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    reply = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING)
    )
    assert (await store.get_message(alice.id, reply.id)).reasoning == ""
    await store.update_message(alice.id, reply.id, reasoning="首先，想一想")  # as it grows
    await store.update_message(alice.id, reply.id, content="Answer")  # leaves it alone
    assert await store.mark_streaming_interrupted() == 1
    saved = await store.get_message(alice.id, reply.id)
    assert (saved.reasoning, saved.content, saved.status) == (
        "首先，想一想",
        "Answer",
        MessageStatus.INTERRUPTED,
    )
    await store.update_message(alice.id, reply.id, reasoning="done", reasoning_seconds=12.5)
    (listed,) = await store.list_messages(alice.id, topic.id)
    assert (listed.reasoning, listed.reasoning_seconds) == ("done", 12.5)
    copy = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "x", reasoning="r", reasoning_seconds=1.0)
    )
    assert (await store.get_message(alice.id, copy.id)).reasoning_seconds == 1.0


async def test_tool_calls_are_kept_in_the_reply_as_they_happen(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    reply = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "", status=MessageStatus.STREAMING)
    )
    assert (await store.get_message(alice.id, reply.id)).tool_calls == []
    started = utcnow().replace(microsecond=0)
    call = ToolCall(
        "call_1",
        "get_time",
        '{"zone": "Europe/Paris"}',
        server_id="s1",
        server_name="time",
        tool="get_time",
        status=ToolCallStatus.PENDING,
        started_at=started,
        offset=12,
    )
    await store.update_message(alice.id, reply.id, content="Let me check", tool_calls=[call])
    await store.update_message(alice.id, reply.id, content="Let me check.")  # leaves them
    (saved,) = (await store.get_message(alice.id, reply.id)).tool_calls
    assert saved == call
    image = {"mime": "image/png", "data": "iVBORw0KGgo="}  # a result's image, kept with it
    done = replace(
        call,
        status=ToolCallStatus.DONE,
        result="12:00 ☀",
        truncated=True,
        seconds=0.5,
        images=[image],
    )
    await store.update_message(alice.id, reply.id, tool_calls=[done])
    (listed,) = await store.list_messages(alice.id, topic.id)
    assert listed.tool_calls == [done]
    copy = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "x", tool_calls=[done], parent_id=reply.id)
    )
    assert (await store.get_message(alice.id, copy.id)).tool_calls == [done]
    assert [m.tool_calls for m in await store.path_to(alice.id, copy.id)] == [[done], [done]]


async def test_tool_servers_belong_to_their_user(store: Store) -> None:
    alice, bob = await make_user(store, "a@example.com"), await make_user(store, "b@example.com")
    local = await store.add_tool_server(
        ToolServer(
            alice.id,
            "time",
            "stdio",
            command="python",
            args=["-m", "mcp_server_time"],
            env={"TZ": "Europe/Paris"},
        )
    )
    remote = await store.add_tool_server(
        ToolServer(alice.id, "web", "http", url="https://x.test/mcp", headers={"Auth": "s3cret"})
    )
    assert [s.id for s in await store.list_tool_servers(alice.id)] == [local.id, remote.id]
    got = await store.get_tool_server(alice.id, local.id)
    assert (got.command, got.args, got.env, got.enabled) == (
        "python",
        ["-m", "mcp_server_time"],
        {"TZ": "Europe/Paris"},
        True,
    )
    got.enabled = False
    got.tools = {"get_time": {"enabled": True, "approval": "always"}}
    await store.save_tool_server(got)
    again = await store.get_tool_server(alice.id, local.id)
    assert (again.enabled, again.tools, again.created_at) == (False, got.tools, local.created_at)
    assert await store.list_tool_servers(bob.id) == []
    for attempt in (
        store.get_tool_server(bob.id, local.id),
        store.delete_tool_server(bob.id, local.id),
        store.save_tool_server(replace(got, user_id=bob.id)),
    ):
        with pytest.raises(NotFound):
            await attempt
    await store.delete_tool_server(alice.id, local.id)
    assert [s.id for s in await store.list_tool_servers(alice.id)] == [remote.id]


async def test_user_scoping(store: Store) -> None:
    alice, bob = await make_user(store, "a@example.com"), await make_user(store, "b@example.com")
    topic = await store.create_topic(alice.id, "secret plans")
    message = await say(store, alice, topic.id, "the secret plans are here")
    assert await store.list_topics(bob.id) == []
    assert await store.search(bob.id, "secret") == []
    attempts = [
        store.get_topic(bob.id, topic.id),
        store.list_messages(bob.id, topic.id),
        store.rename_topic(bob.id, topic.id, "mine"),
        store.update_topic_settings(bob.id, topic.id, {"model": "x"}),
        store.delete_topic(bob.id, topic.id),
        store.get_message(bob.id, message.id),
        store.path_to(bob.id, message.id),
        store.siblings(bob.id, message.id),
        store.update_message(bob.id, message.id, content="changed"),
        store.set_active_leaf(bob.id, topic.id, None),
        store.add_message(Message(topic.id, bob.id, Role.USER, "intrusion")),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt
    topic_now = await store.get_topic(alice.id, topic.id)
    assert (topic_now.title, topic_now.message_count) == ("secret plans", 1)
    assert [m.content for m in await store.list_messages(alice.id, topic.id)] == [message.content]


async def test_unicode_and_a_megabyte(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "ユニコード 🚀 שלום")
    text = "héllo 👋 世界 مرحبا\n" * 3
    big = "x" * 1_000_000 + " end"
    await say(store, alice, topic.id, text)
    await say(store, alice, topic.id, big)
    messages = await store.list_messages(alice.id, topic.id)
    assert [m.content for m in messages] == [text, big]
    assert (await store.get_topic(alice.id, topic.id)).title == "ユニコード 🚀 שלום"


async def test_concurrent_appends_lose_nothing(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "busy")
    await asyncio.gather(*(say(store, alice, topic.id, f"m{i}") for i in range(100)))
    messages = await store.list_messages(alice.id, topic.id)
    assert sorted(m.content for m in messages) == sorted(f"m{i}" for i in range(100))
    # each began a branch of its own: the topic shows one of them
    assert (await store.get_topic(alice.id, topic.id)).message_count == 1


async def test_cascade_delete(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "doomed")
    message = await say(store, alice, topic.id, "findable words")
    await store.delete_topic(alice.id, topic.id)
    with pytest.raises(NotFound):
        await store.get_topic(alice.id, topic.id)
    with pytest.raises(NotFound):
        await store.get_message(alice.id, message.id)
    assert await store.search(alice.id, "findable") == []


async def test_search_titles_and_messages(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    recipes = await store.create_topic(alice.id, "Pancake recipes")
    travel = await store.create_topic(alice.id, "Travel")
    hit = await say(store, alice, travel.id, "Pack an umbrella for Lisbon in spring")
    by_title = await store.search(alice.id, "pancake")
    assert [(h.topic.id, h.message_id) for h in by_title] == [(recipes.id, None)]
    by_text = await store.search(alice.id, "umbrella lisbon")
    assert [(h.topic.id, h.message_id) for h in by_text] == [(travel.id, hit.id)]
    assert "umbrella" in by_text[0].snippet.lower()
    for odd in ['"', "AND (", "*", "NEAR(", "' OR 1=1 --", "", "   "]:
        assert isinstance(await store.search(alice.id, odd), list)


async def test_revoked_tokens_expire(store: Store) -> None:
    now = utcnow()
    await store.revoke_token("soon", now + timedelta(hours=1))
    await store.revoke_token("later", now + timedelta(hours=3))
    await store.revoke_token("old", now - timedelta(seconds=1))
    assert await store.is_token_revoked("soon")
    assert not await store.is_token_revoked("old")
    assert not await store.is_token_revoked("never")
    # Purge as if two hours had passed: "soon" goes (MongoDB's TTL cannot have taken it yet).
    assert await store.purge_revoked_tokens(now + timedelta(hours=2)) >= 1
    assert await store.purge_revoked_tokens(now + timedelta(hours=2)) == 0
    assert not await store.is_token_revoked("soon")
    assert await store.is_token_revoked("later")


async def test_times_are_utc_and_updates_touch_only_what_is_given(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    assert await store.get_topic(alice.id, topic.id) == topic
    reply = await store.add_message(
        Message(topic.id, alice.id, Role.ASSISTANT, "draft", model="m", error="oops")
    )
    # What a call hands back is what is read back later (MongoDB keeps milliseconds only).
    assert await store.get_user(alice.id) == alice
    assert await store.get_message(alice.id, reply.id) == reply
    await store.update_message(
        alice.id, reply.id, status=MessageStatus.COMPLETE, usage=Usage(1, 2, 3)
    )
    saved = await store.get_message(alice.id, reply.id)
    assert (saved.content, saved.model, saved.error) == ("draft", "m", "oops")
    assert (saved.status, saved.usage) == (MessageStatus.COMPLETE, Usage(1, 2, 3))
    assert saved.updated_at >= saved.created_at
    stored = [saved, await store.get_topic(alice.id, topic.id), await store.get_user(alice.id)]
    for record in stored:
        assert record is not None and record.created_at.utcoffset() == timedelta(0)
    topic_now = stored[1]
    assert isinstance(topic_now, Topic) and topic_now.updated_at >= topic.updated_at


async def test_search_follows_renames_edits_and_limits(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "Kittens")
    message = await say(store, alice, topic.id, "a first draft")
    await store.rename_topic(alice.id, topic.id, "Puppies")
    await store.update_message(alice.id, message.id, content="a walrus appears")
    assert await store.search(alice.id, "kittens") == []
    assert await store.search(alice.id, "draft") == []
    assert [h.message_id for h in await store.search(alice.id, "puppies")] == [None]
    assert [h.message_id for h in await store.search(alice.id, "WALRUS")] == [message.id]
    for i in range(3):
        other = await store.create_topic(alice.id, f"walrus facts {i}")
        await say(store, alice, other.id, "the walrus again")
    assert len(await store.search(alice.id, "walrus")) == 4  # one hit per topic
    assert len(await store.search(alice.id, "walrus", limit=2)) == 2


CJK_TEXTS = {
    "zh": "我们今天讨论数据库索引的设计和查询优化",
    "ja": "これは日本語テストの結果です",
    "ko": "데이터베이스를 백업하고 쿼리 성능을 측정했습니다",
    "mixed": "我们用SQLite建了全文检索，速度很快",
}


async def cjk_topics(store: Store) -> tuple[User, dict[str, Message]]:
    """A topic per text, titled in Latin so that only the message can match a CJK search."""
    alice = await make_user(store, "a@example.com")
    said = {}
    for key, text in CJK_TEXTS.items():
        topic = await store.create_topic(alice.id, f"topic {key}")
        said[key] = await say(store, alice, topic.id, text)
    return alice, said


async def found(store: Store, user: User, query: str) -> list[str | None]:
    return [hit.message_id for hit in await store.search(user.id, query)]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("索引", "zh"),  # two letters from the middle of a sentence
        ("设计", "zh"),
        ("查询优化", "zh"),  # four letters, the end of the sentence
        ("讨论数据库索引的设计", "zh"),
        ("日本語テスト", "ja"),  # kanji and katakana together
        ("テスト", "ja"),
        ("데이터", "ko"),  # a Korean word with its particle after it (데이터베이스를)
        ("쿼리 성능", "ko"),
        ("측정", "ko"),
        ("讨", "zh"),  # one letter
        ("化", "zh"),  # the last letter of the text
        ("优化", "zh"),  # the last two letters of the text
        ("SQLite建了", "mixed"),  # Latin and CJK in one word
        ("sqlite 全文", "mixed"),  # a Latin word and a CJK one
        ("SQLite", "mixed"),  # a Latin word written against CJK letters
    ],
)
async def test_search_finds_cjk_words_and_substrings(store: Store, query: str, key: str) -> None:
    alice, said = await cjk_topics(store)
    hits = await store.search(alice.id, query)
    assert [h.message_id for h in hits] == [said[key].id]
    for word in query.split():
        assert word.lower() in hits[0].snippet.lower()


async def test_cjk_search_needs_every_word_and_stays_with_its_user(store: Store) -> None:
    alice, said = await cjk_topics(store)
    bob = await make_user(store, "b@example.com")
    assert await found(store, alice, "索引 设计") == [said["zh"].id]
    assert await found(store, alice, "索引 테스트") == []
    assert await found(store, alice, "索引设") == []  # not a substring (设 follows 的)
    assert await found(store, alice, "鲸鱼") == []
    assert await found(store, alice, "鲸") == []
    assert await found(store, bob, "索引") == []
    both = [said["zh"].id, said["mixed"].id]
    assert sorted(await found(store, alice, "我们"), key=str) == sorted(both, key=str)
    for odd in ['"索引"', "索引*", "索 OR 引", "(设计", "'索引' --"]:
        assert isinstance(await store.search(alice.id, odd), list)


async def test_cjk_search_follows_edits_renames_and_deletes(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "旧的标题")
    message = await say(store, alice, topic.id, "第一版草稿")
    await store.rename_topic(alice.id, topic.id, "新的名字")
    await store.update_message(alice.id, message.id, content="修改后的内容")
    assert await found(store, alice, "旧的") == []
    assert await found(store, alice, "草稿") == []
    assert await found(store, alice, "新的名字") == [None]
    assert await found(store, alice, "改后") == [message.id]
    await store.delete_topic(alice.id, topic.id)
    assert await found(store, alice, "内容") == []


async def test_latin_search_is_as_before_beside_cjk_text(store: Store) -> None:
    alice, _ = await cjk_topics(store)
    travel = await store.create_topic(alice.id, "Travel")
    hit = await say(store, alice, travel.id, "Pack an umbrella for Lisbon, 还有护照")
    assert await found(store, alice, "umbrella lisbon") == [hit.id]
    assert await found(store, alice, "umbr") == [hit.id]  # the last word is a prefix
    assert await found(store, alice, "护照 lisbon") == [hit.id]
    assert [h.topic.title for h in await store.search(alice.id, "topic zh")] == ["topic zh"]
    assert "umbrella" in (await store.search(alice.id, "UMBRELLA"))[0].snippet


async def test_a_letter_written_everywhere_is_found(store: Store) -> None:
    """`的` begins a different trigram almost everywhere it is written; SQLite reads the texts
    rather than ask the index for hundreds of trigrams."""
    alice, said = await cjk_topics(store)
    topic = await store.create_topic(alice.id, "common")
    common = await say(store, alice, topic.id, "".join(f"的{chr(0x4E00 + i)}" for i in range(600)))
    hits = await store.search(alice.id, "的")
    assert sorted(h.message_id or "" for h in hits) == sorted([common.id, said["zh"].id])
    assert all("的" in h.snippet for h in hits)
    assert await found(store, alice, "的 设计") == [said["zh"].id]
    assert await found(store, alice, "的 鲸") == []


async def test_cjk_snippet_is_cut_around_the_match(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "long")
    text = "开头的内容。" * 40 + "这里提到了向量数据库的索引。" + "结尾的内容。" * 40
    message = await say(store, alice, topic.id, text)
    (hit,) = await store.search(alice.id, "向量数据库")
    assert hit.message_id == message.id
    assert "向量数据库" in hit.snippet and len(hit.snippet) < 120


async def test_close_and_reopen_keeps_everything(opener: Opener) -> None:
    store = await opener()
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "kept")
    question = await say(store, alice, topic.id, "still here?")
    await store.close()
    store = await opener()
    try:
        assert (await store.get_user(alice.id)) is not None
        assert [t.title for t in await store.list_topics(alice.id)] == ["kept"]
        assert [m.id for m in await store.list_messages(alice.id, topic.id)] == [question.id]
    finally:
        await store.close()


async def test_sqlite_migrates_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as db:  # a file as release 1 left it
        await db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at)")
        await MIGRATIONS[1](db)
        await db.executescript(
            "INSERT INTO schema_version VALUES (1, 'then');"
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u', 'a@x', 'h', "
            "'2024-01-01T00:00:00+00:00');"
            "INSERT INTO topics VALUES ('t', 'u', 'Old recipes', '{}', NULL, 0, "
            "'2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00', 't');"
        )
    store = await open_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteStore)
    try:
        assert await store.schema_version() == max(MIGRATIONS)
        assert [h.topic.title for h in await store.search("u", "recipes")] == ["Old recipes"]
        assert (await store.get_topic("u", "t")).created_at.year == 2024
        assert [t.title for t in await store.list_topics("u", archived=False)] == ["Old recipes"]
    finally:
        await store.close()


async def test_sqlite_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v.db"
    url = f"sqlite:///{path}"
    await (await open_store(url)).close()

    async def broken(db: aiosqlite.Connection) -> None:
        await run_script(db, "CREATE TABLE half_done (x);")
        raise RuntimeError("step failed")

    monkeypatch.setitem(MIGRATIONS, max(MIGRATIONS) + 1, broken)
    with pytest.raises(RuntimeError):
        await open_store(url)
    monkeypatch.undo()
    async with aiosqlite.connect(path) as db:
        tables = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        versions = await db.execute_fetchall("SELECT version FROM schema_version")
    assert "half_done" not in {name for (name,) in tables}
    assert [v for (v,) in versions] == sorted(MIGRATIONS)


async def test_sqlite_read_only_file_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ro.db'}"
    store = await open_store(url)
    alice = await make_user(store, "a@example.com")
    await store.close()
    # chmod does not stop root (CI runs as root), so SQLite itself opens the file read-only.
    readonly = await open_store(f"{url}?mode=ro")
    try:
        assert (await readonly.get_user(alice.id)) is not None  # reading still works
        with pytest.raises(StoreUnavailable) as raised:
            await readonly.create_topic(alice.id, "cannot be written")
        assert isinstance(raised.value.__context__, sqlite3.OperationalError)  # the driver's
        assert await readonly.ping()
    finally:
        await readonly.close()
    assert not await readonly.ping()


async def test_mongo_topics_from_before_pins_are_listed_unpinned() -> None:
    client = AsyncMongoMockClient()
    store = await MongoStore.open("mongodb://localhost/old", client=client)
    older, newer = await store.create_topic("u", "older"), await store.create_topic("u", "newer")
    await store.topics.update_many({}, {"$unset": {"pinned": "", "archived": ""}})  # as they were
    await store.close()
    store = await MongoStore.open("mongodb://localhost/old", client=client)
    await store.mark_topic("u", newer.id, pinned=False)
    assert [t.title for t in await store.list_topics("u", archived=False)] == ["newer", "older"]
    await store.mark_topic("u", older.id, pinned=True)
    assert [t.title for t in await store.list_topics("u", archived=False)] == ["older", "newer"]


async def test_unknown_scheme_and_unreachable_mongodb() -> None:
    with pytest.raises(UnknownDatabaseURL):
        await open_store("postgres://localhost/x")
    with pytest.raises(StoreUnavailable, match="MongoDB"):
        await open_store("mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300")


async def test_mongo_database_comes_from_the_url() -> None:
    client = AsyncMongoMockClient()
    named = await MongoStore.open("mongodb://u:p@localhost/chats?authSource=admin", client=client)
    plain = await MongoStore.open("mongodb://localhost", client=client)
    assert (named.db.name, plain.db.name) == ("chats", "chatapp")


# ----- attachments ----------------------------------------------------------------------------


async def test_attachments_are_kept_per_user_and_go_with_their_topic(store: Store) -> None:
    alice, bob = await make_user(store, "a@example.com"), await make_user(store, "b@example.com")
    topic = await store.create_topic(alice.id, "with files")
    question = await store.add_message(Message(topic.id, alice.id, Role.USER, "look"))
    data = bytes(range(256)) * 1000  # binary, 256 kB
    image = await store.add_attachment(
        Attachment(alice.id, topic.id, question.id, "pic.png", "image/png", len(data)), data
    )
    notes = await store.add_attachment(
        Attachment(alice.id, topic.id, question.id, "a.md", "text/plain", 2, text="hi"), b"hi"
    )
    assert await store.read_attachment(alice.id, image.id) == data
    assert (await store.get_attachment(alice.id, notes.id)).text == "hi"
    assert [a.id for a in await store.list_attachments(alice.id, topic.id)] == [image.id, notes.id]
    for attempt in (store.get_attachment, store.read_attachment):
        with pytest.raises(NotFound):
            await attempt(bob.id, image.id)
    assert await store.list_attachments(bob.id, topic.id) == []

    await store.delete_topic(alice.id, topic.id)
    with pytest.raises(NotFound):
        await store.read_attachment(alice.id, image.id)
    assert await store.list_attachments(alice.id, topic.id) == []


async def test_an_attachment_needs_its_message(store: Store) -> None:
    alice, bob = await make_user(store, "a@example.com"), await make_user(store, "b@example.com")
    topic = await store.create_topic(alice.id, "t")
    question = await store.add_message(Message(topic.id, alice.id, Role.USER, "q"))
    with pytest.raises(NotFound):  # Bob cannot hang a file on Alice's message
        await store.add_attachment(
            Attachment(bob.id, topic.id, question.id, "x.txt", "text/plain", 1, text="x"), b"x"
        )
    assert await store.list_attachments(alice.id, topic.id) == []


async def test_usage_is_summed_per_day_and_model_per_user(store: Store) -> None:
    for user, model, day, prompt, completion in [
        ("u1", "gpt-a", "2026-11-20", 10, 5),
        ("u1", "gpt-a", "2026-11-20", 1, 2),
        ("u1", "gpt-b", "2026-11-20", 7, 7),
        ("u1", "gpt-a", "2026-11-21", 3, 4),
        ("u1", "gpt-a", "2026-10-01", 100, 100),  # before the window
        ("u2", "gpt-a", "2026-11-21", 50, 50),  # someone else's
    ]:
        await store.record_usage(UsageRecord(user, model, prompt, completion, day=day))
    rows = await store.usage_summary("u1", since_day="2026-11-01")
    assert rows == [
        UsageRow("2026-11-21", "gpt-a", 1, 3, 4),
        UsageRow("2026-11-20", "gpt-a", 2, 11, 7),
        UsageRow("2026-11-20", "gpt-b", 1, 7, 7),
    ]
    assert await store.usage_summary("nobody", since_day="2000-01-01") == []


async def test_an_import_goes_in_whole_or_not_at_all(store: Store) -> None:
    alice = await make_user(store, "a@example.com")
    first = Topic(alice.id, "first", message_count=2)
    question = Message(first.id, alice.id, Role.USER, "q")
    answer = Message(first.id, alice.id, Role.ASSISTANT, "a", parent_id=question.id)
    first.active_leaf_id = answer.id
    await store.import_topics([(first, [question, answer])])
    assert [t.title for t in await store.list_topics(alice.id)] == ["first"]
    assert [m.content for m in await store.path_to(alice.id, answer.id)] == ["q", "a"]
    assert [h.topic.id for h in await store.search(alice.id, "first")] == [first.id]

    second = Topic(alice.id, "second")
    clash = Topic(alice.id, "clash", id=first.id)  # an id already taken: the import fails
    with pytest.raises(Conflict):
        await store.import_topics(
            [(second, [Message(second.id, alice.id, Role.USER, "x")]), (clash, [])]
        )
    assert [t.title for t in await store.list_topics(alice.id)] == ["first"]
    assert await store.count_topics(alice.id) == 1


async def test_a_topic_counts_the_messages_it_shows(store: Store) -> None:
    """`message_count` is the branch down to the active leaf: the messages the topic shows,
    not the ones an edit or a regeneration left beside them, through every way it changes."""
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")

    async def count() -> int:
        return (await store.get_topic(alice.id, topic.id)).message_count

    q1 = await say(store, alice, topic.id, "q1")
    a1 = await say(store, alice, topic.id, "a1", q1.id, Role.ASSISTANT)
    q2 = await say(store, alice, topic.id, "q2", a1.id)
    a2 = await say(store, alice, topic.id, "a2", q2.id, Role.ASSISTANT)
    assert await count() == 4
    # a regenerated reply: a sibling of a2, the branch stays four long
    again = Message(topic.id, alice.id, Role.ASSISTANT, "a2 again", parent_id=q2.id)
    await store.add_messages([again])
    assert await count() == 4
    # an edited first question with its reply: a new branch of two
    edited = Message(topic.id, alice.id, Role.USER, "q1 edited")
    reply = Message(topic.id, alice.id, Role.ASSISTANT, "a", parent_id=edited.id)
    await store.add_messages([edited, reply])
    assert await count() == 2
    await say(store, alice, topic.id, "q", reply.id)  # on from the leaf: counted on
    assert await count() == 3
    await store.set_active_leaf(alice.id, topic.id, a2.id)  # back to the first branch
    assert await count() == 4
    await store.set_active_leaf(alice.id, topic.id, a1.id)
    assert await count() == 2
    await store.set_active_leaf(alice.id, topic.id, None)
    assert await count() == 0
    # the list shows the same count
    await store.set_active_leaf(alice.id, topic.id, again.id)
    assert [t.message_count for t in await store.list_topics(alice.id)] == [4]

    # an import counts the branch to its active leaf, whatever count it came with
    imported = Topic(alice.id, "imported", message_count=99)
    question = Message(imported.id, alice.id, Role.USER, "q")
    first = Message(imported.id, alice.id, Role.ASSISTANT, "a", parent_id=question.id)
    second = Message(imported.id, alice.id, Role.ASSISTANT, "b", parent_id=question.id)
    imported.active_leaf_id = second.id
    await store.import_topics([(imported, [question, first, second])])
    assert (await store.get_topic(alice.id, imported.id)).message_count == 2


async def test_a_mongo_database_from_before_branch_counts_is_counted_again() -> None:
    """Topics written when the count took in every message are counted once more at the
    first open: the branch each shows."""
    client = AsyncMongoMockClient()
    store = await MongoStore.open("mongodb://localhost/old", client=client)
    alice = await make_user(store, "a@example.com")
    topic = await store.create_topic(alice.id, "t")
    question = await say(store, alice, topic.id, "q")
    await say(store, alice, topic.id, "a", question.id, Role.ASSISTANT)
    await say(store, alice, topic.id, "again", question.id, Role.ASSISTANT)
    # as the release before wrote it: every message counted, no mark of the recount
    await store.topics.update_one({"_id": topic.id}, {"$set": {"message_count": 3}})
    await store.db["meta"].delete_many({})
    await store.close()
    store = await MongoStore.open("mongodb://localhost/old", client=client)
    try:
        assert (await store.get_topic(alice.id, topic.id)).message_count == 2
    finally:
        await store.close()
