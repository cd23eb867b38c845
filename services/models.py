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


class Rating(StrEnum):
    """What a user thought of a reply: thumbs up or down."""

    UP = "up"
    DOWN = "down"


class ToolCallStatus(StrEnum):
    PENDING = "pending"  # waiting for the user to allow or deny it
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"  # the tool failed, timed out, or its server crashed
    DENIED = "denied"
    CANCELLED = "cancelled"  # the reply was stopped (or the process stopped) first


FINAL_CALL_STATUSES = frozenset(
    {ToolCallStatus.DONE, ToolCallStatus.ERROR, ToolCallStatus.DENIED, ToolCallStatus.CANCELLED}
)


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
class ToolCall:
    """A tool call a reply made, saved in the reply as it happens.

    `name` is the function name the model used; `server_id`, `server_name` and `tool` say
    which MCP tool answered. `arguments` is the JSON text the model wrote. `offset` is how
    much of the reply's text was there when the model asked, and `round` which request of
    the reply asked (calls of one round share both): text and calls interleave by them.
    `result` is the tool's answer as text, cut at the size cap (`truncated`); `error` says
    what went wrong (a failure, a timeout, a denial). `images` are the result's images the
    page shows ({"mime": ..., "data": base64}); the model is told only their names.
    """

    id: str
    name: str
    arguments: str = ""
    server_id: str = ""
    server_name: str = ""
    tool: str = ""
    status: ToolCallStatus = ToolCallStatus.RUNNING
    result: str = ""
    truncated: bool = False
    error: str | None = None
    started_at: datetime | None = None
    seconds: float | None = None
    offset: int = 0
    round: int = 0
    images: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (the status as its string, the time as ISO text)."""
        return {
            "id": self.id,
            "name": self.name,
            "arguments": self.arguments,
            "server_id": self.server_id,
            "server_name": self.server_name,
            "tool": self.tool,
            "status": self.status.value,
            "result": self.result,
            "truncated": self.truncated,
            "error": self.error,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "seconds": self.seconds,
            "offset": self.offset,
            "round": self.round,
            "images": [dict(image) for image in self.images],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        started = data.get("started_at")
        if isinstance(started, str):
            started = datetime.fromisoformat(started)
        if isinstance(started, datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        seconds = data.get("seconds")
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or ""),
            arguments=str(data.get("arguments") or ""),
            server_id=str(data.get("server_id") or ""),
            server_name=str(data.get("server_name") or ""),
            tool=str(data.get("tool") or ""),
            status=ToolCallStatus(data.get("status") or ToolCallStatus.DONE.value),
            result=str(data.get("result") or ""),
            truncated=bool(data.get("truncated")),
            error=data.get("error"),
            started_at=started if isinstance(started, datetime) else None,
            seconds=float(seconds) if seconds is not None else None,
            offset=int(data.get("offset") or 0),
            round=int(data.get("round") or 0),
            images=[
                {"mime": str(image.get("mime") or ""), "data": str(image.get("data") or "")}
                for image in data.get("images") or []
                if isinstance(image, dict)
            ],
        )


def calls_to_json(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [call.to_dict() for call in calls]


def calls_from_json(data: Any) -> list[ToolCall]:
    return [ToolCall.from_dict(item) for item in data or [] if isinstance(item, dict)]


@dataclass(slots=True)
class ToolServer:
    """An MCP server a user added: a local command (`stdio`) or a URL (`http`).

    `env` and `headers` hold secrets: services never hand their values to a page or the API.
    `tools` holds per-tool choices by the tool's name: {"enabled": bool, "approval": "ask" |
    "always"}; a tool not in it is on and asks every time.
    """

    user_id: str
    name: str
    transport: str  # "stdio" | "http"
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


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
    pinned: bool = False  # listed above the others
    archived: bool = False  # out of the list, still found by search


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
    # The tools the reply called, in order (services/models.py ToolCall).
    tool_calls: list[ToolCall] = field(default_factory=list)
    rating: Rating | None = None  # the user's thumbs up or down on a reply


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
