"""/usage: the signed-in user's tokens per day and per model, from saved usage records."""

from __future__ import annotations

from collections import defaultdict

from nicegui import ui

from pages.frame import page_frame
from pages.i18n import _, number
from pages.session import signed_in_page
from services.context import Services
from services.models import User

DAYS = 30


def register(services: Services) -> None:
    @signed_in_page(services, "/usage", title="Usage · chatapp")
    async def usage(user: User) -> None:
        rows = await services.topics.usage(user.id, days=DAYS)
        page_frame(services, user, _("Usage"))
        with ui.column().classes("w-full max-w-3xl mx-auto gap-4 p-4"):
            ui.label(_("Tokens used in the last {days} days").format(days=DAYS)).classes(
                "text-h5"
            ).props('role="heading" aria-level="1"')
            if not rows:
                ui.label(_("No replies yet in this period.")).classes("muted")
                return
            per_model: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for row in rows:
                totals = per_model[row.model]
                totals[0] += row.replies
                totals[1] += row.prompt_tokens
                totals[2] += row.completion_tokens
            columns = [
                {"name": "model", "label": _("Model"), "field": "model", "align": "left"},
                {"name": "replies", "label": _("Replies"), "field": "replies"},
                {"name": "prompt", "label": _("Prompt tokens"), "field": "prompt"},
                {"name": "completion", "label": _("Reply tokens"), "field": "completion"},
                {"name": "total", "label": _("Total"), "field": "total"},
            ]
            ui.label(_("Per model")).classes("text-subtitle1")
            ui.table(
                columns=columns,
                rows=[
                    {
                        "model": model,
                        "replies": number(r),
                        "prompt": number(p),
                        "completion": number(c),
                        "total": number(p + c),
                    }
                    for model, (r, p, c) in sorted(per_model.items())
                ],
                row_key="model",
            ).props("flat bordered dense").classes("w-full").mark("usage-by-model")
            ui.label(_("Per day")).classes("text-subtitle1")
            ui.table(
                columns=[
                    {"name": "day", "label": _("Day (UTC)"), "field": "day", "align": "left"},
                    *columns,
                ],
                rows=[
                    {
                        "key": f"{row.day} {row.model}",
                        "day": row.day,
                        "model": row.model,
                        "replies": number(row.replies),
                        "prompt": number(row.prompt_tokens),
                        "completion": number(row.completion_tokens),
                        "total": number(row.total_tokens),
                    }
                    for row in rows
                ],
                row_key="key",
            ).props("flat bordered dense").classes("w-full").mark("usage-by-day")
