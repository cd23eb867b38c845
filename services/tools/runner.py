"""A reply's tool calls: the tools a topic offers the model, and each round of calls run,
with the user's approval where asked, saved and announced as they happen.

`Replies` drives the rounds (services/replies.py); this module runs one round at a time and
turns its calls into the messages the next request carries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from services.errors import StoreUnavailable, ToolError
from services.generation import Generation, ToolCallUpdate
from services.llm import CallRequest
from services.models import (
    FINAL_CALL_STATUSES,
    ToolCall,
    ToolCallStatus,
    ToolServer,
    utcnow,
)
from services.options import Options
from services.store import Store
from services.tools.mcp import McpSessions, ToolInfo
from services.tools.service import tool_settings

log = logging.getLogger(__name__)

DECLINED = "The user declined this call."
CANCELLED = "The call was cancelled before it finished."


@dataclass(frozen=True, slots=True)
class Route:
    """Where a function name the model may call leads."""

    server: ToolServer
    tool: ToolInfo
    approval: str


@dataclass(frozen=True, slots=True)
class Toolset:
    """The tools a reply may call: OpenAI `tools` definitions, and where each name leads."""

    specs: list[dict[str, Any]]
    routes: dict[str, Route]


def function_name(name: str) -> str:
    """A tool's name as OpenAI allows function names: ^[a-zA-Z0-9_-]{1,64}$."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "tool"


def model_text(call: ToolCall, cap: int) -> str:
    """What the model is told a call came to."""
    if call.status == ToolCallStatus.DONE:
        cut = f"\n[The result was cut at {cap // 1000} KB.]" if call.truncated else ""
        return call.result + cut
    if call.status == ToolCallStatus.DENIED:
        return DECLINED
    if call.status == ToolCallStatus.CANCELLED:
        return CANCELLED
    detail = f"\n{call.result}" if call.result else ""
    return f"Error: {call.error or 'the tool failed.'}{detail}"


def cap_text(text: str, max_bytes: int) -> tuple[str, bool]:
    data = text.encode()
    if len(data) <= max_bytes:
        return text, False
    return data[:max_bytes].decode(errors="ignore"), True


class ToolRunner:
    """Builds a topic's toolset and runs rounds of calls for `Replies`."""

    def __init__(self, store: Store, options: Options, sessions: McpSessions) -> None:
        self.store = store
        self.options = options
        self.sessions = sessions

    async def toolset(self, user_id: str, settings: dict[str, Any]) -> Toolset | None:
        """The tools on in a topic: its chosen servers that are on, their tools that are on.
        A server that cannot list its tools is left out (logged), not the reply."""
        chosen = settings.get("tools") or []
        if not chosen:
            return None
        specs: list[dict[str, Any]] = []
        routes: dict[str, Route] = {}
        for server in await self.store.list_tool_servers(user_id):  # only this user's
            if server.id not in chosen or not server.enabled:
                continue
            if server.transport == "stdio" and not self.options.tools_local:
                continue  # turned off on this site since it was added
            try:
                tools = await self.sessions.tools(server)
            except ToolError as exc:
                log.warning("tool server %s left out of a reply: %s", server.id, exc.message)
                continue
            for tool in tools:
                enabled, approval = tool_settings(server, tool.name)
                if not enabled:
                    continue
                name = function_name(tool.name)
                if name in routes:  # two servers with a tool of the same name
                    name = function_name(f"{server.name}__{tool.name}")
                routes[name] = Route(server, tool, approval)
                specs.append(
                    {
                        "type": "function",
                        "function": {
                            "name": name,
                            "description": tool.description[:1024],
                            "parameters": tool.input_schema or {"type": "object"},
                        },
                    }
                )
        return Toolset(specs, routes) if specs else None

    async def run_round(
        self,
        generation: Generation,
        requests: tuple[CallRequest, ...],
        toolset: Toolset,
        round_number: int,
    ) -> list[dict[str, Any]]:
        """Run the calls of one round (those that ask wait for the user's answer), saving and
        announcing each change; the messages that carry them to the model's next request."""
        offset = len(generation.text)
        calls = [self._new_call(request, toolset, offset, round_number) for request in requests]
        generation.tool_calls.extend(calls)
        for call in calls:  # answerable from the moment anyone hears of it
            if call.status == ToolCallStatus.PENDING:
                generation.approvals[call.id] = asyncio.get_running_loop().create_future()
            generation._publish(ToolCallUpdate(replace(call)))
        await self.save(generation)
        tasks = [
            asyncio.create_task(self._run(generation, call, toolset))
            for call in calls
            if call.status not in FINAL_CALL_STATUSES
        ]
        try:
            await asyncio.gather(*tasks)
        finally:  # stopped: the calls still running or waiting are cancelled with the reply
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for call in calls:
                generation.approvals.pop(call.id, None)
        cap = self.options.tool_result_max_bytes
        asked = {
            "role": "assistant",
            "content": generation.text[_round_start(generation, round_number) :].strip() or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments or "{}"},
                }
                for call in calls
            ],
        }
        answers = [
            {"role": "tool", "tool_call_id": call.id, "content": model_text(call, cap)}
            for call in calls
        ]
        return [asked, *answers]

    def _new_call(
        self, request: CallRequest, toolset: Toolset, offset: int, round_number: int
    ) -> ToolCall:
        route = toolset.routes.get(request.name)
        call = ToolCall(
            request.id,
            request.name,
            request.arguments,
            status=ToolCallStatus.RUNNING,
            started_at=utcnow(),
            offset=offset,
            round=round_number,
        )
        if route is None:
            call.status, call.error = ToolCallStatus.ERROR, f"There is no tool {request.name!r}."
            return call
        call.server_id, call.server_name, call.tool = (
            route.server.id,
            route.server.name,
            route.tool.name,
        )
        if _arguments(request.arguments) is None:
            call.status = ToolCallStatus.ERROR
            call.error = "The model sent arguments that are not a JSON object."
        elif route.approval != "always":
            call.status = ToolCallStatus.PENDING
        return call

    async def _run(self, generation: Generation, call: ToolCall, toolset: Toolset) -> None:
        route = toolset.routes[call.name]
        try:
            if call.status == ToolCallStatus.PENDING:
                waiting = generation.approvals[call.id]
                try:
                    allowed = await waiting
                finally:
                    generation.approvals.pop(call.id, None)
                if not allowed:
                    await self._change(
                        generation, call, status=ToolCallStatus.DENIED, error=DECLINED
                    )
                    return
                await self._change(
                    generation, call, status=ToolCallStatus.RUNNING, started_at=utcnow()
                )
            began = time.monotonic()
            try:
                answer = await self.sessions.call(
                    route.server,
                    route.tool.name,
                    _arguments(call.arguments) or {},
                    within=self.options.tool_timeout,
                )
            except ToolError as exc:
                seconds = round(time.monotonic() - began, 2)
                await self._change(
                    generation,
                    call,
                    status=ToolCallStatus.ERROR,
                    error=exc.message,
                    seconds=seconds,
                )
                return
            text, truncated = cap_text(answer.text, self.options.tool_result_max_bytes)
            await self._change(
                generation,
                call,
                status=ToolCallStatus.ERROR if answer.is_error else ToolCallStatus.DONE,
                error="The tool reported an error." if answer.is_error else None,
                result=text,
                truncated=truncated,
                images=[dict(image) for image in answer.images],
                seconds=round(time.monotonic() - began, 2),
            )
        except asyncio.CancelledError:
            call.status = ToolCallStatus.CANCELLED
            call.error = CANCELLED
            generation._publish(ToolCallUpdate(replace(call)))
            raise

    async def _change(self, generation: Generation, call: ToolCall, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(call, key, value)
        generation._publish(ToolCallUpdate(replace(call)))
        await self.save(generation)

    async def save(self, generation: Generation) -> None:
        """Save the reply's text and calls as they are now (once its row is written)."""
        await generation.stored.wait()
        if generation.abandoned:
            return
        message = generation.message
        try:
            await self.store.update_message(
                message.user_id,
                message.id,
                content=generation.text,
                tool_calls=list(generation.tool_calls),
            )
        except StoreUnavailable as exc:  # the last save of the reply catches up
            log.warning("could not save the tool calls of reply %s yet: %s", message.id, exc)


def cancel_unfinished(generation: Generation) -> None:
    """The reply ended: calls still waiting or running are cancelled."""
    for call in generation.tool_calls:
        if call.status not in FINAL_CALL_STATUSES:
            call.status, call.error = ToolCallStatus.CANCELLED, CANCELLED


def _round_start(generation: Generation, round_number: int) -> int:
    """Where the text of a round began: the offset of the round before's calls."""
    before = [c.offset for c in generation.tool_calls if c.round == round_number - 1]
    return before[0] if before else 0


def _arguments(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
