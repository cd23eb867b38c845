"""The SQLite store: one file in WAL mode, migrations recorded in a table, FTS5 search."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from services.errors import Conflict, NotFound
from services.i18n import msg
from services.models import (
    Message,
    MessageStatus,
    Rating,
    Share,
    ToolCall,
    Topic,
    Usage,
    UsageRecord,
    UsageRow,
    User,
    utcnow,
)
from services.store._records import (
    branch_length,
    check_chain,
    dump,
    email_key,
    given,
    message_changes,
    parents_of,
)
from services.store.sqlite_base import timestamp
from services.store.sqlite_files import SqliteAttachments, unlink_all
from services.store.sqlite_migrations import shown_count
from services.store.sqlite_search import SqliteSearch
from services.store.sqlite_tools import SqliteToolServers


class SqliteStore(SqliteSearch, SqliteAttachments, SqliteToolServers):
    """The default store: users, topics and their message trees, shares, usage, attachments
    (bytes in files beside the database) and search, in one SQLite file."""

    # ----- users ------------------------------------------------------------------------------

    async def create_user(self, user: User) -> User:
        user.email = email_key(user.email)
        try:
            async with self._write():
                await self._insert("users", dump(user))
        except Conflict:
            raise Conflict(msg("An account with this email already exists.")) from None
        return user

    async def get_user(self, user_id: str) -> User | None:
        return await self._load(User, "SELECT * FROM users WHERE id = ?", (user_id,), small=True)

    async def get_user_by_email(self, email: str) -> User | None:
        return await self._load(User, "SELECT * FROM users WHERE email = ?", (email_key(email),))

    async def list_users(self) -> list[User]:
        return await self._load_all(User, "SELECT * FROM users ORDER BY created_at, id")

    async def count_users(self) -> int:
        return await self._count("SELECT COUNT(*) FROM users")

    async def update_user(
        self,
        user_id: str,
        *,
        password_hash: str | None = None,
        display_name: str | None = None,
        disabled: bool | None = None,
        settings: dict[str, Any] | None = None,
    ) -> User:
        changes = given(
            password_hash=password_hash,
            display_name=display_name,
            disabled=disabled,
            settings=settings,
        )
        if changes:
            async with self._write():
                await self._update("users", changes, "id = ?", user_id)
        if (user := await self.get_user(user_id)) is None:
            raise NotFound(msg("No such user."))
        return user

    async def bump_token_version(self, user_id: str) -> int:
        sql = "UPDATE users SET token_version = token_version + 1 WHERE id = ? RETURNING *"
        async with self._write():
            row = await self._one(sql, (user_id,))
        if row is None:
            raise NotFound(msg("No such user."))
        return int(row["token_version"])

    # ----- topics -----------------------------------------------------------------------------

    async def create_topic(
        self, user_id: str, title: str, settings: dict[str, Any] | None = None
    ) -> Topic:
        topic = Topic(user_id=user_id, title=title, settings=dict(settings or {}))
        async with self._write():
            await self._insert("topics", {**dump(topic), "activity": topic.id})
        return topic

    async def get_topic(self, user_id: str, topic_id: str) -> Topic:
        sql = "SELECT * FROM topics WHERE id = ? AND user_id = ?"
        if (topic := await self._load(Topic, sql, (topic_id, user_id), small=True)) is None:
            raise NotFound(msg("Topic not found."))
        return topic

    async def list_topics(
        self, user_id: str, *, limit: int = 50, offset: int = 0, archived: bool | None = None
    ) -> list[Topic]:
        which = "" if archived is None else f" AND archived = {int(archived)}"
        return await self._load_all(
            Topic,
            f"SELECT * FROM topics WHERE user_id = ?{which} "
            "ORDER BY pinned DESC, activity DESC LIMIT ? OFFSET ?",
            (user_id, max(0, limit), max(0, offset)),
        )

    async def count_topics(self, user_id: str, *, archived: bool | None = None) -> int:
        which = "" if archived is None else f" AND archived = {int(archived)}"
        return await self._count(f"SELECT COUNT(*) FROM topics WHERE user_id = ?{which}", user_id)

    async def _change_topic(self, user_id: str, topic_id: str, changes: dict[str, Any]) -> Topic:
        async with self._write():
            if not await self._update(
                "topics", changes, "id = ? AND user_id = ?", topic_id, user_id
            ):
                raise NotFound(msg("Topic not found."))
        return await self.get_topic(user_id, topic_id)

    async def rename_topic(self, user_id: str, topic_id: str, title: str) -> Topic:
        return await self._change_topic(user_id, topic_id, {"title": title})

    async def update_topic_settings(
        self, user_id: str, topic_id: str, settings: dict[str, Any]
    ) -> Topic:
        return await self._change_topic(user_id, topic_id, {"settings": settings})

    async def mark_topic(
        self,
        user_id: str,
        topic_id: str,
        *,
        pinned: bool | None = None,
        archived: bool | None = None,
    ) -> Topic:
        if changes := given(pinned=pinned, archived=archived):
            return await self._change_topic(user_id, topic_id, changes)
        return await self.get_topic(user_id, topic_id)

    async def delete_topic(self, user_id: str, topic_id: str) -> None:
        # Its messages and attachment records go by the foreign keys' cascade, search entries
        # by the triggers; the attachments' files after the rows are gone.
        files = [
            row["id"]
            for row in await self._all(
                "SELECT id FROM attachments WHERE topic_id = ? AND user_id = ?", (topic_id, user_id)
            )
        ]
        async with self._write():
            if not await self._run(
                "DELETE FROM topics WHERE id = ? AND user_id = ?", topic_id, user_id
            ):
                raise NotFound(msg("Topic not found."))
        await asyncio.to_thread(unlink_all, [self.files / name for name in files])

    # ----- import -----------------------------------------------------------------------------

    async def import_topics(self, topics: list[tuple[Topic, list[Message]]]) -> None:
        """One transaction: a failure anywhere leaves no topic of the import behind."""
        async with self._write():
            for topic, messages in topics:
                topic.message_count = branch_length(parents_of(messages), topic.active_leaf_id)
                activity = max((m.id for m in messages), default=topic.id)
                await self._insert("topics", {**dump(topic), "activity": max(activity, topic.id)})
                for message in messages:
                    await self._insert("messages", dump(message))

    # ----- shares -----------------------------------------------------------------------------

    async def save_share(self, share: Share) -> Share:
        async with self._write():
            if not await self._count(
                "SELECT 1 FROM topics WHERE id = ? AND user_id = ?", share.topic_id, share.user_id
            ):
                raise NotFound(msg("Topic not found."))
            await self._run("DELETE FROM shares WHERE topic_id = ?", share.topic_id)
            await self._insert("shares", dump(share))
        return share

    async def get_share(self, share_id: str) -> Share:
        if found := await self._load(Share, "SELECT * FROM shares WHERE id = ?", (share_id,)):
            return found
        raise NotFound(msg("This shared link does not exist (or was revoked)."))

    async def share_of_topic(self, user_id: str, topic_id: str) -> Share | None:
        sql = "SELECT * FROM shares WHERE topic_id = ? AND user_id = ?"
        return await self._load(Share, sql, (topic_id, user_id))

    async def delete_share(self, user_id: str, topic_id: str) -> bool:
        async with self._write():
            sql = "DELETE FROM shares WHERE topic_id = ? AND user_id = ?"
            return bool(await self._run(sql, topic_id, user_id))

    # ----- usage ------------------------------------------------------------------------------

    async def record_usage(self, record: UsageRecord) -> None:
        async with self._write():
            await self._insert("usage", asdict(record))

    async def usage_summary(self, user_id: str, *, since_day: str) -> list[UsageRow]:
        rows = await self._all(
            "SELECT day, model, COUNT(*) AS replies, SUM(prompt_tokens) AS prompt, "
            "SUM(completion_tokens) AS completion FROM usage WHERE user_id = ? AND day >= ? "
            "GROUP BY day, model ORDER BY day DESC, model",
            (user_id, since_day),
        )
        return [
            UsageRow(r["day"], r["model"], r["replies"], r["prompt"], r["completion"]) for r in rows
        ]

    # ----- messages ---------------------------------------------------------------------------

    async def add_message(self, message: Message) -> Message:
        """Append a message; its topic counts it, moves to the top and makes it the leaf."""
        return (await self.add_messages([message]))[0]

    async def add_messages(self, messages: Sequence[Message]) -> list[Message]:
        """Append messages in one transaction, each answering the one before it (the first
        answers its parent_id): a question and the reply being written to it."""
        check_chain(messages)  # first: an empty list is its ValueError, not an IndexError
        first, last = messages[0], messages[-1]
        now = utcnow()
        for message in messages:
            message.created_at = message.updated_at = now
        async with self._write():
            # The topic moves only if it is the user's and holds the parent: one statement
            # checks both. The rows are sent to the database thread with it, not after its
            # answer (a new reply's model request is on its way, and its stream waits for
            # these rows); if the topic did not move, the rollback takes them back.
            moved, inserted = await asyncio.gather(
                self.db.execute(
                    # Counted on from the leaf it answers (a reply to the last message),
                    # else along the branch it joins (an edit or a regeneration).
                    "UPDATE topics SET message_count = :added + CASE WHEN active_leaf_id IS "
                    f":parent THEN message_count ELSE {shown_count(':parent')} END, "
                    "updated_at = :at, active_leaf_id = :id, activity = :id "
                    "WHERE id = :topic AND user_id = :user AND (:parent IS NULL OR EXISTS "
                    "(SELECT 1 FROM messages WHERE id = :parent AND topic_id = :topic))",
                    {
                        "added": len(messages),
                        "at": timestamp(now),
                        "id": last.id,
                        "topic": first.topic_id,
                        "user": first.user_id,
                        "parent": first.parent_id,
                    },
                ),
                self._insert_many("messages", [dump(message) for message in messages]),
                return_exceptions=True,
            )
            if isinstance(moved, BaseException):
                raise moved
            if not moved.rowcount:
                await self.get_topic(first.user_id, first.topic_id)  # NotFound if not the user's
                raise NotFound(msg("The message to answer is not in this topic."))
            if isinstance(inserted, BaseException):
                raise inserted
        return list(messages)

    async def get_message(self, user_id: str, message_id: str) -> Message:
        sql = "SELECT * FROM messages WHERE id = ? AND user_id = ?"
        if (message := await self._load(Message, sql, (message_id, user_id))) is None:
            raise NotFound(msg("Message not found."))
        return message

    async def list_messages(self, user_id: str, topic_id: str) -> list[Message]:
        await self.get_topic(user_id, topic_id)
        sql = "SELECT * FROM messages WHERE topic_id = ? ORDER BY id"
        return await self._load_all(Message, sql, (topic_id,))

    async def path_to(
        self, user_id: str, leaf_id: str, *, limit: int | None = None, budget: int | None = None
    ) -> list[Message]:
        # One query (it runs before every reply's model request): the leaf, if it is the
        # user's, then its parents within its topic. CROSS JOIN keeps SQLite to the path's
        # rows, by id: left to itself, it read the whole topic by its index (a long topic's
        # last 10 turns took 0.66 ms instead of 0.11).
        path = await self._load_all(
            Message,
            "WITH RECURSIVE leaf(id, topic_id) AS (SELECT id, topic_id FROM messages "
            "WHERE id = :leaf AND user_id = :user), "
            # `used`: the text of the rows from the leaf down to here, this one included.
            "path(id, depth, used) AS (SELECT id, 0, 0 FROM leaf UNION ALL "
            "SELECT m.parent_id, p.depth + 1, p.used + "
            "CASE m.role WHEN 'system' THEN 0 ELSE length(m.content) END "
            "FROM messages m JOIN path p ON m.id = p.id "
            "WHERE m.parent_id IS NOT NULL AND (:limit IS NULL OR p.depth + 1 < :limit) "
            "AND (:budget IS NULL OR p.used + "
            "CASE m.role WHEN 'system' THEN 0 ELSE length(m.content) END <= :budget)) "
            "SELECT m.* FROM path p CROSS JOIN messages m ON m.id = p.id "
            "WHERE m.topic_id = (SELECT topic_id FROM leaf) ORDER BY p.depth DESC",
            {"leaf": leaf_id, "user": user_id, "limit": limit, "budget": budget},
            small=limit is not None or budget is not None,  # a whole branch can be long
        )
        if not path:
            raise NotFound(msg("Message not found."))
        return path

    async def child_ids(
        self, user_id: str, topic_id: str, parent_ids: Collection[str | None]
    ) -> dict[str | None, list[str]]:
        await self.get_topic(user_id, topic_id)
        wanted = [p for p in parent_ids if p is not None]
        marks = ", ".join("?" * len(wanted))
        roots = " OR parent_id IS NULL" if None in parent_ids else ""
        rows = await self._all(
            "SELECT id, parent_id FROM messages WHERE topic_id = ? "
            f"AND (parent_id IN ({marks}){roots}) ORDER BY id",
            (topic_id, *wanted),
        )
        children: dict[str | None, list[str]] = {parent: [] for parent in parent_ids}
        for row in rows:
            children[row["parent_id"]].append(row["id"])
        return children

    async def siblings(self, user_id: str, message_id: str) -> list[Message]:
        message = await self.get_message(user_id, message_id)
        return await self._load_all(
            Message,
            "SELECT * FROM messages WHERE topic_id = ? AND parent_id IS ? ORDER BY id",
            (message.topic_id, message.parent_id),
        )

    async def update_message(
        self,
        user_id: str,
        message_id: str,
        *,
        content: str | None = None,
        status: MessageStatus | None = None,
        usage: Usage | None = None,
        error: str | None = None,
        reasoning: str | None = None,
        reasoning_seconds: float | None = None,
        tool_calls: list[ToolCall] | None = None,
    ) -> None:
        changes = message_changes(
            content, status, usage, error, reasoning, reasoning_seconds, tool_calls
        )
        async with self._write():
            if not await self._update(
                "messages", changes, "id = ? AND user_id = ?", message_id, user_id
            ):
                raise NotFound(msg("Message not found."))

    async def set_active_leaf(self, user_id: str, topic_id: str, leaf_id: str | None) -> None:
        async with self._write():
            await self.get_topic(user_id, topic_id)
            if leaf_id is not None:
                leaf = await self.get_message(user_id, leaf_id)
                if leaf.topic_id != topic_id:
                    raise NotFound(msg("Message not found."))
            await self._run(
                f"UPDATE topics SET active_leaf_id = ?, message_count = {shown_count('?')} "
                "WHERE id = ?",
                leaf_id,
                leaf_id,
                topic_id,
            )

    async def rate_message(self, user_id: str, message_id: str, rating: Rating | None) -> None:
        value = rating.value if rating else None
        async with self._write():
            if not await self._update(
                "messages", {"rating": value}, "id = ? AND user_id = ?", message_id, user_id
            ):
                raise NotFound(msg("Message not found."))

    # ----- revoked tokens, start-up -----------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        async with self._write():
            await self._run(
                "INSERT OR REPLACE INTO revoked_tokens VALUES (?, ?)", jti, timestamp(expires_at)
            )

    async def is_token_revoked(self, jti: str) -> bool:
        sql = "SELECT 1 FROM revoked_tokens WHERE jti = ? AND expires_at > ?"
        return bool(await self._glance(sql, (jti, timestamp(utcnow()))))

    async def purge_revoked_tokens(self, now: datetime | None = None) -> int:
        async with self._write():
            return await self._run(
                "DELETE FROM revoked_tokens WHERE expires_at <= ?", timestamp(now or utcnow())
            )

    async def mark_streaming_interrupted(self) -> int:
        """Replies still marked streaming were cut off by a stop of the process."""
        async with self._write():
            return await self._update(
                "messages",
                {"status": MessageStatus.INTERRUPTED.value, "updated_at": utcnow()},
                "status = ?",
                MessageStatus.STREAMING.value,
            )
