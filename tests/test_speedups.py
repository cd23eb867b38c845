"""pages.speedups: NiceGUI's expects_arguments, remembered per method, answers as before."""

from __future__ import annotations

import functools
from typing import Any

from nicegui import helpers

from pages import speedups


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
