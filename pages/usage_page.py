"""/usage: the signed-in user's tokens per day and per model, from saved usage records."""

from __future__ import annotations

from collections import defaultdict

from nicegui import ui

from pages.frame import frame
from pages.session import signed_in_page
from services.context import Services
from services.models import User

DAYS = 30


def register(services: Services) -> None:
    @signed_in_page(services, "/usage", title="Usage · chatapp")
    async def usage(user: User) -> None:
        rows = await services.topics.usage(user.id, days=DAYS)
        with frame(services, user, "Usage"):
            ui.link("← Back to chats", "/").classes("text-sm")
        with ui.column().classes("w-full max-w-3xl mx-auto gap-4 p-4"):
            ui.label(f"Tokens used in the last {DAYS} days").classes("text-h6").props(
                'role="heading" aria-level="1"'
            )
            if not rows:
                ui.label("No replies yet in this period.").classes("muted")
                return
            per_model: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for row in rows:
                totals = per_model[row.model]
                totals[0] += row.replies
                totals[1] += row.prompt_tokens
                totals[2] += row.completion_tokens
            columns = [
                {"name": "model", "label": "Model", "field": "model", "align": "left"},
                {"name": "replies", "label": "Replies", "field": "replies"},
                {"name": "prompt", "label": "Prompt tokens", "field": "prompt"},
                {"name": "completion", "label": "Reply tokens", "field": "completion"},
                {"name": "total", "label": "Total", "field": "total"},
            ]
            ui.label("Per model").classes("text-subtitle1")
            ui.table(
                columns=columns,
                rows=[
                    {"model": model, "replies": r, "prompt": p, "completion": c, "total": p + c}
                    for model, (r, p, c) in sorted(per_model.items())
                ],
                row_key="model",
            ).props("flat bordered dense").classes("w-full").mark("usage-by-model")
            ui.label("Per day").classes("text-subtitle1")
            ui.table(
                columns=[
                    {"name": "day", "label": "Day (UTC)", "field": "day", "align": "left"},
                    *columns,
                ],
                rows=[
                    {
                        "key": f"{row.day} {row.model}",
                        "day": row.day,
                        "model": row.model,
                        "replies": row.replies,
                        "prompt": row.prompt_tokens,
                        "completion": row.completion_tokens,
                        "total": row.total_tokens,
                    }
                    for row in rows
                ],
                row_key="key",
            ).props("flat bordered dense").classes("w-full").mark("usage-by-day")
