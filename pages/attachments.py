"""Files in the page: attaching them to the next message (picker, drop, paste) and showing
those sent with a message. The bytes are served to their owner only, at /attachments/<id>."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response
from nicegui import app, events, ui

from pages.feedback import show_error, toast
from pages.i18n import _
from pages.session import current_user
from services.attachments import (
    ACCEPT,
    MAX_FILE_BYTES,
    MAX_FILES,
    Upload,
    check,
    clean_name,
    mb,
    too_large,
    unsupported,
)
from services.context import Services
from services.errors import ChatAppError, NotFound
from services.models import Attachment


def register(services: Services) -> None:
    @app.get("/attachments/{attachment_id}", include_in_schema=False)
    async def download(attachment_id: str) -> Response:
        """The file, for the signed-in owner; anyone else learns nothing (404)."""
        user = await current_user(services)
        try:
            if user is None:
                raise NotFound()
            found = await services.store.get_attachment(user.id, attachment_id)
            data = await services.store.read_attachment(user.id, attachment_id)
        except NotFound:
            return Response("Not found", status_code=404, media_type="text/plain")
        return attachment_response(found, data)


def attachment_response(attachment: Attachment, data: bytes) -> Response:
    """The file as sent: images shown inline, anything else downloaded; never run as a page.

    The API's /api/v1/attachments/<id> serves files through this too, the same way."""
    if attachment.is_image:
        media_type, disposition = attachment.media_type, "inline"
    elif attachment.media_type == "application/pdf":
        media_type, disposition = "application/pdf", "attachment"
    else:
        media_type, disposition = "text/plain; charset=utf-8", "attachment"
    named = f"{disposition}; filename*=UTF-8''{quote(attachment.name)}"
    return untrusted_file(data, media_type, named)


def untrusted_file(data: bytes, media_type: str, disposition: str) -> Response:
    """Bytes a user or a tool gave, as the browser must take them: of the type said, in a
    sandbox with nothing allowed, kept privately (attachments, tool results' images)."""
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400",
    }
    return Response(data, media_type=media_type, headers=headers)


# Quasar's `rejected` event: each refused file with the check it failed ("accept" for its
# type, "max-file-size", "max-files"); only what the refusal needs goes to the server.
REJECTED = """(entries) => emit(entries.map(({file, failedPropValidation}) =>
  ({name: file.name, size: file.size, type: file.type, reason: failedPropValidation})))"""


class PendingFiles:
    """The files waiting to go with the next message, shown as chips above the composer."""

    def __init__(self) -> None:
        self.files: list[Upload] = []
        self.uploader = ui.upload(
            multiple=True,
            auto_upload=True,
            max_file_size=MAX_FILE_BYTES,
            max_files=MAX_FILES,
            on_upload=self._received,
        )
        # Files the picker refuses before upload: each named, with its own reason.
        self.uploader.on("rejected", self._rejected, js_handler=REJECTED)
        # Hidden by style, not by NiceGUI (a hidden upload element refuses uploads); the
        # paperclip button, a drop anywhere on the page or a paste fill it.
        self.uploader.props(f'accept="{ACCEPT}"').classes("chat-uploader").mark("uploader")
        self.chips = ui.row().classes("w-full max-w-3xl mx-auto gap-1 pending-files")
        self.chips.mark("pending-files")
        self._draw()

    def button(self) -> ui.button:
        pick = ui.button(icon="attach_file", on_click=lambda: self.uploader.run_method("pickFiles"))
        pick.props("flat round").mark("attach")
        pick.props["aria-label"] = _("Attach files")
        pick.tooltip(_("Attach images or text files (or drop / paste them here)"))
        return pick

    async def _received(self, event: events.UploadEventArguments) -> None:
        upload = Upload(event.file.name, await event.file.read())
        self.uploader.reset()
        try:
            check(upload)  # say at once what is wrong; sending checks again
        except ChatAppError as exc:
            show_error(exc)
            return
        if len(self.files) >= MAX_FILES:
            self._crowded([upload.name])
            return
        self.files.append(upload)
        self._draw()

    def _rejected(self, event: events.GenericEventArguments) -> None:
        crowded: list[str] = []
        for entry in event.args if isinstance(event.args, list) else [event.args]:
            name = clean_name(str(entry.get("name") or ""))
            reason = entry.get("reason")
            if reason == "accept":
                show_error(unsupported(name))
            elif reason == "max-file-size":
                image = str(entry.get("type") or "").startswith("image/")
                show_error(too_large(name, int(entry.get("size") or 0), image=image))
            else:  # max-files: more than the message takes
                crowded.append(name)
        if crowded:
            self._crowded(crowded)

    def _crowded(self, names: list[str]) -> None:
        toast(
            _("Not attached: {names}. At most {count} files go with one message.").format(
                names=", ".join(names), count=MAX_FILES
            ),
            "warning",
        )

    def take(self) -> list[Upload]:
        """The files for the message being sent (kept until it is sent)."""
        return list(self.files)

    def clear(self) -> None:
        self.files.clear()
        self._draw()

    def _remove(self, upload: Upload) -> None:
        self.files.remove(upload)
        self._draw()

    def _draw(self) -> None:
        self.chips.clear()
        self.chips.set_visibility(bool(self.files))
        with self.chips:
            for upload in self.files:
                chip = ui.chip(
                    f"{upload.name} · {size(len(upload.data))}",
                    icon=icon_for(upload.name),
                    removable=True,
                    on_value_change=lambda _, u=upload: self._remove(u),
                ).props("dense outline")
                chip.props["aria-label"] = _("Attached {name}; remove").format(name=upload.name)
                chip.mark("pending-file")


def show_attachments(attachments: list[Attachment], prefix: str) -> None:
    """Thumbnails of images and chips of other files sent with a message."""
    with ui.row().classes("gap-2 justify-end message-files"):
        for attachment in attachments:
            url = f"{prefix}/attachments/{attachment.id}"
            if attachment.is_image:
                with ui.link(target=url, new_tab=True).classes("attachment-image"):
                    image = ui.element("img").classes("attachment-thumb")
                    image.props(f'src="{url}" loading="lazy"')
                    image.props["alt"] = attachment.name
            else:
                with ui.link(target=url).classes("attachment-file no-underline"):
                    ui.chip(
                        f"{attachment.name} · {size(attachment.size)}",
                        icon=icon_for(attachment.name),
                    ).props("dense outline clickable")


def size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} kB"
    return mb(count)


def icon_for(name: str) -> str:
    lower = name.lower()
    if lower.endswith((".png", ".jpg", ".jpeg", ".webp", ".gif")):
        return "image"
    if lower.endswith(".pdf"):
        return "picture_as_pdf"
    return "description"
