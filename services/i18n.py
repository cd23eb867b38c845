"""Languages: gettext catalogs (Babel), the browser's choice, and dates and numbers by Babel.

Nothing here knows about pages. The catalogs live in services/locale/<code>/LC_MESSAGES/
chatapp.po (`make messages` extracts and updates them) and are compiled in memory when first
used, so there is no build step and no binary file to keep in step with its source.

Services write what a user may read as `msg("{name} is empty.", name=name)`: a `str` that is
the English sentence (logs, the API and tests read it as it is) and remembers its template and
values, so a page can show it in the reader's language (`translate`). Plain sentences are
marked with `N_` where they are defined and translated where they are shown.
"""

from __future__ import annotations

import io
import re
from contextvars import ContextVar
from datetime import datetime, timedelta, tzinfo
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "chatapp"
DEFAULT = "en"

# Code (as the catalogs are named) -> the language's name in itself, as a chooser lists it.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "zh_CN": "简体中文",
    "zh_TW": "繁體中文",
    "ja": "日本語",
}


# The language of the person a service is working for right now, when a page says so (pages
# set it around each service call; tasks started meanwhile, such as a reply, inherit it). Only
# what writes words of its own reads it: the demo model.
speaking: ContextVar[str] = ContextVar("speaking", default=DEFAULT)


def N_(text: str) -> str:
    """Mark `text` for extraction; it is translated where it is shown."""
    return text


class Msg(str):
    """An English sentence that knows its template and values, to be shown translated."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Msg:
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template = template
        text.params = params
        return text

    def __reduce__(self) -> Any:  # pickles (and copies) as itself, not as a plain str
        return (_rebuild, (self.template, self.params))


def _rebuild(template: str, params: dict[str, Any]) -> Msg:
    return Msg(template, **params)


msg = Msg  # what services call: msg("{name} is empty.", name=name)


def known(code: str | None) -> str | None:
    """`code` when it is a language we have, else None."""
    return code if code in LANGUAGES else None


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalog of `code` (English and unknown codes: the source text itself)."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(code: str, text: str) -> str:
    return translations(code).gettext(text)


def ngettext(code: str, singular: str, plural: str, n: int) -> str:
    return translations(code).ngettext(singular, plural, n)


def translate(code: str, text: str) -> str:
    """A service's sentence in language `code`: a `Msg` by its template, else as a whole, else
    (a `Msg` read back from the database as plain English) by the template it was made from."""
    if isinstance(text, Msg):
        template, params = text.template, text.params
    elif code == DEFAULT:
        return text
    elif (whole := gettext(code, text)) != text:
        return whole
    elif (found := recognised(text)) is not None:
        template, params = found
    else:
        return text
    translated = gettext(code, template)
    if not params:
        return translated
    for form in (translated, _SPEC.sub(r"{\1}", translated)):  # values read back are text
        try:
            return form.format(**params)
        except (KeyError, IndexError, ValueError):  # a broken translation: the English stands
            continue
    return str(text)


_FIELD = re.compile(r"\\\{(\w+)(?::[^}]*)?\\\}")  # `{name}` or `{name:spec}`, as re.escape wrote it
_SPEC = re.compile(r"\{(\w+):[^}]*\}")  # `{name:spec}`


@cache
def pattern(template: str) -> re.Pattern[str]:
    """`template` as a regular expression, each `{name}` a group that takes any text."""
    return re.compile(_FIELD.sub(r"(?P<\1>.*?)", re.escape(template)), re.S)


@cache
def _templates() -> list[str]:
    """Every sentence of the catalog with values in it, the longest first (the most specific)."""
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as source:
        catalog = read_po(source, domain=DOMAIN)
    found = [m.id for m in catalog if isinstance(m.id, str) and re.search(r"\{\w+", m.id)]
    return sorted(found, key=len, reverse=True)


@lru_cache(maxsize=1024)
def recognised(text: str) -> tuple[str, dict[str, str]] | None:
    """The catalog's sentence with values that made `text`, with the values (as text), if one
    did: a `Msg` read back from the database is plain English."""
    for template in _templates():
        if (match := pattern(template).fullmatch(text)) is not None:
            return template, match.groupdict()
    return None


# ----- choosing ---------------------------------------------------------------------------------

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$|^\*$")
# Chinese by script (zh-Hant, zh-Hans) or by region: Taiwan, Hong Kong and Macau read
# Traditional characters, the rest Simplified.
_TRADITIONAL = {"hant", "tw", "hk", "mo"}


def _code_of(tag: str) -> str | None:
    parts = tag.lower().split("-")
    if parts[0] == "zh":
        return "zh_TW" if _TRADITIONAL & set(parts[1:]) else "zh_CN"
    return known(parts[0])


def negotiate(accept_language: str | None) -> str:
    """The best language of ours for an `Accept-Language` header (RFC 9110), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not _TAG.match(tag):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        if code := _code_of(tag):
            return code
    return DEFAULT


def html_lang(code: str) -> str:
    """The BCP 47 tag for `<html lang>`: fonts pick Chinese or Japanese glyphs by it."""
    return {"en": "en-US", "zh_CN": "zh-CN", "zh_TW": "zh-TW", "ja": "ja"}.get(code, "en-US")


# ----- formatting -------------------------------------------------------------------------------


def _locale(code: str) -> Locale:
    return Locale.parse(code)


def number(code: str, value: float) -> str:
    """1234567 -> "1,234,567" (grouped as the language groups them)."""
    return format_decimal(value, locale=_locale(code))


def date(code: str, value: datetime) -> str:
    """A day as the language writes it: "Dec 4, 2026", "2026年12月4日"."""
    return format_date(value, format="medium", locale=_locale(code))


def date_time(code: str, value: datetime, zone: tzinfo | None = None) -> str:
    """A moment, short, in time zone `zone` (None: UTC): "12/4/26, 2:05 PM"."""
    return format_datetime(value, format="short", tzinfo=zone, locale=_locale(code))


def time(code: str, value: datetime, zone: tzinfo | None = None) -> str:
    """The time of day of a moment in time zone `zone` (None: UTC): "2:05 PM", "14:05"."""
    return format_time(value, format="short", tzinfo=zone, locale=_locale(code))


def ago(code: str, then: datetime, now: datetime) -> str:
    """How long ago, short: "now", "5 min. ago", "5分钟前", "3 days ago"; a date after a week."""
    delta = max(timedelta(0), now - then)
    if delta < timedelta(minutes=1):
        return gettext(code, N_("now"))
    if delta >= timedelta(days=7):
        return date(code, then)
    return format_timedelta(
        -delta, add_direction=True, format="short", threshold=1, locale=_locale(code)
    )
