"""What users do with topics as a whole: create, rename, set up, list, search, delete (with undo).

Messages and replies inside a topic are `services/chat.py`'s; this service leans on it to stop
a reply still being written in a topic it deletes, to tell topic lists about changes, and to
run the delayed deletions among its background tasks.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.chat import ChatService
from services.errors import InvalidInput, NotFound, StoreUnavailable, TooLarge
from services.i18n import msg
from services.models import SearchHit, Topic, UsageRow, utcnow
from services.options import Options
from services.store import Store
from services.titles import NEW_TITLE

log = logging.getLogger(__name__)


# A thinking model's effort, sent as `reasoning_effort`; "" sends none (the default).
REASONING_EFFORTS = ("", "low", "medium", "high")


# What markdown writes around words, not the words: fences (their language stays: a search
# may have matched it), bold and code marks, table pipes and rules, and heading, quote and
# list marks where a line starts.
_MARKS = re.compile(
    r"~~~+|\*\*+|`+|\|(?:\s*:?-{3,}:?\s*\|)*"
    r"|^[ \t]*(?:#{1,6}|>+|[-*+]|\d+[.)])(?=\s)",
    re.MULTILINE,
)


def plain_snippet(snippet: str) -> str:
    """A search snippet as a reader wants it: the words, without markdown's marks around them."""
    return " ".join(_MARKS.sub(" ", snippet).split())


class TopicService:
    """Everything a user does with their topics, for pages and the API alike."""

    def __init__(self, store: Store, options: Options, chat: ChatService) -> None:
        self.store = store
        self.options = options
        self.chat = chat
        self._pending_deletes: dict[str, dict[str, asyncio.TimerHandle]] = defaultdict(dict)

    async def create_topic(
        self, user_id: str, *, title: str = "", settings: dict[str, Any] | None = None
    ) -> Topic:
        title = self._clean_title(title) if title else NEW_TITLE
        settings = dict(settings or {})
        if title != NEW_TITLE:
            settings["title_locked"] = True
        topic = await self.store.create_topic(user_id, title, settings)
        self.chat.changed(user_id, topic.id)
        return topic

    async def rename_topic(self, user_id: str, topic_id: str, title: str) -> Topic:
        topic = await self.store.rename_topic(user_id, topic_id, self._clean_title(title))
        topic = await self.store.update_topic_settings(
            user_id, topic_id, {**topic.settings, "title_locked": True}
        )
        self.chat.changed(user_id, topic_id)
        return topic

    async def update_topic_settings(
        self,
        user_id: str,
        topic_id: str,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
    ) -> Topic:
        """Change what is given; `reasoning_effort` "" stops sending one (the default)."""
        topic = await self.store.get_topic(user_id, topic_id)
        settings = dict(topic.settings)
        if model is not None:
            settings["model"] = model.strip()[:200]
        if system_prompt is not None:
            if len(system_prompt) > self.options.max_message_chars:
                raise TooLarge(msg("The system prompt is too long."))
            settings["system_prompt"] = system_prompt
        if temperature is not None:
            if not 0.0 <= temperature <= 2.0:
                raise InvalidInput(msg("Temperature must be between 0 and 2."))
            settings["temperature"] = temperature
        if reasoning_effort is not None:
            if reasoning_effort not in REASONING_EFFORTS:
                raise InvalidInput(msg("Reasoning effort must be low, medium or high (or none)."))
            if reasoning_effort:
                settings["reasoning_effort"] = reasoning_effort
            else:
                settings.pop("reasoning_effort", None)
        return await self.store.update_topic_settings(user_id, topic_id, settings)

    async def delete_topic(self, user_id: str, topic_id: str) -> None:
        await self.store.get_topic(user_id, topic_id)
        self._cancel_pending_delete(user_id, topic_id)
        await self.chat.stop_reply(topic_id)
        await self.store.delete_topic(user_id, topic_id)
        self.chat.changed(user_id, topic_id)

    async def delete_later(self, user_id: str, topic_id: str, *, delay: float) -> Topic:
        """Hide a topic at once and delete it after `delay` seconds, unless undone before.

        The deletion is the service's, so it happens even when the page that asked is gone;
        shutting down carries out the deletions still waiting.
        """
        topic = await self.store.get_topic(user_id, topic_id)
        if topic_id not in self._pending_deletes[user_id]:
            self._pending_deletes[user_id][topic_id] = asyncio.get_running_loop().call_later(
                delay, lambda: self.chat.spawn(self._delete_when_due(user_id, topic_id))
            )
            self.chat.changed(user_id, topic_id)
        return topic

    def undo_delete(self, user_id: str, topic_id: str) -> bool:
        """Keep a topic that `delete_later` was about to delete; False when it is too late."""
        if not self._cancel_pending_delete(user_id, topic_id):
            return False
        self.chat.changed(user_id, topic_id)
        return True

    def deleting(self, user_id: str) -> set[str]:
        """Ids of the user's topics waiting to be deleted (lists hide them)."""
        return set(self._pending_deletes.get(user_id, ()))

    async def mark_topic(
        self,
        user_id: str,
        topic_id: str,
        *,
        pinned: bool | None = None,
        archived: bool | None = None,
    ) -> Topic:
        """Pin or unpin, archive or unarchive a topic (None: leave that as it is)."""
        topic = await self.store.mark_topic(user_id, topic_id, pinned=pinned, archived=archived)
        self.chat.changed(user_id, topic_id)
        return topic

    async def list_topics(
        self, user_id: str, *, limit: int, offset: int = 0, archived: bool = False
    ) -> list[Topic]:
        """The user's topics that are not archived (`archived`: those that are), pinned ones
        first, then newest activity first, without those waiting to be deleted."""
        hidden = self.deleting(user_id)
        topics = await self.store.list_topics(
            user_id, limit=limit + len(hidden), offset=offset, archived=archived
        )
        return [topic for topic in topics if topic.id not in hidden][:limit]

    async def count_archived(self, user_id: str) -> int:
        return await self.store.count_topics(user_id, archived=True)

    async def usage(self, user_id: str, *, days: int = 30) -> list[UsageRow]:
        """Tokens per day and model over the last `days` days (UTC), newest first."""
        since = (utcnow().date() - timedelta(days=days - 1)).isoformat()
        return await self.store.usage_summary(user_id, since_day=since)

    async def search(self, user_id: str, query: str, *, limit: int = 50) -> list[SearchHit]:
        """The best hit per topic, its snippet read as text (no markdown marks)."""
        hits = await self.store.search(user_id, query[:200], limit=limit)
        return [replace(hit, snippet=plain_snippet(hit.snippet)) for hit in hits]

    async def close(self) -> None:
        """Shut down: the deletions still waiting are carried out (before the chat service
        closes, so a reply running in such a topic is stopped, not interrupted)."""
        for user_id, pending in list(self._pending_deletes.items()):
            for topic_id in list(pending):
                await self._delete_when_due(user_id, topic_id)

    def _cancel_pending_delete(self, user_id: str, topic_id: str) -> bool:
        pending = self._pending_deletes.get(user_id, {})
        handle = pending.pop(topic_id, None)
        if not pending:
            self._pending_deletes.pop(user_id, None)
        if handle is None:
            return False
        handle.cancel()
        return True

    async def _delete_when_due(self, user_id: str, topic_id: str) -> None:
        if not self._cancel_pending_delete(user_id, topic_id):
            return  # undone meanwhile
        try:
            await self.delete_topic(user_id, topic_id)
        except NotFound:
            pass
        except StoreUnavailable as exc:  # the topic shows again: kept rather than half-deleted
            log.warning("could not delete topic %s: %s", topic_id, exc)
            self.chat.changed(user_id, topic_id)

    def _clean_title(self, title: str) -> str:
        title = " ".join(title.split())
        if not title:
            raise InvalidInput(msg("The title cannot be empty."))
        if len(title) > self.options.max_title_chars:
            raise TooLarge(
                msg(
                    "The title is too long (at most {count} characters).",
                    count=self.options.max_title_chars,
                )
            )
        return title
