"""Per-topic settings: the model picker, and a dialog for the system prompt, temperature and
a thinking model's reasoning effort."""

from __future__ import annotations

from nicegui import ui

from pages.feedback import attempt
from pages.i18n import N_, _
from pages.session import recheck
from services.context import Services
from services.errors import ChatAppError
from services.models import Topic

# Not sent unless chosen: most servers accept it only for thinking models.
EFFORTS = {
    "": N_("Not sent (the model's default)"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}


async def model_picker(services: Services, topic: Topic) -> None:
    """A select of the provider's models; the topic remembers its choice."""
    current = topic.settings.get("model") or services.options.default_model
    try:
        models = await services.llm.list_models()
    except ChatAppError:
        models = []  # the server may not list models (or is down): keep the current choice
    options = sorted({*models, current})

    async def choose(event) -> None:  # type: ignore[no-untyped-def]
        if await recheck(services) is None:
            return
        update = services.topics.update_topic_settings
        await attempt(lambda: update(topic.user_id, topic.id, model=event.value))

    picker = ui.select(options, value=current, on_change=choose)
    picker.props("dense options-dense borderless").classes("min-w-[10rem]").mark("model")
    picker.props["aria-label"] = _("Model")


async def settings_dialog(services: Services, topic: Topic) -> None:
    """System prompt and temperature for this topic."""
    if (user := await recheck(services)) is None:
        return
    fresh = await services.store.get_topic(topic.user_id, topic.id)
    servers = await services.tools.list_servers(user)
    with (
        ui.dialog() as dialog,
        ui.card().classes("w-full max-w-xl"),
    ):
        dialog.props["aria-label"] = _("Topic settings")
        ui.label(_("Topic settings")).classes("text-h6")
        prompt = (
            ui.textarea(_("System prompt"), value=fresh.settings.get("system_prompt", ""))
            .props("outlined autogrow")
            .classes("w-full")
        )
        ui.label(_("Temperature")).classes("text-sm")
        temperature = ui.slider(
            min=0, max=2, step=0.1, value=fresh.settings.get("temperature", 1.0)
        ).props("label-always")
        temperature.props["aria-label"] = _("Temperature")
        effort = (
            ui.select(
                {key: _(name) for key, name in EFFORTS.items()},
                value=fresh.settings.get("reasoning_effort", ""),
                label=_("Reasoning effort (thinking models)"),
            )
            .props("outlined dense")
            .classes("w-full")
            .mark("reasoning-effort")
        )
        tools = None
        if servers:
            chosen = [s for s in fresh.settings.get("tools") or [] if s in {x.id for x in servers}]
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
    saved = await attempt(
        lambda: services.topics.update_topic_settings(
            topic.user_id,
            topic.id,
            system_prompt=prompt.value or "",
            temperature=float(temperature.value),
            reasoning_effort=effort.value or "",
        )
    )
    if saved is not None and tools is not None:
        chosen_ids = list(tools.value or [])
        saved = await attempt(lambda: services.tools.set_topic_tools(user, topic.id, chosen_ids))
    if saved is not None:
        ui.notify(_("Settings saved"), timeout=1500)
