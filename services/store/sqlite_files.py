"""The SQLite store's attachments: each file under `<data dir>/attachments/`, its record in
the database, written file first so a record never points at nothing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from services.errors import NotFound, StoreUnavailable
from services.i18n import msg
from services.models import Attachment
from services.store._records import dump
from services.store.sqlite_base import SqliteBase


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreUnavailable(f"Cannot save the attachment ({exc}).") from None


def unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class SqliteAttachments(SqliteBase):
    async def add_attachment(self, attachment: Attachment, data: bytes) -> Attachment:
        """The file first (written whole, then renamed), then the record that points to it."""
        path = self.files / attachment.id
        await asyncio.to_thread(write_file, path, data)
        try:
            async with self._write():
                if not await self._count(
                    "SELECT 1 FROM messages WHERE id = ? AND topic_id = ? AND user_id = ?",
                    attachment.message_id,
                    attachment.topic_id,
                    attachment.user_id,
                ):
                    raise NotFound(msg("The message to attach to is not there."))
                await self._insert("attachments", dump(attachment))
        except BaseException:
            await asyncio.to_thread(unlink_all, [path])
            raise
        return attachment

    async def get_attachment(self, user_id: str, attachment_id: str) -> Attachment:
        sql = "SELECT * FROM attachments WHERE id = ? AND user_id = ?"
        if (found := await self._load(Attachment, sql, (attachment_id, user_id))) is None:
            raise NotFound(msg("Attachment not found."))
        return found

    async def read_attachment(self, user_id: str, attachment_id: str) -> bytes:
        attachment = await self.get_attachment(user_id, attachment_id)
        try:
            return await asyncio.to_thread((self.files / attachment.id).read_bytes)
        except FileNotFoundError:
            raise NotFound(msg("The attachment's file is missing.")) from None
        except OSError as exc:
            raise StoreUnavailable(f"Cannot read the attachment ({exc}).") from None

    async def list_attachments(self, user_id: str, topic_id: str) -> list[Attachment]:
        sql = "SELECT * FROM attachments WHERE topic_id = ? AND user_id = ? ORDER BY id"
        return await self._load_all(Attachment, sql, (topic_id, user_id), small=True)
