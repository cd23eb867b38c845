"""The SQLite store: one file in WAL mode, migrations recorded in a table, FTS5 search."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from services.errors import Conflict, NotFound, StoreUnavailable
from services.models import (
    Message,
    MessageStatus,
    Role,
    SearchHit,
    Topic,
    Usage,
    User,
    utcnow,
)

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
MIGRATIONS: list[tuple[int, Migration]] = []


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register a schema step; each runs once per database file, in order."""

    def register(step: Migration) -> Migration:
        MIGRATIONS.append((version, step))
        return step

    return register


@migration(1)
async def _initial_schema(db: aiosqlite.Connection) -> None:
    await db.executescript(
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            is_owner INTEGER NOT NULL DEFAULT 0,
            disabled INTEGER NOT NULL DEFAULT 0,
            token_version INTEGER NOT NULL DEFAULT 0,
            settings TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE TABLE topics (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',
            active_leaf_id TEXT,
            message_count INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            activity TEXT NOT NULL  -- the newest id in the topic: orders by activity, no ties
        );
        CREATE INDEX topics_by_user ON topics (user_id, activity DESC);
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            parent_id TEXT,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL,
            model TEXT,
            usage TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX messages_by_topic ON messages (topic_id, id);
        CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
        CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at TEXT NOT NULL);
        CREATE VIRTUAL TABLE search_index USING fts5(
            text, topic_id UNINDEXED, message_id UNINDEXED, user_id UNINDEXED,
            tokenize = 'unicode61 remove_diacritics 2'
        );
        """
    )


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        display_name=row["display_name"],
        is_owner=bool(row["is_owner"]),
        disabled=bool(row["disabled"]),
        token_version=row["token_version"],
        settings=json.loads(row["settings"]),
        created_at=_dt(row["created_at"]),
    )


def _topic(row: sqlite3.Row) -> Topic:
    return Topic(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        settings=json.loads(row["settings"]),
        active_leaf_id=row["active_leaf_id"],
        message_count=row["message_count"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        topic_id=row["topic_id"],
        user_id=row["user_id"],
        parent_id=row["parent_id"],
        role=Role(row["role"]),
        content=row["content"],
        status=MessageStatus(row["status"]),
        model=row["model"],
        usage=Usage.from_dict(json.loads(row["usage"])) if row["usage"] else None,
        error=row["error"],
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


def fts_query(text: str) -> str:
    """Quote every word as an FTS5 string (so user input is never FTS syntax); last is a prefix."""
    words = re.findall(r"\w+", text)
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


class SqliteStore:
    """The default store. One connection; writes are serialised by a lock, reads are not."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, read_only: bool = False) -> SqliteStore:
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if read_only:
                db = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
            else:
                db = await aiosqlite.connect(path)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open the SQLite database {path}: {exc}") from None
        db.row_factory = sqlite3.Row
        store = cls(db)
        try:
            async with store._guard():
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA foreign_keys = ON")
                await db.execute("PRAGMA busy_timeout = 5000")
                await db.execute("PRAGMA synchronous = NORMAL")
                await store._migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        done = {
            row[0] for row in await self.db.execute_fetchall("SELECT version FROM schema_version")
        }
        for version, step in sorted(MIGRATIONS, key=lambda item: item[0]):
            if version not in done:
                await step(self.db)
                await self.db.execute(
                    "INSERT INTO schema_version VALUES (?, ?)", (version, _ts(utcnow()))
                )
        await self.db.commit()

    async def schema_version(self) -> int:
        row = await self._one("SELECT MAX(version) FROM schema_version")
        return int(row[0] or 0) if row else 0

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turn driver failures (read-only file, disk full, locked) into StoreUnavailable."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.OperationalError, sqlite3.DatabaseError, ValueError) as exc:
            if isinstance(exc, ValueError) and "closed" not in str(exc):
                raise
            raise StoreUnavailable(f"The database cannot be used right now ({exc}).") from None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock, self._guard():
            try:
                yield self.db
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise

    async def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        async with self._guard():
            async with self.db.execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        async with self._guard():
            return list(await self.db.execute_fetchall(sql, params))

    # ----- life cycle -------------------------------------------------------------------------

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> bool:
        try:
            await self._one("SELECT 1")
            return True
        except Exception:
            return False

    # ----- users ------------------------------------------------------------------------------

    async def create_user(self, user: User) -> User:
        user.email = user.email.strip().lower()
        try:
            async with self._write() as db:
                await db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.id,
                        user.email,
                        user.password_hash,
                        user.display_name,
                        int(user.is_owner),
                        int(user.disabled),
                        user.token_version,
                        json.dumps(user.settings),
                        _ts(user.created_at),
                    ),
                )
        except sqlite3.IntegrityError:
            raise Conflict("An account with this email already exists.") from None
        return user

    async def get_user(self, user_id: str) -> User | None:
        row = await self._one("SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def get_user_by_email(self, email: str) -> User | None:
        row = await self._one("SELECT * FROM users WHERE email = ?", (email.strip().lower(),))
        return _user(row) if row else None

    async def list_users(self) -> list[User]:
        return [_user(r) for r in await self._all("SELECT * FROM users ORDER BY created_at, id")]

    async def count_users(self) -> int:
        row = await self._one("SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0

    async def update_user(
        self,
        user_id: str,
        *,
        password_hash: str | None = None,
        display_name: str | None = None,
        disabled: bool | None = None,
        settings: dict[str, Any] | None = None,
    ) -> User:
        changes = {
            "password_hash": password_hash,
            "display_name": display_name,
            "disabled": None if disabled is None else int(disabled),
            "settings": None if settings is None else json.dumps(settings),
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            assignments = ", ".join(f"{column} = ?" for column in changes)
            async with self._write() as db:
                await db.execute(
                    f"UPDATE users SET {assignments} WHERE id = ?", (*changes.values(), user_id)
                )
        user = await self.get_user(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def bump_token_version(self, user_id: str) -> int:
        async with self._write() as db:
            await db.execute(
                "UPDATE users SET token_version = token_version + 1 WHERE id = ?", (user_id,)
            )
        user = await self.get_user(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user.token_version

    # ----- topics -----------------------------------------------------------------------------

    async def create_topic(
        self, user_id: str, title: str, settings: dict[str, Any] | None = None
    ) -> Topic:
        topic = Topic(user_id=user_id, title=title, settings=dict(settings or {}))
        async with self._write() as db:
            await db.execute(
                "INSERT INTO topics VALUES (?, ?, ?, ?, NULL, 0, ?, ?, ?)",
                (
                    topic.id,
                    user_id,
                    title,
                    json.dumps(topic.settings),
                    _ts(topic.created_at),
                    _ts(topic.updated_at),
                    topic.id,
                ),
            )
            await self._index(db, title, topic.id, None, user_id)
        return topic

    async def get_topic(self, user_id: str, topic_id: str) -> Topic:
        row = await self._one(
            "SELECT * FROM topics WHERE id = ? AND user_id = ?", (topic_id, user_id)
        )
        if row is None:
            raise NotFound("Topic not found.")
        return _topic(row)

    async def list_topics(self, user_id: str, *, limit: int = 50, offset: int = 0) -> list[Topic]:
        rows = await self._all(
            "SELECT * FROM topics WHERE user_id = ? ORDER BY activity DESC LIMIT ? OFFSET ?",
            (user_id, max(0, limit), max(0, offset)),
        )
        return [_topic(r) for r in rows]

    async def count_topics(self, user_id: str) -> int:
        row = await self._one("SELECT COUNT(*) FROM topics WHERE user_id = ?", (user_id,))
        return int(row[0]) if row else 0

    async def rename_topic(self, user_id: str, topic_id: str, title: str) -> Topic:
        await self.get_topic(user_id, topic_id)
        async with self._write() as db:
            await db.execute("UPDATE topics SET title = ? WHERE id = ?", (title, topic_id))
            await db.execute(
                "UPDATE search_index SET text = ? WHERE topic_id = ? AND message_id IS NULL",
                (title, topic_id),
            )
        return await self.get_topic(user_id, topic_id)

    async def update_topic_settings(
        self, user_id: str, topic_id: str, settings: dict[str, Any]
    ) -> Topic:
        await self.get_topic(user_id, topic_id)
        async with self._write() as db:
            await db.execute(
                "UPDATE topics SET settings = ? WHERE id = ?", (json.dumps(settings), topic_id)
            )
        return await self.get_topic(user_id, topic_id)

    async def delete_topic(self, user_id: str, topic_id: str) -> None:
        await self.get_topic(user_id, topic_id)
        async with self._write() as db:
            await db.execute("DELETE FROM messages WHERE topic_id = ?", (topic_id,))
            await db.execute("DELETE FROM search_index WHERE topic_id = ?", (topic_id,))
            await db.execute("DELETE FROM topics WHERE id = ?", (topic_id,))

    async def search(self, user_id: str, query: str, *, limit: int = 50) -> list[SearchHit]:
        match = fts_query(query)
        if not match:
            return []
        rows = await self._all(
            "SELECT topic_id, message_id, snippet(search_index, 0, '', '', '…', 12) AS snip "
            "FROM search_index WHERE search_index MATCH ? AND user_id = ? ORDER BY rank LIMIT ?",
            (match, user_id, limit * 4),
        )
        hits: list[SearchHit] = []
        seen: set[str] = set()
        topics: dict[str, Topic] = {}
        for row in rows:
            if row["topic_id"] in seen:
                continue
            seen.add(row["topic_id"])
            topic = topics.get(row["topic_id"]) or await self.get_topic(user_id, row["topic_id"])
            hits.append(SearchHit(topic, row["message_id"], row["snip"]))
            if len(hits) >= limit:
                break
        return hits

    @staticmethod
    async def _index(
        db: aiosqlite.Connection, text: str, topic_id: str, message_id: str | None, user_id: str
    ) -> None:
        await db.execute(
            "INSERT INTO search_index (text, topic_id, message_id, user_id) VALUES (?, ?, ?, ?)",
            (text, topic_id, message_id, user_id),
        )

    # ----- messages ---------------------------------------------------------------------------

    async def add_message(self, message: Message) -> Message:
        await self.get_topic(message.user_id, message.topic_id)
        if message.parent_id is not None:
            parent = await self._one(
                "SELECT topic_id FROM messages WHERE id = ?", (message.parent_id,)
            )
            if parent is None or parent["topic_id"] != message.topic_id:
                raise NotFound("The message to answer is not in this topic.")
        now = utcnow()
        message.created_at = message.updated_at = now
        async with self._write() as db:
            await db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.id,
                    message.topic_id,
                    message.user_id,
                    message.parent_id,
                    message.role.value,
                    message.content,
                    message.status.value,
                    message.model,
                    json.dumps(message.usage.to_dict()) if message.usage else None,
                    message.error,
                    _ts(now),
                    _ts(now),
                ),
            )
            await db.execute(
                "UPDATE topics SET message_count = message_count + 1, updated_at = ?, "
                "active_leaf_id = ?, activity = ? WHERE id = ?",
                (_ts(now), message.id, message.id, message.topic_id),
            )
            await self._index(db, message.content, message.topic_id, message.id, message.user_id)
        return message

    async def get_message(self, user_id: str, message_id: str) -> Message:
        row = await self._one(
            "SELECT * FROM messages WHERE id = ? AND user_id = ?", (message_id, user_id)
        )
        if row is None:
            raise NotFound("Message not found.")
        return _message(row)

    async def list_messages(self, user_id: str, topic_id: str) -> list[Message]:
        await self.get_topic(user_id, topic_id)
        rows = await self._all("SELECT * FROM messages WHERE topic_id = ? ORDER BY id", (topic_id,))
        return [_message(r) for r in rows]

    async def path_to(self, user_id: str, leaf_id: str) -> list[Message]:
        leaf = await self.get_message(user_id, leaf_id)
        rows = await self._all(
            "WITH RECURSIVE path(id, depth) AS (SELECT ?, 0 UNION ALL "
            "SELECT m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.id "
            "WHERE m.parent_id IS NOT NULL) "
            "SELECT m.* FROM messages m JOIN path p ON m.id = p.id "
            "WHERE m.topic_id = ? ORDER BY p.depth DESC",
            (leaf.id, leaf.topic_id),
        )
        return [_message(r) for r in rows]

    async def siblings(self, user_id: str, message_id: str) -> list[Message]:
        message = await self.get_message(user_id, message_id)
        rows = await self._all(
            "SELECT * FROM messages WHERE topic_id = ? AND parent_id IS ? ORDER BY id",
            (message.topic_id, message.parent_id),
        )
        return [_message(r) for r in rows]

    async def update_message(
        self,
        user_id: str,
        message_id: str,
        *,
        content: str | None = None,
        status: MessageStatus | None = None,
        usage: Usage | None = None,
        error: str | None = None,
    ) -> None:
        changes: dict[str, Any] = {
            "content": content,
            "status": status.value if status else None,
            "usage": json.dumps(usage.to_dict()) if usage else None,
            "error": error,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        changes["updated_at"] = _ts(utcnow())
        assignments = ", ".join(f"{column} = ?" for column in changes)
        async with self._write() as db:
            cursor = await db.execute(
                f"UPDATE messages SET {assignments} WHERE id = ? AND user_id = ?",
                (*changes.values(), message_id, user_id),
            )
            if cursor.rowcount == 0:
                raise NotFound("Message not found.")
            if content is not None:
                await db.execute(
                    "UPDATE search_index SET text = ? WHERE message_id = ?", (content, message_id)
                )

    async def set_active_leaf(self, user_id: str, topic_id: str, leaf_id: str | None) -> None:
        await self.get_topic(user_id, topic_id)
        if leaf_id is not None:
            leaf = await self.get_message(user_id, leaf_id)
            if leaf.topic_id != topic_id:
                raise NotFound("Message not found.")
        async with self._write() as db:
            await db.execute(
                "UPDATE topics SET active_leaf_id = ? WHERE id = ?", (leaf_id, topic_id)
            )

    # ----- revoked tokens ---------------------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT OR REPLACE INTO revoked_tokens VALUES (?, ?)", (jti, _ts(expires_at))
            )

    async def is_token_revoked(self, jti: str) -> bool:
        row = await self._one(
            "SELECT 1 FROM revoked_tokens WHERE jti = ? AND expires_at > ?", (jti, _ts(utcnow()))
        )
        return row is not None

    async def purge_revoked_tokens(self, now: datetime | None = None) -> int:
        async with self._write() as db:
            cursor = await db.execute(
                "DELETE FROM revoked_tokens WHERE expires_at <= ?", (_ts(now or utcnow()),)
            )
            return cursor.rowcount

    # ----- start-up ---------------------------------------------------------------------------

    async def mark_streaming_interrupted(self) -> int:
        async with self._write() as db:
            cursor = await db.execute(
                "UPDATE messages SET status = ?, updated_at = ? WHERE status = ?",
                (
                    MessageStatus.INTERRUPTED.value,
                    _ts(utcnow()),
                    MessageStatus.STREAMING.value,
                ),
            )
            return cursor.rowcount
