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
    from services.options import Options
    from services.render_pool import Renderer
    from services.store import Store
    from services.telemetry import Telemetry
    from services.tools.mcp import McpSessions
    from services.tools.service import ToolService
    from services.topics import TopicService


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
    topics: TopicService = field(init=False)
    archive: ArchiveService = field(init=False)
    renderer: Renderer = field(init=False)
    tools: ToolService = field(init=False)  # MCP servers, tool choices, answering calls
    mcp: McpSessions = field(init=False)  # the sessions with MCP servers (closed at shutdown)
