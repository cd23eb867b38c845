"""Serving an attachment back to its owner, the same way for the API and the pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response

from services.models import Attachment


def attachment_response(attachment: Attachment, data: bytes) -> Response:
    """The file as sent: images shown inline, anything else downloaded; never run as a page."""
    if attachment.is_image:
        media_type, disposition = attachment.media_type, "inline"
    elif attachment.media_type == "application/pdf":
        media_type, disposition = "application/pdf", "attachment"
    else:
        media_type, disposition = "text/plain; charset=utf-8", "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400",
    }
    return Response(data, media_type=media_type, headers=headers)
