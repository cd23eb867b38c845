"""MongoDB search: every word as an escaped, case-insensitive substring (so Chinese, Japanese
and Korean are found inside a sentence too), titles first, then each topic's newest message."""

from __future__ import annotations

import re
from typing import Any

from pymongo import DESCENDING

from services.models import SearchHit, Topic
from services.store._records import search_words, snippet_around
from services.store.mongo_base import MongoBase, from_doc


def _all_words(field: str, words: list[str]) -> dict[str, Any]:
    """Every word must appear, case-insensitively; words are escaped, never regex syntax."""
    return {"$and": [{field: {"$regex": re.escape(w), "$options": "i"}} for w in words]}


class MongoSearch(MongoBase):
    async def search(self, user_id: str, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Topics whose title has every word, then those with a message that has (newest first)."""
        words = search_words(query)
        if not words or limit <= 0:
            return []
        hits: dict[str, SearchHit] = {}
        newest_per_topic = [
            {"$match": {"user_id": user_id, **_all_words("content", words)}},
            {"$sort": {"_id": -1}},
            {"$group": {"_id": "$topic_id", "message_id": {"$first": "$_id"}}},
            {"$sort": {"message_id": -1}},
            {"$limit": limit},
        ]
        async with self._guard():
            titled = self.topics.find({"user_id": user_id, **_all_words("title", words)})
            async for doc in titled.sort("activity", DESCENDING).limit(limit):
                hits[doc["_id"]] = SearchHit(from_doc(Topic, doc), None, doc["title"])
            found = await self.messages.aggregate(newest_per_topic).to_list(None)
            ids = [f["message_id"] for f in found if f["_id"] not in hits]
            messages = await self.messages.find({"_id": {"$in": ids}}).to_list(None)
            topic_ids = [m["topic_id"] for m in messages]
            topics = await self.topics.find(
                {"_id": {"$in": topic_ids}, "user_id": user_id}
            ).to_list(None)
        topic_by_id = {t["_id"]: from_doc(Topic, t) for t in topics}
        for m in sorted(messages, key=lambda m: m["_id"], reverse=True):
            if (topic := topic_by_id.get(m["topic_id"])) is not None:
                hits[topic.id] = SearchHit(topic, m["_id"], snippet_around(m["content"], words))
        return list(hits.values())[:limit]
