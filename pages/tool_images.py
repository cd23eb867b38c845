"""A tool result's images opened large, as attachments are: at their own address, shown by the
browser in a new tab. The owner's at /tool-images/<message>/<call>/<n>; a share's (when it
holds results) at /share/<share>/tool-images/<message n>/<call>/<n>. Nothing else is served."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Response
from nicegui import app

from pages.attachments import untrusted_file
from pages.session import current_user
from services.context import Services
from services.errors import NotFound
from services.tools.answers import IMAGE_TYPES

NOT_FOUND = Response("Not found", status_code=404, media_type="text/plain")


def register(services: Services) -> None:
    @app.get("/tool-images/{message_id}/{call_id}/{index}", include_in_schema=False)
    async def owned(message_id: str, call_id: str, index: int) -> Response:
        """For the signed-in owner of the reply; anyone else learns nothing (404)."""
        user = await current_user(services)
        try:
            if user is None:
                raise NotFound()
            message = await services.store.get_message(user.id, message_id)
        except NotFound:
            return NOT_FOUND
        call = next((c for c in message.tool_calls if c.id == call_id), None)
        return image_response(call.images if call else [], index)

    @app.get("/share/{share_id}/tool-images/{number}/{call_id}/{index}", include_in_schema=False)
    async def shared(share_id: str, number: int, call_id: str, index: int) -> Response:
        """For anyone with the link, as the shared page shows them (none without results)."""
        try:
            share = await services.archive.open_share(share_id)
        except NotFound:
            return NOT_FOUND
        messages = share.snapshot["messages"]
        calls = messages[number].get("tool_calls") or [] if 0 <= number < len(messages) else []
        call = next((c for c in calls if c.get("id") == call_id), None)
        return image_response(call.get("images") or [] if call else [], index)


def image_response(images: list[Any], index: int) -> Response:
    if not 0 <= index < len(images) or images[index].get("mime") not in IMAGE_TYPES:
        return NOT_FOUND
    try:
        data = base64.b64decode(images[index].get("data", ""), validate=True)
    except (binascii.Error, ValueError):
        return NOT_FOUND
    return untrusted_file(data, images[index]["mime"], "inline")
