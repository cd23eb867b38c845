"""Streamed `tool_calls` pieced together: by index, the first piece naming the call, the rest
adding fragments of its arguments, several calls at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One call the model asked for: its id, the function's name, the arguments as JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """The end of a round in which the model asked for tools (before its `Done`)."""

    calls: tuple[CallRequest, ...]


class CallAssembler:
    """Feed each chunk's `delta.tool_calls`; `calls()` gives them whole, in index order.

    Servers differ: OpenAI sends the id and name once, in the first piece; some repeat them
    or send a whole call in one piece; a few leave out `index` (one call at a time). A piece
    with no index continues the last call unless it brings a new id.
    """

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}
        self._last: int | None = None

    def feed(self, pieces: Any) -> None:
        if not isinstance(pieces, list):
            raise TypeError("tool_calls is not a list")
        for piece in pieces:
            if not isinstance(piece, dict):
                raise TypeError("a tool call piece is not an object")
            index = piece.get("index")
            new_id = piece.get("id")
            if not isinstance(index, int):
                known = self._last is not None and (
                    not new_id or self._calls[self._last]["id"] in ("", new_id)
                )
                index = self._last if known and self._last is not None else len(self._calls)
            call = self._calls.setdefault(index, {"id": "", "name": "", "arguments": []})
            self._last = index
            if new_id and not call["id"]:
                call["id"] = str(new_id)
            function = piece.get("function") or {}
            if not isinstance(function, dict):
                raise TypeError("a tool call's function is not an object")
            if (name := function.get("name")) and not call["name"]:
                call["name"] = str(name)
            arguments = function.get("arguments")
            if isinstance(arguments, dict):  # a server that sends the object itself
                arguments = json.dumps(arguments)
            if arguments:
                call["arguments"].append(str(arguments))

    def calls(self) -> tuple[CallRequest, ...]:
        """The calls pieced together; a call without an id gets one (some local servers)."""
        return tuple(
            CallRequest(
                id=call["id"] or f"call_{index}",
                name=call["name"],
                arguments="".join(call["arguments"]),
            )
            for index, call in sorted(self._calls.items())
        )
