"""First-words titles: cut at a word in spaced text, by characters in Chinese and Japanese."""

from __future__ import annotations

from services.titles import TITLE_PROMPT, first_words


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
