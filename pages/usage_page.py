"""/usage: the signed-in user's tokens per day and per model, from saved usage records."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from nicegui import ui

from pages.frame import page_frame
from pages.i18n import _, number
from pages.session import signed_in_page
from services.context import Services
from services.models import UsageRow, User, utcnow

DAYS = 30


def register(services: Services) -> None:
    @signed_in_page(services, "/usage", title="Usage · chatapp")
    async def usage(user: User) -> None:
        rows = await services.topics.usage(user.id, days=DAYS)
        page_frame(services, user, _("Usage"))
        with ui.column().classes("w-full max-w-3xl mx-auto gap-4 p-4 usage-page"):
            ui.label(_("Tokens used in the last {days} days").format(days=DAYS)).classes(
                "text-h5"
            ).props('role="heading" aria-level="1"')
            if not rows:
                ui.label(_("No replies yet in this period.")).classes("muted")
                return
            ui.label(_("Per day")).classes("text-subtitle1")
            chart(rows)
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
            ).props("flat bordered dense").classes("w-full usage-table").mark("usage-by-model")
            ui.label(_("Per day and model")).classes("text-subtitle1")
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
            ).props("flat bordered dense").classes("w-full usage-table").mark("usage-by-day")


# Evaluated in the browser when the chart is drawn (NiceGUI's ":" options): the page's theme.
DARK = "document.body.classList.contains('body--dark')"


def colour(light: str, dark: str) -> str:
    return f"{DARK} ? '{dark}' : '{light}'"


def chart(rows: list[UsageRow]) -> None:
    """Tokens per day, a bar per day of the period (UTC), stacked by model."""
    today = utcnow().date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
    totals: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        totals[row.model][row.day] = totals[row.model].get(row.day, 0) + row.total_tokens
    text, grid = colour("#374151", "#d1d5db"), colour("#e5e7eb", "#374151")
    options = {
        "animation": False,
        ":textStyle": f"({{color: {text}}})",
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll", ":textStyle": f"({{color: {text}}})"},
        "grid": {"left": 8, "right": 8, "top": 40, "bottom": 8, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [day_label(day) for day in days],
            ":axisLabel": f"({{color: {text}}})",
        },
        "yAxis": {
            "type": "value",
            "name": _("Tokens"),
            ":nameTextStyle": f"({{color: {text}}})",
            ":axisLabel": f"({{color: {text}}})",
            ":splitLine": f"({{lineStyle: {{color: {grid}}}}})",
        },
        "series": [
            {
                "name": model,
                "type": "bar",
                "stack": "tokens",
                "data": [by_day.get(day, 0) for day in days],
            }
            for model, by_day in sorted(totals.items())
        ],
    }
    figure = ui.echart(options).classes("w-full usage-chart").mark("usage-chart")
    figure.props('role="img"')
    figure.props["aria-label"] = _(
        "Chart of the tokens used per day, by model; the tables below give the numbers."
    )


def day_label(day: str) -> str:
    """Month and day, as the tables write them (ISO, UTC): 2025-05-14 is 05-14."""
    return day[5:]
