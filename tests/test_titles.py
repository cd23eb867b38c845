"""Titles: first words cut at a word (by characters in CJK), model answers cleaned and capped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatapp.app import build_services, stop_services
from chatapp.settings import load_settings
from services.context import Services
from services.models import Topic
from services.titles import TITLE_COLUMNS, TITLE_PROMPT, clean_title, first_words
from tests.fake_openai import FakeOpenAI


def test_spaced_text_is_cut_at_a_word() -> None:
    title = first_words("Plan a weekend in Lisbon with friends and family who love food")
    assert title == "Plan a weekend in Lisbon with friends and…"
    assert first_words("  short   question ") == "short question"


def test_cjk_text_is_cut_by_characters_at_half_the_count() -> None:
    """A CJK character is as wide as two Latin ones: 24 of them fill the 48 columns."""
    chinese = first_words(
        "我们今天讨论数据库索引的设计和查询优化，以及如何在大规模数据下保持查询性能稳定"
    )
    assert chinese == "我们今天讨论数据库索引的设计和查询优化，以及如何…"
    japanese = first_words(
        "データベースのインデックス設計について教えてください。特に複合インデックス"
    )
    assert japanese.endswith("…") and len(japanese) == 25
    assert first_words("数据库索引") == "数据库索引"


def test_the_title_model_is_asked_for_the_conversations_language() -> None:
    assert "language of the message" in TITLE_PROMPT


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ('Title: "**Foo**"', "Foo"),
        ("Baking Bread at Home", "Baking Bread at Home"),
        ("**Title:** Baking Bread", "Baking Bread"),
        ("**Title**: Baking Bread", "Baking Bread"),
        ("title - no label here", "title - no label here"),
        ("TITLE: Baking Bread.", "Baking Bread"),
        ("Title:\n\nBaking bread", "Baking bread"),
        ("Baking bread\n\nThis title fits because…", "Baking bread"),
        ("# Baking Bread.", "Baking Bread"),
        ("## *Baking* _bread_", "Baking bread"),
        ("> Title: Foo", "Foo"),
        ("- Foo", "Foo"),
        ("“Baking bread”", "Baking bread"),
        ("'Baking bread'", "Baking bread"),
        ('"Baking bread".', "Baking bread"),
        ('"Unclosed quote', "Unclosed quote"),
        ('Never opened"', "Never opened"),
        ("«Pain maison»", "Pain maison"),
        ("~~Old~~ New plan", "Old New plan"),
        ("Title: `git rebase` basics.", "git rebase basics"),
        ('"Python `__init__` explained."', "Python __init__ explained"),
        ("snake_case names in C++", "snake_case names in C++"),
        ("Don't panic", "Don't panic"),
        ("What is Rust?", "What is Rust?"),
        ("Ratios like a:b", "Ratios like a:b"),
        ("  Lots   of\tspace  ", "Lots of space"),
        ("标题：数据库索引设计", "数据库索引设计"),
        ("標題：「資料庫索引設計」。", "資料庫索引設計"),
        ("「数据库索引设计」", "数据库索引设计"),
        ("『データベース設計』", "データベース設計"),
        ("タイトル：「データベース設計」", "データベース設計"),
        ("**タイトル：** データベース設計。", "データベース設計"),
        ("件名： 旅行の計画", "旅行の計画"),
        ("", ""),
        ('""', ""),
        ("Title:", ""),
    ],
)
def test_a_model_answer_becomes_a_clean_title(answer: str, title: str) -> None:
    assert clean_title(answer) == title


def test_long_titles_are_cut_at_a_word_with_an_ellipsis() -> None:
    answer = "Title: " + "A comprehensive guide to " * 10
    title = clean_title(answer)
    assert title.endswith("…") and len(title) <= TITLE_COLUMNS + 1
    assert title[:-1] in answer and not title[:-1].endswith(" ")
    assert answer[7 + len(title) - 1] == " ", "cut inside a word"
    # no punctuation is left before the ellipsis
    assert clean_title("One, two, " * 20).endswith("two…")


def test_cjk_titles_are_cut_by_characters() -> None:
    title = clean_title("数据库" * 30)
    assert title == "数据库" * 10 + "…"
    japanese = clean_title(
        "データベースのインデックス設計とクエリ最適化について詳しく解説する長い題名です"
    )
    assert japanese.endswith("…") and len(japanese) == TITLE_COLUMNS // 2 + 1


@pytest.fixture
async def titling(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    """The services with automatic titles on (the shared fixture turns them off)."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("CHATAPP_LLM_TIMEOUT", "5")
    monkeypatch.setenv("CHATAPP_AUTO_TITLE", "true")
    built = await build_services(load_settings())
    yield built
    await stop_services(built)


async def test_a_title_answered_with_label_quotes_and_markdown_is_stored_clean(
    titling: Services, fake: FakeOpenAI
) -> None:
    alice = await titling.auth.register(email="alice@example.com", password="correct horse")
    fake.enqueue("Here is how.", 'Title: "**Foo**"')
    topic = await titling.topics.create_topic(alice.id)
    changed = asyncio.Event()
    titling.chat.watch_topics(alice.id, lambda _topic_id: changed.set())
    generation = await titling.chat.send(alice.id, topic.id, "how do I foo?")
    async for _event in generation.events():
        pass

    async def titled() -> Topic:
        while True:
            await changed.wait()
            changed.clear()
            found = await titling.store.get_topic(alice.id, topic.id)
            if found.settings.get("title_auto"):
                return found

    found = await asyncio.wait_for(titled(), timeout=60)  # a guard against hanging, not a timing
    assert found.title == "Foo"
    assert "how do I foo?" in fake.chats[-1].json["messages"][-1]["content"]
