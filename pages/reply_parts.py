"""The small parts of a turn around its text: a reply's model, time and tokens, its thumbs up
and down, a question's time on hover, and an error as its reader may see it."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from pages.feedback import attempt
from pages.i18n import N_, _, date_time, moment, number, tr
from pages.session import recheck
from services.context import Services
from services.models import Message, MessageStatus, Rating
from services.server_address import shown_error

THUMBS = {
    Rating.UP: ("thumb_up", "thumb_up_off_alt", N_("Good reply")),
    Rating.DOWN: ("thumb_down", "thumb_down_off_alt", N_("Bad reply")),
}


def error_text(message: Message, *, owner: bool) -> str:
    """A failed reply's error in the page's language; the model server's address only for
    the owner (services/server_address.py)."""
    return tr(shown_error(message.error or N_("The reply failed."), owner=owner))


def asked_at(bubble: ui.element, message: Message) -> None:
    """A question's time, shown on hover."""
    bubble.props["title"] = date_time(message.created_at)


def reply_meta(message: Message) -> None:
    """A quiet line under a reply: the model that wrote it, when, and the tokens it used."""
    with ui.row().classes("items-center gap-0 text-xs muted reply-meta").mark("reply-meta"):
        if message.model:
            ui.label(message.model).classes("reply-model").mark("reply-model")
        when = ui.label(moment(message.created_at)).classes("reply-time").mark("reply-time")
        when.props["title"] = date_time(message.created_at)
        if (usage := message.usage) and usage.total_tokens:
            words = _("{prompt} + {reply} tokens").format(
                prompt=number(usage.prompt_tokens), reply=number(usage.completion_tokens)
            )
            if usage.reasoning_tokens:
                thinking = number(usage.reasoning_tokens)
                words += " " + _("({count} thinking)").format(count=thinking)
            tokens = ui.label(words)
            tokens.props["title"] = _("prompt + reply tokens (of which thinking)")


class Thumbs:
    """Thumbs up and down on a reply: pressed shows as pressed (aria-pressed, a filled icon);
    pressing the pressed one takes it back. Kept with the reply (services/chat.py rate)."""

    def __init__(self, services: Services, user_id: str, message: Message) -> None:
        self.services = services
        self.user_id = user_id
        self.message = message
        self.buttons: dict[Rating, ui.button] = {}
        for rating, (_on, _off, label) in THUMBS.items():
            button = ui.button(on_click=self._press(rating)).props("flat round dense size=sm")
            button.props["aria-label"] = _(label)
            button.mark(f"thumb-{rating.value}")
            self.buttons[rating] = button
        self._show()

    def _press(self, rating: Rating) -> Callable[[], object]:
        async def press() -> None:
            if await recheck(self.services) is None:
                return
            chosen = None if self.message.rating == rating else rating
            rate = self.services.chat.rate
            if await attempt(lambda: rate(self.user_id, self.message.id, chosen)) is not None:
                self.message.rating = chosen  # the turn as drawn: a redraw compares with it
                self._show()

        return press

    def _show(self) -> None:
        for rating, button in self.buttons.items():
            on, off, _label = THUMBS[rating]
            pressed = self.message.rating == rating
            button.props(f'icon={on if pressed else off} aria-pressed="{str(pressed).lower()}"')
            button.classes(add="thumb-pressed") if pressed else button.classes(
                remove="thumb-pressed"
            )


def rateable(message: Message) -> bool:
    """A reply with something to judge: not one that failed before it said anything."""
    return bool(message.content.strip()) or message.status == MessageStatus.COMPLETE
