"""The MongoDB store's attachments: the bytes in GridFS under the attachment's id, the record
in `attachments`."""

from __future__ import annotations

from gridfs.errors import NoFile
from pymongo import ASCENDING

from services.errors import NotFound
from services.i18n import msg
from services.models import Attachment
from services.store.mongo_base import MongoBase, as_doc, from_doc


class MongoAttachments(MongoBase):
    async def add_attachment(self, attachment: Attachment, data: bytes) -> Attachment:
        """The bytes into GridFS (under the attachment's id), then the record."""
        mine = {"topic_id": attachment.topic_id, "user_id": attachment.user_id}
        async with self._guard():
            if await self.messages.find_one({"_id": attachment.message_id, **mine}) is None:
                raise NotFound(msg("The message to attach to is not there."))
            await self.files.upload_from_stream_with_id(
                attachment.id, attachment.name, data, metadata={"user_id": attachment.user_id}
            )
            try:
                await self.attachments.insert_one(as_doc(attachment))
            except BaseException:
                await self._delete_file(attachment.id)
                raise
        return attachment

    async def get_attachment(self, user_id: str, attachment_id: str) -> Attachment:
        async with self._guard():
            doc = await self.attachments.find_one({"_id": attachment_id, "user_id": user_id})
        if doc is None:
            raise NotFound(msg("Attachment not found."))
        return from_doc(Attachment, doc)

    async def read_attachment(self, user_id: str, attachment_id: str) -> bytes:
        attachment = await self.get_attachment(user_id, attachment_id)
        try:
            async with self._guard():
                stream = await self.files.open_download_stream(attachment.id)
                return bytes(await stream.read())
        except NoFile:
            raise NotFound(msg("The attachment's file is missing.")) from None

    async def list_attachments(self, user_id: str, topic_id: str) -> list[Attachment]:
        async with self._guard():
            cursor = self.attachments.find({"topic_id": topic_id, "user_id": user_id})
            docs = await cursor.sort("_id", ASCENDING).to_list(None)
        return [from_doc(Attachment, doc) for doc in docs]

    async def _delete_file(self, file_id: str) -> None:
        try:
            await self.files.delete(file_id)
        except NoFile:
            pass
