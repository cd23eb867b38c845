"""The /api/v1 routes for topics leaving and entering: exports, imports and share links."""

# No `from __future__ import annotations`: FastAPI reads the route signatures.

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from chatapp.api.schemas import SharedOut, ShareIn, ShareOut, TopicOut, inline
from services.archive_import import MAX_TOPICS, ArchiveIn, GptConversation, TopicFileIn
from services.context import Services
from services.models import User

# What POST /import reads: one of our two exports, or ChatGPT's list of conversations.
IMPORT_SCHEMA = {
    "anyOf": [
        inline(ArchiveIn.model_json_schema()),
        inline(TopicFileIn.model_json_schema()),
        inline(TypeAdapter(list[GptConversation]).json_schema()) | {"maxItems": MAX_TOPICS},
    ]
}
SKIPPED_HEADER = "Import-Skipped"
SKIPPED_DOC = {
    "description": "How many of the file's topics were left out: imported before, still here.",
    "schema": {"type": "integer", "minimum": 0},
}


def router(services: Services, current_user: Callable[..., Awaitable[User]]) -> APIRouter:
    CurrentUser = Annotated[User, Depends(current_user)]
    api = APIRouter()

    @api.get(
        "/topics/{topic_id}/export",
        response_class=Response,
        responses={200: {"content": {"text/markdown": {}, "application/json": {}}}},
    )
    async def export_topic(
        topic_id: str,
        user: CurrentUser,
        format: Annotated[Literal["markdown", "json"], Query()] = "json",
    ) -> Response:
        """One topic: Markdown (the branch on screen) or JSON (every branch)."""
        if format == "markdown":
            text = await services.archive.topic_markdown(user.id, topic_id)
            return Response(text, media_type="text/markdown; charset=utf-8")
        return JSONResponse(await services.archive.topic_json(user.id, topic_id))

    @api.get("/export", response_class=JSONResponse)
    async def export_all(user: CurrentUser) -> JSONResponse:
        """Every topic of yours as one archive, which POST /import takes back."""
        return JSONResponse(await services.archive.archive(user.id))

    @api.post(
        "/import",
        response_model=list[TopicOut],
        status_code=201,
        responses={201: {"headers": {SKIPPED_HEADER: SKIPPED_DOC}}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": IMPORT_SCHEMA}},
                "description": "A chatapp archive or topic export, or ChatGPT's "
                "conversations.json (up to 50 MB).",
            }
        },
    )
    async def import_topics(
        request: Request, response: Response, user: CurrentUser
    ) -> list[TopicOut]:
        """Import all the file's topics, or none of them (with an error saying why). Topics
        imported before from the same source are skipped: the `Import-Skipped` header says
        how many, and the body lists the topics added."""
        imported = await services.archive.import_file(user.id, await request.body())
        response.headers[SKIPPED_HEADER] = str(imported.skipped)
        return [TopicOut.of(topic) for topic in imported.topics]

    @api.post("/topics/{topic_id}/share", response_model=ShareOut, status_code=201)
    async def share(
        topic_id: str, user: CurrentUser, body: Annotated[ShareIn | None, Body()] = None
    ) -> ShareOut:
        """A read-only link to the topic as it is now; a new one replaces the old. Tool calls
        are shown in it, their results only with `tool_results` (the body may be left out)."""
        results = body.tool_results if body is not None else False
        return ShareOut.of(await services.archive.share(user.id, topic_id, tool_results=results))

    @api.delete("/topics/{topic_id}/share", status_code=204)
    async def unshare(topic_id: str, user: CurrentUser) -> Response:
        """Stop sharing: the link stops working. Idempotent: 204 also when it was not shared."""
        await services.archive.unshare(user.id, topic_id)
        return Response(status_code=204)

    @api.get("/shared/{share_id}", response_model=SharedOut)
    async def shared(share_id: str) -> SharedOut:
        """A shared topic's snapshot; anyone with the link may read it (no token needed)."""
        return SharedOut.of(await services.archive.open_share(share_id))

    return api
