"""SQLite's second connection, which reads right on the event loop's thread for the small
reads of every request (`SqliteStore.reader`): it sees every commit, reads beside a write,
never writes, and gives way when it cannot read."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.models import Message, Role, User
from services.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(f"sqlite:///{tmp_path / 'reader.db'}")
    yield store
    await store.close()


async def a_reply(store: SqliteStore) -> Message:
    user = await store.create_user(User(email="ada@example.com", password_hash="x"))
    topic = await store.create_topic(user.id, "Topic")
    question = Message(topic.id, user.id, Role.USER, "question")
    reply = Message(topic.id, user.id, Role.ASSISTANT, "", parent_id=question.id)
    await store.add_messages([question, reply])
    return reply


async def test_a_reply_is_read_while_another_process_writes(
    store: SqliteStore, tmp_path: Path
) -> None:
    """Another process holds the write lock with changes not yet committed: the reads of a
    new question come back at once, with what was committed."""
    reply = await a_reply(store)
    other = sqlite3.connect(tmp_path / "reader.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE topics SET title = 'not yet'")
    try:
        topic = await store.get_topic(reply.user_id, reply.topic_id)
        path = await store.path_to(reply.user_id, reply.id, budget=1_000)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert topic.title == "Topic"
    assert [m.role for m in path] == [Role.USER, Role.ASSISTANT]


async def test_the_reader_sees_each_write_as_soon_as_it_is_committed(
    store: SqliteStore,
) -> None:
    reply = await a_reply(store)
    for n in range(3):
        await store.update_message(reply.user_id, reply.id, content=f"text {n}")
        path = await store.path_to(reply.user_id, reply.id, budget=1_000)
        assert path[-1].content == f"text {n}"


async def test_the_reader_cannot_write(store: SqliteStore) -> None:
    assert store.reader is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.reader.execute("DELETE FROM users")


async def test_reads_take_the_usual_way_when_the_reader_cannot(store: SqliteStore) -> None:
    reply = await a_reply(store)
    assert store.reader is not None
    store.reader.close()  # any failure of its own: closed, busy, another thread, …
    topic = await store.get_topic(reply.user_id, reply.topic_id)
    assert topic.active_leaf_id == reply.id
    assert await store.get_user(reply.user_id) is not None


async def test_a_store_used_from_another_thread_still_reads(store: SqliteStore) -> None:
    """sqlite3 refuses the reader on any thread but its own; the read goes the usual way."""
    reply = await a_reply(store)

    def in_another_thread() -> str:
        return asyncio.run(store.get_topic(reply.user_id, reply.topic_id)).title

    # aiosqlite answers on the loop that asked: the other thread's own loop.
    assert await asyncio.to_thread(in_another_thread) == "Topic"
