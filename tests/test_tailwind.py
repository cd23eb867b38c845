"""The pages' Tailwind CSS is compiled ahead of time (pages/tailwind.css, `make css`): every
class the pages use must be styled by it or by a stylesheet the page already loads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nicegui

PAGES = Path(__file__).parents[1] / "pages"
NICEGUI_STATIC = Path(nicegui.__file__).parent / "static"
# Classes that style nothing: hooks for pages/static/*.js and for the tests.
HOOKS = {
    "attachment-image",
    "chat-drawer",
    "chat-pane",
    "chat-title",
    "live-markdown",
    "message-files",
    "pane-link",
    "reply-model",
    "reply-time",
    "search-snippet",
    "shared-chat",
    "topic-group",
    "topic-list",
    "topic-more",
    "live-reply",
    "tool-row",
}


def used_classes() -> dict[str, str]:
    """Each class named in a `.classes(...)` call of pages/*.py, and the first file naming it
    (the literal parts of f-strings and conditional expressions included)."""
    used: dict[str, str] = {}
    for path in sorted(PAGES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "classes"
            ):
                continue
            for part in (part for arg in node.args for part in ast.walk(arg)):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    for name in part.value.split():
                        used.setdefault(name, path.name)
    return used


def styled_classes(*sheets: Path) -> set[str]:
    """Every class a selector of these stylesheets names (`.min-w-\\[10rem\\]` unescaped)."""
    names = set()
    for sheet in sheets:
        for match in re.finditer(r"\.((?:\\.|[\w-])+)", sheet.read_text()):
            names.add(re.sub(r"\\(.)", r"\1", match[1]))
    return names


def test_every_class_the_pages_use_is_styled_or_a_known_hook() -> None:
    tailwind = PAGES / "static" / "tailwind.css"
    styled = styled_classes(
        tailwind,
        PAGES / "static" / "app.css",
        PAGES / "static" / "chat.css",
        NICEGUI_STATIC / "nicegui.css",
        *NICEGUI_STATIC.glob("quasar.*.css"),
    )
    used = used_classes()
    assert {"w-full", "max-w-3xl", "min-w-[10rem]", "items-end"} <= used.keys()  # it reads them
    missing = {name: file for name, file in used.items() if name not in styled | HOOKS}
    assert not missing, (
        f"classes no stylesheet styles: {missing}. A Tailwind class: run `make css` and commit "
        "pages/static/tailwind.css. A hook for scripts or tests: add it to HOOKS."
    )
    assert not HOOKS - used.keys(), f"hooks no page uses any more: {HOOKS - used.keys()}"
    assert HOOKS.isdisjoint(styled_classes(tailwind)), "a hook that Tailwind styles"
