"""A reply's tool calls as rows in its turn: the tool, a running indicator or the time taken,
Allow and Deny while it waits for the user, and (folded) its arguments and result.

Each row is a native `<details>`, like the thinking block: keyboard and screen readers open
it without a script of ours. A result is untrusted text from another program: it is shown as
text (escaped by NiceGUI), never as HTML, and never run.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from nicegui import ui

from pages.i18n import N_, _, language
from services import i18n
from services.models import ToolCall, ToolCallStatus
from services.tools.answers import IMAGE_TYPES

Answer = Callable[[str, bool], Awaitable[None]]  # (call id, allow)

STATUS_WORDS = {
    ToolCallStatus.PENDING: N_("Waiting for your approval"),
    ToolCallStatus.RUNNING: N_("Running…"),
    ToolCallStatus.DENIED: N_("Denied"),
    ToolCallStatus.CANCELLED: N_("Cancelled"),
    ToolCallStatus.ERROR: N_("Failed"),
}


def pretty(arguments: str) -> str:
    """The model's JSON arguments, indented when they are JSON (else as written)."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except (ValueError, TypeError):
        return arguments


def split_at_calls(content: str, calls: list[ToolCall]) -> list[tuple[str, list[ToolCall]]]:
    """The reply's text cut where its calls were made: (text before, the calls made there),
    in order, then the text after the last calls (with no calls)."""
    parts: list[tuple[str, list[ToolCall]]] = []
    start = 0
    for offset in sorted({min(max(call.offset, 0), len(content)) for call in calls}):
        here = [call for call in calls if min(max(call.offset, 0), len(content)) == offset]
        parts.append((content[start:offset], here))
        start = offset
    parts.append((content[start:], []))
    return parts


class ToolCallRow(ui.element):
    """One call; `redraw(call)` draws it again as its status changes."""

    def __init__(
        self, call: ToolCall, *, answer: Answer | None = None, images_at: str | None = None
    ) -> None:
        super().__init__("details")
        self.classes("tool-call").mark("tool-call")
        self.props(f'data-call-id="{call.id}"')
        self.answer = answer
        self.images_at = images_at  # where the call's images open large: <images_at>/<n>
        self.language = language()  # rows change outside the page's handlers too
        with self:
            with ui.element("summary").classes("tool-call-summary"):
                ui.icon("build", size="xs").classes("tool-call-icon")
                self.title = ui.label("").classes("tool-call-name")
                self.spinner = ui.spinner(size="1em").classes("tool-call-spinner")
                self.status = ui.label("").classes("tool-call-status")
            with ui.row().classes("items-center gap-2 tool-call-approval") as self.approval:
                ui.button(_("Allow"), on_click=lambda: self._answer(True)).props(
                    "dense unelevated no-caps"
                ).mark("tool-allow")
                ui.button(_("Deny"), on_click=lambda: self._answer(False)).props(
                    "dense outline no-caps"
                ).mark("tool-deny")
            with ui.element("div").classes("tool-call-body"):
                ui.label(_("Arguments")).classes("tool-call-heading")
                self.arguments = ui.label("").classes("tool-call-text")
                self.result_heading = ui.label(_("Result")).classes("tool-call-heading")
                self.result = ui.label("").classes("tool-call-text").mark("tool-result")
                self.images = ui.row().classes("gap-2 tool-call-images").mark("tool-images")
                self._shown_images: list[dict[str, str]] = []
                self.note = ui.label("").classes("tool-call-note")
        self.call = call
        self._opened = False
        self.redraw(call)

    def _say(self, text: str) -> str:
        return i18n.gettext(self.language, text)

    def redraw(self, call: ToolCall) -> None:
        self.call = call
        where = f"{call.server_name} · " if call.server_name else ""
        self.title.set_text(where + (call.tool or call.name))
        running = call.status == ToolCallStatus.RUNNING
        self.spinner.set_visibility(running)
        if call.status == ToolCallStatus.DONE:
            seconds = call.seconds or 0.0
            words = self._say(N_("{seconds} s")).format(seconds=f"{seconds:.1f}")
        else:
            words = self._say(STATUS_WORDS.get(call.status, ""))
        self.status.set_text(words)
        self.classes(remove="tool-call-pending tool-call-error")
        if call.status == ToolCallStatus.PENDING:
            # Open while it asks: the buttons and the arguments being approved in view.
            self.classes(add="tool-call-pending").props("open")
            self._opened = True
        elif self._opened:  # answered: folded again, like any other row
            self.props(remove="open")
            self._opened = False
        if call.status in (ToolCallStatus.ERROR, ToolCallStatus.DENIED):
            self.classes(add="tool-call-error")
        self.approval.set_visibility(call.status == ToolCallStatus.PENDING and bool(self.answer))
        self.arguments.set_text(pretty(call.arguments) or "{}")
        text = call.result or (i18n.translate(self.language, call.error) if call.error else "")
        self.result_heading.set_visibility(bool(text))
        self.result.set_text(text)
        self.note.set_text(
            self._say(N_("The result was cut at the size limit.")) if call.truncated else ""
        )
        self.note.set_visibility(call.truncated)
        self._show_images(call)

    def _show_images(self, call: ToolCall) -> None:
        """The result's images as thumbnails, like attachments: data: URLs built from the
        saved base64 (only the image types a result may keep), never HTML from the tool; a
        click opens one large in a new tab, from its own address."""
        images = [
            (n, image) for n, image in enumerate(call.images) if image.get("mime") in IMAGE_TYPES
        ]
        self.images.set_visibility(bool(images))
        if [image for _, image in images] == self._shown_images:
            return
        self._shown_images = [image for _, image in images]
        self.images.clear()
        alt = self._say(N_("Image from {tool}")).format(tool=call.tool or call.name)
        with self.images:
            for number, image in images:
                src = f"data:{image['mime']};base64,{image.get('data', '')}"
                if self.images_at is None:
                    thumbnail(src, alt)
                    continue
                target = f"{self.images_at}/{quote(call.id, safe='')}/{number}"
                with ui.link(target=target, new_tab=True).classes("attachment-image"):
                    thumbnail(src, alt)

    async def _answer(self, allow: bool) -> None:
        if self.answer is not None and self.call.status == ToolCallStatus.PENDING:
            self.approval.set_visibility(False)  # one answer: the buttons go at once
            await self.answer(self.call.id, allow)


def thumbnail(src: str, alt: str) -> None:
    element = ui.element("img").classes("attachment-thumb tool-call-image")
    element.props["src"] = src
    element.props["alt"] = alt


class ToolCallList:
    """The rows of a reply being written, created and updated as its calls change."""

    def __init__(
        self, container: ui.element, answer: Answer | None, images_at: str | None = None
    ) -> None:
        self.container = container
        self.answer = answer
        self.images_at = images_at
        self.rows: dict[str, ToolCallRow] = {}

    def show(self, call: ToolCall) -> None:
        if (row := self.rows.get(call.id)) is not None:
            row.redraw(call)
            return
        with self.container:
            self.rows[call.id] = ToolCallRow(call, answer=self.answer, images_at=self.images_at)
