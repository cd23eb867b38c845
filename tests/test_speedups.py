"""pages.speedups: NiceGUI's expects_arguments, remembered per method, answers as before; and
NiceGUI still is what the speed-up was written for, so an upgrade cannot quietly break it."""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from pathlib import Path
from typing import Any

import nicegui
from nicegui import helpers
from nicegui.classes import Classes
from nicegui.props import Props
from nicegui.style import Style

from pages import speedups

# The NiceGUI whose helpers.expects_arguments pages/speedups.py was checked against, and the
# SHA-256 of that function's source there.
NICEGUI_CHECKED = "3.18.0"
SOURCE_SHA256 = "949f5c62f38af7c964f3cc8d8946c3d4c85929792c4a7d6ae579c228a14cbcb8"


def recheck(what: str) -> str:
    return (
        f"NiceGUI {nicegui.__version__} {what} (pages/speedups.py was checked against NiceGUI "
        f"{NICEGUI_CHECKED}). Re-check pages/speedups.py: does every caller still go through "
        "nicegui.helpers.expects_arguments, and is its answer for a bound method still fixed by "
        "the method's function alone? Then update NICEGUI_CHECKED and SOURCE_SHA256 in "
        "tests/test_speedups.py."
    )


class Handlers:
    def needs(self, event: Any) -> None: ...
    def optional(self, event: Any = None) -> None: ...
    def takes_none(self) -> None: ...
    def varargs(self, *args: Any, **kwargs: Any) -> None: ...


def test_the_answers_are_nicegui_s_own_for_methods_and_everything_else() -> None:
    first, second = Handlers(), Handlers()
    cases = [
        first.needs,
        second.needs,
        first.optional,
        first.takes_none,
        second.varargs,
        lambda: None,
        lambda event: None,
        functools.partial(lambda a, b: None, 1),
    ]
    for func in cases:
        assert speedups.expects_arguments(func) == speedups._ask(func), func
    # Methods are asked once per function, whatever the instance.
    assert Handlers.needs in speedups._known and Handlers.takes_none in speedups._known
    assert not any(getattr(key, "__name__", "") == "<lambda>" for key in speedups._known)


def test_installed_by_the_app_so_elements_use_it() -> None:
    original = helpers.expects_arguments
    try:
        speedups.install()
        assert helpers.expects_arguments is speedups.expects_arguments
    finally:
        helpers.expects_arguments = original


def test_nicegui_s_expects_arguments_is_the_one_speedups_was_written_for() -> None:
    """The answer is kept per function because NiceGUI's depends only on the signature."""
    original = speedups._ask
    assert original is not speedups.expects_arguments
    assert list(inspect.signature(original).parameters) == ["func"], recheck(
        f"changed the signature of helpers.expects_arguments to {inspect.signature(original)}"
    )
    digest = hashlib.sha256(inspect.getsource(original).encode()).hexdigest()
    assert digest == SOURCE_SHA256, recheck(
        f"changed helpers.expects_arguments (source SHA-256 {digest})"
    )


def test_every_nicegui_caller_asks_through_the_patched_attribute() -> None:
    """A caller that imported the function itself would never see the patch."""
    root = Path(nicegui.__file__).parent
    direct = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "helpers" / "__init__.py":  # where the patched attribute is
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<!helpers\.)\bexpects_arguments\b", line) and not re.match(
                r"def expects_arguments\(", line
            ):
                direct.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    found = "\n".join(direct)
    assert not direct, recheck(f"reads expects_arguments other than through helpers:\n{found}\n")


def test_every_element_s_props_classes_and_style_ask_with_a_method() -> None:
    """The measured cost: each element's three collections ask about their `_update` method.
    Once installed, those questions come to speedups and are kept per function."""
    original = helpers.expects_arguments
    speedups._known.clear()

    class Owner:
        """Anything that can be weakly referenced stands in for the element."""

    owner = Owner()
    try:
        speedups.install()
        for collection in (Props, Classes, Style):
            collection(element=owner)
        kept = {getattr(key, "__qualname__", "") for key in speedups._known}
        expected = {"Props._update", "Classes._update", "Style._update"}
        assert expected <= kept, recheck(
            f"builds an element's props, classes and style differently (asked about: {kept})"
        )
    finally:
        helpers.expects_arguments = original
