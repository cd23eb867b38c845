"""Callbacks kept per key (a topic, a user), for pages that follow changes made elsewhere."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Watchers(Generic[T]):
    """`add` registers a callback under a key and returns the way to remove it again."""

    def __init__(self) -> None:
        self._by_key: defaultdict[str, set[Callable[[T], None]]] = defaultdict(set)

    def add(self, key: str, notify: Callable[[T], None]) -> Callable[[], None]:
        self._by_key[key].add(notify)

        def remove() -> None:
            callbacks = self._by_key.get(key)
            if callbacks is not None:
                callbacks.discard(notify)
                if not callbacks:
                    del self._by_key[key]

        return remove

    def notify(self, key: str, value: T) -> None:
        """Call every callback under `key`; one that fails is logged and does not stop the rest."""
        for callback in list(self._by_key.get(key, ())):
            try:
                callback(value)
            except Exception:
                log.exception("a watcher of %s failed", key)
