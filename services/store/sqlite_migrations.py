"""The SQLite schema as numbered steps; each runs once per file, recorded in `schema_version`."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable

import aiosqlite

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
MIGRATIONS: dict[int, Migration] = {}


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register a schema step; each runs once per database file, in version order."""

    def register(step: Migration) -> Migration:
        assert version not in MIGRATIONS, f"migration {version} is registered twice"
        MIGRATIONS[version] = step
        return step

    return register


async def run_script(db: aiosqlite.Connection, sql: str) -> None:
    """Run a migration's SQL, statement by statement, inside the transaction `migrate` holds.

    (sqlite3's executescript() would commit that transaction first and give up its lock.)
    """
    for statement in statements(sql):
        await db.execute(statement)


def statements(sql: str) -> list[str]:
    """Split a script into whole statements; a trigger's body (with its `;`s) stays in one."""
    found, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:60]}")
    return found


def shown_count(leaf: str) -> str:
    """SQL for how many messages lie on the branch down to `leaf` (an SQL expression): what a
    topic shows, without the branches an edit or a regeneration left beside it."""
    return (
        f"(WITH RECURSIVE up(id) AS (SELECT {leaf} UNION ALL SELECT m.parent_id FROM messages m "
        "JOIN up ON m.id = up.id WHERE m.parent_id IS NOT NULL) "
        "SELECT count(*) FROM up JOIN messages m ON m.id = up.id)"
    )


@migration(1)
async def _initial_schema(db: aiosqlite.Connection) -> None:
    await run_script(
        db,
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
        """,
    )


@migration(2)
async def _search_kept_by_triggers(db: aiosqlite.Connection) -> None:
    """Move search to an FTS table keyed by a plain table, kept in step by triggers.

    Version 1 looked rows up by an UNINDEXED FTS column, which scans the whole index on
    every save of a streaming reply; `search_docs` finds a row by index instead.
    """
    await run_script(
        db,
        """
        DROP TABLE search_index;
        CREATE TABLE search_docs (
            id INTEGER PRIMARY KEY,  -- the rowid of the text in search_text
            topic_id TEXT NOT NULL,
            message_id TEXT UNIQUE,  -- NULL: the topic's title
            user_id TEXT NOT NULL
        );
        CREATE INDEX search_docs_by_topic ON search_docs (topic_id);
        CREATE VIRTUAL TABLE search_text USING fts5(
            text, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER topics_indexed AFTER INSERT ON topics BEGIN
            INSERT INTO search_docs (topic_id, user_id) VALUES (new.id, new.user_id);
            INSERT INTO search_text (rowid, text) VALUES (last_insert_rowid(), new.title);
        END;
        CREATE TRIGGER topics_reindexed AFTER UPDATE OF title ON topics BEGIN
            UPDATE search_text SET text = new.title WHERE rowid =
                (SELECT id FROM search_docs WHERE topic_id = new.id AND message_id IS NULL);
        END;
        CREATE TRIGGER topics_unindexed AFTER DELETE ON topics BEGIN
            DELETE FROM search_text WHERE rowid IN
                (SELECT id FROM search_docs WHERE topic_id = old.id);
            DELETE FROM search_docs WHERE topic_id = old.id;
        END;
        CREATE TRIGGER messages_indexed AFTER INSERT ON messages BEGIN
            INSERT INTO search_docs (topic_id, message_id, user_id)
                VALUES (new.topic_id, new.id, new.user_id);
            INSERT INTO search_text (rowid, text) VALUES (last_insert_rowid(), new.content);
        END;
        CREATE TRIGGER messages_reindexed AFTER UPDATE OF content ON messages BEGIN
            UPDATE search_text SET text = new.content
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = new.id);
        END;
        CREATE TRIGGER messages_unindexed AFTER DELETE ON messages BEGIN
            DELETE FROM search_text
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = old.id);
            DELETE FROM search_docs WHERE message_id = old.id;
        END;
        INSERT INTO search_docs (topic_id, message_id, user_id)
            SELECT id, NULL, user_id FROM topics UNION ALL
            SELECT topic_id, id, user_id FROM messages;
        INSERT INTO search_text (rowid, text)
            SELECT d.id, coalesce(m.content, t.title) FROM search_docs d
            LEFT JOIN messages m ON m.id = d.message_id
            LEFT JOIN topics t ON t.id = d.topic_id AND d.message_id IS NULL;
        """,
    )


async def migrate(db: aiosqlite.Connection) -> None:
    """Apply the steps this file has not had yet, each recorded with the time it ran.

    All steps run in one write transaction taken before reading what was done, so processes
    opening a new file at the same moment take turns instead of racing. The caller commits;
    a step that fails rolls back with everything else.
    """
    await db.execute("BEGIN IMMEDIATE")
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in await db.execute_fetchall("SELECT version FROM schema_version")}
    for version in sorted(MIGRATIONS.keys() - done):
        await MIGRATIONS[version](db)
        await db.execute(
            "INSERT INTO schema_version VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ'))", (version,)
        )


@migration(10)
async def _attachments(db: aiosqlite.Connection) -> None:
    """Files sent with messages: the record here, the bytes in `attachments/` beside the file."""
    await run_script(
        db,
        """
        CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            topic_id TEXT NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
            message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            text TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX attachments_by_topic ON attachments (topic_id, id);
        """,
    )


@migration(11)
async def _usage(db: aiosqlite.Connection) -> None:
    """Tokens per reply, kept when topics are deleted, for the usage page."""
    await run_script(
        db,
        """
        CREATE TABLE usage (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            day TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL
        );
        CREATE INDEX usage_by_user_day ON usage (user_id, day);
        """,
    )


@migration(12)
async def _shares(db: aiosqlite.Connection) -> None:
    """Read-only snapshots of topics behind unguessable links."""
    await run_script(
        db,
        """
        CREATE TABLE shares (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            topic_id TEXT NOT NULL UNIQUE REFERENCES topics(id) ON DELETE CASCADE,
            snapshot TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    )


@migration(13)
async def _messages_by_parent(db: aiosqlite.Connection) -> None:
    """Answers to given messages (a window's ‹ 2/3 › switchers) without reading the topic."""
    await run_script(db, "CREATE INDEX messages_by_parent ON messages (topic_id, parent_id);")


@migration(14)
async def _reasoning(db: aiosqlite.Connection) -> None:
    """A thinking model's reasoning, kept apart from its answer, and how long it thought."""
    await run_script(
        db,
        """
        ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
        ALTER TABLE messages ADD COLUMN reasoning_seconds REAL;
        """,
    )


@migration(15)
async def _search_by_trigrams(db: aiosqlite.Connection) -> None:
    """A trigram index beside the word index, so CJK text is found by any part of a sentence.

    unicode61 makes a run of Chinese, Japanese or Korean letters one token, so `索引` never
    matched inside `数据库索引的设计`; `search_grams` keeps every three-letter run instead. It
    stays beside `search_text`, which keeps Latin words as they were (whole words, prefixes,
    diacritics folded), under the same rowids. Each text is kept with two line breaks after it
    so that every letter starts a trigram: a one- or two-letter search is then the trigrams
    that begin with it, read from `search_grams_terms`. The triggers of migration 2 are
    replaced by ones that keep both indexes in step.
    """
    await run_script(
        db,
        """
        CREATE VIRTUAL TABLE search_grams USING fts5(text, tokenize = 'trigram');
        CREATE VIRTUAL TABLE search_grams_terms USING fts5vocab(search_grams, 'row');
        INSERT INTO search_grams (rowid, text) SELECT rowid, text || char(10, 10) FROM search_text;
        DROP TRIGGER topics_indexed;
        DROP TRIGGER topics_reindexed;
        DROP TRIGGER topics_unindexed;
        DROP TRIGGER messages_indexed;
        DROP TRIGGER messages_reindexed;
        DROP TRIGGER messages_unindexed;
        CREATE TRIGGER topics_indexed AFTER INSERT ON topics BEGIN
            INSERT INTO search_docs (topic_id, user_id) VALUES (new.id, new.user_id);
            INSERT INTO search_text (rowid, text) VALUES (last_insert_rowid(), new.title);
            INSERT INTO search_grams (rowid, text)
                VALUES (last_insert_rowid(), new.title || char(10, 10));
        END;
        CREATE TRIGGER topics_reindexed AFTER UPDATE OF title ON topics BEGIN
            UPDATE search_text SET text = new.title WHERE rowid =
                (SELECT id FROM search_docs WHERE topic_id = new.id AND message_id IS NULL);
            UPDATE search_grams SET text = new.title || char(10, 10) WHERE rowid =
                (SELECT id FROM search_docs WHERE topic_id = new.id AND message_id IS NULL);
        END;
        CREATE TRIGGER topics_unindexed AFTER DELETE ON topics BEGIN
            DELETE FROM search_text WHERE rowid IN
                (SELECT id FROM search_docs WHERE topic_id = old.id);
            DELETE FROM search_grams WHERE rowid IN
                (SELECT id FROM search_docs WHERE topic_id = old.id);
            DELETE FROM search_docs WHERE topic_id = old.id;
        END;
        CREATE TRIGGER messages_indexed AFTER INSERT ON messages BEGIN
            INSERT INTO search_docs (topic_id, message_id, user_id)
                VALUES (new.topic_id, new.id, new.user_id);
            INSERT INTO search_text (rowid, text) VALUES (last_insert_rowid(), new.content);
            INSERT INTO search_grams (rowid, text)
                VALUES (last_insert_rowid(), new.content || char(10, 10));
        END;
        CREATE TRIGGER messages_reindexed AFTER UPDATE OF content ON messages BEGIN
            UPDATE search_text SET text = new.content
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = new.id);
            UPDATE search_grams SET text = new.content || char(10, 10)
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = new.id);
        END;
        CREATE TRIGGER messages_unindexed AFTER DELETE ON messages BEGIN
            DELETE FROM search_text
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = old.id);
            DELETE FROM search_grams
                WHERE rowid = (SELECT id FROM search_docs WHERE message_id = old.id);
            DELETE FROM search_docs WHERE message_id = old.id;
        END;
        """,
    )


@migration(16)
async def _tools(db: aiosqlite.Connection) -> None:
    """Tool calls inside replies (JSON), and the MCP servers each user added."""
    await run_script(
        db,
        """
        ALTER TABLE messages ADD COLUMN tool_calls TEXT NOT NULL DEFAULT '[]';
        CREATE TABLE tool_servers (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            transport TEXT NOT NULL,
            command TEXT NOT NULL DEFAULT '',
            args TEXT NOT NULL DEFAULT '[]',
            env TEXT NOT NULL DEFAULT '{}',
            url TEXT NOT NULL DEFAULT '',
            headers TEXT NOT NULL DEFAULT '{}',
            enabled INTEGER NOT NULL DEFAULT 1,
            tools TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX tool_servers_by_user ON tool_servers (user_id, id);
        """,
    )


@migration(17)
async def _pins_archives_ratings(db: aiosqlite.Connection) -> None:
    """Pinned and archived topics, and a user's thumbs up or down on a reply.

    The list reads a user's topics that are not archived, pinned ones first, then by
    activity: the index keeps them in that order.
    """
    await run_script(
        db,
        """
        ALTER TABLE topics ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE topics ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN rating TEXT;
        CREATE INDEX topics_listed ON topics (user_id, archived, pinned DESC, activity DESC);
        """,
    )


@migration(18)
async def _count_the_shown_branch(db: aiosqlite.Connection) -> None:
    """A topic's `message_count` is what it shows: the messages on the branch down to its
    active leaf. It counted every message until now, the branches an edit or a regeneration
    left beside it too; count again along each topic's branch."""
    await db.execute(f"UPDATE topics SET message_count = {shown_count('topics.active_leaf_id')}")
