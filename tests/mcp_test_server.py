"""A tiny MCP server (the SDK's MCPServer over stdio) that misbehaves on cue, for the tests:
a tool that sleeps, one that kills its own process mid-call, one that answers too much.

Run as `python -m tests.mcp_test_server`.
"""

from __future__ import annotations

import asyncio
import os

from mcp.server.mcpserver import MCPServer

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


if __name__ == "__main__":
    server.run("stdio")
