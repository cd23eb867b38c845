"""Split a `<think>…</think>` block at the start of streamed content into reasoning and answer."""

from __future__ import annotations

from dataclasses import dataclass

# The opening tags models write (DeepSeek-R1, Qwen3, QwQ: `<think>`; some others `<thinking>`),
# each with the closing tag that ends it.
TAGS = {"<think>": "</think>", "<thinking>": "</thinking>"}


@dataclass(frozen=True, slots=True)
class Delta:
    """More reply text."""

    text: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """More thinking text: what the model wrote before its answer, shown apart and never sent
    back to it."""

    text: str


Piece = Delta | Reasoning


class ThinkSplitter:
    """Feed content chunks as they arrive; get back answer and reasoning pieces at once.

    Only a think block at the very start counts (whitespace before it allowed): a `<think>`
    later in an answer is answer text. A block that never closes is all reasoning. Text is
    held back only while it could still be part of a tag (or is the whitespace before an
    opening tag), so the pieces stream as fast as the chunks do; `end()` gives back the rest.
    """

    __slots__ = ("_close", "_held", "_state")

    def __init__(self) -> None:
        # start → opened → thinking → after → answer, or start → answer; "opened" and "after"
        # drop the whitespace that follows a tag, so neither text begins with blank lines
        self._state = "start"
        self._held = ""
        self._close = ""

    def feed(self, text: str) -> list[Piece]:
        if self._state == "answer":  # the common case once the answer runs: no copying
            return [Delta(text)] if text else []
        out: list[Piece] = []
        text = self._held + text
        self._held = ""
        if self._state == "start":
            text = self._open(text)
        if self._state == "opened":
            text = text.lstrip()
            if text:
                self._state = "thinking"
        if self._state == "thinking":
            text = self._think(text, out)
        if self._state == "after":
            text = text.lstrip()  # the blank lines between `</think>` and the answer
            if text:
                self._state = "answer"
        if self._state == "answer" and text:
            out.append(Delta(text))
        return out

    def end(self) -> list[Piece]:
        """What was held back when the content ends: a partial tag is text after all."""
        held, self._held = self._held, ""
        if not held:
            return []
        return [Reasoning(held)] if self._state == "thinking" else [Delta(held)]

    def _open(self, text: str) -> str:
        """In the start state: enter the think block, hold a possible tag, or give up on one."""
        stripped = text.lstrip()
        for tag, close in TAGS.items():
            if stripped.startswith(tag):
                self._state, self._close = "opened", close
                return stripped[len(tag) :]
        if any(tag.startswith(stripped) for tag in TAGS):  # whitespace, "<", "<thi", …
            self._held = text
            return ""
        self._state = "answer"
        return text

    def _think(self, text: str, out: list[Piece]) -> str:
        """Inside the block: emit reasoning up to the closing tag, or up to a partial one."""
        end = text.find(self._close)
        if end >= 0:
            if end:
                out.append(Reasoning(text[:end]))
            self._state = "after"
            return text[end + len(self._close) :]
        keep = _partial_suffix(text, self._close)
        if len(text) > keep:
            out.append(Reasoning(text[: len(text) - keep]))
        self._held = text[len(text) - keep :] if keep else ""
        return ""


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that `tag` starts with (a tag cut in two)."""
    start = text.rfind("<", max(0, len(text) - len(tag) + 1))
    while start >= 0:
        if tag.startswith(text[start:]):
            return len(text) - start
        start = text.rfind("<", max(0, len(text) - len(tag) + 1), start)
    return 0
