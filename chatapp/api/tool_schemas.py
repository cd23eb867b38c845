"""Request and response bodies of the tools API (MCP servers, tool choices, tool calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from services.models import ToolCall, ToolServer
from services.tools.service import ToolChoice

CallStatus = Literal["pending", "running", "done", "error", "denied", "cancelled"]
Secrets = dict[str, str]
# The rules services/tools/service.py keeps, stated here so the schema allows what it takes.
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Command = Annotated[
    str, StringConstraints(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")
]
Arg = Annotated[str, StringConstraints(max_length=4000, pattern=r"^[^\x00-\x1f\x7f]*$")]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s/]+")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")]
Value = Annotated[str, StringConstraints(max_length=10_000)]
HeaderValue = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\r\n]*$")]
# Only names of that shape: patternProperties alone would let any other key through.
CLOSED: dict[str, Any] = {"additionalProperties": False}
EnvIn = Annotated[dict[EnvName, Value], Field(json_schema_extra=CLOSED)]
EnvPatch = Annotated[dict[EnvName, Value | None], Field(json_schema_extra=CLOSED)]
HeadersIn = Annotated[dict[HeaderName, HeaderValue], Field(json_schema_extra=CLOSED)]
HeadersPatch = Annotated[dict[HeaderName, HeaderValue | None], Field(json_schema_extra=CLOSED)]


class ToolImageOut(BaseModel):
    """An image a tool's result held (PNG, JPEG, WebP or GIF, at most 1 MB)."""

    mime: str = Field(description="Its media type, e.g. image/png.")
    data: str = Field(description="The image, base64-encoded.")


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
    images: list[ToolImageOut] = Field(
        description="The result's images (the model is told only their names)."
    )

    @classmethod
    def of(cls, call: ToolCall) -> ToolCallOut:
        return cls.model_validate(call.to_dict())


class StdioServerIn(BaseModel):
    """A local command (the owner only): it runs on the chatapp machine."""

    name: Name
    transport: Literal["stdio"]
    command: Command
    args: list[Arg] = Field(default_factory=list, max_length=100)
    env: EnvIn = Field(default_factory=dict, description="Secret: never sent back.")
    enabled: StrictBool = True


class HttpServerIn(BaseModel):
    """A remote server over Streamable HTTP (others than the owner when the owner allows)."""

    name: Name
    transport: Literal["http"]
    url: Url
    headers: HeadersIn = Field(default_factory=dict, description="Secret: never sent back.")
    enabled: StrictBool = True


ToolServerIn = Annotated[StdioServerIn | HttpServerIn, Field(discriminator="transport")]


class ToolServerPatch(BaseModel):
    """What to change. `env` and `headers`, when given, are the whole set of names: a name
    left out is removed; a name whose value is null or "********" keeps its saved value.
    `command` and `args` apply to a local server, `url` and `headers` to a remote one."""

    name: Name | None = None
    command: Command | None = None
    args: list[Arg] | None = Field(None, max_length=100)
    env: EnvPatch | None = None
    url: Url | None = None
    headers: HeadersPatch | None = None
    enabled: StrictBool | None = None


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
    enabled: StrictBool | None = None
    approval: Literal["ask", "always"] | None = None


class TopicTools(BaseModel):
    """The servers whose tools are on in a topic."""

    server_ids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=100)


class ToolCallAnswer(BaseModel):
    allow: StrictBool = Field(
        description="true: run the call; false: tell the model it was declined."
    )
