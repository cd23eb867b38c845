"""What users do with tools: add, change, test and remove MCP servers, choose tools per server
and per topic, and answer a call that waits for their approval.

Secret values (a local server's environment, a remote server's headers) go into the store
and to the server, never back out: what this service returns has them as `MASK`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from services.errors import InvalidInput, NotFound, PermissionDenied
from services.i18n import msg
from services.models import ToolServer, Topic, User
from services.options import Options
from services.store import Store
from services.tools.mcp import McpSessions, ToolInfo

if TYPE_CHECKING:
    from services.chat import ChatService

MASK = "********"  # a secret's value, as pages and the API see it
APPROVALS = ("ask", "always")
TRANSPORTS = ("stdio", "http")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """A server's tool with the user's choices for it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    enabled: bool
    approval: str  # "ask" (every time, the default) or "always" (allowed without asking)


def masked(server: ToolServer) -> ToolServer:
    """The server as pages and the API may see it: secret values replaced by MASK."""
    return replace(
        server,
        env=dict.fromkeys(server.env, MASK),
        headers=dict.fromkeys(server.headers, MASK),
        args=list(server.args),
        tools={name: dict(choice) for name, choice in server.tools.items()},
    )


def tool_settings(server: ToolServer, tool: str) -> tuple[bool, str]:
    """Whether a tool is on and how it is approved (a tool never chosen: on, ask)."""
    choice = server.tools.get(tool) or {}
    approval = choice.get("approval")
    return bool(choice.get("enabled", True)), approval if approval in APPROVALS else "ask"


class ToolService:
    """Each user's MCP servers and tool choices, for pages and the API alike."""

    def __init__(
        self, store: Store, options: Options, sessions: McpSessions, chat: ChatService
    ) -> None:
        self.store = store
        self.options = options
        self.sessions = sessions
        self.chat = chat

    # ----- servers ----------------------------------------------------------------------------

    async def list_servers(self, user: User) -> list[ToolServer]:
        return [masked(server) for server in await self.store.list_tool_servers(user.id)]

    async def get_server(self, user: User, server_id: str) -> ToolServer:
        return masked(await self.store.get_tool_server(user.id, server_id))

    async def add_server(
        self,
        user: User,
        *,
        name: str,
        transport: str,
        command: str = "",
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        url: str = "",
        headers: dict[str, str] | None = None,
        enabled: bool = True,
    ) -> ToolServer:
        """Add a server: a local command (`stdio`, the owner only) or a URL (`http`)."""
        server = ToolServer(
            user.id,
            name,
            transport,
            command=command,
            args=list(args or []),
            env=dict(env or {}),
            url=url,
            headers=dict(headers or {}),
            enabled=enabled,
        )
        self._check(user, server)
        return masked(await self.store.add_tool_server(server))

    async def update_server(
        self,
        user: User,
        server_id: str,
        *,
        name: str | None = None,
        command: str | None = None,
        args: list[str] | None = None,
        env: dict[str, str | None] | None = None,
        url: str | None = None,
        headers: dict[str, str | None] | None = None,
        enabled: bool | None = None,
    ) -> ToolServer:
        """Change what is given. `env` and `headers`, when given, are the whole set of names:
        a name left out is removed, and a name whose value is None or MASK keeps the secret
        saved before (pages and the API never see it to send it back)."""
        server = await self.store.get_tool_server(user.id, server_id)
        if name is not None:
            server.name = name
        if command is not None:
            server.command = command
        if args is not None:
            server.args = list(args)
        if url is not None:
            server.url = url
        if enabled is not None:
            server.enabled = enabled
        if env is not None:
            server.env = _merge_secrets(server.env, env)
        if headers is not None:
            server.headers = _merge_secrets(server.headers, headers)
        self._check(user, server)
        saved = await self.store.save_tool_server(server)
        await self.sessions.forget(server_id)  # the next use starts it with the changes
        return masked(saved)

    async def delete_server(self, user: User, server_id: str) -> None:
        await self.store.delete_tool_server(user.id, server_id)
        await self.sessions.forget(server_id)

    async def test_server(self, user: User, server_id: str) -> list[ToolChoice]:
        """Connect to the server afresh and list its tools (ToolError says why not)."""
        server = await self.store.get_tool_server(user.id, server_id)
        self._check(user, server)
        return _choices(server, await self.sessions.test(server))

    async def list_tools(self, user: User, server_id: str) -> list[ToolChoice]:
        """The server's tools (from its session, started if need be) with the user's choices."""
        server = await self.store.get_tool_server(user.id, server_id)
        self._check(user, server)
        return _choices(server, await self.sessions.tools(server))

    async def set_tool(
        self,
        user: User,
        server_id: str,
        tool: str,
        *,
        enabled: bool | None = None,
        approval: str | None = None,
    ) -> ToolServer:
        """Turn one tool on or off, or choose whether it asks ("ask") or not ("always")."""
        if approval is not None and approval not in APPROVALS:
            raise InvalidInput(msg('Approval must be "ask" or "always".'))
        if not tool or len(tool) > 200:
            raise InvalidInput(msg("Name a tool."))
        server = await self.store.get_tool_server(user.id, server_id)
        choice = dict(server.tools.get(tool) or {"enabled": True, "approval": "ask"})
        if enabled is not None:
            choice["enabled"] = enabled
        if approval is not None:
            choice["approval"] = approval
        server.tools = {**server.tools, tool: choice}
        return masked(await self.store.save_tool_server(server))

    # ----- topics -----------------------------------------------------------------------------

    async def topic_tools(self, user: User, topic_id: str) -> list[str]:
        """Ids of the servers whose tools are on in the topic (none: the default)."""
        topic = await self.store.get_topic(user.id, topic_id)
        return list(topic.settings.get("tools") or [])

    async def set_topic_tools(self, user: User, topic_id: str, server_ids: list[str]) -> Topic:
        """Turn on the tools of these servers (each server's own choices apply) in a topic."""
        topic = await self.store.get_topic(user.id, topic_id)
        known = {server.id for server in await self.store.list_tool_servers(user.id)}
        chosen = list(dict.fromkeys(server_ids))
        if unknown := [server_id for server_id in chosen if server_id not in known]:
            raise NotFound(msg("Tool server not found: {id}.", id=unknown[0]))
        settings = {**topic.settings, "tools": chosen}
        if not chosen:
            settings.pop("tools")
        return await self.store.update_topic_settings(user.id, topic_id, settings)

    # ----- calls ------------------------------------------------------------------------------

    async def answer_tool_call(self, user: User, topic_id: str, call_id: str, allow: bool) -> None:
        """Allow or deny a call that waits for the user in the topic's reply being written."""
        await self.store.get_topic(user.id, topic_id)
        generation = self.chat.generations.get(topic_id)
        waiting = generation.approvals.get(call_id) if generation is not None else None
        if waiting is None or waiting.done():
            raise NotFound(msg("No tool call waits for an answer with that id."))
        waiting.set_result(allow)

    # ----- rules ------------------------------------------------------------------------------

    def _check(self, user: User, server: ToolServer) -> None:
        server.name = server.name.strip() or server.name
        if not server.name or len(server.name) > 100:
            raise InvalidInput(msg("Give the server a name (at most 100 characters)."))
        if server.transport not in TRANSPORTS:
            raise InvalidInput(msg('The transport must be "stdio" (a command) or "http" (a URL).'))
        if server.transport == "stdio":
            if not self.options.tools_local:
                raise PermissionDenied(
                    msg("Local-command tool servers are turned off on this chatapp.")
                )
            if not user.is_owner:
                raise PermissionDenied(
                    msg("Only the owner of this chatapp may add servers that run a command here.")
                )
            if not server.command or len(server.command) > 1000:
                raise InvalidInput(msg("Give the command that starts the server."))
            if len(server.args) > 100 or any(len(arg) > 4000 for arg in server.args):
                raise InvalidInput(msg("Too many arguments, or one too long."))
            if any(CONTROL.search(part) for part in (server.command, *server.args)):
                raise InvalidInput(
                    msg("The command and its arguments cannot hold control characters.")
                )
        else:
            if not (user.is_owner or self.options.tools_remote_for_all):
                raise PermissionDenied(msg("Only the owner of this chatapp may add tool servers."))
            if not re.match(r"^https?://[^\s/]+", server.url) or len(server.url) > 2000:
                raise InvalidInput(msg("Give the server's URL, starting with http:// or https://."))
        for key, value in server.env.items():
            if not ENV_NAME.match(key) or len(value) > 10_000:
                raise InvalidInput(
                    msg("Not a valid environment variable: {name}.", name=repr(key[:50]))
                )
        for key, value in server.headers.items():
            if not HEADER_NAME.match(key) or len(value) > 10_000 or "\n" in value:
                raise InvalidInput(msg("Not a valid header: {name}.", name=repr(key[:50])))


def _merge_secrets(saved: dict[str, str], given: dict[str, str | None]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in given.items():
        if value is None or value == MASK:
            if key in saved:
                merged[key] = saved[key]
        else:
            merged[key] = value
    return merged


def _choices(server: ToolServer, tools: list[ToolInfo]) -> list[ToolChoice]:
    return [
        ToolChoice(
            tool.name, tool.description, tool.input_schema, *tool_settings(server, tool.name)
        )
        for tool in tools
    ]
