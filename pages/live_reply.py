"""A reply's text and tool calls while it is written, in the order the model made them.

The text up to a call, the call's row, the text after it, the next call...: each stretch of
text is a `LiveMarkdown` of its own, finished when a call follows it. A call knows the offset
in the text where it was made, so text that arrives in one piece across calls (a page that
re-attaches mid-reply, a listener catching up) is cut there too. Once saved, the turn is drawn
again from the message (pages/turns.py), in the same order.
"""

from __future__ import annotations

from nicegui import ui

from pages.live_markdown import LiveMarkdown
from pages.tool_calls import Answer, ToolCallList
from services.models import ToolCall
from services.render_pool import Renderer


class LiveReply:
    def __init__(
        self,
        container: ui.element,
        renderer: Renderer,
        answer: Answer | None,
        images_at: str | None = None,  # where the calls' images are served
    ) -> None:
        self.container = container
        self.renderer = renderer
        self.calls = ToolCallList(container, answer, images_at)
        self.segment: LiveMarkdown | None = None  # the stretch of text being written
        self.written = 0  # characters of the reply's text shown so far

    async def text(self, text: str, calls: list[ToolCall]) -> None:
        """Show `text`, which follows what is shown; `calls`: the reply's calls so far, each
        placed where its offset falls inside `text` (the others come as their own events)."""
        end = self.written + len(text)
        placed = self.calls.rows
        inside = [c for c in calls if c.id not in placed and self.written <= c.offset < end]
        for call in sorted(inside, key=lambda c: c.offset):
            cut = call.offset - self.written
            self._write(text[:cut])
            text = text[cut:]
            await self.call(call)
        self._write(text)

    async def call(self, call: ToolCall) -> None:
        """A call made or changed: a new one goes after the text shown so far."""
        if call.id not in self.calls.rows and self.segment is not None:
            await self.segment.finish()  # the text before the call is complete
            self.segment = None
        self.calls.show(call)

    async def finish(self) -> None:
        if self.segment is not None:
            await self.segment.finish()

    def _write(self, text: str) -> None:
        if not text:
            return
        if self.segment is None:
            with self.container:
                self.segment = LiveMarkdown(self.renderer)
        self.segment.append(text)
        self.written += len(text)
