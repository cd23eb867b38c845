"""The one context object pages and API routes receive: every service, built once at start-up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.archive import ArchiveService
    from services.auth import AuthService
    from services.chat import ChatService
    from services.llm import LLM
    from services.render_pool import Renderer
    from services.store import Store
    from services.telemetry import Telemetry


@dataclass(frozen=True, slots=True)
class Options:
    """The settings services and pages act on, as plain values (services never read env vars)."""

    version: str = "0"
    allow_signup: bool = False
    demo: bool = True
    default_model: str = "gpt-4o-mini"
    title_model: str = ""
    auto_title: bool = True
    history_budget_chars: int = 48_000
    max_message_chars: int = 100_000
    max_title_chars: int = 200
    replies_per_minute: int = 20
    database_kind: str = "sqlite"


@dataclass(slots=True)
class Services:
    """Filled in by `chatapp.app.start_services` when the app starts; read at request time."""

    options: Options
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    telemetry: Telemetry | None = None  # set by the app when metrics are on
    store: Store = field(init=False)
    auth: AuthService = field(init=False)
    llm: LLM = field(init=False)
    chat: ChatService = field(init=False)
    archive: ArchiveService = field(init=False)
    renderer: Renderer = field(init=False)
