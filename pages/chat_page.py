"""The chat screen: `/` (a new topic) and `/topic/<id>`, one page that switches topics in place."""

from __future__ import annotations

import asyncio
import re

from nicegui import events, ui

from pages.composer import Composer
from pages.conversation import ConversationView
from pages.frame import frame, url_prefix
from pages.i18n import N_, _
from pages.session import recheck, signed_in_page
from pages.sidebar import Sidebar, undo_toast
from pages.topic_settings import settings_row
from services.context import Services
from services.errors import NotFound
from services.models import Topic, User

TOPIC_PATH = re.compile(r"/topic/([^/?#]+)")

# Shown on the empty new-chat page; a click puts one in the message box, to send or change.
EXAMPLES = (
    N_("Explain quantum computing in simple terms"),
    N_("Write a polite email declining a meeting"),
    N_("Plan a three-day trip to Kyoto"),
    N_("Help me find the bug in my Python code"),
)


def register(services: Services) -> None:
    @signed_in_page(services, "/", title="chatapp")
    async def home(user: User, deleted: str = "") -> None:
        screen = ChatScreen(services, user)
        await screen.start(None)
        if deleted in services.topics.deleting(user.id):  # deleted from its own page: offer undo
            topic = await services.store.get_topic(user.id, deleted)
            undo_toast(services, user.id, topic, reopen=screen.open)

    @signed_in_page(services, "/topic/{topic_id}", title="chatapp")
    async def topic_page(user: User, topic_id: str) -> None:
        if not await ChatScreen(services, user).start(topic_id):
            ui.context.client.status_code = 404  # type: ignore[attr-defined]


class ChatScreen:
    """The header, the topic sidebar and the composer, around a pane showing one topic, the
    new-chat welcome, or "does not exist".

    Opening another topic (a sidebar link, New chat, back and forward) swaps only the pane and
    moves the address with the history API, as ChatGPT does: a page load would boot Vue and
    Quasar again, which alone takes longer than showing a topic (benchmarks/bench_long_topic.py).
    pages/static/app.js turns clicks on `.pane-link` links and back / forward into `chat_open`.
    """

    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user
        self.prefix = url_prefix()
        self.client = ui.context.client
        self.shown: tuple[str | None, bool] | None = None  # (topic id, found) in the pane
        self._switching = asyncio.Lock()  # one swap at a time: the last one asked for wins
        with frame(services, user, _("New chat")) as self.page, self.page.drawer:
            self.sidebar = Sidebar(
                services,
                user.id,
                None,
                on_active_renamed=self.page.retitle,
                on_active_changed=lambda topic: self.composer.show_archived(topic),
                open_topic=self.open,
            )
        self.pane = ui.column().classes("w-full chat-pane")
        self.composer = Composer(services, user, opened=self.open)
        ui.on("chat_open", self._browser_opened)

    async def start(self, topic_id: str | None) -> bool:
        """Draw the page for a full page load; False when the topic does not exist."""
        found = await self.show(topic_id)
        await self.sidebar.refresh()
        return found

    async def open(self, topic_id: str | None) -> None:
        """Show a topic (None: a new chat) as a new entry in the browser's history."""
        address = f"{self.prefix}/topic/{topic_id}" if topic_id else f"{self.prefix}/"
        with self.client:  # the element whose handler calls this may be gone (an undo toast)
            ui.navigate.history.push(address)
            await self.show(topic_id)

    async def _browser_opened(self, event: events.GenericEventArguments) -> None:
        """A pane link was clicked, or back / forward pressed: the address is already there."""
        if await recheck(self.services) is None:
            return
        path = str(event.args.get("path", ""))
        path = path.removeprefix(self.prefix) or "/"
        if event.args.get("narrow"):  # the drawer covers the pane on a phone: get it out of the way
            self.page.drawer.hide()
        if path == "/":
            await self.show(None)
        elif match := TOPIC_PATH.fullmatch(path):
            await self.show(match[1])
        else:  # not a chat address (none of ours links there): load it
            ui.navigate.reload()

    async def show(self, topic_id: str | None) -> bool:
        """Fill the pane with `topic_id` (None: the new-chat welcome); False when it does not
        exist. The old pane's conversation stops watching its topic as its elements go; a
        reply it was following goes on in the chat service and is followed again on return."""
        async with self._switching:
            topic = await self._topic(topic_id) if topic_id else None
            found = topic_id is None or topic is not None
            if self.shown == (topic_id, found):
                return found
            self.pane.clear()
            view = None
            with self.pane:
                if not found:
                    ui.label(_("This topic does not exist.")).classes("text-h6 self-center mt-24")
                    ui.link(_("Start a new chat"), "/").classes("self-center pane-link")
                elif topic is None:
                    self._welcome()
                else:
                    view = await self._conversation(topic)
            self.shown = (topic_id, found)
            self.page.retitle(topic.title if topic else _("New chat") if found else _("Not found"))
            self.sidebar.activate(topic.id if topic else None)
            self.composer.switch(topic, view, shown=found)
            return found

    async def _topic(self, topic_id: str) -> Topic | None:
        try:
            topic = await self.services.store.get_topic(self.user.id, topic_id)
        except NotFound:
            return None
        return None if topic_id in self.services.topics.deleting(self.user.id) else topic

    def _welcome(self) -> None:
        # Chosen before the first message: the composer gives them to the topic it creates.
        settings_row(self.services, self.composer.chosen)
        with ui.column().classes("w-full items-center mt-24 gap-2 px-4 text-center"):
            ui.label(_("How can I help?")).classes("text-h4").props('role="heading" aria-level="2"')
            with ui.element("div").classes("example-prompts").props('role="group"') as group:
                group.props["aria-label"] = _("Example prompts")
                for example in EXAMPLES:
                    words = _(example)
                    ui.button(words, on_click=lambda words=words: self.composer.fill(words)).props(
                        "outline no-caps"
                    ).classes("example-prompt").mark("example-prompt")
            if self.services.options.demo:
                ui.label(
                    _(
                        "You are talking to the offline demo model. Set OPENAI_API_KEY (or "
                        "OPENAI_BASE_URL for Ollama, vLLM, llama.cpp) and restart to use a real "
                        "model."
                    )
                ).classes("muted max-w-lg")

    async def _conversation(self, topic: Topic) -> ConversationView:
        settings_row(self.services, topic)
        view = ConversationView(
            self.services,
            self.user.id,
            topic.id,
            on_finished=self.sidebar.refresh,
            owner=self.user.is_owner,
        )
        await view.refresh()
        return view
