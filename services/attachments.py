"""Files sent with a message: what is accepted, how it is checked, how it reaches the model.

Images (PNG, JPEG, WebP, GIF) go to the model as image parts; text files (plain text,
markdown, code, CSV, JSON, and the text of a PDF) go in as context, each clearly delimited.
The type is decided from the bytes, not from the name or the browser's word for it.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from services.errors import InvalidInput, TooLarge
from services.i18n import msg
from services.models import Attachment

log = logging.getLogger(__name__)

MAX_FILES = 5
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024  # a PDF may be large; its text is capped below
MAX_TEXT_CHARS = 200_000

IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
TEXT_SUFFIXES = frozenset(
    ".txt .md .markdown .rst .csv .tsv .json .jsonl .yaml .yml .toml .ini .cfg .conf .log .xml "
    ".html .css .js .mjs .ts .tsx .jsx .py .pyi .ipynb .rb .go .rs .java .kt .c .h .cc .cpp .hpp "
    ".cs .swift .php .pl .sh .bash .zsh .sql .r .lua .scala .dart .vue .svelte .tex .diff .patch "
    ".env.example .gitignore .dockerfile".split()
)
TEXT_NAMES = frozenset({"dockerfile", "makefile", "readme", "license", "procfile"})
ACCEPT = "image/png,image/jpeg,image/webp,image/gif,.pdf," + ",".join(sorted(TEXT_SUFFIXES))


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as it arrives from a page or the API, before it is checked."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Checked:
    """A file that passed: its clean name, real media type, and (for text) its text."""

    name: str
    media_type: str
    data: bytes
    text: str | None = None

    @property
    def is_image(self) -> bool:
        return self.text is None


def check_all(uploads: list[Upload]) -> list[Checked]:
    """Check every file; the first one refused names itself in the error."""
    if len(uploads) > MAX_FILES:
        raise TooLarge(
            msg(
                "At most {count} files per message ({given} given).",
                count=MAX_FILES,
                given=len(uploads),
            )
        )
    return [check(upload) for upload in uploads]


def check(upload: Upload) -> Checked:
    name = clean_name(upload.name)
    data = upload.data
    if not data:
        raise InvalidInput(msg("{name} is empty.", name=name))
    if media_type := image_type(data):
        if len(data) > MAX_IMAGE_BYTES:
            raise too_large(name, len(data), image=True)
        return Checked(name, media_type, data)
    if len(data) > MAX_FILE_BYTES:
        raise too_large(name, len(data), image=False)
    if data.startswith(b"%PDF-"):
        return Checked(name, "application/pdf", data, cap(name, pdf_text(name, data)))
    suffix = PurePath(name.lower()).suffix
    if suffix not in TEXT_SUFFIXES and name.lower() not in TEXT_NAMES:
        raise unsupported(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(msg("{name} is not UTF-8 text.", name=name)) from None
    if "\x00" in text:
        raise InvalidInput(msg("{name} looks like a binary file, not text.", name=name))
    media_type = "application/json" if suffix == ".json" else "text/plain"
    return Checked(name, media_type, data, cap(name, text))


def unsupported(name: str) -> InvalidInput:
    """The refusal of a file of a kind that cannot be attached (pages say it before upload)."""
    return InvalidInput(
        msg(
            "{name}: this kind of file is not supported. Attach images (PNG, JPEG, WebP, GIF), "
            "PDFs or text files (text, markdown, code, CSV, JSON).",
            name=name,
        )
    )


def too_large(name: str, size: int, *, image: bool) -> TooLarge:
    """The refusal of a file over its kind's size limit, naming the file, its size and the limit."""
    if image:
        limit = mb(MAX_IMAGE_BYTES)
        return TooLarge(
            msg(
                "{name} is {size}; images may be at most {limit}.",
                name=name,
                size=mb(size),
                limit=limit,
            )
        )
    limit = mb(MAX_FILE_BYTES)
    return TooLarge(
        msg(
            "{name} is {size}; files may be at most {limit}.", name=name, size=mb(size), limit=limit
        )
    )


def image_type(data: bytes) -> str | None:
    for signature, media_type in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def pdf_text(name: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            msg("{name}: the PDF cannot be read ({reason}).", name=name, reason=exc)
        ) from None
    if not text.strip():
        raise InvalidInput(msg("{name}: the PDF has no text to read (a scan?).", name=name))
    return text


def cap(name: str, text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge(
            f"{name} has {len(text):,} characters of text; at most {MAX_TEXT_CHARS:,} are taken."
        )
    return text


def clean_name(name: str) -> str:
    """The file name without folders or control characters, at most 200 characters."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable()).strip()
    return (base or "file")[:200]


def mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# ----- to the model --------------------------------------------------------------------------


def file_block(name: str, text: str) -> str:
    """A text file as context: delimited, so the model tells it from the question."""
    fence = "````" if "```" in text else "```"
    return (
        f"\n\n<attached-file name={json.dumps(name)}>\n{fence}\n{text}\n{fence}\n</attached-file>"
    )


def model_content(
    content: str, files: list[tuple[Attachment, bytes | None]]
) -> str | list[dict[str, Any]]:
    """A user message's content for the API: plain text, or text plus image parts.

    `files` pairs each attachment with its bytes (needed for images only).
    """
    text = content
    images: list[dict[str, Any]] = []
    for attachment, data in files:
        if attachment.is_image and data is not None:
            url = f"data:{attachment.media_type};base64,{base64.b64encode(data).decode()}"
            images.append({"type": "image_url", "image_url": {"url": url}})
        elif attachment.text is not None:
            text += file_block(attachment.name, attachment.text)
    if not images:
        return text
    return [{"type": "text", "text": text}, *images]


def content_size(content: str | list[dict[str, Any]]) -> int:
    """Characters a message costs in the history budget (an image counts as 1,000)."""
    if isinstance(content, str):
        return len(content)
    return sum(len(part.get("text", "")) if part["type"] == "text" else 1000 for part in content)
