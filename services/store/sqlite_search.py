"""SQLite search: Latin words on the word index, CJK text by its trigrams (any substring).

`search_text` (unicode61) takes whole words and a prefix of the last one, diacritics folded,
ranked by bm25: search as it always was. unicode61 makes a run of Chinese, Japanese or Korean
letters one token, so a query with such letters goes to `search_grams` (trigram) instead: a
word of three or more letters is a phrase of its trigrams, and a word of one or two letters is
the trigrams that begin with it, read from the index's term list (every letter of a text
begins one: texts are kept with two line breaks after them). A short word that begins too many
trigrams to ask for them all (`的`) is looked for by reading the user's texts instead.
"""

from __future__ import annotations

import re
import sqlite3

from services.models import SearchHit, Topic
from services.store._records import load, search_words, snippet_around
from services.store.sqlite_base import SqliteBase, decode_row

# Scripts where unicode61 finds no word breaks: Han (with its extensions and compatibility
# forms), kana, Bopomofo and Hangul (a Korean word carries its particle: 데이터베이스를).
CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003134f]"
)
# More trigrams than this for one short word: an OR of them all is slower than reading texts.
MAX_TERMS = 500
SNIPPET_TOKENS = 32  # trigram tokens are letters: about as wide as 12 Latin words

# The best-ranked entry of each topic (SQLite takes a bare column from the row min() picked);
# snippets only for the hits that are returned. A window function ranking every hit per topic
# cost about half again as much with 13,000 hits.
BY_WORDS = """
    WITH best AS (
        SELECT d.topic_id, d.message_id, d.id AS doc, min(rank) AS rank
        FROM search_text JOIN search_docs d ON d.id = search_text.rowid
        WHERE search_text MATCH :match AND d.user_id = :user_id
        GROUP BY d.topic_id ORDER BY rank LIMIT :limit)
    SELECT t.*, best.message_id AS hit_id,
        (SELECT snippet(search_text, 0, '', '', '…', 12) FROM search_text
         WHERE search_text MATCH :match AND rowid = best.doc) AS hit_snippet
    FROM best JOIN topics t ON t.id = best.topic_id
    ORDER BY best.rank
"""

# The newest entry of each topic, newest first: bm25 over trigrams costs more than the match
# itself when thousands of texts hold a common word, and says little about substrings.
BY_GRAMS = f"""
    WITH found AS (
        SELECT d.topic_id, max(d.id) AS doc
        FROM search_grams JOIN search_docs d ON d.id = search_grams.rowid
        WHERE search_grams MATCH :match AND d.user_id = :user_id
        GROUP BY d.topic_id ORDER BY doc DESC LIMIT :limit)
    SELECT t.*, d.message_id AS hit_id,
        (SELECT snippet(search_grams, 0, '', '', '…', {SNIPPET_TOKENS}) FROM search_grams
         WHERE search_grams MATCH :match AND rowid = found.doc) AS hit_snippet
    FROM found JOIN search_docs d ON d.id = found.doc JOIN topics t ON t.id = found.topic_id
    ORDER BY found.doc DESC
"""

TERMS = "SELECT term FROM search_grams_terms WHERE term >= ? AND term < ? LIMIT ?"


def fts_query(text: str) -> str:
    """Quote every word as an FTS5 string, so user input is never FTS syntax; last is a prefix."""
    words = search_words(text)
    return " ".join(f'"{word}"' for word in words) + "*" if words else ""


def has_cjk(words: list[str]) -> bool:
    return any(CJK.search(word) for word in words)


def quoted(text: str) -> str:
    """An FTS5 string: a phrase of its tokens, never query syntax."""
    return '"' + text.replace('"', '""') + '"'


def term_range(word: str) -> tuple[str, str]:
    """The bounds of the trigrams that begin with `word` (terms compare as UTF-8 bytes)."""
    return word, word + "\U0010ffff"


def gram_match(words: list[str], terms: dict[str, list[str]]) -> str:
    """The trigram query: every word must be in the text; `terms` holds the trigrams each
    short word begins (an empty list: no text has it, so nothing matches)."""
    parts = []
    for word in words:
        if len(word) >= 3:
            parts.append(quoted(word))
        elif found := terms[word]:
            parts.append("(" + " OR ".join(map(quoted, found)) + ")")
        else:
            return ""
    return " AND ".join(parts)


def by_reading(count: int) -> str:
    """The newest text of each topic that holds all `count` words (`:w0`…), read one by one."""
    held = " AND ".join(f"instr(lower(g.text), :w{i}) > 0" for i in range(count))
    return f"""
        WITH found AS (
            SELECT d.topic_id, max(d.id) AS doc
            FROM search_docs d JOIN search_grams g ON g.rowid = d.id
            WHERE d.user_id = :user_id AND {held}
            GROUP BY d.topic_id ORDER BY doc DESC LIMIT :limit)
        SELECT t.*, d.message_id AS hit_id, g.text AS hit_text
        FROM found JOIN search_docs d ON d.id = found.doc
        JOIN search_grams g ON g.rowid = found.doc JOIN topics t ON t.id = found.topic_id
        ORDER BY found.doc DESC
    """


class SqliteSearch(SqliteBase):
    async def search(self, user_id: str, query: str, *, limit: int = 50) -> list[SearchHit]:
        """The best match per topic, a title (message_id None) or a message with a snippet.

        Latin words go to the word index; CJK text, and Latin written against it with no
        space (我们用SQLite建索引) when the word index finds nothing, to the trigram index.
        """
        words = search_words(query)
        if not words or limit <= 0:
            return []
        if not has_cjk(words):
            args = {"match": fts_query(query), "user_id": user_id, "limit": limit}
            if hits := self._hits(await self._all(BY_WORDS, args)):
                return hits
        return await self._search_grams(user_id, [w.lower() for w in words], limit)

    async def _search_grams(self, user_id: str, words: list[str], limit: int) -> list[SearchHit]:
        terms: dict[str, list[str]] = {}
        for word in {w for w in words if len(w) < 3}:
            rows = await self._all(TERMS, (*term_range(word), MAX_TERMS + 1))
            terms[word] = [row["term"] for row in rows]
        if all(len(found) <= MAX_TERMS for found in terms.values()):
            if not (match := gram_match(words, terms)):
                return []
            args = {"match": match, "user_id": user_id, "limit": limit}
            return [
                SearchHit(h.topic, h.message_id, h.snippet.rstrip())
                for h in self._hits(await self._all(BY_GRAMS, args))
            ]
        args = {"user_id": user_id, "limit": limit, **{f"w{i}": w for i, w in enumerate(words)}}
        rows = await self._all(by_reading(len(words)), args)
        return [
            SearchHit(load(Topic, decode_row(r)), r["hit_id"], snippet_around(r["hit_text"], words))
            for r in rows
        ]

    @staticmethod
    def _hits(rows: list[sqlite3.Row]) -> list[SearchHit]:
        return [SearchHit(load(Topic, decode_row(r)), r["hit_id"], r["hit_snippet"]) for r in rows]
