"""A tiny MCP server (the SDK's MCPServer over stdio) that misbehaves on cue, for the tests:
a tool that sleeps, one that kills its own process mid-call, one that answers too much, one
that adds a tool and tells the client its tool list changed.

Run as `python -m tests.mcp_test_server`.
"""

from __future__ import annotations

import asyncio
import os

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("chatapp-test")


@server.tool()
async def sleep(seconds: float) -> str:
    """Wait this many seconds, then say so."""
    await asyncio.sleep(seconds)
    return f"slept {seconds} s"


@server.tool()
def crash() -> str:
    """End the server's process in the middle of the call."""
    os._exit(3)


@server.tool()
def big(size: int) -> str:
    """Answer `size` characters of text."""
    return ("0123456789" * (size // 10 + 1))[:size]


@server.tool()
def shout(text: str) -> str:
    """The text in capitals."""
    return text.upper()


def echo(text: str) -> str:
    """The text as given (added by `grow`)."""
    return text


@server.tool()
async def grow(ctx: Context) -> str:
    """Add the tool `echo`, then say the tool list changed: to `subscriptions/listen` streams
    (protocol 2026-07-28) and as notifications/tools/list_changed (earlier protocols; the SDK
    drops it on a 2026-07-28 connection)."""
    server.add_tool(echo)
    await ctx.notify_tools_changed()
    await ctx.request_context.session.send_tool_list_changed()
    return "added echo"


if __name__ == "__main__":
    server.run("stdio")
