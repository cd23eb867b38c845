"""The settings services and pages act on, as plain values: a leaf module that imports nothing."""

from __future__ import annotations

from dataclasses import dataclass


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
    # Tools (MCP): may accounts other than the owner add remote (http) servers; how long a
    # call may take; how much of a result is kept; how many rounds of calls a reply may make.
    tools_remote_for_all: bool = False
    tools_local: bool = True  # may local-command (stdio) servers be added and started at all
    tool_timeout: float = 60.0
    tool_result_max_bytes: int = 100_000
    tool_max_rounds: int = 8
