"""Shared page chrome: the header, the topic drawer, dark mode and the app's CSS and JS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from nicegui import app, ui

from pages.i18n import N_, _
from pages.live_markdown import add_assets
from pages.session import log_out
from services.context import Services
from services.models import User

STATIC = Path(__file__).parent / "static"


def add_static() -> None:
    """Serve pages/static (CSS, JS, favicon) at /static, outside the API's schema."""
    app.add_static_files("/static", STATIC)
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/static/"):
            route.include_in_schema = False


def url_prefix() -> str:
    """The sub-path a reverse proxy serves us under (X-Forwarded-Prefix), quoted like NiceGUI."""
    request = ui.context.client.request
    forwarded = request.headers.get("X-Forwarded-Prefix", "") if request else ""
    return quote(forwarded, safe="/:@!$&'()*+,;=%").rstrip("/")


def head() -> None:
    """Per-page head: our stylesheet and script (under the proxy's sub-path, if any)."""
    static = f"{url_prefix()}/static"
    ui.add_head_html(
        f'<link rel="stylesheet" href="{static}/tailwind.css">'  # built by `make css`
        f'<link rel="stylesheet" href="{static}/app.css">'
        f'<script defer src="{static}/app.js"></script>'
    )
    add_assets(url_prefix())  # the markdown styles and the copy / load-image script
    # Quasar's default blue (#1976d2 family, lighter in NiceGUI) fails WCAG contrast for white
    # text on buttons and the header; this blue passes (7:1 on white).
    ui.colors(primary=PRIMARY)


PRIMARY = "#1d4ed8"


def menu_entry(text: str, on_click: Any = None) -> ui.menu_item:
    """A menu item screen readers announce as one (Quasar marks them as list items)."""
    return ui.menu_item(text, on_click=on_click).props('role="menuitem"')


def dark_mode(user: User | None) -> None:
    """Follow the system unless the user picked light or dark (None = auto in Quasar)."""
    choice = (user.settings.get("theme") if user else None) or "auto"
    ui.dark_mode({"auto": None, "dark": True, "light": False}.get(choice))


@contextmanager
def centered(title: str) -> Iterator[None]:
    """A card in the middle of the page, for sign-in and set-up forms."""
    head()
    dark_mode(None)
    ui.page_title(f"{title} · chatapp")
    with ui.column().classes("w-full min-h-screen items-center justify-center p-4"):
        with ui.card().classes("w-full max-w-sm gap-3 form-card").props("flat bordered"):
            ui.label("chatapp").classes("text-sm muted")
            ui.label(title).classes("text-h5").props('role="heading" aria-level="1"')
            yield


@dataclass(frozen=True, slots=True)
class Frame:
    """What a page fills in or updates: the topic drawer and the header's title."""

    drawer: ui.left_drawer
    title: ui.label

    def retitle(self, title: str) -> None:
        self.title.set_text(title)
        self.title.props["title"] = title  # the whole of a long one, on hover
        ui.page_title(f"{title} · chatapp")


@contextmanager
def frame(services: Services, user: User, title: str = "chatapp") -> Iterator[Frame]:
    """The chat's layout; yields the drawer so the page can put the topic list in it."""
    head()
    dark_mode(user)
    ui.page_title(f"{title} · chatapp")
    drawer = (
        ui.left_drawer(value=None, bordered=True)
        .props("width=300 breakpoint=768")
        .classes("p-0 chat-drawer")
    )
    yield Frame(drawer, _header(services, user, title, drawer))


def page_frame(services: Services, user: User, title: str) -> None:
    """The layout of the pages beside the chat (account, usage, tools): the header, with a way
    back to the chats where the chat has its topic button, and no drawer column."""
    head()
    dark_mode(user)
    ui.page_title(f"{title} · chatapp")
    _header(services, user, title, None)


def _header(services: Services, user: User, title: str, drawer: ui.left_drawer | None) -> ui.label:
    with ui.header(bordered=True).classes("items-center gap-1 py-1 px-2 no-wrap chat-header"):
        if drawer is not None:
            menu = ui.button(icon="menu", on_click=drawer.toggle)
            menu.props["aria-label"] = _("Show or hide topics")
            menu.props["data-shortcut"] = "sidebar"  # Ctrl+Shift+S (pages/static/app.js)
        else:
            menu = ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/"))
            menu.props["aria-label"] = _("Back to chats")
        menu.props("flat round dense color=white")
        title_label = ui.label(title).classes("text-subtitle1 ellipsis grow min-w-0 chat-title")
        title_label.mark("chat-title").props["title"] = title
        if drawer is not None:  # the chat's title is its page's heading; beside pages have theirs
            title_label.props('role="heading" aria-level="1"')
        if services.options.demo:
            # Amber dark enough for white text (WCAG AA); Quasar's orange is 2.2:1.
            badge = ui.badge(_("Demo model"), color="#b45309")
            badge.props["title"] = _("No API key configured: an offline demo model answers.")
        with (
            ui.button(icon="account_circle")
            .props("flat round dense color=white")
            .mark("account-menu")
        ) as account:
            account.props["aria-label"] = _("Account menu for {name}").format(name=user.name)
            with ui.menu():
                ui.label(user.name).classes("px-4 py-2 account-name").props('role="none"')
                menu_entry(_("Account settings"), on_click=lambda: ui.navigate.to("/account"))
                menu_entry(_("Usage"), on_click=lambda: ui.navigate.to("/usage")).mark("usage")
                menu_entry(_("Tools"), on_click=lambda: ui.navigate.to("/tools")).mark("tools")
                menu_entry(_("Keyboard shortcuts"), on_click=shortcuts_dialog).mark("shortcuts")
                menu_entry(_("Sign out"), on_click=lambda: log_out(services)).mark("sign-out")
    ui.on("chat_shortcuts", shortcuts_dialog)  # Ctrl+/ (pages/static/app.js)
    return title_label


# What pages/static/app.js answers, as the help dialog lists it; "Mod" is Ctrl, or ⌘ on a Mac.
SHORTCUTS = (
    (N_("New chat"), "Mod+Shift+O"),
    (N_("Focus the message box"), "Shift+Esc"),
    (N_("Send the message"), "Enter"),
    (N_("New line in the message"), "Shift+Enter"),
    (N_("Stop the reply"), "Esc"),
    (N_("Copy the last reply"), "Mod+Shift+C"),
    (N_("Show or hide the sidebar"), "Mod+Shift+S"),
    (N_("Show keyboard shortcuts"), "Mod+/"),
)


def shortcuts_dialog() -> None:
    """The keyboard shortcuts, in a dialog (the account menu's entry, or Ctrl+/)."""
    client = ui.context.client
    request = client.request
    mac = request is not None and "Macintosh" in request.headers.get("user-agent", "")
    names = {"Mod": "⌘", "Shift": "⇧"} if mac else {"Mod": "Ctrl"}
    with client.layout, ui.dialog() as dialog, ui.card().classes("w-full max-w-lg"):
        dialog.props["aria-label"] = _("Keyboard shortcuts")
        ui.label(_("Keyboard shortcuts")).classes("text-h6").props('role="heading" aria-level="2"')
        with ui.element("dl").classes("shortcut-list").mark("shortcut-list"):
            for words, keys in SHORTCUTS:
                with ui.element("div").classes("shortcut-row"):
                    with ui.element("dt"):
                        ui.label(_(words))
                    # Our own constants only: nothing here comes from a user.
                    kbd = "".join(f"<kbd>{escape(names.get(k, k))}</kbd>" for k in keys.split("+"))
                    with ui.element("dd"):
                        ui.html(kbd, sanitize=False).classes("shortcut-keys")
        with ui.row().classes("justify-end w-full"):
            ui.button(_("Close"), on_click=dialog.close).props("flat")
    dialog.on("hide", dialog.delete)
    dialog.open()
