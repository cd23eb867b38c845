"""`Isolated`: a <div> that is its own Vue component, so that what changes inside it re-renders
only what it holds.

NiceGUI's browser side draws each element inside the render of the nearest Vue component
above it, and re-renders that component, and every component below it, when the element
changes. Native elements (`ui.column`, `ui.label`, `ui.element("div")`) are not components:
without a boundary, the tail of a reply being written (several updates a second) re-rendered
the whole chat pane, the model picker and every message's buttons included (Chromium's
profile of `make bench`, relay).
"""

from __future__ import annotations

from nicegui import ui


class Isolated(ui.element, component="static/isolated.js"):
    """A <div>; put what changes often inside it."""
