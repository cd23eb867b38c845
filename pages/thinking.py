"""A thinking model's reasoning above its answer: open and live while it thinks, then folded.

A native `<details>` element: the keyboard (Enter, Space) and screen readers open and close
it with no script of ours, and its summary says what it holds ("Thinking… 7 s", "Thought for
12 s"). The reasoning is untrusted markdown like the answer, rendered the same way.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from nicegui import ui

from pages.i18n import N_, _, language
from pages.live_markdown import LiveMarkdown
from services import i18n
from services.render_pool import Renderer


def summary_text(seconds: float | None, *, thinking: bool = False, code: str = "") -> str:
    """What the block's summary says; `code`: the language (default: the page's)."""
    say = partial(i18n.gettext, code) if code else _
    if thinking:
        return say(N_("Thinking… {seconds} s")).format(seconds=int(seconds or 0))
    if seconds is None:
        return say(N_("Thoughts"))
    return say(N_("Thought for {seconds} s")).format(seconds=max(1, round(seconds)))


class ThinkingBlock(ui.element):
    """The reasoning of one reply. Stored: `ThinkingBlock.stored(html, seconds)`. Live:
    `append()` while it thinks (open, the seconds counting), `fold(seconds)` when the answer
    starts, `await finish(seconds)` at the end."""

    def __init__(self) -> None:
        super().__init__("details")
        self.classes("thinking")
        self.language = language()  # it counts and folds outside the page's handlers
        with self:
            with ui.element("summary").classes("thinking-summary"):
                self.label = ui.label("")
        self.live: LiveMarkdown | None = None
        self._since = 0.0
        self._tick: asyncio.TimerHandle | None = None

    @classmethod
    def stored(cls, html: str, seconds: float | None) -> ThinkingBlock:
        block = cls()
        block.label.set_text(summary_text(seconds, code=block.language))
        with block:
            ui.html(html, sanitize=False).classes("markdown thinking-body")
        return block

    @classmethod
    def following(cls, renderer: Renderer, since: float) -> ThinkingBlock:
        """A block for a reply still being written, thinking for `since` seconds so far."""
        block = cls()
        block.props("open")
        block._since = time.monotonic() - since
        with block:
            block.live = LiveMarkdown(renderer).classes("thinking-body")
        block._count()
        return block

    def append(self, text: str) -> None:
        if self.live is not None:
            self.live.append(text)

    def fold(self, seconds: float | None) -> None:
        """The answer began: the block closes, saying for how long the model thought."""
        self._stop_counting()
        self.props(remove="open")
        self._say(seconds if seconds is not None else self._elapsed)

    async def finish(self, seconds: float | None) -> None:
        if self._tick is not None:  # the reply ended while still thinking: it stays open
            self._stop_counting()
            self._say(seconds if seconds is not None else self._elapsed)
        if self.live is not None:
            await self.live.finish()

    def _say(self, seconds: float | None, *, thinking: bool = False) -> None:
        self.label.set_text(summary_text(seconds, thinking=thinking, code=self.language))

    @property
    def _elapsed(self) -> float:
        return time.monotonic() - self._since

    def _count(self) -> None:
        self._say(self._elapsed, thinking=True)
        wait = 1 - self._elapsed % 1  # on the second, so the count never skips one
        self._tick = asyncio.get_running_loop().call_later(wait, self._count)

    def _stop_counting(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _handle_delete(self) -> None:
        self._stop_counting()
        super()._handle_delete()
