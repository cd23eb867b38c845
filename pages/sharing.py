"""Topics leaving the app from the page: downloads (Markdown, JSON, the whole account),
imports, share links, and the public read-only page a share link opens."""

from __future__ import annotations

import json
import re

from nicegui import events, ui

from pages.feedback import attempt
from pages.frame import dark_mode, head, url_prefix
from pages.i18n import _, date, localize, ngettext
from pages.session import open_page, recheck
from pages.tool_calls import ToolCallRow, split_at_calls
from services.archive_import import MAX_IMPORT_BYTES
from services.context import Services
from services.errors import NotFound
from services.models import Topic, calls_from_json, utcnow


def register(services: Services) -> None:
    @open_page("/share/{share_id}", title="Shared chat · chatapp")
    async def shared(share_id: str) -> None:
        head()
        dark_mode(None)
        ui.add_head_html('<meta name="robots" content="noindex">')
        ui.page_title(_("Shared chat") + " · chatapp")
        try:
            share = await services.archive.open_share(share_id)
        except NotFound:
            ui.context.client.status_code = 404  # type: ignore[attr-defined]
            with ui.column().classes("w-full items-center mt-24 gap-2"):
                ui.label(_("This shared chat does not exist, or its owner stopped sharing it."))
            return
        snapshot = share.snapshot
        # A reply with calls: its text cut where they were made, each part rendered apart.
        parts = [
            split_at_calls(m["content"], calls_from_json(m.get("tool_calls")))
            if m["role"] != "user"
            else [("", [])]
            for m in snapshot["messages"]
        ]
        html = iter(await services.renderer.render_many([t for p in parts for t, _ in p]))
        images_at = f"{url_prefix()}/share/{share.id}/tool-images"
        with ui.column().classes("w-full max-w-3xl mx-auto gap-4 p-4 messages shared-chat"):
            ui.label(snapshot["title"]).classes("text-h5").props('role="heading" aria-level="1"')
            ui.label(
                _("A read-only copy, shared on {date}. Later messages are not included.").format(
                    date=date(share.created_at)
                )
            ).classes("text-sm muted")
            for number, (message, pieces) in enumerate(
                zip(snapshot["messages"], parts, strict=True)
            ):
                mine = message["role"] == "user"
                with ui.column().classes("w-full " + ("items-end" if mine else "items-start")):
                    if mine:
                        next(html)
                        ui.label(message["content"]).classes(
                            "message user-message whitespace-pre-wrap break-words"
                        )
                        continue
                    with ui.element("div").classes("message assistant-message"):
                        for text, calls in pieces:
                            rendered = next(html)
                            if text.strip():
                                ui.html(localize(rendered), sanitize=False).classes("markdown")
                            for call in calls:
                                ToolCallRow(call, images_at=f"{images_at}/{number}")


def file_name(title: str, suffix: str) -> str:
    stem = re.sub(r"[^\w\- ]+", "", title).strip().replace(" ", "-")[:60] or "chat"
    return f"{stem}{suffix}"


async def download_markdown(services: Services, user_id: str, topic: Topic) -> None:
    if await recheck(services) is None:
        return
    text = await attempt(lambda: services.archive.topic_markdown(user_id, topic.id))
    if text is not None:
        ui.download.content(text.encode(), file_name(topic.title, ".md"), "text/markdown")


async def download_json(services: Services, user_id: str, topic: Topic) -> None:
    if await recheck(services) is None:
        return
    record = await attempt(lambda: services.archive.topic_json(user_id, topic.id))
    if record is not None:
        body = json.dumps(record, ensure_ascii=False, indent=1).encode()
        ui.download.content(body, file_name(topic.title, ".json"), "application/json")


async def download_archive(services: Services, user_id: str) -> None:
    if await recheck(services) is None:
        return
    archive = await attempt(lambda: services.archive.archive(user_id))
    if archive is not None:
        body = json.dumps(archive, ensure_ascii=False).encode()
        ui.download.content(body, f"chatapp-{utcnow():%Y-%m-%d}.json", "application/json")


def import_box(services: Services, user_id: str) -> None:
    """An upload for a chatapp archive or ChatGPT's conversations.json, with its outcome."""
    outcome = ui.label().props('role="status"').classes("text-sm").mark("import-outcome")

    async def received(event: events.UploadEventArguments) -> None:
        upload.reset()
        if await recheck(services) is None:
            return
        data = await event.file.read()
        imported = await attempt(lambda: services.archive.import_file(user_id, data))
        if imported is None:
            outcome.text = _("Nothing was imported.")
            return
        count = len(imported.topics)
        said = ngettext("Imported {count} chat.", "Imported {count} chats.", count)
        if imported.skipped:
            said += " " + ngettext(
                "Skipped {skipped} chat already imported.",
                "Skipped {skipped} chats already imported.",
                imported.skipped,
            )
        outcome.text = said.format(count=count, skipped=imported.skipped)

    upload = ui.upload(
        auto_upload=True,
        max_file_size=MAX_IMPORT_BYTES,
        on_upload=received,
        on_rejected=lambda: ui.notify(
            _("The file is over {size} MB.").format(size=MAX_IMPORT_BYTES // 1024 // 1024),
            type="warning",
        ),
    )
    # Hidden by style (a NiceGUI-hidden upload refuses files); the button opens its picker.
    upload.props('accept=".json,application/json"').classes("chat-uploader").mark("import")
    ui.button(_("Import chats…"), on_click=lambda: upload.run_method("pickFiles")).props(
        "outline"
    ).mark("import-button")


async def share_dialog(services: Services, user_id: str, topic: Topic) -> None:
    """Create, copy, refresh or revoke the topic's read-only link."""
    if await recheck(services) is None:
        return
    base = share_base()
    # In the page's layout, not in the menu that opened it (the list redraws on changes).
    with ui.context.client.layout, ui.dialog() as dialog, ui.card().classes("w-full max-w-lg"):
        dialog.props["aria-label"] = _("Share {title}").format(title=topic.title)
        ui.label(_("Share “{title}”").format(title=topic.title)).classes("text-h6")
        ui.label(
            _(
                "Anyone with the link sees a read-only copy of this chat as it is now: no "
                "sidebar, nothing else of yours. Messages sent later are not included."
            )
        ).classes("text-sm")
        results = ui.checkbox(_("Include tool results")).mark("share-tool-results")
        ui.label(
            _(
                "Off: the copy shows which tools were called and with what, not what they "
                "answered. Applies when you create or update the link."
            )
        ).classes("text-sm muted")
        body = ui.column().classes("w-full gap-2")

    async def draw() -> None:
        current = await attempt(lambda: services.archive.shared(user_id, topic.id))
        results.value = bool(current and current.snapshot.get("tool_results"))
        body.clear()
        with body:
            if current is None:
                ui.label(_("This chat is not shared.")).classes("muted")
                with ui.row().classes("justify-end w-full"):
                    ui.button(_("Close"), on_click=dialog.close).props("flat")
                    ui.button(_("Create link"), on_click=create).mark("create-share")
                return
            link = ui.input(_("Link"), value=f"{base}/share/{current.id}").props(
                "readonly outlined dense"
            )
            link.classes("w-full").mark("share-link")
            with ui.row().classes("justify-end w-full gap-1"):
                ui.button(_("Stop sharing"), on_click=revoke).props("flat color=negative").mark(
                    "revoke-share"
                )
                ui.button(_("Update copy"), on_click=create).props("flat").tooltip(
                    _("Share the chat as it is now (the old link stops working)")
                )
                ui.button(_("Copy link"), on_click=lambda: copy(link.value)).mark("copy-share")

    async def create() -> None:
        if await recheck(services) is not None:
            chosen = bool(results.value)
            await attempt(lambda: services.archive.share(user_id, topic.id, tool_results=chosen))
            await draw()

    async def revoke() -> None:
        if await recheck(services) is not None:
            await attempt(lambda: services.archive.unshare(user_id, topic.id))
            ui.notify(_("The link no longer works."))
            await draw()

    def copy(text: str) -> None:
        ui.clipboard.write(text)
        ui.notify(_("Link copied"), timeout=1500)

    await draw()
    dialog.on("hide", dialog.delete)
    dialog.open()


def share_base() -> str:
    """This site's address as the browser reached it (scheme, host, proxy sub-path)."""
    request = ui.context.client.request
    if request is None:
        return url_prefix()
    # The scheme is the proxy's when it is trusted (CHATAPP_FORWARDED_ALLOW_IPS); the host is
    # the one the browser asked for (nginx passes it on with `proxy_set_header Host $host`).
    return f"{request.url.scheme}://{request.headers.get('host', '')}{url_prefix()}"
