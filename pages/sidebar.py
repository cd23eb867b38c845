"""The topic sidebar: newest activity first, grouped by day, with counts and relative times."""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from services.context import Services
from services.models import Topic, utcnow

PAGE = 50


def group_of(updated: datetime, now: datetime) -> str:
    days = (now.date() - updated.date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days < 7:
        return "Previous 7 days"
    return "Older"


def relative(updated: datetime, now: datetime) -> str:
    seconds = max(0, int((now - updated).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400} d"
    return updated.strftime("%Y-%m-%d")


class Sidebar:
    """Lists a user's topics; `refresh()` redraws after anything that changes the order."""

    def __init__(self, services: Services, user_id: str, active_id: str | None) -> None:
        self.services = services
        self.user_id = user_id
        self.active_id = active_id
        self.shown = PAGE
        with ui.column().classes("w-full gap-2 p-2"):
            ui.button("New chat", icon="add", on_click=lambda: ui.navigate.to("/")).props(
                "outline no-caps"
            ).classes("w-full")
            self.list = ui.list().props("dense").classes("w-full topic-list")
            self.more = ui.button("Show more", on_click=self.load_more).props("flat no-caps")
            self.more.classes("w-full")

    async def refresh(self) -> None:
        topics = await self.services.store.list_topics(self.user_id, limit=self.shown + 1)
        self.more.set_visibility(len(topics) > self.shown)
        self._draw(topics[: self.shown])

    async def load_more(self) -> None:
        self.shown += PAGE
        await self.refresh()

    def _draw(self, topics: list[Topic]) -> None:
        now = utcnow()
        self.list.clear()
        group = None
        with self.list:
            if not topics:
                ui.item_label("No chats yet.").classes("text-grey-7 p-2")
            for topic in topics:
                if (label := group_of(topic.updated_at, now)) != group:
                    group = label
                    ui.item_label(label).props("header").classes("text-xs text-grey-7 pt-3 pb-1")
                self._item(topic, now)

    def _item(self, topic: Topic, now: datetime) -> None:
        active = topic.id == self.active_id
        with ui.item(on_click=lambda t=topic: ui.navigate.to(f"/topic/{t.id}")) as item:
            item.props(
                f'clickable active={active} active-class="topic-active" href="/topic/{topic.id}"'
            )
            item.props(f'data-topic-id="{topic.id}"' + (' aria-current="page"' if active else ""))
            with ui.item_section():
                ui.item_label(topic.title).classes("ellipsis topic-title")
                ui.item_label(
                    f"{topic.message_count} messages · {relative(topic.updated_at, now)}"
                ).props("caption")
