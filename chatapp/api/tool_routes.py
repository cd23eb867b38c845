"""The /api/v1 routes for tools: MCP servers, their tools, a topic's tools, answering calls."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response

from chatapp.api.tool_schemas import (
    ToolCallAnswer,
    ToolListOut,
    ToolOut,
    ToolPatch,
    ToolServerIn,
    ToolServerOut,
    ToolServerPatch,
    TopicTools,
)
from services.context import Services
from services.errors import ToolError
from services.models import User
from services.tools.service import ToolChoice


def router(services: Services, current_user: Callable[..., Awaitable[User]]) -> APIRouter:
    CurrentUser = Annotated[User, Depends(current_user)]
    ToolName = Annotated[str, Path(min_length=1, max_length=200)]
    api = APIRouter(tags=["tools"])

    async def listed(load: Awaitable[list[ToolChoice]]) -> ToolListOut:
        try:
            tools = await load
        except ToolError as exc:  # the server's failure is the answer, not ours
            return ToolListOut(ok=False, error=exc.message)
        return ToolListOut(ok=True, tools=[ToolOut.of(tool) for tool in tools])

    @api.get("/tools/servers", response_model=list[ToolServerOut])
    async def list_servers(user: CurrentUser) -> list[ToolServerOut]:
        return [ToolServerOut.of(s) for s in await services.tools.list_servers(user)]

    @api.post("/tools/servers", response_model=ToolServerOut, status_code=201)
    async def add_server(body: Annotated[ToolServerIn, Body()], user: CurrentUser) -> ToolServerOut:
        """Add an MCP server. Local commands (stdio) only for the owner; remote ones (http)
        for everyone when the owner allows it (CHATAPP_TOOLS_REMOTE_FOR_ALL)."""
        return ToolServerOut.of(await services.tools.add_server(user, **body.model_dump()))

    @api.get("/tools/servers/{server_id}", response_model=ToolServerOut)
    async def get_server(server_id: str, user: CurrentUser) -> ToolServerOut:
        return ToolServerOut.of(await services.tools.get_server(user, server_id))

    @api.patch("/tools/servers/{server_id}", response_model=ToolServerOut)
    async def update_server(
        server_id: str, body: ToolServerPatch, user: CurrentUser
    ) -> ToolServerOut:
        changes = body.model_dump(exclude_unset=True)
        return ToolServerOut.of(await services.tools.update_server(user, server_id, **changes))

    @api.delete("/tools/servers/{server_id}", status_code=204)
    async def delete_server(server_id: str, user: CurrentUser) -> Response:
        await services.tools.delete_server(user, server_id)
        return Response(status_code=204)

    @api.post("/tools/servers/{server_id}/test", response_model=ToolListOut)
    async def test_server(server_id: str, user: CurrentUser) -> ToolListOut:
        """Connect afresh and list the tools: `ok` false says why it could not."""
        await services.tools.get_server(user, server_id)  # 404 before any connecting
        return await listed(services.tools.test_server(user, server_id))

    @api.get("/tools/servers/{server_id}/tools", response_model=ToolListOut)
    async def list_tools(server_id: str, user: CurrentUser) -> ToolListOut:
        await services.tools.get_server(user, server_id)
        return await listed(services.tools.list_tools(user, server_id))

    @api.patch("/tools/servers/{server_id}/tools/{tool_name}", response_model=ToolServerOut)
    async def set_tool(
        server_id: str, tool_name: ToolName, body: ToolPatch, user: CurrentUser
    ) -> ToolServerOut:
        """Turn one tool on or off, or choose "ask" (every time) or "always" (no asking)."""
        server = await services.tools.set_tool(
            user, server_id, tool_name, enabled=body.enabled, approval=body.approval
        )
        return ToolServerOut.of(server)

    @api.get("/topics/{topic_id}/tools", response_model=TopicTools)
    async def topic_tools(topic_id: str, user: CurrentUser) -> TopicTools:
        return TopicTools(server_ids=await services.tools.topic_tools(user, topic_id))

    @api.put("/topics/{topic_id}/tools", response_model=TopicTools)
    async def set_topic_tools(topic_id: str, body: TopicTools, user: CurrentUser) -> TopicTools:
        topic = await services.tools.set_topic_tools(user, topic_id, body.server_ids)
        return TopicTools(server_ids=list(topic.settings.get("tools") or []))

    @api.post("/topics/{topic_id}/tool_calls/{call_id}", status_code=204)
    async def answer_call(
        topic_id: str, call_id: str, body: ToolCallAnswer, user: CurrentUser
    ) -> Response:
        """Allow or deny a call the reply being written waits on (`tool_approval` event)."""
        await services.tools.answer_tool_call(user, topic_id, call_id, body.allow)
        return Response(status_code=204)

    return api
