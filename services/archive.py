"""Topics leaving and entering chatapp: Markdown and JSON exports, a whole-account archive,
imports of such archives and of ChatGPT's `conversations.json`, and read-only share links.

An import is checked whole before anything is written, and written all or nothing: a file
that is not JSON, not an export we know, or whose messages do not form a tree gets an error
naming what is wrong, and the account is as it was. Imported topics and messages get new
ids made from their original times, so they sort where they belong. Each imported topic keeps
a fingerprint of what it was made from (`import_key` in its settings): importing the same file
again skips the topics already there and says how many, instead of copying them all again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.archive_import import ARCHIVE, IMPORT_KEY, TOPIC, parse_import
from services.chat import ChatService, Turn
from services.models import (
    Rating,
    Role,
    Share,
    Topic,
    calls_to_json,
    utcnow,
)
from services.store import Store
from services.tools.export import calls_markdown
from services.tools.history import shared_calls


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did: the topics it added, and how many it left out as imported before."""

    topics: list[Topic]
    skipped: int = 0


# ----- the service --------------------------------------------------------------------------


class ArchiveService:
    """Exports, imports and shares, on the same store and chat service as everything else."""

    def __init__(self, store: Store, chat: ChatService) -> None:
        self.store = store
        self.chat = chat

    async def topic_markdown(self, user_id: str, topic_id: str) -> str:
        topic = await self.store.get_topic(user_id, topic_id)
        return markdown_of(topic, await self.chat.conversation(user_id, topic_id))

    async def topic_json(self, user_id: str, topic_id: str) -> dict[str, Any]:
        topic = await self.store.get_topic(user_id, topic_id)
        return {"format": TOPIC, "version": 1, "topic": await self._topic_record(topic)}

    async def archive(self, user_id: str) -> dict[str, Any]:
        total = await self.store.count_topics(user_id)
        topics = await self.store.list_topics(user_id, limit=total)
        return {
            "format": ARCHIVE,
            "version": 1,
            "exported_at": utcnow().isoformat(),
            "topics": [await self._topic_record(topic) for topic in reversed(topics)],
        }

    async def import_file(self, user_id: str, data: bytes) -> Imported:
        """Import an archive, one topic, or ChatGPT's export. A topic imported before (from
        the same source, still in the account) is skipped, as is a second copy in the file."""
        topics = parse_import(user_id, data)
        seen = await self._imported_keys(user_id)
        fresh = []
        for topic, messages in topics:
            if (key := topic.settings[IMPORT_KEY]) not in seen:
                seen.add(key)
                fresh.append((topic, messages))
        if fresh:
            await self.store.import_topics(fresh)
        for topic, _ in fresh:
            self.chat.changed(user_id, topic.id)
        return Imported([topic for topic, _ in fresh], skipped=len(topics) - len(fresh))

    async def _imported_keys(self, user_id: str) -> set[str]:
        total = await self.store.count_topics(user_id)
        topics = await self.store.list_topics(user_id, limit=total) if total else []
        return {key for topic in topics if isinstance(key := topic.settings.get(IMPORT_KEY), str)}

    # shares

    async def share(self, user_id: str, topic_id: str, *, tool_results: bool = False) -> Share:
        """A new link to a snapshot of the topic as it is now (an older link stops working).
        Tool calls show, their results only with `tool_results`."""
        topic = await self.store.get_topic(user_id, topic_id)
        turns = await self.chat.conversation(user_id, topic_id)
        snapshot = {
            "title": topic.title,
            "tool_results": tool_results,
            "messages": [
                {
                    "role": turn.message.role.value,
                    "content": turn.message.content,
                    "model": turn.message.model,
                    "created_at": turn.message.created_at.isoformat(),
                    "tool_calls": shared_calls(turn.message, results=tool_results),
                }
                for turn in turns
                if turn.message.role != Role.SYSTEM
                and (turn.message.content or turn.message.tool_calls)
            ],
        }
        return await self.store.save_share(Share(user_id, topic_id, snapshot))

    async def shared(self, user_id: str, topic_id: str) -> Share | None:
        await self.store.get_topic(user_id, topic_id)
        return await self.store.share_of_topic(user_id, topic_id)

    async def unshare(self, user_id: str, topic_id: str) -> bool:
        await self.store.get_topic(user_id, topic_id)
        return await self.store.delete_share(user_id, topic_id)

    async def open_share(self, share_id: str) -> Share:
        return await self.store.get_share(share_id[:64])

    async def _topic_record(self, topic: Topic) -> dict[str, Any]:
        messages = await self.store.list_messages(topic.user_id, topic.id)
        return {
            "title": topic.title,
            "settings": topic.settings,
            "active_leaf_id": topic.active_leaf_id,
            "created_at": topic.created_at.isoformat(),
            "updated_at": topic.updated_at.isoformat(),
            **({"pinned": True} if topic.pinned else {}),
            **({"archived": True} if topic.archived else {}),
            "messages": [
                {
                    "id": m.id,
                    "parent_id": m.parent_id,
                    "role": m.role.value,
                    "content": m.content,
                    "status": m.status.value,
                    "model": m.model,
                    "created_at": m.created_at.isoformat(),
                    **(
                        {"reasoning": m.reasoning, "reasoning_seconds": m.reasoning_seconds}
                        if m.reasoning
                        else {}
                    ),
                    **({"tool_calls": calls_to_json(m.tool_calls)} if m.tool_calls else {}),
                    **({"rating": m.rating.value} if m.rating else {}),
                }
                for m in messages
            ],
        }


THUMBS = {Rating.UP: "👍", Rating.DOWN: "👎"}  # a rated reply's heading in Markdown


def markdown_of(topic: Topic, turns: list[Turn]) -> str:
    lines = [f"# {topic.title}", "", f"*Exported from chatapp on {utcnow():%Y-%m-%d %H:%M} UTC*"]
    for turn in turns:
        message = turn.message
        if message.role == Role.SYSTEM:
            continue
        who = "You" if message.role == Role.USER else f"Assistant ({message.model or 'model'})"
        rated = f" · {THUMBS[message.rating]}" if message.rating else ""
        lines += ["", f"## {who} · {message.created_at:%Y-%m-%d %H:%M}{rated}", ""]
        if message.reasoning:  # marked, and folded where Markdown shows HTML (GitHub, editors)
            took = f" for {round(message.reasoning_seconds)} s" if message.reasoning_seconds else ""
            lines += [
                f"<details><summary>Thought{took}</summary>",
                "",
                *(f"> {line}" if line else ">" for line in message.reasoning.splitlines()),
                "",
                "</details>",
                "",
            ]
        lines.append(message.content)
        lines += calls_markdown(message.tool_calls)
        for attachment in turn.attachments:
            lines += ["", f"*Attached: {attachment.name}*"]
    return "\n".join(lines).rstrip() + "\n"
