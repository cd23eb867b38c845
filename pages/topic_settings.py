"""Per-topic settings: the model picker, and a dialog for the system prompt, temperature and
a thinking model's reasoning effort. On the new-chat page they are chosen before the topic
exists: kept in a plain dict (`Chosen`) until the first message creates it (`apply_chosen`)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from pages.feedback import attempt
from pages.i18n import N_, _
from pages.session import recheck
from services.context import Services
from services.errors import ChatAppError
from services.models import Topic, User

# Not sent unless chosen: most servers accept it only for thinking models.
EFFORTS = {
    "": N_("Not sent (the model's default)"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}

# A new chat's settings, in the shape of `Topic.settings`, until its topic is created.
Chosen = dict[str, Any]
FIELDS = ("model", "system_prompt", "temperature", "reasoning_effort")


def settings_row(services: Services, target: Topic | Chosen) -> ui.row:
    """The model picker and the labelled settings button, above a topic or a new chat."""
    with ui.row().classes("w-full max-w-3xl mx-auto items-center gap-1 px-3 pt-2") as row:
        picker = model_picker(services, target)
        button = ui.button(
            _("Chat settings"), icon="tune", on_click=lambda: settings_dialog(services, target)
        )
        button.props("flat dense no-caps").classes("px-2").mark("topic-settings")
    row.picker = picker  # type: ignore[attr-defined]
    return row


def model_picker(services: Services, target: Topic | Chosen) -> ui.select:
    """A select of the provider's models; the topic (or new chat) remembers its choice. The
    list is filled once the server has answered: the page does not wait for it."""
    settings = target.settings if isinstance(target, Topic) else target
    current = settings.get("model") or services.options.default_model

    async def choose(event) -> None:  # type: ignore[no-untyped-def]
        if await recheck(services) is None:
            return
        if not isinstance(target, Topic):
            target["model"] = event.value
            return
        update = services.topics.update_topic_settings
        await attempt(lambda: update(target.user_id, target.id, model=event.value))

    async def fill() -> None:
        try:
            models = await services.llm.list_models()
        except ChatAppError:
            return  # the server may not list models (or is down): keep the current choice
        if not picker.is_deleted:
            picker.set_options(sorted({*models, picker.value or current}))

    picker = ui.select([current], value=current, on_change=choose)
    picker.props("dense options-dense borderless").classes("min-w-[10rem]").mark("model")
    picker.props["aria-label"] = _("Model")
    ui.timer(0, fill, once=True)
    return picker


async def apply_chosen(services: Services, user: User, topic: Topic, chosen: Chosen) -> bool:
    """Give a topic just created what was chosen for it on the new-chat page."""
    fields = {key: chosen[key] for key in FIELDS if key in chosen}
    update = services.topics.update_topic_settings
    if fields and await attempt(lambda: update(user.id, topic.id, **fields)) is None:
        return False
    tools = chosen.get("tools")
    set_tools = services.tools.set_topic_tools
    return not tools or await attempt(lambda: set_tools(user, topic.id, tools)) is not None


def temperature_input(value: float) -> ui.slider:
    """A slider and a number box beside it, kept in step: the number can be read and typed."""
    ui.label(_("Temperature")).classes("text-sm")
    with ui.row().classes("w-full items-center no-wrap gap-4"):
        slider = ui.slider(min=0, max=2, step=0.1, value=value).classes("grow")
        slider.props["aria-label"] = _("Temperature")
        box = ui.number(min=0, max=2, step=0.1, value=value, format="%.1f")
        box.props("outlined dense").classes("temperature-number").mark("temperature")
        box.props["aria-label"] = _("Temperature")

    def typed(event) -> None:  # type: ignore[no-untyped-def]
        if event.value is not None and 0 <= event.value <= 2 and event.value != slider.value:
            slider.value = round(float(event.value), 1)

    def slid(event) -> None:  # type: ignore[no-untyped-def]
        if event.value != box.value:
            box.value = event.value

    box.on_value_change(typed)
    slider.on_value_change(slid)
    return slider


async def settings_dialog(services: Services, target: Topic | Chosen) -> None:
    """System prompt, temperature, reasoning effort and tools for this topic (or new chat)."""
    if (user := await recheck(services)) is None:
        return
    if isinstance(target, Topic):
        settings = (await services.store.get_topic(target.user_id, target.id)).settings
    else:
        settings = target
    servers = await services.tools.list_servers(user)
    with (
        ui.dialog() as dialog,
        ui.card().classes("w-full max-w-xl"),
    ):
        dialog.props["aria-label"] = _("Chat settings")
        ui.label(_("Chat settings")).classes("text-h6")
        prompt = (
            ui.textarea(_("System prompt"), value=settings.get("system_prompt", ""))
            .props("outlined autogrow")
            .classes("w-full")
        )
        temperature = temperature_input(settings.get("temperature", 1.0))
        effort = (
            ui.select(
                {key: _(name) for key, name in EFFORTS.items()},
                value=settings.get("reasoning_effort", ""),
                label=_("Reasoning effort (thinking models)"),
            )
            .props("outlined dense")
            .classes("w-full")
            .mark("reasoning-effort")
        )
        tools = None
        if servers:
            chosen = [s for s in settings.get("tools") or [] if s in {x.id for x in servers}]
            tools = (
                ui.select(
                    {server.id: server.name for server in servers},
                    value=chosen,
                    multiple=True,
                    label=_("Tools in this chat"),
                )
                .props("outlined dense use-chips")
                .classes("w-full")
                .mark("topic-tools")
            )
        else:
            with ui.row().classes("items-center gap-1 text-sm"):
                ui.label(_("No tool servers yet."))
                ui.link(_("Add one on the Tools page"), "/tools")
        with ui.row().classes("justify-end w-full"):
            ui.button(_("Cancel"), on_click=dialog.close).props("flat")
            ui.button(_("Save"), on_click=lambda: dialog.submit(True)).mark("save-settings")
    if not await dialog or await recheck(services) is None:
        return
    values = {
        "system_prompt": prompt.value or "",
        "temperature": float(temperature.value),
        "reasoning_effort": effort.value or "",
    }
    if not isinstance(target, Topic):  # a new chat: its topic gets them with its first message
        target.update(values)
        if tools is not None:
            target["tools"] = list(tools.value or [])
        ui.notify(_("Settings saved"), timeout=1500)
        return
    saved = await attempt(
        lambda: services.topics.update_topic_settings(target.user_id, target.id, **values)
    )
    if saved is not None and tools is not None:
        chosen_ids = list(tools.value or [])
        saved = await attempt(lambda: services.tools.set_topic_tools(user, target.id, chosen_ids))
    if saved is not None:
        ui.notify(_("Settings saved"), timeout=1500)
