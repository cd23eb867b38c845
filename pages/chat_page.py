"""The chat pages: `/` starts a new topic, `/topic/<id>` shows one with its composer."""

from __future__ import annotations

from nicegui import ui

from pages.attachments import PendingFiles
from pages.conversation import ConversationView
from pages.feedback import attempt
from pages.frame import frame
from pages.session import browser_storage, recheck, signed_in_page
from pages.sidebar import Sidebar, undo_toast
from pages.topic_settings import model_picker, settings_dialog
from services.context import Services
from services.errors import NotFound
from services.models import Topic, User


def register(services: Services) -> None:
    @signed_in_page(services, "/", title="chatapp")
    async def home(user: User, deleted: str = "") -> None:
        await chat_screen(services, user, None)
        if deleted in services.chat.deleting(user.id):  # deleted from its own page: offer undo
            topic = await services.store.get_topic(user.id, deleted)
            undo_toast(services, user.id, topic, reopen=True)

    @signed_in_page(services, "/topic/{topic_id}", title="chatapp")
    async def topic_page(user: User, topic_id: str) -> None:
        try:
            topic = await services.store.get_topic(user.id, topic_id)
            if topic_id in services.chat.deleting(user.id):
                raise NotFound("This topic is being deleted.")
        except NotFound:
            not_found(services, user)
            return
        await chat_screen(services, user, topic)


def not_found(services: Services, user: User) -> None:
    ui.context.client.status_code = 404  # type: ignore[attr-defined]
    with frame(services, user, "Not found"):
        pass
    with ui.column().classes("w-full items-center mt-24 gap-2"):
        ui.label("This topic does not exist.").classes("text-h6")
        ui.link("Start a new chat", "/")


def drafts() -> dict[str, str]:
    """Unsent text per topic, kept server-side for this browser across reloads and sign-ins."""
    return browser_storage().setdefault("drafts", {})


async def chat_screen(services: Services, user: User, topic: Topic | None) -> None:
    key = topic.id if topic else "new"
    with frame(services, user, topic.title if topic else "New chat") as page:
        with page.drawer:
            sidebar = Sidebar(
                services, user.id, topic.id if topic else None, on_active_renamed=page.retitle
            )
    await sidebar.refresh()

    view: ConversationView | None = None
    if topic is None:
        with ui.column().classes("w-full items-center mt-24 gap-2 px-4 text-center"):
            ui.label("How can I help?").classes("text-h4")
            if services.options.demo:
                ui.label(
                    "You are talking to the offline demo model. Set OPENAI_API_KEY (or "
                    "OPENAI_BASE_URL for Ollama, vLLM, llama.cpp) and restart to use a real model."
                ).classes("muted max-w-lg")
    else:
        with ui.row().classes("w-full max-w-3xl mx-auto items-center gap-1 px-3 pt-2"):
            await model_picker(services, topic)
            ui.button(icon="tune", on_click=lambda: settings_dialog(services, topic)).props(
                'flat round dense aria-label="Topic settings"'
            ).mark("topic-settings")
        view = ConversationView(services, user.id, topic.id, on_finished=sidebar.refresh)
        await view.refresh()

    with ui.footer().classes("chat-footer p-2"):
        pending = PendingFiles()
        with ui.row().classes("w-full max-w-3xl mx-auto items-end gap-1 no-wrap"):
            pending.button()
            box = ui.textarea(placeholder="Message chatapp (Enter sends, Shift+Enter: new line)")
            box.props('outlined autogrow dense autofocus aria-label="Message"').classes("grow")
            box.mark("composer")
            box.value = drafts().get(key, "")
            box.on_value_change(lambda e: drafts().__setitem__(key, e.value or ""))
            send_button = ui.button(icon="send").props('round aria-label="Send"').mark("send")
            stop_button = ui.button(icon="stop").props('round color=negative aria-label="Stop"')
            stop_button.mark("stop")

    async def send() -> None:
        text = box.value or ""
        files = pending.take()
        if not (text.strip() or files) or (view and view.generating):
            return
        if await recheck(services) is None:  # the draft stays saved for after sign-in
            return
        nonlocal topic
        if topic is None:
            topic = await attempt(lambda: services.chat.create_topic(user.id))
            if topic is None:
                return
        if await attempt(lambda: services.chat.send(user.id, topic.id, text, files=files)) is None:
            return
        drafts().pop(key, None)
        box.value = ""
        pending.clear()
        if view is None:  # first message of a new topic: open its own page (it follows the reply)
            ui.navigate.to(f"/topic/{topic.id}")
        # The view follows the new reply, and the sidebar the topic's new place, through their
        # watches: redrawing the sidebar here delayed the reply's first words (`make bench`).

    async def stop() -> None:
        if topic is not None and await recheck(services) is not None:
            await attempt(lambda: services.chat.stop(user.id, topic.id))

    box.on("keydown.enter.exact.prevent", send)
    ui.keyboard(lambda e: stop() if e.key.escape and e.action.keydown else None, ignore=[])
    send_button.on_click(send)
    stop_button.on_click(stop)
    if view is not None:
        send_button.bind_visibility_from(view, "generating", backward=lambda g: not g)
        stop_button.bind_visibility_from(view, "generating")
    else:
        stop_button.set_visibility(False)
