"""SQLite's second connection, used right on the event loop's thread for the small reads and
writes of every request and reply (`SqliteStore.quick`): it gives way, never blocks, and
never lets the log grow without end."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.models import Message, Role, User
from services.store.sqlite import CHECKPOINT_EVERY, SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(f"sqlite:///{tmp_path / 'quick.db'}")
    yield store
    await store.close()


async def a_reply(store: SqliteStore) -> Message:
    user = await store.create_user(User(email="ada@example.com", password_hash="x"))
    topic = await store.create_topic(user.id, "Topic")
    question = Message(topic.id, user.id, Role.USER, "question")
    reply = Message(topic.id, user.id, Role.ASSISTANT, "", parent_id=question.id)
    await store.add_messages([question, reply])
    return reply


async def test_a_write_while_another_process_writes_waits_for_it(
    store: SqliteStore, tmp_path: Path
) -> None:
    """The file's write lock is taken: the reply's text is not refused ("database is
    locked") nor waited for on the event loop's thread, but written once the lock is free."""
    reply = await a_reply(store)
    other = sqlite3.connect(tmp_path / "quick.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        saving = asyncio.create_task(
            store.update_message(reply.user_id, reply.id, content="saved after the other")
        )
        await asyncio.sleep(0.3)  # the event loop runs on meanwhile: this returns
        assert not saving.done()
        other.execute("COMMIT")
        await asyncio.wait_for(saving, 10)
    finally:
        other.close()
    saved = await store.get_message(reply.user_id, reply.id)
    assert saved.content == "saved after the other"


async def test_reads_take_the_usual_way_when_the_quick_connection_cannot(
    store: SqliteStore,
) -> None:
    reply = await a_reply(store)
    assert store.quick is not None
    store.quick.close()  # any failure of its own: closed, busy, …
    topic = await store.get_topic(reply.user_id, reply.topic_id)
    assert topic.active_leaf_id == reply.id
    await store.update_message(reply.user_id, reply.id, content="still written")
    assert (await store.get_message(reply.user_id, reply.id)).content == "still written"


async def test_the_log_is_copied_into_the_file_as_replies_are_written(
    store: SqliteStore, tmp_path: Path
) -> None:
    """The quick connection never checkpoints (that syncs the disk, on the event loop's
    thread); the store has the other one do it, so the log stays about as small as
    SQLite's own limit would keep it, however many replies are saved."""
    reply = await a_reply(store)
    log = tmp_path / "quick.db-wal"

    async def save_replies(count: int) -> int:
        for n in range(count):
            await store.update_message(reply.user_id, reply.id, content=f"{n} " + "x" * 8_000)
        return log.stat().st_size

    first = await save_replies(CHECKPOINT_EVERY)
    # Without checkpoints the log would be about four times as long by now.
    assert await save_replies(3 * CHECKPOINT_EVERY) < 1.5 * first
