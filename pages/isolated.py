"""`Isolated`: a <div> that is its own Vue component, so that what changes inside it re-renders
only what it holds.

NiceGUI's browser side draws each element inside the render of the nearest Vue component
above it, and re-renders that component, and every component below it, when the element
changes. Native elements (`ui.column`, `ui.label`, `ui.element("div")`) are not components:
without a boundary, the tail of a reply being written (several updates a second) re-rendered
the whole chat pane, the model picker and every message's buttons included (Chromium's
profile of `make bench`, relay). Its browser part also keeps what it holds when only a
component above re-renders (static/isolated.js): a new message leaves the others alone.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui


class Isolated(ui.element, component="static/isolated.js"):
    """A <div>; put what changes often inside it, or what should not be redrawn when what is
    around it changes (each message of a conversation)."""

    def _to_dict(self) -> dict[str, Any]:  # NiceGUI's description of the element for the page
        data = super()._to_dict()
        # Its children's ids as a prop: the browser part redraws what it holds when they change.
        kids = " ".join(str(child) for child in data.get("children", ()))
        data["props"] = {**data.get("props", {}), "kids": kids}
        return data
