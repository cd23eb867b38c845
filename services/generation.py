"""A reply being written: its text so far, and the events listeners follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

from services.models import Attachment, Message, MessageStatus, ToolCall


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More reply text. A listener that joins late first gets all the text so far as one."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More of the model's thinking, which comes before its answer. A listener that joins
    late first gets all the thinking so far as one."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The reply ended: `message.status` says how (complete, stopped, error, interrupted).

    `unsaved` says why the database did not take it yet ("" once saved); the service keeps
    the reply and retries until it does.
    """

    message: Message
    unsaved: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallUpdate:
    """A tool call started or changed: `call.status` says how. "pending": it waits for the
    user's Allow or Deny; "running": it runs; "done", "error", "denied", "cancelled": its
    end, with the result or the reason. `call` is a copy, as it was at that moment; a
    listener that joins late first gets every call of the reply so far, as they are."""

    call: ToolCall


Event = ReasoningDelta | TextDelta | ToolCallUpdate | Finished


@dataclass(eq=False)
class Generation:
    """One reply being written. It belongs to the service, not to any page or request.

    `question` is the question asked with this reply (send, edit), with its files, so that a
    page can draw the new turn without reading the topic again; None when the reply answers
    a question asked before (regenerate) or continues in place.

    The model request may leave before the reply's row (and its question's) is written:
    `stored` is set once they are, or once they never will be (`abandoned`: the writing
    failed and the reply was taken back); nothing saves the reply before that. Pages may be
    shown it before, with its first words (`on_first_text`).
    """

    message: Message
    question: Message | None = None
    question_files: list[Attachment] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    # The reply's tool calls so far, and the answers awaited for those that ask (by call id).
    tool_calls: list[ToolCall] = field(default_factory=list)
    approvals: dict[str, asyncio.Future[bool]] = field(default_factory=dict)
    # When the thinking began and ended (the service's clock), for "Thought for 12 s".
    thinking_since: float | None = None
    thinking_seconds: float | None = None
    listeners: set[asyncio.Queue[Event]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    stop_status: MessageStatus = MessageStatus.STOPPED
    finishing: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    stored: asyncio.Event = field(default_factory=asyncio.Event)
    abandoned: bool = False
    outcome: Finished | None = None  # how it ended, for listeners that come after
    # Called once with the first words, if still set then (the service clears it).
    on_first_text: Callable[[], None] | None = None

    @property
    def topic_id(self) -> str:
        return self.message.topic_id

    @property
    def text(self) -> str:
        if len(self.parts) > 1:  # join lazily, once per read, not once per chunk
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    @property
    def reasoning(self) -> str:
        if len(self.reasoning_parts) > 1:
            self.reasoning_parts[:] = ["".join(self.reasoning_parts)]
        return self.reasoning_parts[0] if self.reasoning_parts else ""

    def _publish(self, event: Event) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    def _end(self, outcome: Finished) -> None:
        """The last event: listeners get it, and so does any that subscribes later."""
        self.outcome = outcome
        self.finished.set()
        self._publish(outcome)
        self.listeners.clear()

    def subscribe(self) -> Subscription:
        """Follow this reply: the thinking and text so far, then what arrives, then
        `Finished`."""
        return Subscription(self)

    async def events(self) -> AsyncIterator[Event]:
        """The events of `subscribe()`, one at a time (text that piled up comes as one)."""
        with self.subscribe() as subscription:
            while True:
                for event in await subscription.next():
                    yield event
                    if isinstance(event, Finished):
                        return


class Subscription:
    """One listener's queue. `next()` returns everything that arrived since it last asked,
    the text joined into one delta: a listener that fell behind (a busy process, a slow
    client) catches up in one step instead of one per chunk. Use it as a context manager."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        if generation.reasoning:
            self.queue.put_nowait(ReasoningDelta(generation.reasoning))
        if generation.text:
            self.queue.put_nowait(TextDelta(generation.text))
        for call in generation.tool_calls:
            self.queue.put_nowait(ToolCallUpdate(replace(call)))
        if generation.outcome is not None:
            self.queue.put_nowait(generation.outcome)
        else:
            generation.listeners.add(self.queue)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.generation.listeners.discard(self.queue)

    async def next(self) -> list[Event]:
        """Wait for at least one event; cancelling the wait loses nothing. The thinking comes
        before the answer, so joined they keep their order: thinking, text, tool calls (each
        with the text offset it belongs at, in the order they changed), the end."""
        events = [await self.queue.get()]
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        thought = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        text = "".join(e.text for e in events if isinstance(e, TextDelta))
        joined: list[Event] = [ReasoningDelta(thought)] if thought else []
        if text:
            joined.append(TextDelta(text))
        joined += [e for e in events if isinstance(e, ToolCallUpdate)]
        return joined + [e for e in events if isinstance(e, Finished)]
