"""`LiveMarkdown`: a reply that grows; finished blocks are sent once, only the tail again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from nicegui import app, ui

from pages.i18n import language, localize
from pages.isolated import Isolated
from services.markdown import plain_fallback
from services.markdown_blocks import BlockSplitter
from services.render_pool import Renderer

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
    """Streamed markdown. `append()` as text arrives, `await finish()` at the end.

    Blocks render in the renderer's worker processes. One flush at a time is on its way: it
    takes the blocks finished since the last one and the tail as they are then, and sends
    them to the browser in one update (a block just frozen must leave the tail in the same
    update, or it shows twice); text that arrives meanwhile goes with the next flush. So the
    tail is rendered at most once per TAIL_INTERVAL, and no more often than the workers can,
    however fast text comes. A tail that could not be rendered in time stays plain text until
    its block is finished: it is not tried again on every update.

    Our HTML is already sanitised by nh3 (services/markdown.py), so the `ui.html` children are
    created with `sanitize=False`. It is `Isolated`: an update re-renders only the reply.
    """

    def __init__(self, renderer: Renderer, text: str = "") -> None:
        super().__init__()
        self.classes("markdown live-markdown w-full")
        self.renderer = renderer
        self.language = language()  # flushes run outside the page's handlers
        with self:
            self._blocks = ui.element("div")
            self._tail = ui.html("", sanitize=False)
        # The next flush, TAIL_INTERVAL after the last: a call scheduled on the loop, not a
        # ui.timer, which was one more element for the page to draw on the way to a reply.
        self._pending: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._splitter = BlockSplitter()
        self._unsent: list[str] = []  # blocks finished since the last flush
        self._tail_plain = False  # the current block's tail failed to render: keep it text
        self._frozen_count = 0  # blocks finished so far
        self._tail_text = ""  # the tail as last sent
        self._epoch = 0  # set_text starts a new one: a flush of the old text is dropped
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
            self._unsent += finished
            self._frozen_count += len(finished)
            self._tail_plain = False  # the tail is a new block now
        if self._flushing is not None:
            return  # the flush on its way starts the next one when it is done
        wait = TAIL_INTERVAL - (time.monotonic() - self._last_flush)
        if finished or wait <= 0:
            self._start_flush()
        elif self._pending is None:  # flush the rest soon, at most once per interval
            self._pending = asyncio.get_running_loop().call_later(wait, self._start_flush)

    def set_text(self, text: str) -> None:
        """Start again from `text` (a reply re-opened mid-stream, or replaced)."""
        self._stop_flushing()
        self._epoch += 1
        self._blocks.clear()
        self._tail.set_content("")
        self._tail_text = ""
        self._splitter = BlockSplitter()
        self._unsent = []
        self._tail_plain = False
        self._parts = []
        self.finished = False
        self.append(text)

    async def finish(self) -> None:
        """Show the whole reply now; a reference-style link defined late re-renders it once."""
        self._cancel_pending()
        self.finished = True
        while self._flushing is not None:  # let the flush on its way land first
            await asyncio.wait([self._flushing])
        # The last line is complete now: blocks it finishes are cut as a one-shot render cuts
        # them (services.render_pool.blocks_of), so the reply ends as it will be drawn again.
        if finished := self._splitter.feed("\n"):
            self._unsent += finished
            self._frozen_count += len(finished)
            self._tail_plain = False
        if self._splitter.needs_full_render:
            text = self.text
            epoch = self._epoch
            html = await self.renderer.render(text)
            if not self.is_deleted and epoch == self._epoch:
                self._blocks.clear()
                self._tail.set_content(localize(html, self.language))
        else:
            await self._flush()

    def _start_flush(self) -> None:
        self._cancel_pending()
        if self._flushing is None and not self.is_deleted:
            self._flushing = asyncio.create_task(self._flush_then_next(), name="live markdown")

    async def _flush_then_next(self) -> None:
        try:
            await self._flush()
        finally:
            if self._flushing is asyncio.current_task():  # not one set_text started since
                self._flushing = None
        if self.is_deleted or self.finished or self._flushing is not None:
            return
        if self._unsent:
            self._start_flush()
        elif self._splitter.tail != self._tail_text:  # text came while this one rendered
            wait = TAIL_INTERVAL - (time.monotonic() - self._last_flush)
            self._pending = asyncio.get_running_loop().call_later(max(wait, 0), self._start_flush)

    async def _flush(self) -> None:
        epoch, frozen, blocks, self._unsent = self._epoch, self._frozen_count, self._unsent, []
        tail, plain = self._splitter.tail, self._tail_plain
        rendered = await self.renderer.render_blocks(blocks if plain else [*blocks, tail])
        if self.is_deleted or epoch != self._epoch:
            return  # set_text started again meanwhile
        if plain:
            tail_html = plain_fallback(tail)
        else:
            *rendered, last = rendered
            tail_html = last.html
            # Unless its block was finished meanwhile (a new tail is a new block to try).
            self._tail_plain = last.plain and frozen == self._frozen_count
        with self._blocks:
            for block in rendered:
                ui.html(localize(block.html, self.language), sanitize=False)
        self._tail.set_content(localize(tail_html, self.language))
        self._tail_text = tail
        self._last_flush = time.monotonic()

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _stop_flushing(self) -> None:
        self._cancel_pending()
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None

    def _handle_delete(self) -> None:  # the page closed, or the reply was drawn anew
        self._stop_flushing()
        super()._handle_delete()
