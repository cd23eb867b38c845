"""The message box at the foot of the chat screen, for whichever topic the pane shows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from pages.attachments import PendingFiles
from pages.conversation import ConversationView
from pages.feedback import attempt
from pages.i18n import _
from pages.session import browser_storage, recheck
from pages.topic_settings import Chosen, apply_chosen
from services.context import Services
from services.models import Topic, User


def drafts() -> dict[str, str]:
    """Unsent text per topic, kept server-side for this browser across reloads and sign-ins."""
    return browser_storage().setdefault("drafts", {})


# Enter sends, unless with a modifier (Shift+Enter: a new line) or while an input method is
# composing: Enter then picks a candidate (pinyin, kana, hangul) and must not send. Browsers
# mark that keydown with `isComposing`, some only with the key code 229.
SEND_ON_ENTER = """(event) => {
  if (event.key !== "Enter" || event.shiftKey || event.ctrlKey || event.altKey || event.metaKey)
    return;
  if (event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  emit();
}"""


class Composer:
    """Text and files for the next message, sent to the topic shown (a new one from `/`).

    It stays on the page while topics are switched (`switch`); NiceGUI layout elements such as
    the footer must be children of the page itself, not of the swapped pane.
    """

    def __init__(
        self, services: Services, user: User, *, opened: Callable[[str], Awaitable[None]]
    ) -> None:
        self.services = services
        self.user = user
        self.opened = opened  # shows a topic just started from the new-chat pane
        self.topic: Topic | None = None
        self.view: ConversationView | None = None
        self.chosen: Chosen = {}  # settings picked on the new-chat page, for the topic it starts
        with ui.footer().classes("chat-footer p-2") as self.footer:
            self.archived_note = self._archived_note()
            self.pending = PendingFiles()
            with ui.row().classes("w-full max-w-3xl mx-auto items-end gap-1 no-wrap") as row:
                self.writing = row
                self.pending.button()
                box = ui.textarea(
                    placeholder=_("Message chatapp (Enter sends, Shift+Enter: new line)")
                )
                box.props("outlined autogrow dense autofocus").classes("grow")
                box.props["aria-label"] = _("Message")
                self.box = box.mark("composer")
                send = ui.button(icon="send", on_click=self.send).props("round")
                send.props["aria-label"] = _("Send")
                stop = ui.button(icon="stop", on_click=self.stop)
                # Esc clicks it (pages/static/app.js), unless a menu or dialog takes the Esc
                stop.props('round color=negative data-shortcut="stop"').mark("stop")
                stop.props["aria-label"] = _("Stop")
        box.on_value_change(lambda e: self._keep_draft(e.value or ""))
        box.on("keydown", self.send, js_handler=SEND_ON_ENTER)
        self.send_button = send.mark("send")
        self.stop_button = stop
        self._show_generating(False)

    def _archived_note(self) -> ui.row:
        """In place of the box while an archived chat is shown, as ChatGPT does: a chat out
        of the list takes no new messages until it is back in it, one click away."""
        with ui.row().classes("w-full max-w-3xl mx-auto archived-note no-wrap") as note:
            note.props('role="status"').mark("archived-note")
            ui.icon("inventory_2").classes("archived-note-icon")
            ui.label(_("This chat is archived. Unarchive it to continue the conversation."))
            ui.button(_("Unarchive"), on_click=self.unarchive).props("outline no-caps").mark(
                "unarchive"
            )
        note.set_visibility(False)
        return note

    def show_archived(self, topic: Topic) -> None:
        """The topic shown was archived or unarchived (here, in the sidebar, elsewhere)."""
        if self.topic is None or topic.id != self.topic.id:
            return
        if topic.archived == self.archived_note.visible:  # another change: the box keeps as is
            return
        self.archived_note.set_visibility(topic.archived)
        self.writing.set_visibility(not topic.archived)
        if topic.archived:
            self.pending.clear()
        else:
            self.box.run_method("focus")

    async def unarchive(self) -> None:
        topic = self.topic
        if topic is None or await recheck(self.services) is None:
            return
        mark = self.services.topics.mark_topic
        if unarchived := await attempt(lambda: mark(self.user.id, topic.id, archived=False)):
            self.show_archived(unarchived)

    @property
    def generating(self) -> bool:
        return self.view is not None and self.view.generating

    def _show_generating(self, generating: bool) -> None:
        """Stop while a reply is being written, Send otherwise."""
        self.send_button.set_visibility(not generating)
        self.stop_button.set_visibility(generating)

    @property
    def key(self) -> str:
        return self.topic.id if self.topic else "new"

    def switch(self, topic: Topic | None, view: ConversationView | None, *, shown: bool) -> None:
        """Write to `topic` now (None: a new one), with its own draft; `shown`: whether at all."""
        if self.view is not None:
            self.view.on_generating = None  # swapped out: its replies no longer swap the buttons
        self.topic, self.view = topic, view
        if view is not None:
            # Told by the view itself, the moment a reply starts or ends: a binding would look
            # only every 0.1 s, and Send would come back late.
            view.on_generating = self._show_generating
        self._show_generating(self.generating)
        self.footer.set_visibility(shown)
        self.pending.clear()  # files picked for one topic are not sent to another
        self.box.value = drafts().get(self.key, "")
        archived = topic is not None and topic.archived
        self.archived_note.set_visibility(archived)
        self.writing.set_visibility(not archived)
        if shown and not archived:
            self.box.run_method("focus")

    def fill(self, text: str) -> None:
        """Put `text` in the box to be read, changed and sent (an example prompt): not sent."""
        self.box.value = text
        # Focused with the caret at the end, ready to add to it.
        self.box.run_method("focus")
        ui.run_javascript(
            f"const box = document.querySelector('#c{self.box.id} textarea');"
            "if (box) box.setSelectionRange(box.value.length, box.value.length);"
        )

    def _keep_draft(self, text: str) -> None:
        if text:
            drafts()[self.key] = text
        else:
            drafts().pop(self.key, None)

    async def send(self) -> None:
        text = self.box.value or ""
        files = self.pending.take()
        if not (text.strip() or files) or self.generating or self.archived_note.visible:
            return
        if await recheck(self.services) is None:  # the draft stays saved for after sign-in
            return
        key, topic, new = self.key, self.topic, self.view is None
        if topic is None:
            topic = self.topic = await attempt(
                lambda: self.services.topics.create_topic(self.user.id)
            )
            if topic is None:
                return
            if not await apply_chosen(self.services, self.user, topic, self.chosen):
                return
        if (
            await attempt(
                lambda: self.services.chat.send(self.user.id, topic.id, text, files=files)
            )
            is None
        ):
            return
        drafts().pop(key, None)
        if self.topic is not topic:  # another topic was opened meanwhile: its draft stays
            return
        self.box.value = ""
        self.pending.clear()
        if new:  # the first message of a new topic: show the topic (it follows the reply)
            self.chosen = {}  # the next new chat starts from the defaults
            await self.opened(topic.id)
        # The view follows the new reply, and the sidebar the topic's new place, through their
        # watches: redrawing the sidebar here delayed the reply's first words (`make bench`).

    async def stop(self) -> None:
        topic = self.topic
        if topic is not None and await recheck(self.services) is not None:
            await attempt(lambda: self.services.chat.stop(self.user.id, topic.id))
