"""Topic titles: the first words of the question at once, a model-written title afterwards."""

from __future__ import annotations

import logging
import re
import unicodedata

from services.errors import ChatAppError
from services.llm import LLM
from services.models import Message
from services.options import Options
from services.store import Store

log = logging.getLogger(__name__)

NEW_TITLE = "New chat"
TITLE_PROMPT = (
    "Write a short title (at most six words, no quotes, no trailing period) for a conversation "
    "that starts with the message below. Write it in the language of the message.\n\n{text}"
)


TITLE_COLUMNS = 60  # about 60 Latin letters, 30 Chinese or Japanese characters
# "Title:", "**Title**:", "标题：", "タイトル：" and the like, which models put before the title.
_LABEL = re.compile(
    r"^(?:title|topic|subject|conversation title|chat title|标题|標題|题目|題目|主题|主題|"
    r"タイトル|件名|題名|제목)\s*[*_]*\s*[:：]\s*",
    re.IGNORECASE,
)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»", "„": "“"}
_HEADER = re.compile(r"^(?:#{1,6}|>|[-*+]\s)\s*")  # a heading, a quote, a list item
# **bold**, __bold__, *em*, _em_, ~~struck~~ around words (not the `_` inside snake_case).
_EMPHASIS = re.compile(r"(?<!\w)(\*\*|__|~~|\*|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_TRAILING = ".,;:。，；：、…·–—"


def clean_title(text: str) -> str:
    """A model's answer made a title: no "Title:" label, quotes, markdown, trailing period or
    second line, and at most TITLE_COLUMNS wide (cut at a word, with an ellipsis)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    title = ""
    for line in lines:  # "**Title:**" alone on a line: the title is on the next one
        if title := _tidy(line):
            break
    cut = first_words(title, TITLE_COLUMNS)
    if cut.endswith("…") and cut != title:
        cut = cut[:-1].rstrip(_TRAILING + " ") + "…"
    return cut


def _unmark(line: str) -> str:
    """Markdown emphasis off, keeping the words; code spans stay as they are (with their
    backticks, which `_tidy` drops last so that a later round cannot read `__x__` as bold)."""
    parts = re.split(r"(`+[^`]*`+)", line)
    for index in range(0, len(parts), 2):  # even parts are outside code spans
        previous = None
        while parts[index] != previous:
            previous = parts[index]
            parts[index] = _EMPHASIS.sub(r"\2", parts[index])
        parts[index] = re.sub(r"^[*_]+|[*_]+$", "", parts[index])  # an unpaired mark at an end
    return "".join(parts)


def _unquote(line: str) -> str:
    if len(line) >= 2 and _QUOTES.get(line[0]) == line[-1]:
        return line[1:-1]
    opener, closer = line[:1], line[-1:]
    if opener in _QUOTES and opener != "'" and _QUOTES[opener] not in line[1:]:
        return line[1:]  # opened, never closed
    openers = [o for o, c in _QUOTES.items() if c == closer and o != "'"]
    if openers and not any(o in line[:-1] for o in openers):
        return line[:-1]  # closed, never opened
    return line


def _tidy(line: str) -> str:
    """Strip labels, markup and quotes from one line until nothing more comes off."""
    previous = None
    while line != previous:
        previous = line
        line = _HEADER.sub("", line.strip())
        line = _unmark(line).strip()
        line = _LABEL.sub("", line)
        line = _unquote(line.rstrip(_TRAILING).strip()).strip()
    return " ".join(line.replace("`", "").split())


def _width(char: str) -> int:
    """Columns a character takes: two for Chinese, Japanese and Korean (wide), else one."""
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def first_words(text: str, limit: int = 48) -> str:
    """The start of `text` as a title, at most `limit` columns wide (a CJK character is two):
    cut at a space where the text has spaces, by characters where it has none."""
    words = " ".join(text.split())
    width, end = 0, 0
    for end, char in enumerate(words):  # noqa: B007 - `end` is read after the loop
        width += _width(char)
        if width > limit:
            break
    else:
        return words
    head = words[:end]
    cut = head.rsplit(" ", 1)[0] if " " in head and _width(words[end]) != 2 else head
    return (cut or head).rstrip() + "…"


async def auto_title(store: Store, llm: LLM, options: Options, reply: Message) -> bool:
    """Name a topic after its first exchange; runs after the reply so it never competes.

    True when the title changed.
    """
    try:
        topic = await store.get_topic(reply.user_id, reply.topic_id)
        if topic.settings.get("title_locked") or topic.settings.get("title_auto"):
            return False
        question = await store.get_message(reply.user_id, reply.parent_id or "")
        model = options.title_model or reply.model or options.default_model
        prompt = [{"role": "user", "content": TITLE_PROMPT.format(text=question.content[:2000])}]
        title = clean_title(await llm.complete(prompt, model=model))[: options.max_title_chars]
        if not title:
            return False
        topic = await store.get_topic(reply.user_id, reply.topic_id)
        if not topic.settings.get("title_locked"):  # the user may have renamed it meanwhile
            await store.rename_topic(reply.user_id, reply.topic_id, title)
            await store.update_topic_settings(
                reply.user_id, reply.topic_id, {**topic.settings, "title_auto": True}
            )
            return True
    except (TimeoutError, ChatAppError) as exc:
        log.info("no automatic title for topic %s: %s", reply.topic_id, exc)
    return False
