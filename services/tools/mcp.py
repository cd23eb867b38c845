"""MCP sessions through the official SDK: one per server, started when first needed, restarted
after a failure, closed on shutdown. The only module that imports `mcp`.

A session lives in a task of its own, because the SDK's client must be entered and left in
the same task (anyio's cancel scopes); calls are made from the replies' tasks meanwhile. A
local server is a child process of chatapp: closing its session ends it, and if chatapp dies
first the server reads the end of its stdin and stops.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import mcp_types
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from services.errors import ToolError
from services.i18n import msg
from services.models import ToolServer

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 30.0  # seconds for a server to start and answer its handshake


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool a server offers: its name there, what it says it does, its input's JSON Schema."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)


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


def fingerprint(server: ToolServer) -> str:
    """What a session was started from: a change to any of it needs a new session."""
    parts = [server.transport, server.command, server.args, server.env, server.url, server.headers]
    return json.dumps(parts, sort_keys=True)


@asynccontextmanager
async def connect(
    server: ToolServer, on_message: Callable[[Any], Awaitable[None]] | None = None
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
        client = Client(target, cache=None, message_handler=handler)
        yield await stack.enter_async_context(client)


async def _ignore(message: Any) -> None:
    return None


class Session:
    """One server's connection, run by its own task until `close()`."""

    def __init__(self, server: ToolServer) -> None:
        self.server = server
        self.fingerprint = fingerprint(server)
        self.client: Client | None = None
        self.broken = False
        self.tools: list[ToolInfo] | None = None  # cached until the server says they changed
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: BaseException | None = None
        self._task = asyncio.create_task(self._run(), name=f"mcp-{server.name}")

    async def _run(self) -> None:
        try:
            async with connect(self.server, self._on_message) as client:
                self.client = client
                self._ready.set()
                await self._closing.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a failed start, or the transport failing later
            self._error = exc
            log.warning("tool server %s ended: %s", self.server.name, _describe(exc))
        finally:
            self.client = None
            self.broken = True
            self._ready.set()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            self.tools = None  # listed again when next needed
        elif isinstance(message, Exception):
            log.warning("tool server %s: %s", self.server.name, message)

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
        session = await self._session(server)
        client = await session.ready()
        if session.tools is None:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    session.tools = await _list(client)
            except (Exception, TimeoutError) as exc:
                session.broken = True
                raise ToolError(
                    msg(
                        "The tool server {name} did not list its tools: {reason}.",
                        name=server.name,
                        reason=_describe(exc),
                    )
                ) from None
        return session.tools

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
    images.append({"mime": mime, "data": base64.b64encode(raw).decode("ascii")})
    return ""


def _describe(exc: BaseException | None) -> str:
    """A short reason, from the first real error inside anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if exc is None:
        return "no reason given"
    return (str(exc) or type(exc).__name__)[:300]
