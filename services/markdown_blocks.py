"""Cutting a growing reply into finished markdown blocks and a live tail, for streaming."""

from __future__ import annotations

import re

FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
QUOTE = re.compile(r"^\s{0,3}>")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:", re.MULTILINE)


class BlockSplitter:
    """Feed text as it arrives; get back blocks that will never render differently again.

    A block ends at a blank line outside fenced code and `$$` math, once the next line shows a
    new block starts there: not indented (that would continue a list item or code), and not a
    list item right after a list (a loose list is one list). Rendering each block once and
    the tail again and again gives the same page as rendering the whole text, because markdown
    blocks separated this way do not affect each other. Reference-style link definitions do
    (`[x]: url` anywhere changes `[x]` everywhere), so `needs_full_render` says when the
    finished text must be rendered whole once more.
    """

    def __init__(self) -> None:
        self.pending = ""  # text after the last finished block
        self._scanned = 0  # complete lines of `pending` already looked at
        self._fence: str | None = None
        self._in_math = False
        self._block_has_list = False
        self._block_has_quote = False
        self._last_indented = False  # the last non-blank line began with a space or tab
        self._blank_at: int | None = None  # where the current run of blank lines began
        self._saw_reference = False

    @property
    def needs_full_render(self) -> bool:
        """A reference definition was seen (the last line counts even before its newline)."""
        return self._saw_reference or bool(REFERENCE.match(self.pending[self._scanned :]))

    @property
    def tail(self) -> str:
        return self.pending

    def feed(self, delta: str) -> list[str]:
        """Add text; return the blocks it finished (in order, without trailing blank lines)."""
        self.pending += delta
        finished: list[str] = []
        while True:
            end = self.pending.find("\n", self._scanned)
            if end < 0:
                return finished
            line = self.pending[self._scanned : end]
            start = self._scanned
            self._scanned = end + 1
            block = self._line(line, start)
            if block is not None:
                finished.append(block)

    def _line(self, line: str, start: int) -> str | None:
        if REFERENCE.match(line):
            self._saw_reference = True
        if self._fence is not None:
            # The same closing rule as the renderer's FENCE: at most 3 spaces of indent.
            if re.match(rf" {{0,3}}{re.escape(self._fence)}[`~]*[ \t]*$", line):
                self._fence = None
            return None
        if not line.strip():
            if self._blank_at is None and not self._in_math:
                self._blank_at = start
            return None
        cut = None
        if self._blank_at is not None and self._starts_new_block(line):
            cut = self._blank_at
        self._blank_at = None
        block = None
        if cut is not None:
            block = self.pending[:cut].rstrip("\n") or None  # leading blank lines: no block
            self.pending = self.pending[start:]
            self._scanned -= start
            self._block_has_list = self._block_has_quote = False
        if match := FENCE_OPEN.match(line):
            self._fence = match.group(1)
        if line.count("$$") % 2:
            self._in_math = not self._in_math
        if LIST_ITEM.match(line):
            self._block_has_list = True
        if QUOTE.match(line):
            self._block_has_quote = True
        self._last_indented = line[:1] in (" ", "\t")
        return block

    def _starts_new_block(self, line: str) -> bool:
        if self._in_math or line[:1] in (" ", "\t"):
            return False
        if self._block_has_quote and self._last_indented:
            return False  # markdown2 lets a quote swallow the paragraph after indented code
        return not (self._block_has_list and LIST_ITEM.match(line))
