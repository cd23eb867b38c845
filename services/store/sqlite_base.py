"""SQLite's plumbing under `SqliteStore`: the file's connections, transactions, round trips.

Opening the file (WAL, migrations, a second connection for small reads), one transaction
at a time, and each read or write as one trip to the connection's thread. The store's own
queries are in `sqlite.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, cast

import aiosqlite

from services.errors import Conflict, StoreUnavailable
from services.i18n import msg
from services.models import Message, Usage, calls_from_json
from services.store._records import RATINGS, ROLES, STATUSES, R, aware, load
from services.store.sqlite_migrations import migrate

log = logging.getLogger(__name__)

JSON_COLUMNS = frozenset(
    {"settings", "usage", "snapshot", "tool_calls", "args", "env", "headers", "tools"}
)
# WAL lets pages read while a reply is saved; NORMAL sync is safe in WAL and much faster.
PRAGMAS = ("foreign_keys = ON", "synchronous = NORMAL")
BUSY_MS = 5_000  # how long a statement waits for another process's write lock
OPEN_BUSY_MS = 60_000  # at open: another process may be migrating the file (a slow machine)


def timestamp(value: datetime) -> str:
    # A fixed width (always microseconds, always UTC) keeps text order equal to time order.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _column(name: str, value: Any) -> Any:
    """A plain value as SQLite keeps it: ISO text for datetimes, JSON text for dicts."""
    if isinstance(value, datetime):
        return timestamp(value)
    return json.dumps(value) if name in JSON_COLUMNS and value is not None else value


def decode_row(row: sqlite3.Row) -> dict[str, Any]:
    values = dict(row)
    for key in JSON_COLUMNS & values.keys():
        values[key] = json.loads(values[key]) if values[key] is not None else None
    for key in {"created_at", "updated_at"} & values.keys():
        values[key] = datetime.fromisoformat(values[key])
    return values


def _record(kind: type[R], row: sqlite3.Row) -> R:
    if kind is Message:
        return cast(R, _message(row))
    return load(kind, decode_row(row))


def _message(row: sqlite3.Row) -> Message:
    """A message row as a record, column by column: the general way (`decode_row`, then
    `load`) took twice as long, 17 µs a row here, and a reply's prompt reads its history's
    rows before the model request leaves (`make bench`, relay)."""
    usage = row["usage"]
    return Message(
        topic_id=row["topic_id"],
        user_id=row["user_id"],
        role=ROLES[row["role"]],
        content=row["content"],
        parent_id=row["parent_id"],
        id=row["id"],
        status=STATUSES[row["status"]],
        model=row["model"],
        usage=Usage.from_dict(json.loads(usage)) if usage is not None else None,
        error=row["error"],
        created_at=aware(datetime.fromisoformat(row["created_at"])),
        updated_at=aware(datetime.fromisoformat(row["updated_at"])),
        reasoning=row["reasoning"],
        reasoning_seconds=row["reasoning_seconds"],
        tool_calls=calls_from_json(json.loads(row["tool_calls"])) if row["tool_calls"] else [],
        rating=RATINGS.get(row["rating"]),
    )


def _db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://").removeprefix("/").partition("?")[0]).absolute()


def _file_uri(url: str) -> str:
    """`sqlite:///path.db?mode=ro` as SQLite's `file:` URI, creating its folder on the way."""
    query = url.partition("?")[2]
    path = _db_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.as_uri() + (f"?{query}" if query else "")


class SqliteBase:
    """A SQLite file and how it is used: writes serialised by a lock so none is lost. Two
    connections to the one file: `db` runs every write and most reads in its own thread, so
    a long one never holds up the event loop; `reader` runs the small reads every request
    makes right on the event loop's thread (`_glance`)."""

    def __init__(
        self, db: aiosqlite.Connection, files: Path, reader: sqlite3.Connection | None = None
    ) -> None:
        self.db = db
        self.files = files  # attachments' bytes, one file each, beside the database
        self.reader = reader  # None: every read goes through `db`
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, url: str) -> Self:
        """Open `sqlite:///path.db`, creating folders and file, and bring its schema up to date.

        A query passes on to SQLite as URI parameters: `?mode=ro` opens a file read-only.
        """
        try:
            uri = _file_uri(url)
            db = await aiosqlite.connect(uri, uri=True)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"Cannot open the SQLite database {url}: {exc}") from None
        db.row_factory = sqlite3.Row
        store = cls(db, _db_path(url).parent / "attachments")
        try:
            async with store._write():
                await db.execute(f"PRAGMA busy_timeout = {OPEN_BUSY_MS}")
                for pragma in PRAGMAS:
                    await db.execute(f"PRAGMA {pragma}")
                await _use_wal_and_migrate(db)
                await db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
            store.reader = _open_reader(uri)  # None if it cannot: `db` reads everything
        except BaseException:
            await db.close()
            raise
        return store

    async def schema_version(self) -> int:
        return await self._count("SELECT MAX(version) FROM schema_version")

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """The one place driver failures become our errors (read-only file, disk full, locked)."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise Conflict() from None
        except sqlite3.ProgrammingError:
            raise  # our own bug: let it be seen
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(_explain(exc)) from None
        except ValueError:
            if self._closed:  # aiosqlite's word for a closed connection
                raise StoreUnavailable(msg("The database has been closed.")) from None
            raise

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction at a time; reads share the connection and need no lock."""
        async with self._write_lock, self._guard():
            try:
                yield self.db
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise

    # Each call below is one round trip to the connection's thread: a cursor's execute,
    # fetchone and close would be three, and under load each costs the event loop a wake-up
    # (`make bench`, relay: nine of them made a reply's rows take 4.5 ms to write).

    async def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        async with self._guard():
            return list(await self.db.execute_fetchall(sql, params))

    async def _glance(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """A small read by index (a user, a topic, the branch a reply reads), run right here
        on `reader`: a few dozen microseconds of SQLite, where a trip to `db`'s thread and
        back costs the event loop two wake-ups, and more while it is busy (`make bench`,
        relay: three such trips came before every model request). WAL lets it read beside a
        write in progress; if it cannot (busy, closed), the same read takes the usual way,
        which reports failures.

        Writes stay in the thread: on the event loop's thread, a reply's progress saves
        (SQLite's search index and all) took the second core's share of the work, and 100
        replies at once made the loop lag three times as much (`make bench`, concurrency).
        """
        if self.reader is not None and not self._closed:
            try:
                return self.reader.execute(sql, params).fetchall()
            except sqlite3.Error:
                pass
        return await self._all(sql, params)

    async def _load(
        self, kind: type[R], sql: str, params: Any = (), *, small: bool = False
    ) -> R | None:
        rows = await (self._glance if small else self._all)(sql, params)
        return _record(kind, rows[0]) if rows else None

    async def _load_all(
        self, kind: type[R], sql: str, params: Any = (), *, small: bool = False
    ) -> list[R]:
        rows = await (self._glance if small else self._all)(sql, params)
        return [_record(kind, row) for row in rows]

    async def _insert(self, table: str, values: Mapping[str, Any]) -> None:
        await self._insert_many(table, [values])

    async def _insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows of the same columns, in one statement run for each."""
        stored = [{name: _column(name, value) for name, value in row.items()} for row in rows]
        columns, names = ", ".join(stored[0]), ", ".join(f":{k}" for k in stored[0])
        await self.db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({names})", stored)

    async def _update(self, table: str, changes: Mapping[str, Any], where: str, *args: Any) -> int:
        """Set the given columns on the rows `where` picks; returns how many rows matched."""
        assignments = ", ".join(f"{name} = ?" for name in changes)
        values = (_column(name, value) for name, value in changes.items())
        return await self._run(f"UPDATE {table} SET {assignments} WHERE {where}", *values, *args)

    async def _run(self, sql: str, *params: Any) -> int:
        """One statement inside a `_write`; returns how many rows it changed."""
        cursor = await self.db.execute(sql, params)  # a write's cursor has nothing to close
        return cursor.rowcount

    async def _count(self, sql: str, *params: Any) -> int:
        row = await self._one(sql, params)
        return int(row[0] or 0) if row else 0

    # ----- life cycle -------------------------------------------------------------------------

    async def close(self) -> None:
        self._closed = True
        if self.reader is not None:
            with suppress(sqlite3.Error):  # another thread's: the GC closes it
                self.reader.close()
        await self.db.close()

    async def ping(self) -> bool:
        try:
            return await self._count("SELECT 1") == 1
        except StoreUnavailable:
            return False


def _explain(exc: sqlite3.DatabaseError) -> str:
    """A sentence for the user and the operator: what failed and what to check."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")):
        return (
            f"The database could not be written ({exc}): check the disk has room and the "
            "database file is writable. Nothing already saved is lost."
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"The database is busy ({exc}); try again in a moment."
    return f"The database cannot be used right now ({exc})."


def _open_reader(uri: str) -> sqlite3.Connection | None:
    """The connection `_glance` reads with on the event loop's thread. It never writes, and
    never waits for a lock (it would hold up everything): a busy file sends the read the
    usual way. sqlite3 refuses it on any other thread, which does the same."""
    reader = None
    try:
        reader = sqlite3.connect(uri, uri=True, isolation_level=None)
        reader.row_factory = sqlite3.Row
        for pragma in ("query_only = ON", "busy_timeout = 0"):
            reader.execute(f"PRAGMA {pragma}")
    except sqlite3.Error as exc:
        log.warning("reading %s on the event loop's thread is off: %s", uri, exc)
        if reader is not None:
            reader.close()
        return None
    return reader


async def _use_wal_and_migrate(db: aiosqlite.Connection) -> None:
    """WAL mode, then the migrations. While another process is creating the file, SQLite can
    refuse either at once ("database is locked") without waiting out the busy timeout, so
    try again until it goes through or OPEN_BUSY_MS has passed."""
    deadline = time.monotonic() + OPEN_BUSY_MS / 1000
    while True:
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await migrate(db)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            await db.rollback()
        await asyncio.sleep(0.05)
