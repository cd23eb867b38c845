"""Emphasis that works in Chinese, Japanese and Korean: CommonMark's CJK-friendly flanking rules.

CommonMark decides whether `**` may open or close from the characters on either side: a run
just inside punctuation must have whitespace or punctuation just outside. That suits English
(`**Note:** here`), but CJK text has no spaces, so `**注意：**这里` and `**「引用」**です` stay
literal asterisks. The CJK-friendly amendment (https://github.com/tats-u/markdown-cjk-friendly,
specification.md; the markdown-it-cjk-friendly plugin) changes only this:

- CJK punctuation (`：`, `。`, `「`) no longer counts as punctuation on the inner side of a run;
- a CJK character (letter or punctuation) on the outer side counts like whitespace.

markdown2 asks one method, `delimiter_left_or_right`, for each run of `*` or `_`; the classes
here answer it with the amended rules, for its two emphasis passes (the `code-friendly` extra,
then `_do_italics_and_bold`). Around characters that are not CJK the answer is markdown2's own
(`\\s` whitespace, `[^\\s\\w]` punctuation, the ends of the text as whitespace), so English
renders as before. `code-friendly` still turns every `_` pair back into text: underscores make
no emphasis, in any script. Each run costs a few character lookups: linear in the text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

import markdown2

# A variation selector belongs to the character before it: `**` after `葛\U000e0100` or `：\ufe00`
# follows an ideograph or a punctuation mark. U+FE0F (emoji style) is not one of them.
VARIATION_SELECTOR = re.compile("[\ufe00-\ufe0e\U000e0100-\U000e01ef]")


def is_cjk(char: str) -> bool:
    """Wide, fullwidth or halfwidth (East Asian Width W, F, H) and not an emoji, or Hangul.

    The spec excludes emoji by their Unicode emoji data, which Python does not ship; the wide
    emoji sit in U+2300–U+2BFF (but for the angle brackets 〈〉) and U+1F000–U+1FAFF.
    """
    code = ord(char)
    if 0x1100 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:  # Hangul Jamo of every width
        return True
    if (0x2300 <= code <= 0x2BFF and code not in (0x2329, 0x232A)) or 0x1F000 <= code <= 0x1FAFF:
        return False
    return unicodedata.east_asian_width(char) in ("W", "F", "H")


def _is_space(char: str | None) -> bool:
    return char is None or char.isspace()  # the ends of the text count as whitespace


def _is_punctuation(char: str) -> bool:
    return not (char.isspace() or char.isalnum() or char == "_")  # markdown2's `[^\s\w]`


def _is_other_punctuation(char: str | None) -> bool:
    """Punctuation that is not CJK: the kind CommonMark's flanking rules were written for."""
    return char is not None and _is_punctuation(char) and not is_cjk(char)


def flanking(text: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the delimiter run `text[start:end]` is left-flanking (may open) and
    right-flanking (may close), by CommonMark's rules with the CJK-friendly amendment."""
    before = text[start - 1] if start else None
    if before is not None and start > 1 and VARIATION_SELECTOR.match(before):
        before = text[start - 2]
    after = text[end] if end < len(text) else None
    left = not _is_space(after) and (
        not _is_other_punctuation(after)
        or _is_space(before)
        or _is_other_punctuation(before)
        or (before is not None and is_cjk(before))
    )
    right = not _is_space(before) and (
        not _is_other_punctuation(before)
        or _is_space(after)
        or _is_other_punctuation(after)
        or (after is not None and is_cjk(after))
    )
    return left, right


class _CjkFlanking(markdown2.GFMItalicAndBoldProcessor):
    def delimiter_left_or_right(self, delim_run: re.Match[str]) -> tuple[bool, bool]:
        return flanking(delim_run.string, delim_run.start(), delim_run.end())


class CjkCodeFriendly(_CjkFlanking, markdown2.CodeFriendly):
    """markdown2's `code-friendly` extra (no `_` emphasis) with the amended flanking rules."""

    name = "cjk-code-friendly"


CjkCodeFriendly.register()


class CjkMarkdown(markdown2.Markdown):
    """markdown2 whose last emphasis pass follows the amended rules too."""

    def __init__(self, *, extras: dict[str, Any], safe_mode: Literal["escape"]) -> None:
        super().__init__(extras=extras, safe_mode=safe_mode)
        self._iab_processor = _CjkFlanking(self, None)
