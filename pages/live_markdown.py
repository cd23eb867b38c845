"""`LiveMarkdown`: a reply that grows; finished blocks are sent once, only the tail again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from nicegui import app, ui

from pages.isolated import Isolated
from services.markdown import render
from services.markdown_blocks import BlockSplitter

TAIL_INTERVAL = 0.03  # seconds between tail updates: smooth to the eye, cheap on the wire
ASSETS = Path(__file__).parent / "static"
ASSETS_URL = "/markdown-static"  # its own mount: under /static the app's mount would shadow it


def add_assets(prefix: str = "") -> None:
    """Link chat.css and chat.js into the current page (`prefix`: a reverse proxy's sub-path).

    Served as files rather than inlined, so a browser caches them across pages.
    """
    if not any(getattr(route, "path", None) == ASSETS_URL for route in app.routes):
        app.add_static_files(ASSETS_URL, ASSETS)
    ui.add_head_html(
        f'<link rel="stylesheet" href="{prefix}{ASSETS_URL}/chat.css">'
        f'<script defer src="{prefix}{ASSETS_URL}/chat.js"></script>'
    )


class LiveMarkdown(Isolated):
    """Streamed markdown. `append()` as text arrives, `finish()` at the end.

    Our HTML is already sanitised by nh3 in `services.markdown.render`, so the `ui.html`
    children are created with `sanitize=False` (NiceGUI's own sanitiser would run again on
    every tail update, for nothing). It is `Isolated`: a tail update re-renders only the reply.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.classes("markdown live-markdown w-full")
        with self:
            self._blocks = ui.element("div")
            self._tail = ui.html("", sanitize=False)
        # The rest of the tail goes out TAIL_INTERVAL after the last update: a call scheduled on
        # the loop, not a ui.timer, which was one more element for the page to draw (and a task
        # here) on the way to a reply's first words.
        self._pending: asyncio.TimerHandle | None = None
        self._splitter = BlockSplitter()
        # Not `_text`: NiceGUI sends an element's `_text` to the browser as its text, which
        # drew the reply's raw markdown above it.
        self._parts: list[str] = []
        self._last_flush = 0.0
        self.finished = False
        if text:
            self.append(text)

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def frozen(self) -> list[str]:
        """The HTML of each finished block, as sent once to the browser."""
        return [child.content for child in self._blocks if isinstance(child, ui.html)]

    @property
    def html(self) -> str:
        """What the browser has been sent: the frozen blocks, then the tail."""
        return "".join([*self.frozen, self._tail.content])

    def append(self, delta: str) -> None:
        self._parts.append(delta)
        finished = self._splitter.feed(delta)
        if finished:
            with self._blocks:
                for block in finished:
                    ui.html(render(block), sanitize=False)
        # A block just frozen must leave the tail in the same update, or it shows twice.
        wait = TAIL_INTERVAL - (time.monotonic() - self._last_flush)
        if finished or wait <= 0:
            self._flush()
        elif self._pending is None:  # flush the rest soon, at most once per interval
            self._pending = asyncio.get_running_loop().call_later(wait, self._flush_pending)

    def set_text(self, text: str) -> None:
        """Start again from `text` (a reply re-opened mid-stream, or replaced)."""
        self._cancel_pending()
        self._blocks.clear()
        self._splitter = BlockSplitter()
        self._parts = []
        self.finished = False
        self.append(text)

    def _flush_pending(self) -> None:
        self._pending = None
        self._flush()

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _handle_delete(self) -> None:  # the page closed, or the reply was drawn anew
        self._cancel_pending()
        super()._handle_delete()

    def _flush(self) -> None:
        self._cancel_pending()
        self._last_flush = time.monotonic()
        self._tail.set_content(render(self._splitter.tail))

    def finish(self) -> None:
        """Show the whole reply now; a reference-style link defined late re-renders it once."""
        self._cancel_pending()
        self.finished = True
        if self._splitter.needs_full_render:
            self._blocks.clear()
            self._tail.set_content(render(self.text))
        else:
            self._flush()
