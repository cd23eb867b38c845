"""The page's language: chosen once per page load, then every `_()` on that page uses it.

The language belongs to the NiceGUI client (one browser tab's page), so handlers that run
later, timers and background redraws inside `with client:` speak it too. It is, in order:
the signed-in user's choice (account page), this browser's last choice (kept after sign-out),
the browser's `Accept-Language`, English.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from html import escape
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nicegui import Client, ui

from services import i18n
from services.i18n import N_ as N_
from services.models import User

_languages: WeakKeyDictionary[Client, str] = WeakKeyDictionary()


def language() -> str:
    """The language code of the page being built or handled (English outside any page)."""
    try:
        client = ui.context.client
    except RuntimeError:  # not inside a page: an HTTP route, a plain task
        return i18n.DEFAULT
    return _languages.get(client, i18n.DEFAULT)


def _(text: str) -> str:
    """`text` (a literal: it is extracted into the catalogs) in the page's language."""
    return i18n.gettext(language(), text)


def ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(language(), singular, plural, n)


def tr(text: str) -> str:
    """A sentence that came from a service (a `Msg`, or one marked with `N_`)."""
    return i18n.translate(language(), text)


def number(value: float) -> str:
    return i18n.number(language(), value)


def ago(then: datetime, now: datetime) -> str:
    return i18n.ago(language(), then, now)


def date(value: datetime) -> str:
    return i18n.date(language(), value)


ZONE_COOKIE = "chatapp_tz"  # the browser's time zone; pages/static/app.js sets it


def time_zone() -> tzinfo:
    """The reader's time zone, as their browser told it (a cookie), else UTC."""
    try:
        request = ui.context.client.request
    except RuntimeError:  # not inside a page
        return UTC
    return _zone(request.cookies.get(ZONE_COOKIE, "") if request else "")


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):  # not a zone, or not a zone's name at all
        return UTC


def date_time(value: datetime) -> str:
    """A moment in the reader's time zone: "12/4/26, 2:05 PM"."""
    return i18n.date_time(language(), value, time_zone())


def moment(value: datetime, now: datetime | None = None) -> str:
    """When something happened, short, in the reader's time zone: the time of day if it was
    today, else the date and time."""
    zone = time_zone()
    if value.astimezone(zone).date() == (now or datetime.now(UTC)).astimezone(zone).date():
        return i18n.time(language(), value, zone)
    return i18n.date_time(language(), value, zone)


def choose(user: User | None, stored: str | None = None) -> str:
    """The language a new page load of this tab uses (see the module's docstring)."""
    client = ui.context.client
    code = (
        i18n.known(user.settings.get("language") if user else None)
        or i18n.known(stored)
        or i18n.negotiate(client.request.headers.get("accept-language") if client.request else "")
    )
    use(code)
    return code


def use(code: str) -> None:
    """Speak `code` on this page from now on, and tell the browser (`<html lang>`, Quasar's
    own words such as a table's "No data"): the page's response is made after this."""
    client = ui.context.client
    _languages[client] = code
    if code != i18n.DEFAULT:
        ui.add_head_html(script_words())
    tag = i18n.html_lang(code)
    if client.page.resolve_language() != tag:
        # NiceGUI reads the language from the page's definition, shared by every tab; this
        # tab gets its own copy of it, which NiceGUI reads when it makes the HTML.
        client.page = copy.copy(client.page)
        client.page.language = tag  # type: ignore[assignment]


# The few words inside rendered markdown (services/markdown.py writes them in English, once
# for every reader: the render cache is shared) and in pages/static/chat.js.
_MARKED = (
    N_("Copy code"),
    N_("Copy"),
    N_("shown as plain text"),
    N_("Image from {host}: click to load"),
    N_("Image from {host} not shown: its address is not secure (http)"),
    N_("image"),
)
_IMAGE = re.compile(r">Image from ([^<]*?): click to load</button>")
_INSECURE = re.compile(r">Image from ([^<]*?) not shown: its address is not secure \(http\)<")
_BLOCKED = re.compile(r'<span class="image-blocked">\[image: ')


def localize(html: str, code: str | None = None) -> str:
    """Rendered markdown with its buttons' and notes' words in the page's language."""
    code = code or language()
    if code == i18n.DEFAULT or not html:
        return html
    if "copy-code" in html:
        html = html.replace(
            'aria-label="Copy code">Copy</button>',
            f'aria-label="{_attr(code, "Copy code")}">{i18n.gettext(code, "Copy")}</button>',
        )
    if "md-plain-note" in html:
        html = html.replace(
            ">shown as plain text<", f">{i18n.gettext(code, 'shown as plain text')}<"
        )
    if "image-" in html:
        words = i18n.gettext(code, "Image from {host}: click to load")
        html = _IMAGE.sub(lambda m: ">" + words.format(host=m[1]) + "</button>", html)
        insecure = i18n.gettext(
            code, "Image from {host} not shown: its address is not secure (http)"
        )
        html = _INSECURE.sub(lambda m: ">" + insecure.format(host=m[1]) + "<", html)
        image = i18n.gettext(code, "image")
        html = _BLOCKED.sub(f'<span class="image-blocked">[{image}: ', html)
    return html


def _attr(code: str, text: str) -> str:
    return escape(i18n.gettext(code, text), quote=True)


def script_words() -> str:
    """What pages/static/chat.js and app.js say, as a script telling it in the page's language."""
    words = {
        "copy": _("Copy"),
        "copied": _("Copied"),
        "loading": _("Loading"),
        "latest": _("Jump to latest"),
    }
    data = json.dumps(words).replace("<", "\\u003c")
    return f"<script>window.chatappWords = {data};</script>"
