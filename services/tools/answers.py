"""A tool's result as chatapp keeps it: text for the model and the page, and the images the
page may show (PNG, JPEG, WebP, GIF; a few, each of bounded size), checked by their bytes."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from services.attachments import image_type


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """What a tool answered, as text for the model and the page; `is_error`: the tool said it
    failed (its text says how)."""

    text: str
    is_error: bool = False
    images: tuple[dict[str, str], ...] = ()  # {"mime": ..., "data": base64}, for the page


IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
IMAGE_MAX_BYTES = 1_000_000  # decoded size of one image kept from a result
IMAGES_PER_CALL = 4


def answer_of(result: Any) -> ToolAnswer:
    """A tool result as text: its text parts; images, audio and resources named, not inlined
    (the model gets no bytes it cannot read); the structured result when there is no text.
    Images the page can show (PNG, JPEG, WebP, GIF; up to IMAGES_PER_CALL of at most
    IMAGE_MAX_BYTES each) are kept beside the text; others are named with why they are not."""
    parts: list[str] = []
    images: list[dict[str, str]] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)
        elif kind == "image":
            mime = str(getattr(item, "mime_type", "") or "")
            note = _keep_image(images, mime, str(getattr(item, "data", "") or ""))
            parts.append(f"[image {mime}{note}]")
        elif kind == "audio":
            parts.append(f"[{kind} {getattr(item, 'mime_type', '')}]")
        elif kind == "resource":
            resource = item.resource
            parts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {item.uri}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return ToolAnswer("\n".join(parts), bool(getattr(result, "is_error", False)), tuple(images))


def _keep_image(images: list[dict[str, str]], mime: str, data: str) -> str:
    """Keep the image for the page when it may be shown; else a note on why not."""
    if mime not in IMAGE_TYPES:
        return ": not shown, not a PNG, JPEG, WebP or GIF image"
    if len(images) >= IMAGES_PER_CALL:
        return f": not shown, only {IMAGES_PER_CALL} images of a result are"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return ": not shown, its data was not base64"
    if len(raw) > IMAGE_MAX_BYTES:
        return f": not shown, over {IMAGE_MAX_BYTES // 1_000_000} MB"
    if image_type(raw) != mime:  # the bytes, not the label, decide what the page is given
        return f": not shown, its data is not {mime}"
    images.append({"mime": mime, "data": base64.b64encode(raw).decode("ascii")})
    return ""
