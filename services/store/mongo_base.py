"""MongoDB's plumbing under `MongoStore`: the client, collections, indexes, errors, documents.

Records become documents with our string id as `_id`, and datetimes keep milliseconds, as
BSON does. The store's own queries are in `mongo.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorGridFSBucket
from pymongo import ASCENDING, DESCENDING
from pymongo import errors as mongo_errors

from services.errors import Conflict, StoreUnavailable
from services.models import Attachment, Message, Share, ToolServer, Topic, User, utcnow
from services.store._records import R, branch_length, dump, load

SELECTION_TIMEOUT_MS = 5000  # how long open() waits for a server before saying it is down


def as_doc(record: User | Topic | Message | Attachment | Share | ToolServer) -> dict[str, Any]:
    """A record as a document: our string id is the `_id`."""
    values = dump(record)
    values["_id"] = values.pop("id")
    return values


def from_doc(kind: type[R], doc: Mapping[str, Any]) -> R:
    return load(kind, {**doc, "id": doc["_id"]})


def now_ms() -> datetime:
    """BSON keeps milliseconds: a record handed back must equal the one read back later."""
    return to_ms(utcnow())


def to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def naive_utc(value: datetime) -> datetime:
    """MongoDB compares the naive UTC datetimes it keeps; a query must use the same."""
    return value.astimezone(UTC).replace(tzinfo=None)


class MongoBase:
    """One motor client; collections with their indexes created at open."""

    def __init__(self, client: Any, database: str) -> None:
        self.client = client
        self.db = client[database]
        self.users = self.db["users"]
        self.topics = self.db["topics"]
        self.messages = self.db["messages"]
        self.revoked = self.db["revoked_tokens"]
        self.attachments = self.db["attachments"]
        self.usage = self.db["usage"]
        self.shares = self.db["shares"]
        self.tool_servers = self.db["tool_servers"]
        self._files: AsyncIOMotorGridFSBucket | None = None

    @property
    def files(self) -> AsyncIOMotorGridFSBucket:
        """The GridFS bucket of attachments' bytes, made on first use."""
        if self._files is None:
            self._files = AsyncIOMotorGridFSBucket(self.db, bucket_name="attachment_files")
        return self._files

    @classmethod
    async def open(cls, url: str, *, client: Any = None) -> Self:
        """Connect (or use an injected client, e.g. mongomock's), check it answers, index.

        The database is the URL's path (default "chatapp"); options such as `authSource`
        and `serverSelectionTimeoutMS` stay in the URL for the driver to read.
        """
        database = urlsplit(url).path.lstrip("/") or "chatapp"
        if client is None:
            options: dict[str, Any] = {"tz_aware": False}
            if "serverselectiontimeoutms" not in url.lower():
                options["serverSelectionTimeoutMS"] = SELECTION_TIMEOUT_MS
            client = AsyncIOMotorClient(url, **options)
        store = cls(client, database)
        try:
            async with store._guard():
                await store.db.command("ping")
                await store._create_indexes()
        except BaseException:
            client.close()
            raise
        return store

    async def _create_indexes(self) -> None:
        """Idempotent: an index that exists already is left as it is."""
        await self.users.create_index("email", unique=True)
        # `activity` is the newest id in the topic: MongoDB keeps milliseconds, ids never tie.
        await self.topics.create_index([("user_id", ASCENDING), ("activity", DESCENDING)])
        # Topics from before pinning and archiving get both as false: the list filters and
        # sorts on them, and a missing field would sort apart from a false one.
        await self.topics.update_many(
            {"pinned": {"$exists": False}}, {"$set": {"pinned": False, "archived": False}}
        )
        await self.topics.create_index(
            [
                ("user_id", ASCENDING),
                ("archived", ASCENDING),
                ("pinned", DESCENDING),
                ("activity", DESCENDING),
            ]
        )
        await self._count_branches()
        await self.messages.create_index([("topic_id", ASCENDING), ("_id", ASCENDING)])
        await self.messages.create_index([("user_id", ASCENDING), ("_id", DESCENDING)])
        await self.messages.create_index([("topic_id", ASCENDING), ("parent_id", ASCENDING)])
        await self.messages.create_index("status")
        await self.revoked.create_index("expires_at", expireAfterSeconds=0)
        await self.attachments.create_index([("topic_id", ASCENDING), ("_id", ASCENDING)])
        await self.usage.create_index([("user_id", ASCENDING), ("day", ASCENDING)])
        await self.shares.create_index("topic_id", unique=True)
        await self.tool_servers.create_index([("user_id", ASCENDING), ("_id", ASCENDING)])

    async def _count_branches(self) -> None:
        """Once per database: topics' counts took in every message before; count what each
        shows, the branch down to its active leaf (a mark in `meta` says it is done)."""
        meta = self.db["meta"]
        if await meta.find_one({"_id": "branch_counts"}):
            return
        async for topic in self.topics.find({}, {"active_leaf_id": 1}):
            found = self.messages.find({"topic_id": topic["_id"]}, {"parent_id": 1})
            parents = {m["_id"]: m.get("parent_id") async for m in found}
            count = branch_length(parents, topic.get("active_leaf_id"))
            await self.topics.update_one({"_id": topic["_id"]}, {"$set": {"message_count": count}})
        await meta.update_one({"_id": "branch_counts"}, {"$set": {"done": True}}, upsert=True)

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """The one place driver failures become our errors, naming what went wrong."""
        try:
            yield
        except mongo_errors.DuplicateKeyError:
            raise Conflict() from None
        except mongo_errors.ConnectionFailure:  # includes ServerSelectionTimeoutError
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
        except StoreUnavailable:
            return False
