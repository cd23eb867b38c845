"""Request and response bodies of the API, by role (in, out), with their limits."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatapp.api.tool_schemas import ToolCallOut
from services.attachments import MAX_FILES
from services.models import Attachment, Message, SearchHit, Share, Topic, User
from services.server_address import shown_error

MAX_CONTENT = 1_000_000  # a hard cap; the routes set the configured CHATAPP_MAX_MESSAGE_CHARS
MAX_TITLE = 200
# Standard base64 with its padding, nothing else: what the schema states is what is decoded.
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable word for the kind of error, e.g. not_found.")
    message: str = Field(description="What went wrong, in a sentence for people.")


class ErrorOut(BaseModel):
    """Every error the API answers has this shape."""

    error: ErrorDetail


ERROR_MEANINGS = {
    400: "The request is not valid (e.g. an empty message, a file of the wrong kind).",
    401: "No valid bearer token (missing, expired, revoked), or wrong credentials.",
    403: "The account may not do this (e.g. disabled).",
    404: "Not found, or not yours (the two look the same).",
    409: "Conflicts with the current state (e.g. a reply is still being written).",
    413: "Too large (a message, a title, a file or the body).",
    422: "The body or a parameter does not match the schema.",
    429: "Too many requests; Retry-After says when to try again.",
    502: "The model provider refused or failed (e.g. a wrong API key).",
    503: "The database or the model provider cannot be reached right now.",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": meaning}
    for status, meaning in ERROR_MEANINGS.items()
}


class Credentials(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str
    is_owner: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id, email=user.email, display_name=user.display_name, is_owner=user.is_owner
        )


class TopicCreate(BaseModel):
    title: str | None = Field(default=None, max_length=MAX_TITLE)


class TopicPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    model: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=MAX_CONTENT)
    temperature: float | None = Field(default=None, ge=0, le=2, strict=True)  # not true/"1"
    reasoning_effort: Literal["", "low", "medium", "high"] | None = Field(
        default=None,
        description='How hard a thinking model should think; "" stops sending it (the default).',
    )
    pinned: bool | None = Field(default=None, strict=True, description="Listed first.")
    archived: bool | None = Field(
        default=None, strict=True, description="Out of the list (GET /topics?archived=false)."
    )


class TopicOut(BaseModel):
    id: str
    title: str
    message_count: int = Field(
        description="The messages the topic shows: those on the branch from its first message "
        "to `active_leaf_id`. Other versions of an edited question or a regenerated reply are "
        "not counted (GET /topics/{id}/messages lists them all)."
    )
    active_leaf_id: str | None
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    pinned: bool = False
    archived: bool = False

    @classmethod
    def of(cls, topic: Topic) -> TopicOut:
        settings = {k: v for k, v in topic.settings.items() if not k.startswith("title_")}
        return cls(
            id=topic.id,
            title=topic.title,
            message_count=topic.message_count,
            active_leaf_id=topic.active_leaf_id,
            settings=settings,
            created_at=topic.created_at,
            updated_at=topic.updated_at,
            pinned=topic.pinned,
            archived=topic.archived,
        )


class TopicPage(BaseModel):
    items: list[TopicOut]
    total: int
    limit: int
    offset: int


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    reasoning_tokens: int = Field(
        0, description="Of the completion tokens, those spent thinking (where reported)."
    )


class MessageOut(BaseModel):
    id: str
    parent_id: str | None
    role: str
    content: str
    status: str
    model: str | None
    usage: UsageOut | None
    error: str | None
    created_at: datetime
    reasoning: str = Field(
        "", description="A thinking model's reasoning before its answer; never sent back to it."
    )
    reasoning_seconds: float | None = Field(
        None, description="How long the model thought, when it did."
    )
    tool_calls: list[ToolCallOut] = Field(
        default_factory=list, description="The tools the reply called, in order."
    )
    rating: Literal["up", "down"] | None = Field(
        None, description="Your thumbs up or down on a reply, if any."
    )

    @classmethod
    def of(cls, message: Message, *, owner: bool) -> MessageOut:
        """A message as `owner` (or another account) may read it: the model server's address
        in a failed reply's error only for the owner, as on the page."""
        usage = UsageOut(**message.usage.to_dict()) if message.usage else None
        return cls(
            id=message.id,
            parent_id=message.parent_id,
            role=message.role.value,
            content=message.content,
            status=message.status.value,
            model=message.model,
            usage=usage,
            error=str(shown_error(message.error, owner=owner)) if message.error else None,
            created_at=message.created_at,
            reasoning=message.reasoning,
            reasoning_seconds=message.reasoning_seconds,
            tool_calls=[ToolCallOut.of(call) for call in message.tool_calls],
            rating=message.rating.value if message.rating else None,
        )


class StreamStart(BaseModel):
    """`event: start`, first on a new reply: where it goes."""

    topic_id: str
    message_id: str
    parent_id: str | None


class StreamDelta(BaseModel):
    """`event: delta`: more of the reply's text (several chunks may come as one)."""

    text: str


class StreamReasoning(BaseModel):
    """`event: reasoning`: more of a thinking model's reasoning, which comes before its
    answer's `delta` events (several chunks may come as one)."""

    text: str


class StreamError(BaseModel):
    """`event: error`, last: the reply failed; what is written so far is kept."""

    code: str
    message: str
    message_id: str


STREAM_EVENTS: dict[str, type[BaseModel]] = {
    "start": StreamStart,
    "reasoning": StreamReasoning,
    "delta": StreamDelta,
    "tool_call": ToolCallOut,  # a call started (status running), with its arguments
    "tool_approval": ToolCallOut,  # a call waits for the user (status pending)
    "tool_result": ToolCallOut,  # a call ended: done, error, denied or cancelled
    "done": MessageOut,  # last: the reply as saved, with its status and usage
    "error": StreamError,
}


def tool_event(status: str) -> str:
    """The SSE event a tool call's change is sent as."""
    return {"pending": "tool_approval", "running": "tool_call"}.get(status, "tool_result")


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` put in place: it is embedded inside another."""
    defs = schema.pop("$defs", {})

    def put(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return put(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: put(value) for key, value in node.items()}
        if isinstance(node, list):
            return [put(item) for item in node]
        return node

    return put(schema)  # type: ignore[no-any-return]


def event_schema() -> dict[str, Any]:
    """One SSE event (OpenAPI's `itemSchema`): its name, and its data as JSON of that kind."""
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"const": name},
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": inline(model.model_json_schema(mode="serialization")),
                    },
                },
            }
            for name, model in STREAM_EVENTS.items()
        ]
    }


class MessageList(BaseModel):
    topic_id: str
    active_leaf_id: str | None
    messages: list[MessageOut]
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="Files sent with the messages (see message_id)."
    )


class AttachmentIn(BaseModel):
    """A file sent with a message: its name and its bytes in base64."""

    name: str = Field(min_length=1, max_length=200)
    data: str = Field(
        min_length=4,  # one byte at least: an empty file is not sent
        pattern=BASE64,
        description="The file's bytes, base64-encoded.",
        json_schema_extra={"contentEncoding": "base64"},
    )

    def content(self) -> bytes:
        return base64.b64decode(self.data, validate=True)


class AttachmentOut(BaseModel):
    id: str
    message_id: str
    name: str
    media_type: str
    size: int
    url: str = Field(description="Where the owner downloads it (with the same bearer token).")

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            message_id=attachment.message_id,
            name=attachment.name,
            media_type=attachment.media_type,
            size=attachment.size,
            url=f"/api/v1/attachments/{attachment.id}",
        )


class MessageCreate(BaseModel):
    """Text, files, or both; text of only whitespace counts as none."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["content"], "properties": {"content": {"pattern": r"\S"}}},
                {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
            ]
        }
    )
    content: str = Field(default="", max_length=MAX_CONTENT)
    parent_id: str | None = Field(default=None, max_length=64)
    attachments: list[AttachmentIn] = Field(
        default_factory=list,
        max_length=MAX_FILES,
        description="Images (PNG, JPEG, WebP, GIF), PDFs and text files; the text may then "
        "be empty.",
    )

    @model_validator(mode="after")
    def something_to_send(self) -> MessageCreate:
        if not self.content.strip() and not self.attachments:
            raise ValueError("Send some text or a file.")
        return self


class MessageEdit(BaseModel):
    content: str = Field(min_length=1, max_length=MAX_CONTENT)


class RatingIn(BaseModel):
    rating: Literal["up", "down"] | None = Field(
        description="Thumbs up or down on a reply; null takes it back."
    )


class ShareIn(BaseModel):
    tool_results: bool = Field(
        default=False,
        strict=True,  # true or false, not 0, 1 or "yes"
        description="Include what the tools answered (text and images). Off: the shared "
        "copy shows each tool call, its arguments and status, but not its result.",
    )


class SearchHitOut(BaseModel):
    topic: TopicOut
    message_id: str | None
    snippet: str

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(topic=TopicOut.of(hit.topic), message_id=hit.message_id, snippet=hit.snippet)


class ModelsOut(BaseModel):
    models: list[str]
    default: str


class Health(BaseModel):
    status: str
    database: str
    version: str


class ShareOut(BaseModel):
    id: str
    topic_id: str
    path: str = Field(description="The read-only page, relative to the site: /share/<id>.")
    created_at: datetime

    @classmethod
    def of(cls, share: Share) -> ShareOut:
        return cls(
            id=share.id,
            topic_id=share.topic_id,
            path=f"/share/{share.id}",
            created_at=share.created_at,
        )


class SharedMessage(BaseModel):
    role: str
    content: str
    model: str | None = None
    created_at: str
    tool_calls: list[ToolCallOut] = Field(
        default_factory=list,
        description="Calls the reply made; results only when the owner shared them.",
    )


class SharedOut(BaseModel):
    title: str
    created_at: datetime
    tool_results: bool = Field(description="Whether the owner shared the tools' results.")
    messages: list[SharedMessage]

    @classmethod
    def of(cls, share: Share) -> SharedOut:
        return cls(
            title=share.snapshot["title"],
            created_at=share.created_at,
            tool_results=bool(share.snapshot.get("tool_results")),
            messages=[SharedMessage(**m) for m in share.snapshot["messages"]],
        )
