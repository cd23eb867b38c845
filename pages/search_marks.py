"""A search hit's snippet as HTML with the searched words marked: the snippet is the user's own
text, so every piece of it is escaped here and the only tags are our `<mark>`s."""

from __future__ import annotations

import re
from html import escape

# A Latin word is found from a word's start (the word index matches whole words, the last
# one as a prefix); CJK text is found anywhere (the trigram index matches substrings).
_LATIN = re.compile(r"[0-9A-Za-z\u00c0-\u024f]")


def _pattern(query: str) -> re.Pattern[str] | None:
    words = sorted(set(re.findall(r"\w+", query)), key=len, reverse=True)  # longest first
    if not words:
        return None
    parts = [
        (r"(?<![0-9A-Za-z\u00c0-\u024f])" if _LATIN.match(word) else "") + re.escape(word)
        for word in words
    ]
    return re.compile("|".join(parts), re.IGNORECASE)


def marked(text: str, query: str) -> str:
    """`text` escaped, with each occurrence of the query's words in `<mark>`."""
    pattern = _pattern(query)
    if pattern is None:
        return escape(text)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    pieces.append(escape(text[last:]))
    return "".join(pieces)
