"""The one place pages turn service errors into words on the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from services.errors import ChatAppError


def describe(exc: ChatAppError) -> str:
    """The user-facing sentence for an error, with the wait time when there is one."""
    message = exc.message
    if exc.retry_after and "try again" not in message.lower():
        message += f" Try again in {max(1, round(exc.retry_after))} s."
    return message


def show_error(exc: ChatAppError) -> None:
    toast(describe(exc), "negative")


def toast(message: str, kind: str) -> None:
    """A message that stays until dismissed (kind: Quasar's negative, warning, …)."""
    ui.notify(message, type=kind, multi_line=True, close_button="Dismiss")


async def attempt(action: Callable[[], Awaitable[Any]]) -> Any:
    """Run a service call from a handler; a ChatAppError becomes a toast, not a crash."""
    try:
        return await action()
    except ChatAppError as exc:
        show_error(exc)
        return None
