"""Persistence: the `Store` protocol, its SQLite and MongoDB adapters, and `open_store(url)`."""

from __future__ import annotations

from services.errors import InvalidInput
from services.store.base import Store

__all__ = ["Store", "UnknownDatabaseURL", "open_store"]


class UnknownDatabaseURL(InvalidInput):
    """The database URL must start with sqlite:/// or mongodb:// (or mongodb+srv://)."""


async def open_store(url: str) -> Store:
    """Open the store a URL names: `sqlite:///path/file.db` or `mongodb://...`.

    Raises `UnknownDatabaseURL` for any other scheme and `StoreUnavailable` when the
    database cannot be opened or reached.
    """
    if url.startswith("sqlite://"):
        from services.store.sqlite import SqliteStore

        return await SqliteStore.open(url)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from services.store.mongo import MongoStore

        return await MongoStore.open(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise UnknownDatabaseURL(
        f"unknown database URL scheme {scheme!r}: use sqlite:///path/to/file.db or mongodb://..."
    )
