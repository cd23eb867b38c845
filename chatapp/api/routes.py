"""The /api/v1 routes: parse, call one service, shape the answer. No logic of their own."""

# No `from __future__ import annotations` here: FastAPI reads the route signatures, and the
# `CurrentUser` alias lives in `router()`'s scope, where only eager annotations can see it.

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field, create_model

from chatapp.api.archive_routes import router as archive_router
from chatapp.api.schemas import (
    ERROR_RESPONSES,
    AttachmentOut,
    Credentials,
    Health,
    MessageCreate,
    MessageEdit,
    MessageList,
    MessageOut,
    ModelsOut,
    RatingIn,
    SearchHitOut,
    StreamDelta,
    StreamError,
    StreamReasoning,
    StreamStart,
    TokenOut,
    TopicCreate,
    TopicOut,
    TopicPage,
    TopicPatch,
    UserOut,
    event_schema,
    tool_event,
)
from chatapp.api.tool_routes import router as tool_router
from chatapp.api.tool_schemas import ToolCallOut
from pages.attachments import attachment_response
from services.attachments import Upload
from services.chat import Finished, Generation, TextDelta
from services.context import Services
from services.errors import AuthError, InvalidInput, ProviderError
from services.generation import ReasoningDelta, ToolCallUpdate
from services.models import MessageStatus, Rating, User
from services.server_address import shown_error

HEARTBEAT = 15.0  # seconds between keep-alive comments while a reply is quiet
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
TOKEN_BODY = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                    "required": ["username", "password"],
                }
            },
            "application/json": {"schema": Credentials.model_json_schema()},
        },
        "required": True,
    }
}
# Each event's JSON is described by `itemSchema` (as FastAPI does for its own SSE routes);
# the routes use `response_class=StreamingResponse`, which adds no content of its own.
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `start` (message ids; not on reattaching), "
        "`reasoning` and `delta` (text), `tool_call` (a call started, with its arguments), "
        "`tool_approval` (a call waits for POST /topics/{id}/tool_calls/{call_id}), "
        "`tool_result` (a call ended: done, error, denied or cancelled), then `done` (the "
        "message as saved, status and usage) or `error` (code and message). Comment lines "
        "keep a quiet connection alive.",
        "content": {"text/event-stream": {"itemSchema": event_schema()}},
    }
}
SSE: dict[str, Any] = {"response_class": StreamingResponse, "responses": SSE_RESPONSE}


def frame(event: str, data: BaseModel) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data.model_dump(mode='json'))}\n\n".encode()


async def sse(
    generation: Generation, start: StreamStart | None, *, owner: bool
) -> AsyncIterator[bytes]:
    """Follow a reply as SSE. A client going away stops the stream, never the reply. The
    model server's address is in an error only for the owner (`owner`), as on the page."""
    if start is not None:
        yield frame("start", start)
    with generation.subscribe() as subscription:
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT):
                    events = await subscription.next()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            for event in events:  # text that piled up is one frame: a slow client catches up
                if isinstance(event, ReasoningDelta):
                    yield frame("reasoning", StreamReasoning(text=event.text))
                elif isinstance(event, TextDelta):
                    yield frame("delta", StreamDelta(text=event.text))
                elif isinstance(event, ToolCallUpdate):
                    yield frame(tool_event(event.call.status), ToolCallOut.of(event.call))
                elif isinstance(event, Finished):
                    yield final_frame(event, owner=owner)
                    return


def final_frame(event: Finished, *, owner: bool) -> bytes:
    message = event.message
    if message.status == MessageStatus.ERROR:
        said = str(shown_error(message.error or "The model provider failed.", owner=owner))
        return frame(
            "error", StreamError(code="provider_error", message=said, message_id=message.id)
        )
    return frame("done", MessageOut.of(message, owner=owner))


def router(services: Services, healthz: Callable[[], Awaitable[dict[str, str]]]) -> APIRouter:
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

    async def bearer(token: Annotated[str | None, Depends(oauth2)]) -> str:
        if not token:
            raise AuthError("Send a bearer token: Authorization: Bearer <token>.")
        return token

    async def current_user(token: Annotated[str, Depends(bearer)]) -> User:
        user, _claims = await services.auth.verify_token(token)
        return user

    # The schema states the configured message size, so what it allows the service takes; the
    # service refuses longer text with 413, as before (a stated limit, not a malformed body).
    size = {"maxLength": services.options.max_message_chars}
    MessageCreateIn = create_model(
        "MessageCreate", __base__=MessageCreate, content=(str, Field("", json_schema_extra=size))
    )
    MessageEditIn = create_model(
        "MessageEdit",
        __base__=MessageEdit,
        content=(str, Field(min_length=1, json_schema_extra=size)),
    )
    TopicPatchIn = create_model(
        "TopicPatch",
        __base__=TopicPatch,
        system_prompt=(str | None, Field(None, json_schema_extra=size)),
    )

    Token = Annotated[str, Depends(bearer)]
    CurrentUser = Annotated[User, Depends(current_user)]
    api = APIRouter(prefix="/api/v1", tags=["api"], responses=ERROR_RESPONSES)

    def stream(generation: Generation, start: StreamStart | None, user: User) -> StreamingResponse:
        return StreamingResponse(
            sse(generation, start, owner=user.is_owner),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    def started(generation: Generation, user: User) -> StreamingResponse:
        reply = generation.message
        start = StreamStart(topic_id=reply.topic_id, message_id=reply.id, parent_id=reply.parent_id)
        return stream(generation, start, user)

    @api.get("/healthz", response_model=Health, tags=["health"])
    async def health() -> dict[str, str]:
        return await healthz()

    @api.post("/auth/token", response_model=TokenOut, openapi_extra=TOKEN_BODY)
    async def login(request: Request) -> TokenOut:
        """Sign in with the OAuth2 password form (username = email) or JSON {email, password}."""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                credentials = Credentials.model_validate(await request.json())
            except ValueError:
                raise InvalidInput("Send JSON with email and password.") from None
        else:
            form = await request.form()
            credentials = Credentials(
                email=str(form.get("username", ""))[:320],
                password=str(form.get("password", ""))[:1024],
            )
        client = request.client.host if request.client else ""
        user = await services.auth.authenticate(
            email=credentials.email, password=credentials.password, client=client
        )
        issued = services.auth.issue_token(user)
        return TokenOut(access_token=issued.token, expires_at=issued.expires_at)

    @api.post("/auth/logout", status_code=204)
    async def logout(token: Token) -> Response:
        await services.auth.verify_token(token)
        await services.auth.revoke(token)
        return Response(status_code=204)

    @api.get("/me", response_model=UserOut)
    async def me(user: CurrentUser) -> UserOut:
        return UserOut.of(user)

    @api.get("/models", response_model=ModelsOut)
    async def models(user: CurrentUser) -> ModelsOut:
        try:
            found = await services.llm.list_models()
        except ProviderError as exc:  # the server's address for the owner only, as on the page
            exc.message = str(shown_error(exc.message, owner=user.is_owner))
            raise
        return ModelsOut(models=found, default=services.options.default_model)

    @api.get("/topics", response_model=TopicPage)
    async def list_topics(
        user: CurrentUser,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        archived: Annotated[
            bool | None, Query(description="Only archived topics (true), or none (false).")
        ] = None,
    ) -> TopicPage:
        """Your topics, pinned ones first, then newest activity first."""
        topics = await services.store.list_topics(
            user.id, limit=limit, offset=offset, archived=archived
        )
        total = await services.store.count_topics(user.id, archived=archived)
        return TopicPage(
            items=[TopicOut.of(t) for t in topics], total=total, limit=limit, offset=offset
        )

    @api.post("/topics", response_model=TopicOut, status_code=201)
    async def create_topic(body: TopicCreate, user: CurrentUser) -> TopicOut:
        return TopicOut.of(await services.topics.create_topic(user.id, title=body.title or ""))

    @api.get("/topics/search", response_model=list[SearchHitOut])
    async def search(
        user: CurrentUser,
        q: Annotated[str, Query(max_length=200)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[SearchHitOut]:
        return [SearchHitOut.of(h) for h in await services.topics.search(user.id, q, limit=limit)]

    @api.get("/topics/{topic_id}", response_model=TopicOut)
    async def get_topic(topic_id: str, user: CurrentUser) -> TopicOut:
        return TopicOut.of(await services.store.get_topic(user.id, topic_id))

    @api.patch("/topics/{topic_id}", response_model=TopicOut)
    async def patch_topic(topic_id: str, body: TopicPatchIn, user: CurrentUser) -> TopicOut:
        topic = await services.store.get_topic(user.id, topic_id)
        if body.title is not None:
            topic = await services.topics.rename_topic(user.id, topic_id, body.title)
        if {"model", "system_prompt", "temperature", "reasoning_effort"} & body.model_fields_set:
            topic = await services.topics.update_topic_settings(
                user.id,
                topic_id,
                model=body.model,
                system_prompt=body.system_prompt,
                temperature=body.temperature,
                reasoning_effort=body.reasoning_effort,
            )
        if body.pinned is not None or body.archived is not None:
            topic = await services.topics.mark_topic(
                user.id, topic_id, pinned=body.pinned, archived=body.archived
            )
        return TopicOut.of(topic)

    @api.delete("/topics/{topic_id}", status_code=204)
    async def delete_topic(topic_id: str, user: CurrentUser) -> Response:
        await services.topics.delete_topic(user.id, topic_id)
        return Response(status_code=204)

    @api.get("/topics/{topic_id}/messages", response_model=MessageList)
    async def list_messages(topic_id: str, user: CurrentUser) -> MessageList:
        topic = await services.store.get_topic(user.id, topic_id)
        messages = await services.store.list_messages(user.id, topic_id)
        attachments = await services.store.list_attachments(user.id, topic_id)
        return MessageList(
            topic_id=topic.id,
            active_leaf_id=topic.active_leaf_id,
            messages=[
                MessageOut.of(m, owner=user.is_owner) for m in services.chat.with_unsaved(messages)
            ],
            attachments=[AttachmentOut.of(a) for a in attachments],
        )

    @api.post("/topics/{topic_id}/messages", **SSE)
    async def send(topic_id: str, body: MessageCreateIn, user: CurrentUser) -> StreamingResponse:
        generation = await services.chat.send(
            user.id,
            topic_id,
            body.content,
            parent_id=body.parent_id,
            files=[Upload(file.name, file.content()) for file in body.attachments],
        )
        return started(generation, user)

    @api.get(
        "/attachments/{attachment_id}",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def attachment(attachment_id: str, user: CurrentUser) -> Response:
        """A file sent with one of your messages, as it was sent."""
        found = await services.store.get_attachment(user.id, attachment_id)
        data = await services.store.read_attachment(user.id, attachment_id)
        return attachment_response(found, data)

    @api.get(
        "/topics/{topic_id}/stream",
        response_class=StreamingResponse,
        responses={
            **SSE_RESPONSE,
            204: {"description": "No reply is being written in this topic: nothing to follow."},
        },
    )
    async def reattach(topic_id: str, user: CurrentUser) -> Response:
        """Follow the reply being written in a topic: the text so far, then the rest."""
        await services.store.get_topic(user.id, topic_id)
        generation = services.chat.generation(topic_id)
        if generation is None:
            # The topic is there; the stream is not. 204 also tells an EventSource to stop.
            return Response(status_code=204)
        return stream(generation, None, user)

    @api.post("/topics/{topic_id}/stop", response_model=MessageOut | None)
    async def stop(topic_id: str, user: CurrentUser) -> MessageOut | None:
        message = await services.chat.stop(user.id, topic_id)
        return MessageOut.of(message, owner=user.is_owner) if message else None

    @api.post("/messages/{message_id}/regenerate", **SSE)
    async def regenerate(message_id: str, user: CurrentUser) -> StreamingResponse:
        return started(await services.chat.regenerate(user.id, message_id), user)

    @api.post("/messages/{message_id}/continue", **SSE)
    async def continue_reply(message_id: str, user: CurrentUser) -> StreamingResponse:
        """Carry on writing a reply that stopped early, in place (streams like a new reply)."""
        return started(await services.chat.continue_reply(user.id, message_id), user)

    @api.post("/messages/{message_id}/edit", **SSE)
    async def edit(message_id: str, body: MessageEditIn, user: CurrentUser) -> StreamingResponse:
        return started(await services.chat.edit(user.id, message_id, body.content), user)

    @api.put("/messages/{message_id}/rating", response_model=MessageOut)
    async def rate(message_id: str, body: RatingIn, user: CurrentUser) -> MessageOut:
        """Thumbs up or down on a reply (kept with it, and in exports)."""
        rating = Rating(body.rating) if body.rating else None
        rated = await services.chat.rate(user.id, message_id, rating)
        return MessageOut.of(rated, owner=user.is_owner)

    @api.post("/messages/{message_id}/select", status_code=204)
    async def select(message_id: str, user: CurrentUser) -> Response:
        await services.chat.select_branch(user.id, message_id)
        return Response(status_code=204)

    api.include_router(archive_router(services, current_user))
    api.include_router(tool_router(services, current_user))
    return api
