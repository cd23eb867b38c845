"""The MongoDB store (motor): users, topics, messages and revoked tokens as collections."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pymongo
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo import errors as mongo_errors

from services.errors import Conflict, NotFound, StoreUnavailable
from services.models import Message, MessageStatus, Role, SearchHit, Topic, Usage, User, utcnow

SELECTION_TIMEOUT_MS = 5000


def _aware(value: datetime) -> datetime:
    """MongoDB keeps naive UTC datetimes; give them their time zone back."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"],
        email=doc["email"],
        password_hash=doc["password_hash"],
        display_name=doc.get("display_name", ""),
        is_owner=doc.get("is_owner", False),
        disabled=doc.get("disabled", False),
        token_version=doc.get("token_version", 0),
        settings=doc.get("settings") or {},
        created_at=_aware(doc["created_at"]),
    )


def _topic(doc: dict[str, Any]) -> Topic:
    return Topic(
        id=doc["_id"],
        user_id=doc["user_id"],
        title=doc["title"],
        settings=doc.get("settings") or {},
        active_leaf_id=doc.get("active_leaf_id"),
        message_count=doc.get("message_count", 0),
        created_at=_aware(doc["created_at"]),
        updated_at=_aware(doc["updated_at"]),
    )


def _message(doc: dict[str, Any]) -> Message:
    return Message(
        id=doc["_id"],
        topic_id=doc["topic_id"],
        user_id=doc["user_id"],
        parent_id=doc.get("parent_id"),
        role=Role(doc["role"]),
        content=doc["content"],
        status=MessageStatus(doc["status"]),
        model=doc.get("model"),
        usage=Usage.from_dict(doc.get("usage")),
        error=doc.get("error"),
        created_at=_aware(doc["created_at"]),
        updated_at=_aware(doc["updated_at"]),
    )


def _word_filter(field: str, query: str) -> dict[str, Any] | None:
    """Every word must appear, case-insensitively; words are escaped, never regex syntax."""
    words = re.findall(r"\w+", query)
    if not words:
        return None
    return {"$and": [{field: {"$regex": re.escape(w), "$options": "i"}} for w in words]}


def _snippet(text: str, query: str, width: int = 60) -> str:
    words = re.findall(r"\w+", query)
    match = re.search(re.escape(words[0]), text, re.IGNORECASE) if words else None
    start = max(0, (match.start() if match else 0) - width // 2)
    piece = " ".join(text[start : start + width].split())
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


class MongoStore:
    """One motor client; collections with their indexes created at open."""

    def __init__(self, client: Any, database: str) -> None:
        self.client = client
        self.db = client[database]
        self.users = self.db["users"]
        self.topics = self.db["topics"]
        self.messages = self.db["messages"]
        self.revoked = self.db["revoked_tokens"]

    @classmethod
    async def open(cls, url: str, *, client: Any = None) -> MongoStore:
        """Connect (or use an injected client, e.g. mongomock's), check it answers, index."""
        database = urlsplit(url).path.lstrip("/").split("?")[0] or "chatapp"
        if client is None:
            options: dict[str, Any] = {"tz_aware": False}
            if "serverSelectionTimeoutMS" not in url:
                options["serverSelectionTimeoutMS"] = SELECTION_TIMEOUT_MS
            client = AsyncIOMotorClient(url, **options)
        store = cls(client, database)
        try:
            await store._prepare()
        except BaseException:
            client.close()
            raise
        return store

    async def _prepare(self) -> None:
        """Check the server answers, then create the indexes (idempotent)."""
        async with self._guard():
            await self.db.command("ping")
            await self.users.create_index("email", unique=True)
            await self.topics.create_index(
                [("user_id", pymongo.ASCENDING), ("activity", pymongo.DESCENDING)]
            )
            await self.messages.create_index(
                [("topic_id", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]
            )
            await self.messages.create_index("status")
            await self.revoked.create_index("expires_at", expireAfterSeconds=0)

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turn driver failures into StoreUnavailable, naming what could not be reached."""
        try:
            yield
        except mongo_errors.DuplicateKeyError:
            raise
        except (mongo_errors.ConnectionFailure, mongo_errors.ServerSelectionTimeoutError):
            raise StoreUnavailable(
                "Cannot reach MongoDB: check CHATAPP_DATABASE_URL and that the server runs."
            ) from None
        except mongo_errors.OperationFailure as exc:
            raise StoreUnavailable(f"MongoDB refused the operation: {exc.details or exc}") from None
        except mongo_errors.PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB failed: {exc}") from None

    # ----- life cycle -------------------------------------------------------------------------

    async def close(self) -> None:
        self.client.close()

    async def ping(self) -> bool:
        try:
            async with self._guard():
                await self.db.command("ping")
            return True
        except Exception:
            return False

    # ----- users ------------------------------------------------------------------------------

    async def create_user(self, user: User) -> User:
        user.email = user.email.strip().lower()
        doc = {
            "_id": user.id,
            "email": user.email,
            "password_hash": user.password_hash,
            "display_name": user.display_name,
            "is_owner": user.is_owner,
            "disabled": user.disabled,
            "token_version": user.token_version,
            "settings": user.settings,
            "created_at": user.created_at,
        }
        try:
            async with self._guard():
                await self.users.insert_one(doc)
        except mongo_errors.DuplicateKeyError:
            raise Conflict("An account with this email already exists.") from None
        return user

    async def get_user(self, user_id: str) -> User | None:
        async with self._guard():
            doc = await self.users.find_one({"_id": user_id})
        return _user(doc) if doc else None

    async def get_user_by_email(self, email: str) -> User | None:
        async with self._guard():
            doc = await self.users.find_one({"email": email.strip().lower()})
        return _user(doc) if doc else None

    async def list_users(self) -> list[User]:
        async with self._guard():
            docs = await self.users.find().sort([("created_at", 1), ("_id", 1)]).to_list(None)
        return [_user(d) for d in docs]

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
        changes = {
            "password_hash": password_hash,
            "display_name": display_name,
            "disabled": disabled,
            "settings": settings,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            async with self._guard():
                await self.users.update_one({"_id": user_id}, {"$set": changes})
        user = await self.get_user(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def bump_token_version(self, user_id: str) -> int:
        async with self._guard():
            doc = await self.users.find_one_and_update(
                {"_id": user_id},
                {"$inc": {"token_version": 1}},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        if doc is None:
            raise NotFound("No such user.")
        return int(doc["token_version"])

    # ----- topics -----------------------------------------------------------------------------

    async def create_topic(
        self, user_id: str, title: str, settings: dict[str, Any] | None = None
    ) -> Topic:
        topic = Topic(user_id=user_id, title=title, settings=dict(settings or {}))
        async with self._guard():
            await self.topics.insert_one(
                {
                    "_id": topic.id,
                    "user_id": user_id,
                    "title": title,
                    "settings": topic.settings,
                    "active_leaf_id": None,
                    "message_count": 0,
                    "created_at": topic.created_at,
                    "updated_at": topic.updated_at,
                    # The newest id in the topic: MongoDB keeps milliseconds, ids never tie.
                    "activity": topic.id,
                }
            )
        return topic

    async def get_topic(self, user_id: str, topic_id: str) -> Topic:
        async with self._guard():
            doc = await self.topics.find_one({"_id": topic_id, "user_id": user_id})
        if doc is None:
            raise NotFound("Topic not found.")
        return _topic(doc)

    async def list_topics(self, user_id: str, *, limit: int = 50, offset: int = 0) -> list[Topic]:
        async with self._guard():
            cursor = (
                self.topics.find({"user_id": user_id})
                .sort("activity", -1)
                .skip(max(0, offset))
                .limit(max(0, limit))
            )
            docs = await cursor.to_list(None) if limit > 0 else []
        return [_topic(d) for d in docs]

    async def count_topics(self, user_id: str) -> int:
        async with self._guard():
            return int(await self.topics.count_documents({"user_id": user_id}))

    async def _update_topic(self, user_id: str, topic_id: str, changes: dict[str, Any]) -> Topic:
        async with self._guard():
            doc = await self.topics.find_one_and_update(
                {"_id": topic_id, "user_id": user_id},
                {"$set": changes},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        if doc is None:
            raise NotFound("Topic not found.")
        return _topic(doc)

    async def rename_topic(self, user_id: str, topic_id: str, title: str) -> Topic:
        return await self._update_topic(user_id, topic_id, {"title": title})

    async def update_topic_settings(
        self, user_id: str, topic_id: str, settings: dict[str, Any]
    ) -> Topic:
        return await self._update_topic(user_id, topic_id, {"settings": settings})

    async def delete_topic(self, user_id: str, topic_id: str) -> None:
        await self.get_topic(user_id, topic_id)
        async with self._guard():
            await self.messages.delete_many({"topic_id": topic_id})
            await self.topics.delete_one({"_id": topic_id, "user_id": user_id})

    async def search(self, user_id: str, query: str, *, limit: int = 50) -> list[SearchHit]:
        titles, contents = _word_filter("title", query), _word_filter("content", query)
        if titles is None or contents is None:
            return []
        hits: dict[str, SearchHit] = {}
        async with self._guard():
            async for doc in self.topics.find({"user_id": user_id, **titles}).limit(limit):
                hits[doc["_id"]] = SearchHit(_topic(doc), None, doc["title"])
            cursor = self.messages.find({"user_id": user_id, **contents}).sort("_id", -1)
            async for doc in cursor.limit(limit * 4):
                if len(hits) >= limit:
                    break
                if doc["topic_id"] not in hits:
                    topic = await self.get_topic(user_id, doc["topic_id"])
                    hits[topic.id] = SearchHit(topic, doc["_id"], _snippet(doc["content"], query))
        return list(hits.values())[:limit]

    # ----- messages ---------------------------------------------------------------------------

    async def add_message(self, message: Message) -> Message:
        await self.get_topic(message.user_id, message.topic_id)
        if message.parent_id is not None:
            async with self._guard():
                parent = await self.messages.find_one({"_id": message.parent_id})
            if parent is None or parent["topic_id"] != message.topic_id:
                raise NotFound("The message to answer is not in this topic.")
        now = utcnow()
        message.created_at = message.updated_at = now
        async with self._guard():
            await self.messages.insert_one(
                {
                    "_id": message.id,
                    "topic_id": message.topic_id,
                    "user_id": message.user_id,
                    "parent_id": message.parent_id,
                    "role": message.role.value,
                    "content": message.content,
                    "status": message.status.value,
                    "model": message.model,
                    "usage": message.usage.to_dict() if message.usage else None,
                    "error": message.error,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            await self.topics.update_one(
                {"_id": message.topic_id},
                {
                    "$inc": {"message_count": 1},
                    "$set": {
                        "updated_at": now,
                        "active_leaf_id": message.id,
                        "activity": message.id,
                    },
                },
            )
        return message

    async def get_message(self, user_id: str, message_id: str) -> Message:
        async with self._guard():
            doc = await self.messages.find_one({"_id": message_id, "user_id": user_id})
        if doc is None:
            raise NotFound("Message not found.")
        return _message(doc)

    async def list_messages(self, user_id: str, topic_id: str) -> list[Message]:
        await self.get_topic(user_id, topic_id)
        async with self._guard():
            docs = await self.messages.find({"topic_id": topic_id}).sort("_id", 1).to_list(None)
        return [_message(d) for d in docs]

    async def path_to(self, user_id: str, leaf_id: str) -> list[Message]:
        leaf = await self.get_message(user_id, leaf_id)
        by_id = {m.id: m for m in await self.list_messages(user_id, leaf.topic_id)}
        path: list[Message] = []
        node: Message | None = leaf
        while node is not None:
            path.append(node)
            node = by_id.get(node.parent_id) if node.parent_id else None
        path.reverse()
        return path

    async def siblings(self, user_id: str, message_id: str) -> list[Message]:
        message = await self.get_message(user_id, message_id)
        async with self._guard():
            docs = (
                await self.messages.find(
                    {"topic_id": message.topic_id, "parent_id": message.parent_id}
                )
                .sort("_id", 1)
                .to_list(None)
            )
        return [_message(d) for d in docs]

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
            "usage": usage.to_dict() if usage else None,
            "error": error,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        changes["updated_at"] = utcnow()
        async with self._guard():
            result = await self.messages.update_one(
                {"_id": message_id, "user_id": user_id}, {"$set": changes}
            )
        if result.matched_count == 0:
            raise NotFound("Message not found.")

    async def set_active_leaf(self, user_id: str, topic_id: str, leaf_id: str | None) -> None:
        if leaf_id is not None:
            leaf = await self.get_message(user_id, leaf_id)
            if leaf.topic_id != topic_id:
                raise NotFound("Message not found.")
        await self._update_topic(user_id, topic_id, {"active_leaf_id": leaf_id})

    # ----- revoked tokens ---------------------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: datetime) -> None:
        expires = expires_at.astimezone(UTC).replace(tzinfo=None)
        async with self._guard():
            await self.revoked.update_one(
                {"_id": jti}, {"$set": {"expires_at": expires}}, upsert=True
            )

    async def is_token_revoked(self, jti: str) -> bool:
        now = utcnow().replace(tzinfo=None)
        async with self._guard():
            doc = await self.revoked.find_one({"_id": jti, "expires_at": {"$gt": now}})
        return doc is not None

    async def purge_revoked_tokens(self, now: datetime | None = None) -> int:
        cutoff = (now or utcnow()).astimezone(UTC).replace(tzinfo=None)
        async with self._guard():
            result = await self.revoked.delete_many({"expires_at": {"$lte": cutoff}})
        return int(result.deleted_count)

    # ----- start-up ---------------------------------------------------------------------------

    async def mark_streaming_interrupted(self) -> int:
        async with self._guard():
            result = await self.messages.update_many(
                {"status": MessageStatus.STREAMING.value},
                {"$set": {"status": MessageStatus.INTERRUPTED.value, "updated_at": utcnow()}},
            )
        return int(result.modified_count)
