"""One fake OpenAI-compatible server for every test and benchmark: real HTTP on 127.0.0.1.

It speaks the wire format (SSE `data:` frames of `chat.completion.chunk`, a usage chunk,
`data: [DONE]`), plays scripted replies in order, records every request, and fails on cue:
any status code, a stream cut halfway, a malformed chunk, a stall, an empty reply. A reply
can think first, in any of the three shapes servers use for reasoning, and can call tools:
`tool_calls` stream in OpenAI's chunk shape (the first chunk of a call carries its index, id,
type and name with empty arguments; later ones only the index and a piece of the arguments;
several calls interleave), and a reply's text can be worked out from the request it answers
(`answer=`), e.g. from the `tool` messages that carry the results back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Fault = Literal["cut", "malformed", "stall", "empty"]
# Where a server puts the thinking: `delta.reasoning_content` (vLLM, llama.cpp, LM Studio,
# DeepSeek), `delta.reasoning` (Ollama, OpenRouter), or a `<think>` block in the content.
ReasoningShape = Literal["reasoning_content", "reasoning", "think"]


@dataclass
class Call:
    """A tool call a scripted reply makes: `arguments` as JSON text (a dict is dumped)."""

    name: str
    arguments: str | dict[str, Any] = ""
    id: str = ""

    @property
    def text(self) -> str:
        if isinstance(self.arguments, dict):
            return json.dumps(self.arguments)
        return self.arguments


def tool_results(body: dict[str, Any]) -> list[str]:
    """The contents of the `tool` messages after the last assistant message that called tools."""
    messages = body.get("messages", [])
    found: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        found.append(str(message.get("content", "")))
    return found[::-1]


@dataclass
class Reply:
    """One scripted answer: its text, how it is chunked and paced, and what goes wrong.

    `reasoning` streams before the text, in chunks of the same size and pace. A mid-stream
    fault (cut, malformed, stall) fires halfway through the chunks, or, with `fault_after`,
    before the first chunk that starts `fault_after` characters in (reasoning counted first,
    think tags included), so a fault can hit while the model is still thinking.
    """

    text: str = ""
    chunk_size: int = 8
    delay: float = 0.0
    status: int = 200
    retry_after: float | None = None
    fault: Fault | None = None
    stall_seconds: float = 30.0
    error_code: str | None = None
    reasoning: str = ""
    reasoning_shape: ReasoningShape = "reasoning_content"
    fault_after: int | None = None
    # Tool calls, streamed after the text; the reply then ends with finish_reason "tool_calls".
    tool_calls: list[Call] = field(default_factory=list)
    # Work the text out from the request body when it arrives (e.g. `tool_results(body)`).
    answer: Callable[[dict[str, Any]], str] | None = None
    # Pause before the chunk that starts `hold_after` characters in (as `fault_after` counts),
    # until the test calls `release()`: what has arrived can be checked while the rest cannot.
    hold_after: int | None = None
    released: threading.Event = field(default_factory=threading.Event, repr=False)

    def release(self) -> None:
        self.released.set()

    def call_chunks(self) -> list[dict[str, Any]]:
        """The `delta.tool_calls` pieces: each call's head, then its arguments in pieces of
        `chunk_size`, the calls' pieces taking turns (as parallel calls arrive)."""
        queues: list[list[dict[str, Any]]] = []
        for index, call in enumerate(self.tool_calls):
            head = {
                "index": index,
                "id": call.id or f"call_{index}_{call.name}",
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            text, size = call.text, max(1, self.chunk_size)
            rest = [
                {"index": index, "function": {"arguments": text[i : i + size]}}
                for i in range(0, len(text), size)
            ]
            queues.append([head, *rest])
        chunks: list[dict[str, Any]] = []
        while any(queues):
            for queue in queues:
                if queue:
                    chunks.append(queue.pop(0))
        return chunks

    def pieces(self) -> list[tuple[str, str]]:
        """The streamed chunks as (delta field, text), thinking first."""
        text, reasoning = ("", "") if self.fault == "empty" else (self.text, self.reasoning)
        parts = [(self.reasoning_shape, reasoning), ("content", text)]
        if self.reasoning_shape == "think" and reasoning:
            parts = [("content", f"<think>{reasoning}</think>\n\n{text}")]
        size = self.chunk_size
        return [(key, part[i : i + size]) for key, part in parts for i in range(0, len(part), size)]

    def fault_index(self, pieces: list[tuple[str, str]]) -> int:
        """The index of the chunk a mid-stream fault comes before."""
        if self.fault_after is None:
            return len(pieces) // 2
        return index_at(pieces, self.fault_after)


@dataclass
class Seen:
    """A request the fake received."""

    path: str
    json: dict[str, Any]
    headers: dict[str, str]
    closed_early: bool = False
    # time.monotonic() of each text chunk sent (system-wide, so comparable across processes)
    sent_at: list[float] = field(default_factory=list)


@dataclass
class FakeOpenAI:
    """`with FakeOpenAI() as fake:` → `fake.base_url`, `fake.enqueue(...)`, `fake.requests`."""

    models: list[str] = field(default_factory=lambda: ["fake-small", "fake-large"])
    default: str | None = None  # None: echo the last user message
    default_reply: Reply | None = None  # wins over `default`: text with its chunking and pace
    requests: list[Seen] = field(default_factory=list)
    disconnects: list[Seen] = field(default_factory=list)
    port: int = 0
    # answer a request that sets `reasoning_effort` with a 400, as vLLM and OpenAI do
    reject_reasoning_effort: bool = False
    # answer a request that carries `tools` with a 400, as Ollama does for a model without them
    reject_tools: bool = False

    def __post_init__(self) -> None:
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ----- control ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chats(self) -> list[Seen]:
        """The chat completion requests received, oldest first (not the model listings)."""
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def enqueue(self, *replies: Reply | str) -> None:
        with self._lock:
            self._queue.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.default_reply is not None:
            return replace(self.default_reply)
        if self.default is not None:
            return Reply(self.default)
        last = next((m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {})
        content = last.get("content", "")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        return Reply(f"You said: {content}")

    def start(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        self._socket = sock
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if getattr(self, "_socket", None) is not None:
            self._socket.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- the HTTP side ----------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/fake/sent", self._sent, methods=["GET"]),
            ]
        )

    async def _models(self, request: Request) -> Response:
        self.requests.append(Seen("/v1/models", {}, dict(request.headers)))
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return JSONResponse({"object": "list", "data": data})

    async def _sent(self, request: Request) -> Response:
        """When each chat reply's text chunks went out (benchmarks read it from another process)."""
        return JSONResponse([{"sent_at": seen.sent_at} for seen in self.chats])

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        seen = Seen("/v1/chat/completions", body, dict(request.headers))
        self.requests.append(seen)
        reply = self._next(body)
        if self.reject_reasoning_effort and "reasoning_effort" in body:
            error = {
                "message": "Unrecognized request argument supplied: reasoning_effort",
                "type": "invalid_request_error",
                "param": "reasoning_effort",
                "code": None,
            }
            return JSONResponse({"error": error}, status_code=400)
        if self.reject_tools and body.get("tools"):
            model = body.get("model", "fake")
            error = {"message": f"{model} does not support tools", "type": "api_error"}
            return JSONResponse({"error": error}, status_code=400)
        if reply.answer is not None:
            reply = replace(reply, text=reply.answer(body))
        if reply.status != 200:
            headers = {"retry-after": str(reply.retry_after)} if reply.retry_after else {}
            code = reply.error_code or {429: "rate_limit_exceeded"}.get(reply.status)
            error = {"message": f"fake error {reply.status}", "type": "fake", "code": code}
            return JSONResponse({"error": error}, status_code=reply.status, headers=headers)
        model = body.get("model", "fake")
        if not body.get("stream"):
            return JSONResponse(_completion(model, reply, body))
        usage = (body.get("stream_options") or {}).get("include_usage", False)
        return StreamingResponse(
            self._frames(seen, reply, model, usage, body), media_type="text/event-stream"
        )

    async def _frames(
        self, seen: Seen, reply: Reply, model: str, usage: bool, body: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        pieces = reply.pieces()
        at = reply.fault_index(pieces)
        hold = None if reply.hold_after is None else index_at(pieces, reply.hold_after)
        try:
            yield _frame(_chunk(model, {"role": "assistant", "content": ""}))
            for index, (key, piece) in enumerate(pieces):
                if reply.fault == "cut" and index >= at:
                    raise _Cut
                if reply.fault == "malformed" and index == at:
                    yield b"data: {this is not json\n\n"
                if reply.fault == "stall" and index == at:
                    await asyncio.sleep(reply.stall_seconds)
                if index == hold:  # a guard against a test that never releases, not a pace
                    await asyncio.to_thread(reply.released.wait, 60)
                yield _frame(_chunk(model, {key: piece}))
                seen.sent_at.append(time.monotonic())
                if reply.delay:
                    await asyncio.sleep(reply.delay)
            if reply.fault == "cut" and reply.fault_after is not None:
                raise _Cut  # asked to cut after the last chunk: all the text, no finish
            for call in reply.call_chunks():
                yield _frame(_chunk(model, {"tool_calls": [call]}))
                if reply.delay:
                    await asyncio.sleep(reply.delay)
            finish = "tool_calls" if reply.tool_calls else "stop"
            yield _frame(_chunk(model, {}, finish_reason=finish))
            if usage:
                yield _frame(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": model,
                        "choices": [],
                        "usage": _usage(body, reply),
                    }
                )
            yield b"data: [DONE]\n\n"
        except asyncio.CancelledError:  # the client closed the connection before the end
            seen.closed_early = True
            self.disconnects.append(seen)
            raise


def index_at(pieces: list[tuple[str, str]], characters: int) -> int:
    """The index of the first chunk that starts `characters` characters in."""
    offset = 0
    for index, (_, piece) in enumerate(pieces):
        if offset >= characters:
            return index
        offset += len(piece)
    return len(pieces)


class _Cut(Exception):
    """Raised inside the stream so the server drops the connection without [DONE]."""


class _QuietCuts(logging.Filter):
    """A cut on cue is the point of the fault, not a server error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None and not isinstance(error, _Cut):
            nested = getattr(error, "exceptions", None)  # anyio wraps it in an ExceptionGroup
            error = nested[0] if nested else error.__cause__ or error.__context__
        return error is None


logging.getLogger("uvicorn.error").addFilter(_QuietCuts())


def _frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """Words as tokens; thinking counts in the completion and, as OpenAI reports it, apart."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    text, reasoning = ("", "") if reply.fault == "empty" else (reply.text, reply.reasoning)
    thought = len(reasoning.split())
    completion = len(text.split()) + thought
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if thought:
        usage["completion_tokens_details"] = {"reasoning_tokens": thought}
    return usage


def _completion(model: str, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning and reply.reasoning_shape == "think":
        message["content"] = f"<think>{reply.reasoning}</think>\n\n{reply.text}"
    elif reply.reasoning:
        message[reply.reasoning_shape] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id or f"call_{index}_{call.name}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.text},
            }
            for index, call in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage(body, reply),
    }


def main() -> None:
    """`python -m tests.fake_openai --port P --chars N --chunk-size C --delay S`: serve every chat
    request with the same paced reply until SIGTERM (benchmarks run it in its own process).
    `--reasoning-chars R --reasoning-shape S` make it think first."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chars", type=int, default=400)
    parser.add_argument("--chunk-size", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--reasoning-chars", type=int, default=0)
    parser.add_argument(
        "--reasoning-shape", choices=["reasoning_content", "reasoning", "think"], default=None
    )
    args = parser.parse_args()
    text = ("lorem ipsum dolor sit amet " * (args.chars // 27 + 1))[: args.chars]
    thinking = "let me think this through " * (args.reasoning_chars // 26 + 1)
    reply = Reply(text, args.chunk_size, args.delay, reasoning=thinking[: args.reasoning_chars])
    if args.reasoning_shape:
        reply.reasoning_shape = args.reasoning_shape
    fake = FakeOpenAI(port=args.port, default_reply=reply)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with fake:
        print(f"serving {fake.base_url}", flush=True)
        while not done.wait(0.5):
            pass


if __name__ == "__main__":
    main()
