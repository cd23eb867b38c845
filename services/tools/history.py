"""A saved reply that called tools, as the messages a later request carries: for each round,
the text before its calls and the calls (assistant), then their results (tool); then the
rest of the text."""

from __future__ import annotations

from itertools import groupby
from typing import Any

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
