"""What the services report as they work, for whoever counts it (chatapp's /metrics).

A port, so services need no metrics library: the app plugs in a Prometheus-backed one when
metrics are on, and `NoTelemetry` costs nothing when they are off.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, Protocol, cast

from services.errors import StoreUnavailable
from services.models import Usage
from services.store import Store


class Telemetry(Protocol):
    def first_token(self, model: str, seconds: float) -> None: ...
    def reply_finished(
        self, model: str, status: str, usage: Usage | None, error_kind: str | None, seconds: float
    ) -> None: ...
    def store_call(self, operation: str, seconds: float, failed: bool) -> None: ...


class NoTelemetry:
    def first_token(self, model: str, seconds: float) -> None:
        pass

    def reply_finished(
        self, model: str, status: str, usage: Usage | None, error_kind: str | None, seconds: float
    ) -> None:
        pass

    def store_call(self, operation: str, seconds: float, failed: bool) -> None:
        pass


def timed_store(store: Store, telemetry: Telemetry) -> Store:
    """The same store, reporting how long each call took and whether the database failed."""
    return cast(Store, _TimedStore(store, telemetry))


class _TimedStore:
    def __init__(self, store: Store, telemetry: Telemetry) -> None:
        self._store = store
        self._telemetry = telemetry

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        return self._timed(name, attribute)

    def _timed(self, name: str, call: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @wraps(call)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start, failed = time.perf_counter(), False
            try:
                return await call(*args, **kwargs)
            except StoreUnavailable:
                failed = True
                raise
            finally:
                self._telemetry.store_call(name, time.perf_counter() - start, failed)

        return timed
