"""The one place pages turn service errors into words on the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from pages.i18n import _, language, tr
from services import i18n
from services.errors import ChatAppError


def describe(exc: ChatAppError) -> str:
    """The user-facing sentence for an error, with the wait time when there is one."""
    message = tr(exc.message)
    if exc.retry_after and "try again" not in exc.message.lower():
        message += " " + _("Try again in {seconds} s.").format(
            seconds=max(1, round(exc.retry_after))
        )
    return message


def show_error(exc: ChatAppError) -> None:
    toast(describe(exc), "negative")


def toast(message: str, kind: str) -> None:
    """A message that stays until dismissed (kind: Quasar's negative, warning, …)."""
    ui.notify(message, type=kind, multi_line=True, close_button=_("Dismiss"))


async def attempt(action: Callable[[], Awaitable[Any]]) -> Any:
    """Run a service call from a handler; a ChatAppError becomes a toast, not a crash."""
    speaking = i18n.speaking.set(language())  # a reply started here inherits it (demo model)
    try:
        return await action()
    except ChatAppError as exc:
        show_error(exc)
        return None
    finally:
        i18n.speaking.reset(speaking)
