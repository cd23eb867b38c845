"""One measured speed-up of NiceGUI itself: element creation without repeated signature reads.

Every NiceGUI element keeps its props, classes and style in observable collections, and each
collection asks `helpers.expects_arguments` about its change handler, a method of the element:
`inspect.signature` three times per element. A profile of drawing a new question and reply
(`make bench`, relay) spent about half its time there. The answer depends only on the
method's function, so it is kept per function; anything else (lambdas, partials, handlers
made on the fly) is asked afresh as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from nicegui import helpers

_ask = helpers.expects_arguments
_known: dict[Any, bool] = {}


def expects_arguments(func: Callable[..., Any]) -> bool:
    """NiceGUI's answer, remembered for bound methods of functions defined once."""
    if not inspect.ismethod(func):
        return _ask(func)
    key = func.__func__
    if key not in _known:
        _known[key] = _ask(func)
    return _known[key]


def install() -> None:
    helpers.expects_arguments = expects_arguments
