"""SQLite specifics beyond the store contract: several openers of one new file, and a file
made by an earlier release."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from services.models import Message, Rating, Role, ToolCall, ToolCallStatus, Topic, User
from services.store import open_store
from services.store.sqlite_migrations import MIGRATIONS, statements


async def test_openers_racing_on_a_new_file_take_turns(tmp_path: Path) -> None:
    """Two processes (here: connections on their own threads) starting at once on a new
    file: each finds the schema either absent or complete, never half-made."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
    try:
        for store in stores:
            assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
            assert await store.count_users() == 0
    finally:
        for store in stores:
            await store.close()


def test_statements_keep_a_trigger_body_whole() -> None:
    script = """
        CREATE TABLE a (x);
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            INSERT INTO a VALUES (1);
            DELETE FROM a WHERE x = 2;
        END;
        CREATE INDEX i ON a (x);
    """
    found = statements(script)
    assert len(found) == 3
    assert found[1].startswith("CREATE TRIGGER") and found[1].endswith("END;")


def old_topic(path: Path, user_id: str) -> Topic:
    """A topic written with the columns every release had (today's adds more)."""
    topic = Topic(user_id, "Before")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO topics (id, user_id, title, settings, active_leaf_id, message_count, "
            "created_at, updated_at, activity) VALUES (?, ?, ?, '{}', NULL, 0, ?, ?, ?)",
            (topic.id, user_id, topic.title, OLD_TIME, OLD_TIME, topic.id),
        )
    return topic


async def old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, before: int
) -> tuple[str, User]:
    """old.db as the release before migration `before` made it, with one user; the store's
    migrations are cut back until `monkeypatch.undo()`."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setattr(
        "services.store.sqlite_migrations.MIGRATIONS",
        {version: step for version, step in MIGRATIONS.items() if version < before},
    )
    old = await open_store(url)
    assert await old.schema_version() == before - 1  # type: ignore[attr-defined]
    user = await old.create_user(User("a@example.com", "hash"))
    await old.close()
    return url, user


OLD_TIME = "2026-01-01T00:00:00+00:00"


async def test_a_file_from_before_reasoning_opens_with_its_replies_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made by the release before migration 14 (reasoning): its rows, written as that
    release wrote them, read back with no reasoning, and new reasoning can be saved."""
    url, user = await old_file(tmp_path, monkeypatch, before=14)
    topic = old_topic(tmp_path / "old.db", user.id)
    with sqlite3.connect(tmp_path / "old.db") as db:  # the columns that release had
        now = "2026-01-01T00:00:00+00:00"
        db.execute(
            "INSERT INTO messages (id, topic_id, user_id, parent_id, role, content, status, "
            "model, usage, error, created_at, updated_at) "
            "VALUES ('m1', ?, ?, NULL, 'assistant', 'An old answer', 'complete', 'x', NULL, "
            "NULL, ?, ?)",
            (topic.id, user.id, now, now),
        )
    monkeypatch.undo()
    store = await open_store(url)
    try:
        assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
        message = await store.get_message(user.id, "m1")
        assert (message.content, message.reasoning, message.reasoning_seconds) == (
            "An old answer",
            "",
            None,
        )
        await store.update_message(user.id, "m1", reasoning="thought", reasoning_seconds=2.0)
        assert (await store.get_message(user.id, "m1")).reasoning == "thought"
    finally:
        await store.close()


async def test_a_file_from_before_trigram_search_finds_cjk_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made by the release before migration 15 (trigram search), with CJK messages
    written then: after the upgrade, words from the middle of its sentences are found, and new
    messages and edits are kept in both indexes."""
    url, user = await old_file(tmp_path, monkeypatch, before=15)
    topic = old_topic(tmp_path / "old.db", user.id)
    with sqlite3.connect(tmp_path / "old.db") as db:  # the columns that release had
        for number, (role, text) in enumerate(
            [
                ("user", "我们今天讨论数据库索引的设计和查询优化"),
                ("assistant", "日本語テストと데이터"),
            ]
        ):
            db.execute(
                "INSERT INTO messages (id, topic_id, user_id, parent_id, role, content, status, "
                "model, usage, error, created_at, updated_at, reasoning, reasoning_seconds) "
                "VALUES (?, ?, ?, ?, ?, ?, 'complete', NULL, NULL, NULL, ?, ?, '', NULL)",
                (
                    f"m{number}",
                    topic.id,
                    user.id,
                    f"m{number - 1}" if number else None,
                    role,
                    text,
                    "2026-01-01T00:00:00+00:00",
                    "2026-01-01T00:00:00+00:00",
                ),
            )
    question = Message(topic.id, user.id, Role.USER, "", id="m0")
    monkeypatch.undo()
    store = await open_store(url)
    try:
        assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
        for query in ("索引", "查询优化", "设", "日本語テスト", "데이터"):
            assert [h.topic.id for h in await store.search(user.id, query)] == [topic.id]
        (hit,) = await store.search(user.id, "索引")
        assert hit.message_id == question.id and "索引" in hit.snippet
        assert [h.message_id for h in await store.search(user.id, "before")] == [None]
        await store.update_message(user.id, question.id, content="改成了别的话题")
        assert await store.search(user.id, "索引") == []
        assert [h.message_id for h in await store.search(user.id, "话题")] == [question.id]
    finally:
        await store.close()


async def test_a_file_from_before_tools_opens_with_its_replies_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made by the release before migration 16 (tool calls): its replies read back
    with no calls, and calls can be saved on them."""
    url, user = await old_file(tmp_path, monkeypatch, before=16)
    topic = old_topic(tmp_path / "old.db", user.id)
    with sqlite3.connect(tmp_path / "old.db") as db:  # the columns that release had
        db.execute(
            "INSERT INTO messages (id, topic_id, user_id, parent_id, role, content, status, "
            "model, usage, error, created_at, updated_at, reasoning, reasoning_seconds) "
            "VALUES ('m1', ?, ?, NULL, 'assistant', 'An old answer', 'complete', 'x', NULL, "
            "NULL, ?, ?, '', NULL)",
            (topic.id, user.id, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
        )
    monkeypatch.undo()
    store = await open_store(url)
    try:
        assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
        message = await store.get_message(user.id, "m1")
        assert (message.content, message.tool_calls) == ("An old answer", [])
        call = ToolCall("c1", "shout", '{"text": "hi"}', status=ToolCallStatus.DONE, result="HI")
        await store.update_message(user.id, "m1", tool_calls=[call])
        assert (await store.get_message(user.id, "m1")).tool_calls == [call]
    finally:
        await store.close()


async def test_a_file_from_before_pins_lists_its_topics_and_rates_its_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made by the release before migration 17 (pins, archives, ratings): its topics
    are listed, unpinned and not archived, its replies unrated, and both can be changed."""
    url, user = await old_file(tmp_path, monkeypatch, before=17)
    topic = old_topic(tmp_path / "old.db", user.id)
    with sqlite3.connect(tmp_path / "old.db") as db:  # the columns that release had
        db.execute(
            "INSERT INTO messages (id, topic_id, user_id, parent_id, role, content, status, "
            "model, usage, error, created_at, updated_at, reasoning, reasoning_seconds, "
            "tool_calls) VALUES ('m1', ?, ?, NULL, 'assistant', 'An old answer', 'complete', "
            "'x', NULL, NULL, ?, ?, '', NULL, '[]')",
            (topic.id, user.id, OLD_TIME, OLD_TIME),
        )
    monkeypatch.undo()
    store = await open_store(url)
    try:
        assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
        (listed,) = await store.list_topics(user.id, archived=False)
        assert (listed.id, listed.pinned, listed.archived) == (topic.id, False, False)
        assert (await store.get_message(user.id, "m1")).rating is None
        await store.mark_topic(user.id, topic.id, pinned=True)
        await store.rate_message(user.id, "m1", Rating.UP)
        assert (await store.get_topic(user.id, topic.id)).pinned
        assert (await store.get_message(user.id, "m1")).rating is Rating.UP
    finally:
        await store.close()


async def test_a_file_from_before_branch_counts_counts_what_its_topics_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file made by the release before migration 18, whose counts took in every message:
    after the upgrade a topic counts the branch it shows, the regenerated reply beside it not."""
    url, user = await old_file(tmp_path, monkeypatch, before=18)
    topic = old_topic(tmp_path / "old.db", user.id)
    empty = old_topic(tmp_path / "old.db", user.id)
    with sqlite3.connect(tmp_path / "old.db") as db:  # the columns that release had
        for id_, parent, role in [
            ("q", None, "user"),
            ("a", "q", "assistant"),
            ("a2", "q", "assistant"),  # a regenerated reply, the one shown
        ]:
            db.execute(
                "INSERT INTO messages (id, topic_id, user_id, parent_id, role, content, status, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'text', 'complete', ?, ?)",
                (id_, topic.id, user.id, parent, role, OLD_TIME, OLD_TIME),
            )
        db.execute(
            "UPDATE topics SET message_count = 3, active_leaf_id = 'a2' WHERE id = ?", (topic.id,)
        )
    monkeypatch.undo()
    store = await open_store(url)
    try:
        assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
        assert (await store.get_topic(user.id, topic.id)).message_count == 2
        assert (await store.get_topic(user.id, empty.id)).message_count == 0
    finally:
        await store.close()
