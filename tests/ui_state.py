"""The services of the app the `user` fixture runs in this process (set by tests/ui_main.py),
for the few tests that must act on its real parts, e.g. take its database away."""

from __future__ import annotations

from services.context import Services

services: Services | None = None
