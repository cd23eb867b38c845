"""NiceGUI pages: sign-in, the topic sidebar and the chat pane. UI only; services do the work."""

from __future__ import annotations

from services.context import Services


def register(services: Services) -> None:
    """Register every page; each receives the one `Services` object."""
    from pages import (
        attachments,
        auth_pages,
        chat_page,
        frame,
        session,
        sharing,
        speedups,
        tool_images,
        tools_page,
        usage_page,
    )

    speedups.install()
    frame.add_static()
    session.register_session_routes()
    auth_pages.register(services)
    chat_page.register(services)
    attachments.register(services)
    usage_page.register(services)
    tools_page.register(services)
    sharing.register(services)
    tool_images.register(services)
