"""A reply's tool calls in a Markdown export: each a readable block under the reply (the tool,
its arguments as JSON, its result, cut when long; a denied or failed call says so)."""

from __future__ import annotations

import json
import re

from services.models import ToolCall, ToolCallStatus

RESULT_CHARS = 4_000  # of a result in the export; the JSON export keeps all of it

STATUS = {
    ToolCallStatus.PENDING: "Waiting for approval",
    ToolCallStatus.RUNNING: "Running",
    ToolCallStatus.DENIED: "Denied",
    ToolCallStatus.CANCELLED: "Cancelled",
    ToolCallStatus.ERROR: "Failed",
}


def fenced(text: str, language: str = "") -> list[str]:
    """A fence longer than any run of backticks in the text, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, text, fence]


def calls_markdown(calls: list[ToolCall]) -> list[str]:
    """The Markdown lines of the calls (none for a reply without any)."""
    lines: list[str] = []
    for call in calls:
        where = f"{call.server_name} · " if call.server_name else ""
        if call.status == ToolCallStatus.DONE:
            state = f"{call.seconds:.1f} s" if call.seconds is not None else "done"
        else:
            state = STATUS.get(call.status, call.status.value)
        lines += ["", f"**Tool call: {where}{call.tool or call.name}** ({state})", ""]
        try:
            arguments = json.dumps(json.loads(call.arguments or "{}"), indent=2, ensure_ascii=False)
        except ValueError:
            arguments = call.arguments
        lines += ["Arguments:", "", *fenced(arguments, "json")]
        if call.error:
            lines += ["", f"*{STATUS.get(call.status, 'Failed')}: {call.error}*"]
        if call.result:
            shown = call.result[:RESULT_CHARS]
            lines += ["", "Result:", "", *fenced(shown)]
            if len(call.result) > RESULT_CHARS:
                lines += [
                    "",
                    f"*The result is cut here: {RESULT_CHARS:,} of its "
                    f"{len(call.result):,} characters are shown.*",
                ]
            if call.truncated:
                lines += ["", "*The tool's answer was cut at the size limit when it came.*"]
        if call.images:
            count = len(call.images)
            lines += [
                "",
                f"*The result held {count} image{'s' if count > 1 else ''} "
                "(kept in the JSON export, not here).*",
            ]
    return lines
