"""A reply being written: its text so far, and the events listeners follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from services.models import Message, MessageStatus


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More reply text. A listener that joins late first gets all the text so far as one."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The reply ended: `message.status` says how (complete, stopped, error, interrupted).

    `unsaved` says why the database did not take it yet ("" once saved); the service keeps
    the reply and retries until it does.
    """

    message: Message
    unsaved: str = ""


Event = TextDelta | Finished


@dataclass(eq=False)
class Generation:
    """One reply being written. It belongs to the service, not to any page or request."""

    message: Message
    parts: list[str] = field(default_factory=list)
    listeners: set[asyncio.Queue[Event]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    stop_status: MessageStatus = MessageStatus.STOPPED
    finishing: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def topic_id(self) -> str:
        return self.message.topic_id

    @property
    def text(self) -> str:
        if len(self.parts) > 1:  # join lazily, once per read, not once per chunk
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def _publish(self, event: Event) -> None:
        for queue in self.listeners:
            queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        """Follow this reply: the text so far, then each delta, then `Finished`."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        if self.text:
            queue.put_nowait(TextDelta(self.text))
        if self.finished.is_set():
            queue.put_nowait(Finished(self.message))
        else:
            self.listeners.add(queue)
        try:
            while True:
                event = await queue.get()
                yield event
                if isinstance(event, Finished):
                    return
        finally:
            self.listeners.discard(queue)
