"""A saved reply that called tools, as the messages a later request carries: for each round,
the text before its calls and the calls (assistant), then their results (tool); then the
rest of the text."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.models import Message, ToolCall, ToolCallStatus


def with_calls(message: Message, cap: int) -> list[dict[str, Any]]:
    """The reply as OpenAI chat messages (a reply without calls: one assistant message)."""
    if not message.tool_calls:
        return [{"role": "assistant", "content": message.content}]
    out: list[dict[str, Any]] = []
    start = 0
    for _, group in groupby(message.tool_calls, key=lambda call: call.round):
        calls = list(group)
        offset = max(start, min(calls[0].offset, len(message.content)))
        out.append(
            {
                "role": "assistant",
                "content": message.content[start:offset].strip() or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments or "{}"},
                    }
                    for call in calls
                ],
            }
        )
        out += [
            {"role": "tool", "tool_call_id": call.id, "content": told(call, cap)} for call in calls
        ]
        start = offset
    if rest := message.content[start:].strip():
        out.append({"role": "assistant", "content": rest})
    return out


def told(call: ToolCall, cap: int) -> str:
    """What the model was told the call came to (a call left waiting or running: cancelled)."""
    from services.tools.runner import CANCELLED, model_text

    if call.status in (ToolCallStatus.PENDING, ToolCallStatus.RUNNING):
        return CANCELLED
    return model_text(call, cap)


def size(message: Message) -> int:
    """How much of the history budget the reply's calls take, beside its text."""
    return sum(len(call.arguments) + len(call.result) for call in message.tool_calls)


class ToolImageIn(BaseModel):
    """An image of a tool result, as exports write it."""

    mime: Literal["image/png", "image/jpeg", "image/webp", "image/gif"]
    data: str = Field(max_length=1_400_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")


class ToolCallIn(BaseModel):
    """A tool call as exports write it (ToolCall.to_dict), read back by imports."""

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(max_length=200)
    arguments: str = Field(default="", max_length=1_000_000)
    server_id: str = Field(default="", max_length=64)
    server_name: str = Field(default="", max_length=200)
    tool: str = Field(default="", max_length=200)
    status: ToolCallStatus = ToolCallStatus.DONE
    result: str = Field(default="", max_length=10_000_000)
    truncated: bool = False
    error: str | None = Field(default=None, max_length=10_000)
    started_at: datetime | None = None
    seconds: float | None = Field(default=None, ge=0, le=86_400)
    offset: int = Field(default=0, ge=0, le=100_000_000)
    round: int = Field(default=0, ge=0, le=1_000)
    images: list[ToolImageIn] = Field(default_factory=list, max_length=4)

    def call(self) -> ToolCall:
        return ToolCall.from_dict(self.model_dump())


def shared_calls(message: Message, *, results: bool) -> list[dict[str, Any]]:
    """A reply's calls as a shared link shows them: results only when the owner chose so."""
    shown = []
    for call in message.tool_calls:
        values = call.to_dict()
        if not results:
            values["result"], values["truncated"], values["images"] = "", False, []
        shown.append(values)
    return shown
