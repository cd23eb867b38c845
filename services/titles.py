"""Topic titles: the first words of the question at once, a model-written title afterwards."""

from __future__ import annotations

import logging
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
        title = " ".join((await llm.complete(prompt, model=model)).split()).strip("\"'.")
        if not title:
            return False
        title = title[: options.max_title_chars]
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
