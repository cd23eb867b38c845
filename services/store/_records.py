"""Records to plain values and back, and the input rules both store adapters share."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from services.models import (
    Attachment,
    Message,
    MessageStatus,
    Rating,
    Role,
    Share,
    ToolCall,
    ToolServer,
    Topic,
    Usage,
    User,
    calls_from_json,
    calls_to_json,
    utcnow,
)

R = TypeVar("R", User, Topic, Message, Attachment, Share, ToolServer)

# Each record type's field names, and those that hold a datetime, found once: `fields()`
# builds them anew on every call, and a prompt's history loads a record per message before
# the model request leaves.
FIELD_NAMES: dict[type, frozenset[str]] = {
    kind: frozenset(f.name for f in fields(kind))
    for kind in (User, Topic, Message, Attachment, Share, ToolServer)
}
TIME_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind) if f.type in (datetime, "datetime"))
    for kind in FIELD_NAMES
}
ROLES = {role.value: role for role in Role}  # a look-up: calling the enum takes longer
STATUSES = {status.value: status for status in MessageStatus}
RATINGS = {rating.value: rating for rating in Rating}


def dump(record: User | Topic | Message | Attachment | Share | ToolServer) -> dict[str, Any]:
    """A record's fields as plain values: enums as their strings, usage as a dict or None,
    a message's tool calls as JSON values."""
    values = {k: v.value if isinstance(v, Enum) else v for k, v in asdict(record).items()}
    if isinstance(record, Message):
        values["tool_calls"] = calls_to_json(record.tool_calls)
    return values


def load(kind: type[R], values: Mapping[str, Any]) -> R:
    """Build a record from stored values; extra keys (a sort key, `_id`) are ignored.

    Datetimes come back time-zone aware in UTC, whatever the database kept.
    """
    known = FIELD_NAMES[kind]
    kwargs: dict[str, Any] = {k: v for k, v in values.items() if k in known}
    for name in TIME_FIELDS[kind]:
        if isinstance(value := kwargs.get(name), datetime):
            kwargs[name] = aware(value)
    if kind is User:
        kwargs.update(is_owner=bool(kwargs["is_owner"]), disabled=bool(kwargs["disabled"]))
    elif kind is Message:
        kwargs.update(
            role=ROLES[kwargs["role"]],
            status=STATUSES[kwargs["status"]],
            usage=Usage.from_dict(kwargs["usage"]),
            tool_calls=calls_from_json(kwargs.get("tool_calls")),
            rating=RATINGS.get(kwargs.get("rating") or ""),
        )
    elif kind is Topic:
        kwargs.update(pinned=bool(kwargs.get("pinned")), archived=bool(kwargs.get("archived")))
    elif kind is ToolServer:
        kwargs["enabled"] = bool(kwargs["enabled"])
    return kind(**kwargs)


def aware(value: datetime) -> datetime:
    """MongoDB keeps naive UTC datetimes; give them their time zone back."""
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def email_key(email: str) -> str:
    """Emails are kept lower-cased, which makes the unique index case-insensitive."""
    return email.strip().lower()


def search_words(query: str) -> list[str]:
    """The words of a search; punctuation is dropped, so no input is ever query syntax."""
    return re.findall(r"\w+", query)


def snippet_around(text: str, words: list[str], width: int = 80) -> str:
    """A short piece of `text` around the first word found, on one line."""
    match = re.search("|".join(map(re.escape, words)), text, re.IGNORECASE)
    start = max(0, (match.start() if match else 0) - width // 3)
    piece = " ".join(text[start : start + width].split())
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def given(**changes: Any) -> dict[str, Any]:
    """The keyword arguments a caller actually passed (None means: leave it as it is)."""
    return {k: v for k, v in changes.items() if v is not None}


def message_changes(
    content: str | None,
    status: MessageStatus | None,
    usage: Usage | None,
    error: str | None,
    reasoning: str | None = None,
    reasoning_seconds: float | None = None,
    tool_calls: list[ToolCall] | None = None,
) -> dict[str, Any]:
    """What an update_message call sets, as plain values, always with a new `updated_at`."""
    changes = given(
        content=content,
        status=status.value if status else None,
        usage=usage.to_dict() if usage else None,
        error=error,
        reasoning=reasoning,
        reasoning_seconds=reasoning_seconds,
        tool_calls=calls_to_json(tool_calls) if tool_calls is not None else None,
    )
    return {**changes, "updated_at": utcnow()}


def check_chain(messages: Sequence[Message]) -> None:
    """Messages appended together: at least one, in one topic of one user, each answering the
    one before it."""
    if not messages:
        raise ValueError("no messages to add")
    first = messages[0]
    for before, message in itertools.pairwise(messages):
        if message.parent_id != before.id:
            raise ValueError("each message added together must answer the one before it")
    if any((m.topic_id, m.user_id) != (first.topic_id, first.user_id) for m in messages):
        raise ValueError("messages added together must share their topic and user")


def branch_length(parents: Mapping[str, str | None], leaf_id: str | None) -> int:
    """How many messages (`parents`: each one's parent by its id) lie on the branch down to
    `leaf_id`: what the topic shows (a topic's `message_count`), not the branches an edit or a
    regeneration left beside it."""
    count, at = 0, leaf_id
    while at is not None and at in parents and count < len(parents):  # bad data's loop ends
        count, at = count + 1, parents[at]
    return count


def parents_of(messages: Sequence[Message]) -> dict[str, str | None]:
    return {message.id: message.parent_id for message in messages}
