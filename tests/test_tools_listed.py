"""A tool server's list of tools, cached per session, is listed again when the server sends
`notifications/tools/list_changed`: a real MCP server (tests/mcp_test_server.py) adds a tool
during a call and says so, and the next request to the model offers it."""

from __future__ import annotations

import asyncio
from typing import Any

from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from services.context import Services
from services.models import MessageStatus, ToolCallStatus, ToolServer, User
from services.tools.mcp import Session
from tests import mcp_servers
from tests.fake_openai import Call, FakeOpenAI, Reply
from tests.test_tools import ask, owner, saved_reply, services, topic_with

__all__ = ["owner", "services"]  # the fixtures, shared with test_tools


def offered(body: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in body.get("tools", [])}


async def test_a_changed_tool_list_is_listed_again_in_the_same_session(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, server_id = await topic_with(
        services, owner, mcp_servers.test_server(), approval="always"
    )
    names = {tool.name for tool in await services.tools.list_tools(owner, server_id)}
    assert "grow" in names and "echo" not in names  # listed, and now cached

    fake.enqueue(Reply(tool_calls=[Call("grow", {})]), Reply("Grown."))
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert reply.status == MessageStatus.COMPLETE, reply.error
    assert [(c.status, c.result) for c in reply.tool_calls] == [(ToolCallStatus.DONE, "added echo")]
    assert "echo" not in offered(fake.chats[-1].json)

    # `echo` exists only in the process that ran `grow`: seeing it means the same session,
    # listed again because the server said its list changed (no restart, no new session).
    async with asyncio.timeout(60):  # a guard against a hang, not a measure of time
        while "echo" not in {t.name for t in await services.tools.list_tools(owner, server_id)}:
            await asyncio.sleep(0.01)
    await services.tools.set_tool(owner, server_id, "echo", approval="always")  # new: it asks
    fake.enqueue(Reply(tool_calls=[Call("echo", {"text": "hi"})]), Reply("Echoed."))
    again = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert "echo" in offered(fake.chats[-2].json)
    assert [(c.status, c.result) for c in again.tool_calls] == [(ToolCallStatus.DONE, "hi")]


async def test_a_server_on_the_2025_protocol_notifies_and_the_list_is_made_again() -> None:
    """The same server through the 2025 handshake: the change comes as a notification."""
    server = ToolServer(user_id="u", name="test", **mcp_servers.test_server())  # type: ignore[arg-type]
    session = Session(server, mode="legacy")
    try:
        client = await session.ready()
        assert client.session.protocol_version not in MODERN_PROTOCOL_VERSIONS
        assert "echo" not in {tool.name for tool in await session.list_tools()}
        assert session.tools is not None  # cached
        await client.call_tool("grow", {})
        async with asyncio.timeout(60):  # a guard against a hang, not a measure of time
            while "echo" not in {tool.name for tool in await session.list_tools()}:
                await asyncio.sleep(0.01)
        assert not session.uncached and session.tools is not None  # cached again
    finally:
        await session.close()
