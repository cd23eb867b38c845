"""The model client: the only module that imports `openai`. It streams; all else builds on that."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import openai
from openai import AsyncOpenAI

try:  # openai 3 moved to the httpx2 fork; its transport errors can surface mid-stream
    import httpx2

    TIMEOUT_ERRORS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx2.TimeoutException)
    TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
        httpx.TransportError,
        httpx.StreamError,
        httpx2.TransportError,
        httpx2.StreamError,
    )
except ImportError:  # pragma: no cover - older SDKs use httpx itself
    TIMEOUT_ERRORS = (httpx.TimeoutException,)
    TRANSPORT_ERRORS = (httpx.TransportError, httpx.StreamError)

from services.errors import (
    ContextTooLong,
    ProviderAuthError,
    ProviderError,
    ProviderMalformed,
    ProviderRateLimited,
    ProviderUnavailable,
    ReasoningEffortUnsupported,
    ToolsUnsupported,
)
from services.i18n import msg
from services.llm_wire import chunks, detail, rejects_effort, rejects_tools, retry_after, usage_of
from services.models import Usage
from services.think import Delta, Reasoning, ThinkSplitter
from services.tools.assemble import CallAssembler, CallRequest, ToolCalls

# The text events live beside the parser that makes them from `<think>` blocks; this module is
# where callers take them from.
__all__ = [
    "LLM",
    "CallRequest",
    "Delta",
    "Done",
    "LLMClient",
    "Reasoning",
    "StreamEvent",
    "ToolCalls",
    "join",
    "make_llm",
]


@dataclass(frozen=True, slots=True)
class Done:
    """The end of a reply, with token usage when the server reports it."""

    usage: Usage | None = None
    finish_reason: str | None = None


StreamEvent = Delta | Reasoning | ToolCalls | Done


class LLM(Protocol):
    """What the chat service needs of a model: the OpenAI client and the demo model both fit.

    `reasoning_effort` ("low", "medium", "high") is sent only when given, and so are `tools`
    (OpenAI function definitions); a round in which the model calls them ends with a
    `ToolCalls` event before its `Done`.
    """

    def stream(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> AsyncIterator[StreamEvent]: ...

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
    ) -> str: ...

    async def list_models(self) -> list[str]: ...

    async def close(self) -> None: ...


async def join(stream: AsyncIterator[StreamEvent]) -> str:
    """The whole answer of a stream, without its reasoning: the non-streaming call is the
    stream run to the end."""
    parts = [event.text async for event in stream if isinstance(event, Delta)]
    return "".join(parts)


class LLMClient:
    """AsyncOpenAI against OpenAI or any compatible server (Ollama, vLLM, llama.cpp, LiteLLM)."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "",
        timeout: float = 60.0,
        models_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url or "https://api.openai.com/v1"
        self.host = urlsplit(self.base_url).netloc or self.base_url
        # The read timeout applies between chunks too, so a stalled stream ends, not hangs.
        self.client = AsyncOpenAI(
            api_key=api_key or "not-needed",  # local servers ignore it; the SDK insists on one
            base_url=self.base_url,
            timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)),
            max_retries=0,  # a retry would repeat a half-streamed reply; the user retries
        )
        self.models_ttl = models_ttl
        self.clock = clock
        self._models: tuple[float, list[str]] | None = None
        self._usage_supported = True

    async def stream(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield reasoning and text deltas, the tool calls asked for (if any), then one `Done`.
        Closing this generator closes the connection.

        Thinking arrives in one of three shapes: `delta.reasoning_content` (vLLM, llama.cpp,
        LM Studio, DeepSeek), `delta.reasoning` (Ollama, OpenRouter), or a `<think>` block at
        the start of the content (a server that passes the model's text through as it is).

        The SDK sends the request and turns error statuses into its exceptions; the chunks
        are read as plain JSON, not built into SDK models: that construction was a third of
        chatapp's CPU with many replies streaming at once (`make bench`, concurrency).
        """
        request = (messages, model, temperature, reasoning_effort, tools)
        async with self._errors(), self._open(*request) as response:
            usage: Usage | None = None
            finish: str | None = None
            splitter = ThinkSplitter()
            calls = CallAssembler()
            async for chunk in chunks(response.aiter_lines()):
                if chunk.get("usage"):
                    usage = usage_of(chunk["usage"])
                for choice in chunk.get("choices") or []:
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
                    delta = choice.get("delta") or {}
                    # A server sends one of the two fields; some repeat the text in both.
                    thought = delta.get("reasoning_content") or delta.get("reasoning")
                    if thought and isinstance(thought, str):
                        yield Reasoning(thought)
                    text = delta.get("content")
                    if text:
                        for piece in splitter.feed(text):
                            yield piece
                    if pieces := delta.get("tool_calls"):
                        calls.feed(pieces)
            for piece in splitter.end():
                yield piece
            if finish is None:
                raise ProviderUnavailable(
                    msg(
                        "The connection to the model server at {host} ended mid-reply.",
                        host=self.host,
                    )
                )
            if asked := calls.calls():
                yield ToolCalls(asked)
            yield Done(usage, finish)

    @asynccontextmanager
    async def _open(
        self,
        messages: list[dict[str, Any]],
        model: str,
        temperature: float | None,
        reasoning_effort: str | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> AsyncIterator[Any]:
        """The streaming HTTP response, asking for usage unless the server refused that once.

        The body goes out as the plain JSON it already is, through the SDK's generic `post`
        (its documented way to send any request, with the client's key, base URL, timeouts and
        error statuses). `chat.completions.create` would first check every message against the
        SDK's typed parameters, about 0.7 ms a message: 20 ms before a long topic's request
        left, most of what the API added to the first token (`make bench`, relay).
        """
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if temperature is not None:
            request["temperature"] = temperature
        if reasoning_effort:
            request["reasoning_effort"] = reasoning_effort
        if tools:
            request["tools"] = tools
        if self._usage_supported:
            request["stream_options"] = {"include_usage": True}
        try:
            try:
                response = await self._post_streaming(request)
            except openai.BadRequestError as exc:
                if "stream_options" not in str(exc) or "stream_options" not in request:
                    raise
                self._usage_supported = False  # an older server: ask again without usage
                del request["stream_options"]
                response = await self._post_streaming(request)
        except openai.APIStatusError as exc:
            if reasoning_effort and rejects_effort(exc):
                raise ReasoningEffortUnsupported(
                    msg(
                        "The model server at {host} does not accept a reasoning effort "
                        "setting. Turn it off in this chat's settings.",
                        host=self.host,
                    )
                ) from None
            if tools and rejects_tools(exc):
                raise ToolsUnsupported(
                    msg(
                        "The model {model} at {host} cannot use tools. Turn tools off in "
                        "this chat, or pick a model that supports them.",
                        model=model,
                        host=self.host,
                    )
                ) from None
            raise
        try:
            yield response
        finally:
            await response.aclose()

    async def _post_streaming(self, body: dict[str, Any]) -> Any:
        """POST a chat completion; the HTTP response, its body still to be read."""
        return await self.client.post(
            "/chat/completions",
            cast_to=httpx.Response,  # the response itself, not parsed into SDK models
            body=body,
            stream=True,
            stream_cls=openai.AsyncStream[Any],  # unused: the SDK returns the raw response
        )

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
    ) -> str:
        """The answer text only: reasoning is dropped (titles and such have no use for it)."""
        stream = self.stream(
            messages, model=model, temperature=temperature, reasoning_effort=reasoning_effort
        )
        return await join(stream)

    async def list_models(self) -> list[str]:
        """The server's models, cached briefly (the model picker asks on every page)."""
        now = self.clock()
        if self._models and now - self._models[0] < self.models_ttl:
            return self._models[1]
        async with self._errors():
            page = await self.client.models.list()
            names = sorted(m.id for m in page.data)
        self._models = (now, names)
        return names

    async def close(self) -> None:
        await self.client.close()

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """The one place SDK failures become our few error types (never with the key in them)."""
        try:
            yield
        except ProviderError:
            raise
        except (openai.AuthenticationError, openai.PermissionDeniedError):
            raise ProviderAuthError(
                msg(
                    "The model server at {host} refused the API key: check OPENAI_API_KEY.",
                    host=self.host,
                )
            ) from None
        except openai.RateLimitError as exc:
            wait = retry_after(exc.response)
            when = f" Try again in {wait:.0f} s." if wait else " Try again in a moment."
            raise ProviderRateLimited(
                msg(
                    "The model server at {host} is rate limiting requests.{when}",
                    host=self.host,
                    when=when,
                ),
                retry_after=wait,
            ) from None
        except openai.BadRequestError as exc:
            text = f"{exc.code} {exc}".lower()
            if "context_length" in text or "maximum context length" in text:
                raise ContextTooLong(
                    msg(
                        "The conversation is too long for this model: start a new topic or "
                        "shorten the history budget."
                    )
                ) from None
            raise ProviderError(
                msg("The model server rejected the request: {detail}", detail=detail(exc))
            ) from None
        except openai.NotFoundError as exc:
            raise ProviderError(
                msg("The model server does not know that: {detail}", detail=detail(exc))
            ) from None
        except (openai.APITimeoutError, *TIMEOUT_ERRORS):  # type: ignore[misc]
            raise ProviderUnavailable(
                msg(
                    "The model server at {host} timed out (no data within the timeout).",
                    host=self.host,
                )
            ) from None
        except (openai.APIConnectionError, *TRANSPORT_ERRORS):  # type: ignore[misc]
            # Errors read from the stream come from the transport: the SDK does not wrap them.
            raise ProviderUnavailable(
                msg(
                    "Cannot reach the model server at {host}, or it ended the reply early.",
                    host=self.host,
                )
            ) from None
        except openai.InternalServerError as exc:
            raise ProviderUnavailable(
                msg(
                    "The model server at {host} is unavailable (HTTP {status}).",
                    host=self.host,
                    status=exc.status_code,
                )
            ) from None
        except openai.APIStatusError as exc:
            raise ProviderError(
                msg(
                    "The model server answered HTTP {status}: {detail}",
                    status=exc.status_code,
                    detail=detail(exc),
                )
            ) from None
        except (
            json.JSONDecodeError,
            openai.APIResponseValidationError,
            KeyError,
            TypeError,
            AttributeError,
        ):
            raise ProviderMalformed(
                msg(
                    "The model server at {host} sent a reply chatapp could not read.",
                    host=self.host,
                )
            ) from None


def make_llm(*, api_key: str, base_url: str, timeout: float) -> LLM:
    """The OpenAI client, or the offline demo model when neither key nor base URL is set."""
    if not api_key and not base_url:
        from services.demo import DemoLLM

        return DemoLLM()
    return LLMClient(api_key=api_key, base_url=base_url, timeout=timeout)
