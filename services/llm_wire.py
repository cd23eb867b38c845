"""The OpenAI wire format as plain JSON: the SSE chunks, usage, and what error bodies say.

`llm.py` sends the requests; this module reads what comes back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai

from services.errors import ProviderError
from services.i18n import msg
from services.models import Usage


def usage_of(counts: dict[str, Any]) -> Usage:
    details = counts.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=counts.get("prompt_tokens") or 0,
        completion_tokens=counts.get("completion_tokens") or 0,
        total_tokens=counts.get("total_tokens") or 0,
        reasoning_tokens=(details.get("reasoning_tokens") or 0) if isinstance(details, dict) else 0,
    )


def rejects_effort(exc: openai.APIStatusError) -> bool:
    """Whether a 400 (422 from strict FastAPI-based servers) refuses `reasoning_effort`.

    Wordings seen: OpenAI "Unsupported parameter: 'reasoning_effort' …", vLLM and older OpenAI
    "Unrecognized request argument supplied: reasoning_effort", pydantic "Extra inputs are not
    permitted" naming the field.
    """
    if exc.status_code not in (400, 422):
        return False
    text = f"{exc} {detail(exc)}".lower()
    if "reasoning_effort" in text or "reasoning effort" in text:
        return True
    return any(
        words in text
        for words in ("unrecognized request argument", "unsupported parameter", "unknown parameter")
    )


def retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def detail(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = body.get("message") or (body.get("error") or {}).get("message") or exc.message
    return str(message)[:300]


def rejects_tools(exc: openai.APIStatusError) -> bool:
    """Whether a 400 (422) refuses the request's `tools`: Ollama "… does not support tools",
    vLLM "auto" tool choice requires --enable-auto-tool-choice …", llama.cpp "tools param
    requires --jinja flag", OpenAI "… does not support 'tools'"."""
    if exc.status_code not in (400, 422):
        return False
    text = f"{exc} {detail(exc)}".lower()
    return "tool" in text and any(
        words in text
        for words in ("not support", "unsupported", "requires", "not enabled", "unknown")
    )


async def chunks(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The JSON objects of an OpenAI-style server-sent event stream, up to `[DONE]`.

    An `error` event, or a chunk holding an `error` object, is the server failing mid-reply.
    """
    event, data = "", []
    async for line in lines:
        if line:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
            continue  # comments (":…") and other fields
        if not data:
            continue
        payload = "\n".join(data)
        kind, event, data = event, "", []
        if payload.strip() == "[DONE]":
            return
        chunk = json.loads(payload)
        if not isinstance(chunk, dict):
            raise TypeError("a chunk that is not a JSON object")
        if kind == "error" or chunk.get("error"):
            error = chunk.get("error") or chunk
            detail = error.get("message") if isinstance(error, dict) else str(error)
            raise ProviderError(
                msg("The model server failed mid-reply: {detail}", detail=detail or "no reason")
            )
        yield chunk
