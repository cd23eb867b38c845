"""SQLite specifics beyond the store contract: several openers of one new file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.store import open_store
from services.store.sqlite_migrations import MIGRATIONS, statements


async def test_openers_racing_on_a_new_file_take_turns(tmp_path: Path) -> None:
    """Two processes (here: connections on their own threads) starting at once on a new
    file: each finds the schema either absent or complete, never half-made."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    stores = await asyncio.gather(*(open_store(url) for _ in range(4)))
    try:
        for store in stores:
            assert await store.schema_version() == max(MIGRATIONS)  # type: ignore[attr-defined]
            assert await store.count_users() == 0
    finally:
        for store in stores:
            await store.close()


def test_statements_keep_a_trigger_body_whole() -> None:
    script = """
        CREATE TABLE a (x);
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            INSERT INTO a VALUES (1);
            DELETE FROM a WHERE x = 2;
        END;
        CREATE INDEX i ON a (x);
    """
    found = statements(script)
    assert len(found) == 3
    assert found[1].startswith("CREATE TRIGGER") and found[1].endswith("END;")
