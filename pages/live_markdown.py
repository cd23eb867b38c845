"""`LiveMarkdown`: a reply that grows; finished blocks are sent once, only the tail again."""

from __future__ import annotations

import time

from nicegui import ui

from services.markdown import render
from services.markdown_blocks import BlockSplitter

TAIL_INTERVAL = 0.075  # seconds between tail updates: smooth to the eye, cheap on the wire


class LiveMarkdown(ui.element):
    """Streamed markdown. `append()` as text arrives, `finish()` at the end.

    Our HTML is already sanitised by nh3 in `services.markdown.render`, so the `ui.html`
    children are created with `sanitize=False` (NiceGUI's own sanitiser would run again on
    every tail update, for nothing).
    """

    def __init__(self, text: str = "") -> None:
        super().__init__("div")
        self.classes("markdown live-markdown w-full")
        self._splitter = BlockSplitter()
        self._text: list[str] = []
        with self:
            self._blocks = ui.element("div")
            self._tail = ui.html("", sanitize=False)
        self._last_flush = 0.0
        self._timer = ui.timer(TAIL_INTERVAL, self._flush, active=False)
        if text:
            self.append(text)

    @property
    def text(self) -> str:
        return "".join(self._text)

    def append(self, delta: str) -> None:
        self._text.append(delta)
        finished = self._splitter.feed(delta)
        if finished:
            with self._blocks:
                for block in finished:
                    ui.html(render(block), sanitize=False)
        # A block just frozen must leave the tail in the same update, or it shows twice.
        if finished or time.monotonic() - self._last_flush >= TAIL_INTERVAL:
            self._flush()
        else:
            self._timer.activate()  # flush the rest soon, at most once per interval

    def _flush(self) -> None:
        self._timer.deactivate()
        self._last_flush = time.monotonic()
        self._tail.set_content(render(self._splitter.tail))

    def finish(self) -> None:
        """Show the whole reply; a reference-style link defined late re-renders it once."""
        self._timer.deactivate()
        if self._splitter.needs_full_render:
            self._blocks.clear()
            self._tail.set_content(render(self.text))
        else:
            self._flush()
