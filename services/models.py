"""Small typed records the services pass around: users, topics, messages, usage."""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    ERROR = "error"


_id_lock = threading.Lock()
_last_ns = 0


def new_id() -> str:
    """A 24-character id that sorts by creation time, strictly increasing within a process.

    Messages are ordered by id, so two appends in the same nanosecond still get an order.
    """
    global _last_ns
    with _id_lock:
        now = max(time.time_ns(), _last_ns + 1)
        _last_ns = now
    return f"{now:016x}{os.urandom(4).hex()}"


def id_at(moment: datetime, *, after: str = "") -> str:
    """An id that sorts at `moment` (for imports keeping their original order), and after the
    id `after` when given, so a reply still sorts after its question."""
    nanoseconds = int(moment.timestamp() * 1_000_000_000)
    if after:
        nanoseconds = max(nanoseconds, int(after[:16], 16) + 1)
    return f"{nanoseconds:016x}{os.urandom(4).hex()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0  # part of completion_tokens, where the provider reports it

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage | None:
        if not data:
            return None
        return cls(
            prompt_tokens=int(data.get("prompt_tokens") or 0),
            completion_tokens=int(data.get("completion_tokens") or 0),
            total_tokens=int(data.get("total_tokens") or 0),
            reasoning_tokens=int(data.get("reasoning_tokens") or 0),
        )


@dataclass(slots=True)
class User:
    email: str
    password_hash: str
    id: str = field(default_factory=new_id)
    display_name: str = ""
    is_owner: bool = False
    disabled: bool = False
    token_version: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)

    @property
    def name(self) -> str:
        return self.display_name or self.email


@dataclass(slots=True)
class Topic:
    user_id: str
    title: str
    id: str = field(default_factory=new_id)
    settings: dict[str, Any] = field(default_factory=dict)
    active_leaf_id: str | None = None
    message_count: int = 0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass(slots=True)
class Message:
    topic_id: str
    user_id: str
    role: Role
    content: str
    parent_id: str | None = None
    id: str = field(default_factory=new_id)
    status: MessageStatus = MessageStatus.COMPLETE
    model: str | None = None
    usage: Usage | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    # What a thinking model wrote before its answer (never sent back to it), and for how long
    # it thought (None: not known, or no thinking).
    reasoning: str = ""
    reasoning_seconds: float | None = None


@dataclass(slots=True)
class Attachment:
    """A file sent with a user's message; its bytes live in the store beside the record.

    `text` is what a text file or PDF gives the model; images have none.
    """

    user_id: str
    topic_id: str
    message_id: str
    name: str
    media_type: str
    size: int
    text: str | None = None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(slots=True)
class UsageRecord:
    """The tokens one reply used, kept apart from the message so deleting a topic keeps it."""

    user_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    day: str = field(default_factory=lambda: utcnow().date().isoformat())  # UTC, YYYY-MM-DD
    id: str = field(default_factory=new_id)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Usage summed per day and model."""

    day: str
    model: str
    replies: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class Share:
    """A read-only snapshot of a topic behind an unguessable link; revoking deletes it.

    `snapshot` holds only the title and the shown messages (role, content, model, time).
    """

    user_id: str
    topic_id: str
    snapshot: dict[str, Any]
    id: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    created_at: datetime = field(default_factory=utcnow)


@dataclass(slots=True)
class SearchHit:
    """A topic that matched a search, with the message that matched (None: the title did)."""

    topic: Topic
    message_id: str | None = None
    snippet: str = ""
