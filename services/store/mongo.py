"""The MongoDB store (motor): users, topics, messages, shares, usage and attachments."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from services.errors import Conflict, NotFound
from services.i18n import msg
from services.models import (
    Message,
    MessageStatus,
    Rating,
    Role,
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
    email_key,
    given,
    message_changes,
    parents_of,
)
from services.store.mongo_base import as_doc, from_doc, naive_utc, now_ms, to_ms
from services.store.mongo_files import MongoAttachments
from services.store.mongo_search import MongoSearch
from services.store.mongo_tools import MongoToolServers

AFTER = ReturnDocument.AFTER


def _topics_of(user_id: str, archived: bool | None) -> dict[str, Any]:
    """A user's topics, all of them or only those that are (or are not) archived."""
    return {"user_id": user_id} if archived is None else {"user_id": user_id, "archived": archived}


class MongoStore(MongoSearch, MongoAttachments, MongoToolServers):
    """Users, topics and their message trees, shares, usage, attachments (bytes in GridFS)
    and search, as collections of one MongoDB database."""

    # ----- users ------------------------------------------------------------------------------

    async def create_user(self, user: User) -> User:
        user.email, user.created_at = email_key(user.email), to_ms(user.created_at)
        try:
            async with self._guard():
                await self.users.insert_one(as_doc(user))
        except Conflict:
            raise Conflict(msg("An account with this email already exists.")) from None
        return user

    async def get_user(self, user_id: str) -> User | None:
        async with self._guard():
            doc = await self.users.find_one({"_id": user_id})
        return from_doc(User, doc) if doc else None

    async def get_user_by_email(self, email: str) -> User | None:
        async with self._guard():
            doc = await self.users.find_one({"email": email_key(email)})
        return from_doc(User, doc) if doc else None

    async def list_users(self) -> list[User]:
        async with self._guard():
            docs = await self.users.find().sort([("created_at", 1), ("_id", 1)]).to_list(None)
        return [from_doc(User, d) for d in docs]

    async def count_users(self) -> int:
        async with self._guard():
            return int(await self.users.count_documents({}))

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
        if not changes:
            user = await self.get_user(user_id)
        else:
            async with self._guard():
                doc = await self.users.find_one_and_update(
                    {"_id": user_id}, {"$set": changes}, return_document=AFTER
                )
            user = from_doc(User, doc) if doc else None
        if user is None:
            raise NotFound(msg("No such user."))
        return user

    async def bump_token_version(self, user_id: str) -> int:
        async with self._guard():
            doc = await self.users.find_one_and_update(
                {"_id": user_id}, {"$inc": {"token_version": 1}}, return_document=AFTER
            )
        if doc is None:
            raise NotFound(msg("No such user."))
        return int(doc["token_version"])

    # ----- topics -----------------------------------------------------------------------------

    async def create_topic(
        self, user_id: str, title: str, settings: dict[str, Any] | None = None
    ) -> Topic:
        now = now_ms()
        topic = Topic(user_id, title, settings=dict(settings or {}), created_at=now, updated_at=now)
        async with self._guard():
            await self.topics.insert_one({**as_doc(topic), "activity": topic.id})
        return topic

    async def get_topic(self, user_id: str, topic_id: str) -> Topic:
        async with self._guard():
            doc = await self.topics.find_one({"_id": topic_id, "user_id": user_id})
        if doc is None:
            raise NotFound(msg("Topic not found."))
        return from_doc(Topic, doc)

    async def list_topics(
        self, user_id: str, *, limit: int = 50, offset: int = 0, archived: bool | None = None
    ) -> list[Topic]:
        if limit <= 0:  # MongoDB reads a limit of 0 as "no limit"
            return []
        order = [("pinned", DESCENDING), ("activity", DESCENDING)]
        async with self._guard():
            cursor = self.topics.find(_topics_of(user_id, archived)).sort(order)
            docs = await cursor.skip(max(0, offset)).limit(limit).to_list(None)
        return [from_doc(Topic, d) for d in docs]

    async def count_topics(self, user_id: str, *, archived: bool | None = None) -> int:
        async with self._guard():
            return int(await self.topics.count_documents(_topics_of(user_id, archived)))

    async def _change_topic(self, user_id: str, topic_id: str, update: dict[str, Any]) -> Topic:
        async with self._guard():
            doc = await self.topics.find_one_and_update(
                {"_id": topic_id, "user_id": user_id}, update, return_document=AFTER
            )
        if doc is None:
            raise NotFound(msg("Topic not found."))
        return from_doc(Topic, doc)

    async def rename_topic(self, user_id: str, topic_id: str, title: str) -> Topic:
        return await self._change_topic(user_id, topic_id, {"$set": {"title": title}})

    async def update_topic_settings(
        self, user_id: str, topic_id: str, settings: dict[str, Any]
    ) -> Topic:
        return await self._change_topic(user_id, topic_id, {"$set": {"settings": settings}})

    async def mark_topic(
        self,
        user_id: str,
        topic_id: str,
        *,
        pinned: bool | None = None,
        archived: bool | None = None,
    ) -> Topic:
        if changes := given(pinned=pinned, archived=archived):
            return await self._change_topic(user_id, topic_id, {"$set": changes})
        return await self.get_topic(user_id, topic_id)

    async def delete_topic(self, user_id: str, topic_id: str) -> None:
        # The topic goes first: a message added meanwhile either finds no topic (add_message
        # takes it back) or is already in and goes with the others.
        async with self._guard():
            result = await self.topics.delete_one({"_id": topic_id, "user_id": user_id})
            if result.deleted_count == 0:
                raise NotFound(msg("Topic not found."))
            await self.messages.delete_many({"topic_id": topic_id})
            async for doc in self.attachments.find({"topic_id": topic_id}, {"_id": 1}):
                await self._delete_file(doc["_id"])
            await self.attachments.delete_many({"topic_id": topic_id})
            await self.shares.delete_many({"topic_id": topic_id})

    # ----- import -----------------------------------------------------------------------------

    async def import_topics(self, topics: list[tuple[Topic, list[Message]]]) -> None:
        """All or nothing without transactions (standalone servers and mongomock have none):
        anything inserted before a failure is deleted again."""
        inserted: list[str] = []  # only what this import put in is taken out again
        try:
            async with self._guard():
                for topic, messages in topics:
                    topic.message_count = branch_length(parents_of(messages), topic.active_leaf_id)
                    activity = max([topic.id, *(m.id for m in messages)])
                    await self.topics.insert_one({**as_doc(topic), "activity": activity})
                    inserted.append(topic.id)
                    if messages:
                        await self.messages.insert_many([as_doc(m) for m in messages])
        except BaseException:
            async with self._guard():
                await self.messages.delete_many({"topic_id": {"$in": inserted}})
                await self.topics.delete_many({"_id": {"$in": inserted}})
            raise

    # ----- shares -----------------------------------------------------------------------------

    async def save_share(self, share: Share) -> Share:
        await self.get_topic(share.user_id, share.topic_id)
        async with self._guard():
            await self.shares.delete_many({"topic_id": share.topic_id})
            await self.shares.insert_one(as_doc(share))
        return share

    async def get_share(self, share_id: str) -> Share:
        async with self._guard():
            doc = await self.shares.find_one({"_id": share_id})
        if doc is None:
            raise NotFound(msg("This shared link does not exist (or was revoked)."))
        return from_doc(Share, doc)

    async def share_of_topic(self, user_id: str, topic_id: str) -> Share | None:
        async with self._guard():
            doc = await self.shares.find_one({"topic_id": topic_id, "user_id": user_id})
        return from_doc(Share, doc) if doc else None

    async def delete_share(self, user_id: str, topic_id: str) -> bool:
        async with self._guard():
            result = await self.shares.delete_many({"topic_id": topic_id, "user_id": user_id})
        return bool(result.deleted_count)

    # ----- usage ------------------------------------------------------------------------------

    async def record_usage(self, record: UsageRecord) -> None:
        values = asdict(record)
        values["_id"] = values.pop("id")
        async with self._guard():
            await self.usage.insert_one(values)

    async def usage_summary(self, user_id: str, *, since_day: str) -> list[UsageRow]:
        pipeline = [
            {"$match": {"user_id": user_id, "day": {"$gte": since_day}}},
            {
                "$group": {
                    "_id": {"day": "$day", "model": "$model"},
                    "replies": {"$sum": 1},
                    "prompt": {"$sum": "$prompt_tokens"},
                    "completion": {"$sum": "$completion_tokens"},
                }
            },
        ]
        async with self._guard():
            docs = await self.usage.aggregate(pipeline).to_list(None)
        rows = [
            UsageRow(d["_id"]["day"], d["_id"]["model"], d["replies"], d["prompt"], d["completion"])
            for d in docs
        ]
        rows.sort(key=lambda r: r.model)
        return sorted(rows, key=lambda r: r.day, reverse=True)  # newest day first, then model

    # ----- messages ---------------------------------------------------------------------------

    async def add_message(self, message: Message) -> Message:
        """Append a message; its topic counts it, moves to the top and makes it the leaf."""
        return (await self.add_messages([message]))[0]

    async def add_messages(self, messages: Sequence[Message]) -> list[Message]:
        """Append messages, each answering the one before it (the first answers its
        parent_id): a question and the reply being written to it."""
        check_chain(messages)  # first: an empty list is its ValueError, not an IndexError
        first, last = messages[0], messages[-1]
        await self.get_topic(first.user_id, first.topic_id)
        async with self._guard():
            if first.parent_id is not None and not await self.messages.find_one(
                {"_id": first.parent_id, "topic_id": first.topic_id}, {"_id": 1}
            ):
                raise NotFound(msg("The message to answer is not in this topic."))
            now = now_ms()
            for message in messages:
                message.created_at = message.updated_at = now
            await self.messages.insert_many([as_doc(message) for message in messages])
            where = {"_id": last.topic_id, "user_id": last.user_id}
            moved: dict[str, dict[str, Any]] = {
                "$set": {"updated_at": now, "active_leaf_id": last.id},
                # $max keeps the order right when appends finish out of order.
                "$max": {"activity": last.id},
            }
            # The count is what the topic shows: counted on from the leaf it answers (a reply
            # to the last message), else along the branch it joins (an edit, a regeneration).
            result = await self.topics.update_one(
                {**where, "active_leaf_id": first.parent_id},
                {**moved, "$inc": {"message_count": len(messages)}},
            )
            if result.matched_count == 0:
                above = first.parent_id
                shown = len(await self.path_to(first.user_id, above)) if above else 0
                moved["$set"]["message_count"] = shown + len(messages)
                result = await self.topics.update_one(where, moved)
            if result.matched_count == 0:  # the topic was deleted meanwhile
                await self.messages.delete_many({"_id": {"$in": [m.id for m in messages]}})
                raise NotFound(msg("Topic not found."))
        return list(messages)

    async def get_message(self, user_id: str, message_id: str) -> Message:
        async with self._guard():
            doc = await self.messages.find_one({"_id": message_id, "user_id": user_id})
        if doc is None:
            raise NotFound(msg("Message not found."))
        return from_doc(Message, doc)

    async def _messages(self, query: dict[str, Any]) -> list[Message]:
        async with self._guard():
            docs = await self.messages.find(query).sort("_id", ASCENDING).to_list(None)
        return [from_doc(Message, d) for d in docs]

    async def list_messages(self, user_id: str, topic_id: str) -> list[Message]:
        await self.get_topic(user_id, topic_id)
        return await self._messages({"topic_id": topic_id})

    async def path_to(
        self, user_id: str, leaf_id: str, *, limit: int | None = None, budget: int | None = None
    ) -> list[Message]:
        leaf = await self.get_message(user_id, leaf_id)
        # A whole branch reads the topic at once; a window of a long one, a parent at a time.
        by_id = None
        if limit is None:
            by_id = {m.id: m for m in await self._messages({"topic_id": leaf.topic_id})}
        path, used = [leaf], 0
        while (parent_id := path[-1].parent_id) is not None and (
            limit is None or len(path) < limit
        ):
            if path[-1].role != Role.SYSTEM:
                used += len(path[-1].content)
            if budget is not None and used > budget:
                break
            if by_id is not None:
                parent = by_id.get(parent_id)
            else:
                async with self._guard():
                    doc = await self.messages.find_one(
                        {"_id": parent_id, "topic_id": leaf.topic_id}
                    )
                parent = from_doc(Message, doc) if doc else None
            if parent is None:
                break
            path.append(parent)
        return path[::-1]

    async def child_ids(
        self, user_id: str, topic_id: str, parent_ids: Collection[str | None]
    ) -> dict[str | None, list[str]]:
        await self.get_topic(user_id, topic_id)
        query = {"topic_id": topic_id, "parent_id": {"$in": list(parent_ids)}}
        async with self._guard():
            cursor = self.messages.find(query, {"_id": 1, "parent_id": 1}).sort("_id", ASCENDING)
            docs = await cursor.to_list(None)
        children: dict[str | None, list[str]] = {parent: [] for parent in parent_ids}
        for doc in docs:
            children[doc.get("parent_id")].append(doc["_id"])
        return children

    async def siblings(self, user_id: str, message_id: str) -> list[Message]:
        message = await self.get_message(user_id, message_id)
        return await self._messages({"topic_id": message.topic_id, "parent_id": message.parent_id})

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
        async with self._guard():
            result = await self.messages.update_one(
                {"_id": message_id, "user_id": user_id}, {"$set": changes}
            )
        if result.matched_count == 0:
            raise NotFound(msg("Message not found."))

    async def set_active_leaf(self, user_id: str, topic_id: str, leaf_id: str | None) -> None:
        if leaf_id is not None:
            leaf = await self.get_message(user_id, leaf_id)
            if leaf.topic_id != topic_id:
                raise NotFound(msg("Message not found."))
        shown = len(await self.path_to(user_id, leaf_id)) if leaf_id else 0
        await self._change_topic(
            user_id, topic_id, {"$set": {"active_leaf_id": leaf_id, "message_count": shown}}
        )

    async def rate_message(self, user_id: str, message_id: str, rating: Rating | None) -> None:
        value = rating.value if rating else None
        async with self._guard():
            result = await self.messages.update_one(
                {"_id": message_id, "user_id": user_id}, {"$set": {"rating": value}}
            )
        if result.matched_count == 0:
            raise NotFound(msg("Message not found."))

    # ----- revoked tokens, start-up -----------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        # The TTL index removes it once it expires; is_token_revoked does not rely on that.
        async with self._guard():
            await self.revoked.update_one(
                {"_id": jti}, {"$set": {"expires_at": naive_utc(expires_at)}}, upsert=True
            )

    async def is_token_revoked(self, jti: str) -> bool:
        async with self._guard():
            doc = await self.revoked.find_one(
                {"_id": jti, "expires_at": {"$gt": naive_utc(utcnow())}}, {"_id": 1}
            )
        return doc is not None

    async def purge_revoked_tokens(self, now: datetime | None = None) -> int:
        async with self._guard():
            result = await self.revoked.delete_many(
                {"expires_at": {"$lte": naive_utc(now or utcnow())}}
            )
        return int(result.deleted_count)

    async def mark_streaming_interrupted(self) -> int:
        """Replies still marked streaming were cut off by a stop of the process."""
        async with self._guard():
            result = await self.messages.update_many(
                {"status": MessageStatus.STREAMING.value},
                {"$set": {"status": MessageStatus.INTERRUPTED.value, "updated_at": utcnow()}},
            )
        return int(result.modified_count)
