"""MCP sessions through the official SDK: one per server, started when first needed, restarted
after a failure, closed on shutdown. The only module that imports `mcp`.

A session lives in a task of its own, because the SDK's client must be entered and left in
the same task (anyio's cancel scopes); calls are made from the replies' tasks meanwhile. A
local server is a child process of chatapp: closing its session ends it, and if chatapp dies
first the server reads the end of its stdin and stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.subscriptions import ListenNotSupportedError, SubscriptionLost
from mcp.shared.exceptions import MCPError

from services.errors import ToolError
from services.i18n import msg
from services.models import ToolServer
from services.tools.answers import ToolAnswer, answer_of

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0  # seconds for a server to start and answer its handshake


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool a server offers: its name there, what it says it does, its input's JSON Schema."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)


def fingerprint(server: ToolServer) -> str:
    """What a session was started from: a change to any of it needs a new session."""
    parts = [server.transport, server.command, server.args, server.env, server.url, server.headers]
    return json.dumps(parts, sort_keys=True)


@asynccontextmanager
async def connect(
    server: ToolServer,
    on_message: Callable[[Any], Awaitable[None]] | None = None,
    *,
    mode: str = "auto",
) -> AsyncIterator[Client]:
    """An MCP client connected to the server (stdio: its process started), closed on exit."""
    async with AsyncExitStack() as stack:
        if server.transport == "stdio":
            params = StdioServerParameters(
                command=server.command, args=list(server.args), env=dict(server.env) or None
            )
            target: Any = params
        else:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            http = await stack.enter_async_context(
                create_mcp_http_client(headers=dict(server.headers) or None)
            )
            target = streamable_http_client(server.url, http_client=http)
        # The SDK's response cache would keep a tool list past `tools/list_changed`; ours is
        # kept per session and dropped on that notification.
        handler: Any = on_message or _ignore
        client = Client(target, cache=None, message_handler=handler, mode=mode)
        yield await stack.enter_async_context(client)


async def _ignore(message: Any) -> None:
    return None


class Session:
    """One server's connection, run by its own task until `close()`."""

    def __init__(self, server: ToolServer, *, mode: str = "auto") -> None:
        self.server = server
        self.mode = mode  # the SDK's protocol negotiation; "legacy" forces the 2025 handshake
        self.uncached = False  # no way to hear of changes: the list is made at each use
        self.fingerprint = fingerprint(server)
        self.client: Client | None = None
        self.broken = False
        self.tools: list[ToolInfo] | None = None  # cached until the server says they changed
        self.changes = 0  # how many times it said so: a list begun before a change is stale
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: BaseException | None = None
        self._task = asyncio.create_task(self._run(), name=f"mcp-{server.name}")

    async def _run(self) -> None:
        try:
            async with connect(self.server, self._on_message, mode=self.mode) as client:
                self.client = client
                listening = asyncio.create_task(self._listen(client))
                self._ready.set()
                try:
                    await self._closing.wait()
                finally:  # the stream is closed before the client it runs on
                    listening.cancel()
                    await asyncio.gather(listening, return_exceptions=True)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a failed start, or the transport failing later
            self._error = exc
            log.warning("tool server %s ended: %s", self.server.name, _describe(exc))
        finally:
            self.client = None
            self.broken = True
            self._ready.set()

    def _changed(self) -> None:
        self.tools = None  # listed again when next needed
        self.changes += 1

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self._changed()  # how servers before protocol 2026-07-28 say so
        elif isinstance(message, Exception):
            log.warning("tool server %s: %s", self.server.name, message)

    async def _listen(self, client: Client) -> None:
        """From protocol 2026-07-28 on, a server says its tools changed only on a
        `subscriptions/listen` stream the client opened; earlier ones notify (`_on_message`).
        Without a stream (refused, or lost) the list is not cached: listed at each use."""
        try:
            async with client.listen(tools_list_changed=True) as events:
                if not (events.honored.tools_list_changed or False):
                    raise SubscriptionLost("tools_list_changed not honoured")
                async for _event in events:
                    self._changed()
        except ListenNotSupportedError:
            return
        except (Exception, TimeoutError) as exc:
            log.info("tool server %s: no tool list changes: %s", self.server.name, _describe(exc))
        self.uncached = True
        self._changed()

    async def list_tools(self) -> list[ToolInfo]:
        """The server's tools: the cached list unless they changed since it was made."""
        if self.tools is not None and not self.uncached:
            return self.tools
        client = await self.ready()
        began = self.changes
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                listed = await _list(client)
        except (Exception, TimeoutError) as exc:
            self.broken = True
            raise ToolError(
                msg(
                    "The tool server {name} did not list its tools: {reason}.",
                    name=self.server.name,
                    reason=_describe(exc),
                )
            ) from None
        if self.changes == began:  # else a change came while listing: list again next time
            self.tools = listed
        return listed

    async def ready(self) -> Client:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await self._ready.wait()
        except TimeoutError:
            self.broken = True
            raise ToolError(
                msg(
                    "The tool server {name} did not start within {seconds:g} s.",
                    name=self.server.name,
                    seconds=CONNECT_TIMEOUT,
                )
            ) from None
        if self.client is None:
            why = _describe(self._error) if self._error else "it stopped"
            raise ToolError(
                msg(
                    "Could not connect to the tool server {name}: {reason}.",
                    name=self.server.name,
                    reason=why,
                )
            )
        return self.client

    async def close(self) -> None:
        self._closing.set()
        if not self._ready.is_set():
            self._task.cancel()
        try:
            async with asyncio.timeout(10):
                await asyncio.gather(self._task, return_exceptions=True)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class McpSessions:
    """The sessions of every server in use, by server id (a server is one user's only)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = False

    async def _session(self, server: ToolServer) -> Session:
        async with self._locks.setdefault(server.id, asyncio.Lock()):
            if self._closed:
                raise ToolError(msg("chatapp is shutting down."))
            session = self._sessions.get(server.id)
            if session is not None and (
                session.broken or session.fingerprint != fingerprint(server)
            ):
                await session.close()
                session = None
            if session is None:
                session = self._sessions[server.id] = Session(server)
            return session

    async def tools(self, server: ToolServer) -> list[ToolInfo]:
        """The server's tools, from the session's cache unless they changed."""
        return await (await self._session(server)).list_tools()

    async def call(
        self, server: ToolServer, tool: str, arguments: dict[str, Any], *, within: float
    ) -> ToolAnswer:
        """Call a tool; ToolError when the server cannot be reached, fails or takes longer
        than `within` seconds. Cancelling the caller cancels the call."""
        session = await self._session(server)
        client = await session.ready()
        try:
            async with asyncio.timeout(within):
                result = await client.call_tool(tool, arguments)
        except TimeoutError:
            raise ToolError(
                msg("The tool did not answer within {seconds:g} s.", seconds=within)
            ) from None
        except MCPError as exc:
            if exc.code == mcp_types.CONNECTION_CLOSED:
                session.broken = True
                raise ToolError(
                    msg("The tool server {name} stopped during the call.", name=server.name)
                ) from None
            raise ToolError(
                msg("The tool server refused the call: {reason}", reason=exc.error.message)
            ) from None
        except Exception as exc:  # the transport failed: start afresh next time
            session.broken = True
            raise ToolError(
                msg(
                    "The tool server {name} failed during the call: {reason}.",
                    name=server.name,
                    reason=_describe(exc),
                )
            ) from None
        return answer_of(result)

    async def test(self, server: ToolServer) -> list[ToolInfo]:
        """Connect afresh (apart from any session in use), list the tools, disconnect."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT), connect(server) as client:
                return await _list(client)
        except TimeoutError:
            raise ToolError(
                msg(
                    "The tool server {name} did not answer within {seconds:g} s.",
                    name=server.name,
                    seconds=CONNECT_TIMEOUT,
                )
            ) from None
        except Exception as exc:
            raise ToolError(
                msg(
                    "Could not connect to the tool server {name}: {reason}.",
                    name=server.name,
                    reason=_describe(exc),
                )
            ) from None

    async def forget(self, server_id: str) -> None:
        """Close a server's session (it was changed or deleted)."""
        session = self._sessions.pop(server_id, None)
        if session is not None:
            await session.close()

    async def close(self) -> None:
        self._closed = True
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)


async def _list(client: Client) -> list[ToolInfo]:
    tools: list[ToolInfo] = []
    cursor: str | None = None
    for _ in range(100):  # a server whose pages never end cannot hang us
        page = await client.list_tools(cursor=cursor)
        tools += [
            ToolInfo(tool.name, tool.description or "", dict(tool.input_schema or {}))
            for tool in page.tools
        ]
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _describe(exc: BaseException | None) -> str:
    """A short reason, from the first real error inside anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if exc is None:
        return "no reason given"
    return (str(exc) or type(exc).__name__)[:300]
