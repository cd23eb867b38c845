"""One turn of a conversation as drawn: the message, its thinking, notes and actions, and the
handlers of those actions. `ConversationView` (pages/conversation.py) builds on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ElementFilter, ui

from pages.attachments import show_attachments
from pages.feedback import attempt
from pages.frame import url_prefix
from pages.i18n import N_, _, localize
from pages.isolated import Isolated
from pages.live_reply import LiveReply
from pages.reply_parts import Thumbs, asked_at, error_text, rateable, reply_meta
from pages.session import recheck
from pages.thinking import ThinkingBlock
from pages.tool_calls import ToolCallRow, split_at_calls
from services.chat import Turn
from services.context import Services
from services.models import Message, MessageStatus, Role

THOUGHT = "thought:"  # the key of a reply's reasoning among the rendered HTML


def part_key(message_id: str, index: int) -> str:
    """The key of a reply's text between its tool calls among the rendered HTML."""
    return f"part:{index}:{message_id}"


EFFORT_REFUSED = "does not accept a reasoning effort"  # ReasoningEffortUnsupported's words

STATUS_NOTES = {
    MessageStatus.STOPPED: N_("Stopped. The text above is what arrived before you stopped it."),
    MessageStatus.INTERRUPTED: N_("Interrupted: the server stopped while this reply was written."),
}


class TurnDrawing:
    """Draws turns and answers their buttons; each handler re-checks the session first."""

    services: Services
    user_id: str
    topic_id: str
    owner: bool  # the reader owns the site: errors name the model server's address

    generating: bool  # a reply in the topic is being written
    refresh: Callable[[], Awaitable[None]]  # draw the topic again

    # ----- drawing ----------------------------------------------------------------------------

    def _draw(self, turn: Turn, *, live: bool, html: dict[str, str]) -> None:
        message = turn.message
        mine = message.role == Role.USER
        # Isolated: drawing another turn (a new one, or older ones) leaves this one alone.
        align = "items-end" if mine else "items-start"
        with Isolated().classes(f"nicegui-column w-full gap-1 {align}") as box:
            box.props(
                f'id="m-{message.id}" data-message-id="{message.id}" '
                f'data-role="{message.role.value}"'
            )
            kind = "user-message" if mine else "assistant-message"
            bubble = ui.element("div").classes(f"message {kind}").mark(f"bubble-{message.id}")
            with bubble:
                if mine:
                    asked_at(bubble, message)
                    if message.content:
                        ui.label(message.content).classes("whitespace-pre-wrap break-words")
                elif live:
                    box.thinking_box = ui.element("div")  # type: ignore[attr-defined]
                    parts = ui.element("div").classes("w-full live-reply")
                    box.live = LiveReply(  # type: ignore[attr-defined]
                        parts,
                        self.services.renderer,
                        self._answer_call,
                        f"{url_prefix()}/tool-images/{message.id}",
                    )
                else:
                    if message.reasoning:
                        ThinkingBlock.stored(
                            localize(html.get(THOUGHT + message.id, "")), message.reasoning_seconds
                        )
                    if not message.tool_calls:
                        ui.html(localize(html.get(message.id, "")), sanitize=False).classes(
                            "markdown"
                        )
                    for index, (text, calls) in enumerate(
                        split_at_calls(message.content, message.tool_calls)
                        if message.tool_calls
                        else []
                    ):
                        if text.strip():
                            part = html.get(part_key(message.id, index), "")
                            ui.html(localize(part), sanitize=False).classes("markdown")
                        for call in calls:
                            ToolCallRow(call, images_at=f"{url_prefix()}/tool-images/{message.id}")
            if turn.attachments:
                show_attachments(turn.attachments, url_prefix())
            if not live:
                self._notes(turn)
                self._actions(turn)

    def _notes(self, turn: Turn) -> None:
        message = turn.message
        if message.status == MessageStatus.ERROR:
            with ui.row().classes("items-center gap-2 error-banner").props('role="alert"'):
                ui.icon("error_outline", color="negative")
                ui.label(error_text(message, owner=self.owner)).classes("text-negative")
                ui.button(_("Retry"), on_click=lambda: self._regenerate(message.id)).props(
                    "dense outline color=negative"
                )
                if EFFORT_REFUSED in (message.error or ""):  # services.errors says it so
                    ui.button(
                        _("Retry without reasoning effort"),
                        on_click=lambda: self._without_effort(message.id),
                    ).props("dense flat color=negative").mark("effort-off")
                self._continue_button(message)
        elif note := STATUS_NOTES.get(message.status):
            with ui.row().classes("items-center gap-2 muted text-sm"):
                ui.label(_(note))
                ui.button(_("Regenerate"), on_click=lambda: self._regenerate(message.id)).props(
                    "dense flat"
                )
                self._continue_button(message)
        if message.role == Role.ASSISTANT:
            reply_meta(message)

    def _continue_button(self, message: Message) -> None:
        if message.content.strip():  # an unfinished reply with text can be carried on
            ui.button(_("Continue"), on_click=lambda: self._continue(message.id)).props(
                "dense flat"
            ).mark("continue")

    def _actions(self, turn: Turn) -> None:
        message = turn.message
        with ui.row().classes("items-center gap-0 message-actions"):
            self._icon("content_copy", _("Copy message"), lambda: self._copy(message.content)).mark(
                "copy"
            )
            if message.role == Role.USER:
                self._icon("edit", _("Edit message"), lambda: self._edit(turn)).mark("edit")
            else:
                self._icon(
                    "refresh", _("Regenerate reply"), lambda: self._regenerate(message.id)
                ).mark("regenerate")
                if rateable(message):
                    Thumbs(self.services, self.user_id, message)
            if len(turn.sibling_ids) > 1:
                self._switcher(turn)

    def _switcher(self, turn: Turn) -> None:
        index, ids = turn.index, turn.sibling_ids
        self._icon(
            "chevron_left", _("Previous version"), lambda: self._select(ids[index - 1])
        ).mark("previous-version").set_enabled(index > 0)
        ui.label(f"{index + 1}/{len(ids)}").classes("text-xs muted")
        self._icon("chevron_right", _("Next version"), lambda: self._select(ids[index + 1])).mark(
            "next-version"
        ).set_enabled(index < len(ids) - 1)

    @staticmethod
    def _icon(icon: str, label: str, on_click: Callable[[], object]) -> ui.button:
        """A small icon button named `label` for screen readers and as its tooltip."""
        button = ui.button(icon=icon, on_click=on_click).props("flat round dense size=sm")
        button.props["aria-label"] = label
        return button

    # ----- handlers (each re-checks the session first) ----------------------------------------

    def _copy(self, text: str) -> None:
        ui.clipboard.write(text)
        ui.notify(_("Copied"), timeout=1000)

    async def _select(self, message_id: str) -> None:
        if await recheck(self.services) is None or self.generating:
            return
        await attempt(lambda: self.services.chat.select_branch(self.user_id, message_id))
        await self.refresh()

    async def _regenerate(self, message_id: str) -> None:
        if await recheck(self.services) is None:
            return
        await attempt(lambda: self.services.chat.regenerate(self.user_id, message_id))

    async def _without_effort(self, message_id: str) -> None:
        """The model server refused the topic's reasoning effort: stop sending it, retry."""
        if await recheck(self.services) is None:
            return
        update = self.services.topics.update_topic_settings
        if await attempt(lambda: update(self.user_id, self.topic_id, reasoning_effort="")):
            ui.notify(_("Reasoning effort turned off for this chat"), timeout=2000)
            await attempt(lambda: self.services.chat.regenerate(self.user_id, message_id))

    async def _answer_call(self, call_id: str, allow: bool) -> None:
        """Allow or deny a call that waits for the user."""
        if (user := await recheck(self.services)) is None:
            return
        tools = self.services.tools
        await attempt(lambda: tools.answer_tool_call(user, self.topic_id, call_id, allow))

    async def _continue(self, message_id: str) -> None:
        if await recheck(self.services) is None:
            return
        await attempt(lambda: self.services.chat.continue_reply(self.user_id, message_id))

    async def _edit(self, turn: Turn) -> None:
        """Edit a question in its own bubble, with the composer's keys: Enter sends it as a new
        version (the original stays as an earlier one), Shift+Enter adds a line, Esc cancels."""
        from pages.composer import SEND_ON_ENTER  # not at the top: the composer imports this

        if await recheck(self.services) is None:
            return
        marker = f"bubble-{turn.message.id}"
        bubble = next(iter(ElementFilter(marker=marker)), None)
        if bubble is None or "editing" in bubble.classes:
            return
        shown = list(bubble.default_slot.children)
        for child in shown:
            child.set_visibility(False)
        bubble.classes(add="editing")
        with bubble, ui.column().classes("w-full gap-1") as editor:
            text = ui.textarea(value=turn.message.content).props("outlined autogrow dense")
            text.classes("w-full").mark("edit-box")
            text.props["aria-label"] = _("Edit message")
            ui.label(_("Sending keeps the original as an earlier version.")).classes("text-xs")
            with ui.row().classes("justify-end w-full gap-1"):
                cancel = ui.button(_("Cancel")).props("flat no-caps").mark("edit-cancel")
                send = ui.button(_("Send")).props("no-caps unelevated").mark("edit-send")

        def close() -> None:
            if not editor.is_deleted:
                editor.delete()
            for child in shown:
                child.set_visibility(True)
            bubble.classes(remove="editing")

        async def submit() -> None:
            content = text.value or ""
            if not content.strip() or send.props.get("loading"):
                return
            if await recheck(self.services) is None:
                return
            send.props("loading")  # one version per press, however fast the keys come
            edit = self.services.chat.edit
            if await attempt(lambda: edit(self.user_id, turn.message.id, content)) is None:
                send.props(remove="loading")  # e.g. a reply is still being written: try again
            # Sent: the new version is drawn in this turn's place, editor and all.

        cancel.on_click(close)
        send.on_click(submit)
        text.on("keydown", submit, js_handler=SEND_ON_ENTER)
        text.on("keydown.escape.stop", close)  # not the page's Esc, which stops a reply
        text.run_method("focus")
