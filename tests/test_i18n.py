"""Languages: the catalogs are complete, the browser's choice is read right, services'
sentences are shown translated, and dates and numbers are Babel's."""

from __future__ import annotations

import copy
import pickle
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services import i18n
from services.demo import DemoLLM
from services.errors import InvalidInput, NotFound
from services.i18n import LANGUAGES, Msg, msg, negotiate, translate
from tools import messages

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != i18n.DEFAULT])
def test_every_sentence_is_translated(code: str) -> None:
    """A new `_()` without its translation fails here (run `python -m tools.messages`)."""
    assert messages.problems(code) == []


def test_the_template_is_up_to_date() -> None:
    with messages.TEMPLATE.open("rb") as source:
        committed = {m.id for m in messages.read_po(source) if m.id}
    assert committed == {m.id for m in messages.extract() if m.id}


def test_translations_are_safe_in_html_attributes() -> None:
    """Pages put some translations in attributes (aria-label, title)."""
    for code in LANGUAGES:
        if code == i18n.DEFAULT:
            continue
        for message in messages.read(code):
            if not message.id:  # the header
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert not any('"' in s or "<" in s for s in strings), (code, message.id)


def test_no_gettext_call_hides_in_an_f_string() -> None:
    """Babel cannot extract `_()` inside an f-string: such a sentence would stay English."""
    for source in messages.SOURCES:
        for path in (ROOT / source).rglob("*.py"):
            assert not re.search(r"\{_\(", path.read_text()), path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-SG", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh-TW", "zh_TW"),
        ("zh-HK,en;q=0.5", "zh_TW"),
        ("zh-Hant", "zh_TW"),
        ("ja-JP,ja;q=0.9", "ja"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, de;q=0.9", "en"),  # nothing of ours: English
        ("fr;q=0.9, ja;q=0.8, zh;q=0.7", "ja"),  # the best one we have
        ("en;q=0.1, zh-CN;q=0.9", "zh_CN"),  # quality, not order
        ("zh-CN;q=0, ja", "ja"),  # q=0: not acceptable
        ("*", "en"),
        ("", "en"),
        (None, "en"),
        ("zh-CN;q=abc", "en"),  # unreadable quality: not acceptable
        ("<script>, zh-CN", "zh_CN"),  # a malformed tag is skipped
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_a_service_sentence_is_english_and_translatable() -> None:
    text = msg("{name} is empty.", name="notes.txt")
    assert text == "notes.txt is empty." and isinstance(text, str)
    assert translate("zh_CN", text) == "notes.txt 是空文件。"
    assert translate("en", text) == "notes.txt is empty."
    assert translate("xx", text) == "notes.txt is empty."  # an unknown language: English
    for copied in (pickle.loads(pickle.dumps(text)), copy.deepcopy(text)):
        assert isinstance(copied, Msg) and translate("ja", copied) == translate("ja", text)
    error = InvalidInput(text)
    assert str(error) == "notes.txt is empty." and translate("zh_TW", error.message) != text


def test_a_service_sentence_read_back_as_plain_text_is_translated() -> None:
    # What a saved error is after a reload: the English, its template and values forgotten.
    for made in (
        msg("The tool did not answer within {seconds:g} s.", seconds=60.0),
        msg("{name}: the PDF cannot be read ({reason}).", name="a (1).pdf", reason="EOF"),
        msg("Tool server not found: {id}.", id="x.*+?"),
    ):
        plain = str(made)
        assert not isinstance(plain, Msg)
        assert translate("zh_CN", plain) == translate("zh_CN", made) != plain
    assert translate("zh_CN", "Nothing we ever said.") == "Nothing we ever said."
    assert translate("en", "a (1).pdf is empty.") == "a (1).pdf is empty."


def test_default_error_messages_are_translated() -> None:
    assert translate("zh_CN", NotFound().message) == "未找到。"


def test_a_broken_translation_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def gettext(self, text: str) -> str:
            return "{nome} 坏了"

    monkeypatch.setattr(i18n, "translations", lambda code: Broken())
    assert translate("zh_CN", msg("{name} is empty.", name="a")) == "a is empty."


def test_relative_times_dates_and_numbers() -> None:
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert i18n.ago("zh_CN", now - timedelta(minutes=2), now) == "2分钟前"
    assert i18n.ago("en", now - timedelta(minutes=2), now) == "2 min. ago"
    assert i18n.ago("ja", now - timedelta(hours=3), now) == "3 時間前"
    assert i18n.ago("zh_CN", now - timedelta(seconds=5), now) == "刚刚"
    assert i18n.ago("en", now + timedelta(seconds=5), now) == "now"  # a clock a little ahead
    assert i18n.ago("zh_CN", now - timedelta(days=30), now) == "2026年11月4日"
    assert i18n.number("zh_CN", 1234567) == "1,234,567"
    assert i18n.date("ja", now) == "2026/12/04"


@pytest.mark.parametrize(
    ("code", "greeting"),
    [("en", "Hello from the demo model"), ("zh_CN", "来自演示模型的问候"), ("ja", "デモモデル")],
)
async def test_the_demo_model_answers_in_the_readers_language(code: str, greeting: str) -> None:
    token = i18n.speaking.set(code)
    try:
        answer = await DemoLLM(pace=0).complete([{"role": "user", "content": "hi"}], model="demo")
    finally:
        i18n.speaking.reset(token)
    assert greeting in answer
