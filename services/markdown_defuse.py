"""Defusing markdown before markdown2 sees it: shapes no person writes, made harmless.

markdown2 is slow on long runs of delimiters (a run of backticks is cubic) and recurses once
per level of nesting. The renderer's time budget catches whatever gets through; this makes
the common hostile shapes cheap, so they render as text instead of running into it:

- a run of more than MAX_RUN of the same punctuation (backticks, underscores, brackets…) is
  cut to MAX_RUN, and so is a short punctuation pattern (`<!--`, `*_`) repeated more often;
- a line's `[` after the first MAX_BRACKETS are escaped (shown, but opening no link);
- quotes and lists nested deeper than MAX_DEPTH are flattened to that depth, and indentation
  is capped at MAX_INDENT columns.

Fenced code is left as it is (Pygments, not markdown2, formats it), but for a fence marker
longer than MAX_RUN, which is cut like any run. Every change is within one line and the
fence state carries from line to line, so defusing a text whole or block by block (as the
streaming view renders it) gives the same lines.
"""

from __future__ import annotations

import re

MAX_RUN = 32
MAX_PATTERN_REPEATS = 16
MAX_DEPTH = 8
MAX_INDENT = 4 * MAX_DEPTH
MAX_BRACKETS = 64  # per line; markdown2's link matching is quadratic in them

FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
PUNCTUATION = r"(?:[^\w\s]|_)"  # `_` is a word character to `re`, and a delimiter here
RUN = re.compile(rf"({PUNCTUATION})\1{{{MAX_RUN},}}")
PATTERN = re.compile(rf"({PUNCTUATION}{{2,4}}?)\1{{{MAX_PATTERN_REPEATS},}}")
UNESCAPED_BRACKET = re.compile(r"(?<!\\)\[")
INDENT = re.compile(r"[ \t]*")
# A line's container markers: quote marks and list bullets (`> - > 1. x`), with their spaces.
MARKERS = re.compile(r"(?:[ \t]*(?:>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t])))+")
MARKER = re.compile(r"[ \t]*(?:>|[-*+]|\d{1,9}[.)])")


def _cap_markers(line: str) -> str:
    match = MARKERS.match(line)
    if match is None:
        return line
    markers = MARKER.findall(match.group(0))
    if len(markers) <= MAX_DEPTH:
        return line
    return "".join(markers[:MAX_DEPTH]) + line[match.end() :]


def _cap_indent(line: str) -> str:
    indent = INDENT.match(line)
    assert indent is not None  # `[ \t]*` matches the empty string
    width = len(indent.group(0).expandtabs(4))
    if width <= MAX_INDENT:
        return line
    return " " * MAX_INDENT + line[indent.end() :]


def _escape_brackets_after(line: str, keep: int) -> str:
    """Every `[` after the first `keep` escaped: shown as it is, never opening a link."""
    seen = 0

    def escape(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen <= keep else "\\["

    return UNESCAPED_BRACKET.sub(escape, line)


def defuse_line(line: str) -> str:
    if len(line) > MAX_RUN:  # a short line has no long run: most lines stop here
        line = RUN.sub(lambda m: m.group(1) * MAX_RUN, line)
        line = PATTERN.sub(lambda m: m.group(1) * MAX_PATTERN_REPEATS, line)
        if line.count("[") > MAX_BRACKETS:
            line = _escape_brackets_after(line, MAX_BRACKETS)
    return _cap_markers(_cap_indent(line))


def defuse(text: str) -> str:
    """`text` with the shapes above made harmless; fenced code untouched."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            if re.match(rf" {{0,3}}{re.escape(fence)}[`~]*[ \t]*$", line):
                fence = None
            out.append(line)
            continue
        if (match := FENCE.match(line)) is not None:
            fence = match.group(1)[:MAX_RUN]  # a longer fence closes with this one's closer
            out.append(line[: match.start(1)] + fence + line[match.end(1) :])
            continue
        out.append(defuse_line(line))
    return "\n".join(out)
