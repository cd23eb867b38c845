"""Request and response bodies of the tools API (MCP servers, tool choices, tool calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.models import ToolCall, ToolServer
from services.tools.service import ToolChoice

CallStatus = Literal["pending", "running", "done", "error", "denied", "cancelled"]
Secrets = dict[str, str]


class ToolCallOut(BaseModel):
    """A tool call inside a reply. `offset`: how much of the reply's text came before it;
    `round`: which model request asked for it (calls of one round share both)."""

    id: str
    name: str = Field(description="The function name the model used.")
    arguments: str = Field(description="The arguments, as the JSON text the model wrote.")
    server_id: str
    server_name: str
    tool: str = Field(description="The tool's name on its server.")
    status: CallStatus
    result: str = Field(description="The tool's answer as text (untrusted: show it as text).")
    truncated: bool = Field(description="The result was cut at the size limit.")
    error: str | None
    started_at: datetime | None
    seconds: float | None
    offset: int
    round: int

    @classmethod
    def of(cls, call: ToolCall) -> ToolCallOut:
        return cls.model_validate(call.to_dict())


class ToolServerIn(BaseModel):
    """A new MCP server: a local command (stdio; the owner only) or a URL (http)."""

    name: str = Field(min_length=1, max_length=100)
    transport: Literal["stdio", "http"]
    command: str = Field("", max_length=1000)
    args: list[str] = Field(default_factory=list, max_length=100)
    env: Secrets = Field(default_factory=dict, description="Secret: never sent back.")
    url: str = Field("", max_length=2000)
    headers: Secrets = Field(default_factory=dict, description="Secret: never sent back.")
    enabled: bool = True


class ToolServerPatch(BaseModel):
    """What to change. `env` and `headers`, when given, are the whole set of names: a name
    left out is removed; a name whose value is null or "********" keeps its saved value."""

    name: str | None = Field(None, min_length=1, max_length=100)
    command: str | None = Field(None, max_length=1000)
    args: list[str] | None = Field(None, max_length=100)
    env: dict[str, str | None] | None = None
    url: str | None = Field(None, max_length=2000)
    headers: dict[str, str | None] | None = None
    enabled: bool | None = None


class ToolServerOut(BaseModel):
    """A server; `env` and `headers` name their variables with the values masked."""

    id: str
    name: str
    transport: str
    command: str
    args: list[str]
    env: Secrets
    url: str
    headers: Secrets
    enabled: bool
    tools: dict[str, dict[str, Any]] = Field(
        description='Per tool: {"enabled": bool, "approval": "ask" | "always"}.'
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, server: ToolServer) -> ToolServerOut:
        return cls(
            id=server.id,
            name=server.name,
            transport=server.transport,
            command=server.command,
            args=server.args,
            env=server.env,
            url=server.url,
            headers=server.headers,
            enabled=server.enabled,
            tools=server.tools,
            created_at=server.created_at,
            updated_at=server.updated_at,
        )


class ToolOut(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]
    enabled: bool
    approval: Literal["ask", "always"]

    @classmethod
    def of(cls, tool: ToolChoice) -> ToolOut:
        return cls.model_validate(
            {
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema,
                "enabled": tool.enabled,
                "approval": tool.approval,
            }
        )


class ToolListOut(BaseModel):
    """A server's tools; `ok` false (with `error`) when it could not be reached."""

    ok: bool
    error: str | None = None
    tools: list[ToolOut] = Field(default_factory=list)


class ToolPatch(BaseModel):
    enabled: bool | None = None
    approval: Literal["ask", "always"] | None = None


class TopicTools(BaseModel):
    """The servers whose tools are on in a topic."""

    server_ids: list[str] = Field(max_length=100)


class ToolCallAnswer(BaseModel):
    allow: bool = Field(description="true: run the call; false: tell the model it was declined.")
