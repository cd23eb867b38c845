"""The topic sidebar: pinned topics first, then newest activity first, grouped by day,
searchable, renamed in place; archived topics in a view of their own.

It follows the user's topics through the chat service, so a reply, an automatic title or a
rename made in another tab (or through the API) shows here without a reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nicegui import background_tasks, ui

from pages.feedback import attempt
from pages.frame import menu_entry
from pages.i18n import N_, _, ago, ngettext, tr
from pages.search_marks import marked
from pages.session import recheck
from pages.sharing import download_json, download_markdown, share_dialog
from services.context import Services
from services.models import SearchHit, Topic, utcnow

PAGE = 50
UNDO_SECONDS = 6.0


def group_of(updated: datetime, now: datetime) -> str:
    """The heading a topic is listed under (untranslated: `tr()` it to show it)."""
    days = (now.date() - updated.date()).days
    if days <= 0:
        return N_("Today")
    if days == 1:
        return N_("Yesterday")
    if days < 7:
        return N_("Previous 7 days")
    return N_("Older")


def count_label(count: int) -> str:
    return ngettext("{count} message", "{count} messages", count).format(count=count)


class Sidebar:
    """Lists a user's topics, or the hits of a search, and acts on one through its menu."""

    def __init__(
        self,
        services: Services,
        user_id: str,
        active_id: str | None,
        *,
        on_active_renamed: Callable[[str], None] = lambda title: None,
        on_active_changed: Callable[[Topic], None] = lambda topic: None,
        open_topic: Callable[[str | None], Awaitable[None]],
    ) -> None:
        self.services = services
        self.user_id = user_id
        self.active_id = active_id
        self.on_active_renamed = on_active_renamed
        self.on_active_changed = on_active_changed  # archived or unarchived, among others
        self.open_topic = open_topic  # shows a topic (None: a new chat) in the page
        self.shown = PAGE
        self.archived_view = False  # the list shows the archived topics instead
        self.client = ui.context.client
        self._redraw: asyncio.Task[None] | None = None
        # What the list shows now: a refresh that would draw the same leaves it alone, so a
        # row menu someone has open is not closed under them by a change elsewhere.
        self._drawn: tuple[Any, ...] | None = None
        self._rows: dict[str, tuple[ui.row, ui.link]] = {}  # by topic id, as drawn
        with ui.column().classes("w-full gap-2 p-2 no-wrap"):
            ui.button(_("New chat"), icon="add", on_click=lambda: open_topic(None)).props(
                'outline no-caps data-shortcut="new-chat"'  # Ctrl+Shift+O (pages/static/app.js)
            ).classes("w-full").mark("new-chat")
            self.query = ui.input(placeholder=_("Search chats")).props(
                "dense outlined clearable debounce=300 type=search"
            )
            self.query.props["aria-label"] = _("Search chats")
            self.query.classes("w-full").mark("search")
            with self.query.add_slot("prepend"):
                ui.icon("search")
            self.query.on_value_change(self.refresh)
            self.list = ui.column().classes("w-full gap-0 topic-list")
            self.list.props('role="navigation"')
            self.list.props["aria-label"] = _("Chats")
            self.more = ui.button(_("Show more"), on_click=self.load_more).props("flat no-caps")
            # Hidden until the first refresh knows there are more: no lone button on an empty list.
            self.more.classes("w-full topic-more").mark("more-topics").set_visibility(False)
            self.to_archive = ui.button(
                icon="inventory_2", on_click=self.toggle_archived, color=None
            ).props("flat no-caps align=left")
            self.to_archive.classes("w-full topic-archived")
            self.to_archive.mark("archived-chats").set_visibility(False)
        self.client.on_delete(services.chat.watch_topics(user_id, self._changed))

    # ----- reading ----------------------------------------------------------------------------

    @property
    def searching(self) -> str:
        return (self.query.value or "").strip()

    async def refresh(self) -> None:
        if query := self.searching:
            hits = await self.services.topics.search(self.user_id, query)
            hidden = self.services.topics.deleting(self.user_id)
            self.more.set_visibility(False)
            self.to_archive.set_visibility(False)
            self._draw_hits([hit for hit in hits if hit.topic.id not in hidden], query)
            return
        topics = await self.services.topics.list_topics(
            self.user_id, limit=self.shown + 1, archived=self.archived_view
        )
        self.more.set_visibility(len(topics) > self.shown)
        archived = await self.services.topics.count_archived(self.user_id)
        self.to_archive.set_text(
            _("Back to chats")
            if self.archived_view
            else ngettext("{count} archived chat", "{count} archived chats", archived).format(
                count=archived
            )
        )
        self.to_archive.props(f"icon={'arrow_back' if self.archived_view else 'inventory_2'}")
        self.to_archive.set_visibility(self.archived_view or archived > 0)
        self._draw_topics(topics[: self.shown], all_archived=archived > 0)

    async def toggle_archived(self) -> None:
        """Show the archived topics instead of the others, or the others again."""
        self.archived_view = not self.archived_view
        self.shown = PAGE
        # Going back is above the archived list, where the eye starts; the way in is below.
        self.to_archive.move(target_index=2 if self.archived_view else -1)
        if self.searching:
            self.query.set_value("")  # its refresh draws the list
        else:
            await self.refresh()

    async def load_more(self) -> None:
        self.shown += PAGE
        await self.refresh()

    def _changed(self, topic_id: str) -> None:
        """A topic changed somewhere: redraw soon, once for a burst of changes."""
        if topic_id == self.active_id:
            background_tasks.create(self._retitle(), name="sidebar retitle")
        if self._redraw is None or self._redraw.done():
            self._redraw = background_tasks.create(self._redraw_soon(), name="sidebar redraw")

    async def _redraw_soon(self) -> None:
        await asyncio.sleep(0.05)
        if not self.client._deleted:
            with self.client:
                await self.refresh()

    async def _retitle(self) -> None:
        if self.active_id is None or self.client._deleted:
            return
        try:
            topic = await self.services.store.get_topic(self.user_id, self.active_id)
        except Exception:  # deleted or unreachable: the list shows what is true
            return
        if topic.id != self.active_id:  # another topic was opened meanwhile
            return
        with self.client:
            self.on_active_renamed(topic.title)
            self.on_active_changed(topic)

    def activate(self, topic_id: str | None) -> None:
        """Mark the topic the page shows (None: none) without drawing the list again."""
        for shown, active in ((self.active_id, False), (topic_id, True)):
            if shown is not None and (drawn := self._rows.get(shown)) is not None:
                row, link = drawn
                row.classes(add="topic-active") if active else row.classes(remove="topic-active")
                link.props('aria-current="page"') if active else link.props(remove="aria-current")
        self.active_id = topic_id
        if self.searching:  # a hit was opened: the list shows every topic again, as a new page did
            self.query.set_value("")
        elif self._drawn is not None and self._drawn[0] == "topics":
            self._drawn = (*self._drawn[:-1], topic_id)  # what the list shows now

    # ----- drawing ----------------------------------------------------------------------------

    def _unchanged(self, *shown: Any) -> bool:
        """True when the list already shows `shown`; else remember it and clear the list."""
        if shown == self._drawn:
            return True
        self._drawn = shown
        self.list.clear()
        self._rows.clear()
        return False

    def _draw_topics(self, topics: list[Topic], *, all_archived: bool = False) -> None:
        """The topics by group; none: why (`all_archived`: the list is empty, the archive not)."""
        now = utcnow()
        rows = [
            (
                topic,
                N_("Archived")
                if self.archived_view
                else N_("Pinned")
                if topic.pinned
                else group_of(topic.updated_at, now),
                f"{count_label(topic.message_count)} · {ago(topic.updated_at, now)}",
            )
            for topic in topics
        ]
        shown = [(t.id, t.title, t.pinned, g, c) for t, g, c in rows]
        if self._unchanged("topics", self.archived_view, shown, self.active_id, all_archived):
            return
        group = None
        with self.list:
            if not topics:
                empty = (
                    _("No archived chats.")
                    if self.archived_view
                    else _("All your chats are archived.")
                    if all_archived
                    else _("No chats yet.")
                )
                ui.label(empty).classes("muted p-2")
            for topic, label, caption in rows:
                if label != group:
                    group = label
                    ui.label(tr(label)).classes("text-xs muted pt-3 pb-1 px-2 topic-group")
                self._row(topic, caption)

    def _draw_hits(self, hits: list[SearchHit], query: str) -> None:
        shown = [(h.topic.id, h.topic.title, h.message_id, h.snippet) for h in hits]
        if self._unchanged("hits", query, shown):
            return
        with self.list:
            found = (
                ngettext("{count} found", "{count} found", len(hits)).format(count=len(hits))
                if hits
                else _("Nothing matches “{query}”.").format(query=query)
            )
            ui.label(found).classes("text-xs muted pt-2 pb-1 px-2").props('role="status"')
            for hit in hits:
                if hit.message_id is None:
                    self._row(hit.topic, _("in the title"))
                else:  # the text around the match, the words searched for marked
                    snippet = marked(hit.snippet, query)
                    self._row(hit.topic, "", anchor=f"#m-{hit.message_id}", snippet=snippet)

    def _row(self, topic: Topic, caption: str, *, anchor: str = "", snippet: str = "") -> None:
        """A topic's row; `snippet`: HTML (escaped, words marked) shown instead of `caption`."""
        active = topic.id == self.active_id
        with ui.row().classes("w-full no-wrap items-center gap-0 topic-row") as row:
            row.classes("topic-active" if active else "")
            row.props(f'data-topic-id="{topic.id}"').mark("topic-row", f"topic-{topic.id}")
            with ui.column().classes("grow gap-0 min-w-0 py-1 pl-2"):
                # ui.link puts a proxy's sub-path (X-Forwarded-Prefix) in front itself
                link = ui.link(topic.title, f"/topic/{topic.id}{anchor}")
                # pane-link: opens in the page (pages/chat_page.py ChatScreen, app.js)
                link.classes("ellipsis topic-title topic-link pane-link").mark("topic-link")
                link.props["title"] = topic.title  # the whole of a long one, on hover
                if active:
                    link.props('aria-current="page"')
                if snippet:
                    under = ui.html(snippet, sanitize=False).classes("text-xs muted search-snippet")
                else:
                    under = ui.label(caption).classes("text-xs muted ellipsis min-w-0")
                if topic.archived and self.searching:  # found, though out of the list: say why
                    with ui.row().classes("items-center gap-1 no-wrap min-w-0 w-full") as line:
                        ui.label(_("Archived")).classes("topic-badge").mark("archived-badge")
                    under.move(line)
            self._menu(row, topic)
        self._rows[topic.id] = (row, link)

    def _menu(self, row: ui.row, topic: Topic) -> None:
        button = ui.button(icon="more_horiz").props("flat round dense size=sm")
        button.props["aria-label"] = _("Options for {title}").format(title=topic.title)
        with button.classes("topic-menu").mark("topic-menu", f"topic-menu-{topic.id}"):
            with ui.menu().props("auto-close"):
                menu_entry(_("Rename"), on_click=lambda: self._rename(row, topic)).mark("rename")
                if not topic.archived:
                    menu_entry(
                        _("Unpin") if topic.pinned else _("Pin"),
                        on_click=lambda: self._mark(topic, pinned=not topic.pinned),
                    ).mark("pin")
                menu_entry(
                    _("Unarchive") if topic.archived else _("Archive"),
                    on_click=lambda: self._mark(topic, archived=not topic.archived),
                ).mark("archive")
                menu_entry(
                    _("Share…"), on_click=lambda: share_dialog(self.services, self.user_id, topic)
                ).mark("share")
                menu_entry(
                    _("Export as Markdown"),
                    on_click=lambda: download_markdown(self.services, self.user_id, topic),
                ).mark("export-markdown")
                menu_entry(
                    _("Export as JSON"),
                    on_click=lambda: download_json(self.services, self.user_id, topic),
                ).mark("export-json")
                menu_entry(_("Delete"), on_click=lambda: self._delete(topic)).mark("delete")

    # ----- acting -----------------------------------------------------------------------------

    def _rename(self, row: ui.row, topic: Topic) -> None:
        self._drawn = None  # this row is an input now: the next refresh draws the list again
        self._rows.pop(topic.id, None)
        row.clear()
        with row:
            box = ui.input(value=topic.title).props(
                f"dense outlined autofocus maxlength={self.services.options.max_title_chars}"
            )
            box.props["aria-label"] = _("New title")
            box.classes("grow px-1").mark("rename-input")
            box.on("focus", js_handler="(event) => event.target.select()")
        finished = False

        async def save() -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            title = " ".join((box.value or "").split())
            if title and title != topic.title and await recheck(self.services) is not None:
                await attempt(
                    lambda: self.services.topics.rename_topic(self.user_id, topic.id, title)
                )
            await self.refresh()

        async def cancel() -> None:
            nonlocal finished
            finished = True
            await self.refresh()

        box.on("keydown.enter.prevent", save)
        box.on("keydown.escape.stop", cancel)
        box.on("blur", save)

    async def _mark(
        self, topic: Topic, *, pinned: bool | None = None, archived: bool | None = None
    ) -> None:
        if await recheck(self.services) is None:
            return
        mark = self.services.topics.mark_topic
        if await attempt(lambda: mark(self.user_id, topic.id, pinned=pinned, archived=archived)):
            if archived is not None:
                said = _("Archived “{title}”") if archived else _("Unarchived “{title}”")
                ui.notify(said.format(title=topic.title), timeout=2000)
            await self.refresh()

    async def _delete(self, topic: Topic) -> None:
        if await recheck(self.services) is None:
            return
        topics = self.services.topics
        if await attempt(lambda: topics.delete_later(self.user_id, topic.id, delay=UNDO_SECONDS)):
            if topic.id == self.active_id:  # the pane shows a new chat; undoing reopens it
                await self.open_topic(None)
                undo_toast(self.services, self.user_id, topic, reopen=self.open_topic)
            else:
                undo_toast(self.services, self.user_id, topic)


def undo_toast(
    services: Services,
    user_id: str,
    topic: Topic,
    *,
    reopen: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """“Deleted …  Undo” at the bottom of the page until the deletion is carried out.

    `reopen`: how undoing goes back to the topic (it was shown when the user deleted it).
    """
    client = ui.context.client
    with client.content, ui.card().classes("undo-toast") as toast:
        toast.props('role="status" aria-live="polite"').mark("undo-toast")
        row = ui.row().classes("items-center no-wrap gap-3")
    with row:
        ui.label(_("Deleted “{title}”").format(title=topic.title)).classes("ellipsis")

        async def undo() -> None:
            toast.delete()
            if await recheck(services) is None:
                return
            if not services.topics.undo_delete(user_id, topic.id):
                ui.notify(_("Too late: the chat is already deleted."), type="warning")
            elif reopen is not None:
                await reopen(topic.id)
            else:
                ui.notify(_("Chat restored"), timeout=1500)

        ui.button(_("Undo"), on_click=undo).props("flat dense no-caps").mark("undo")
        ui.timer(UNDO_SECONDS, toast.delete, once=True)
