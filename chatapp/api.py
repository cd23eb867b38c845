"""The JSON + SSE API under /api/v1, and /healthz."""

from __future__ import annotations

from nicegui import app

from services.context import Services


def register(services: Services) -> None:
    async def healthz() -> dict[str, str]:
        database_ok = await services.store.ping() if hasattr(services, "store") else False
        return {
            "status": "ok" if database_ok else "degraded",
            "database": "ok" if database_ok else "unavailable",
            "version": services.options.version,
        }

    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    app.add_api_route("/api/v1/healthz", healthz, methods=["GET"], tags=["health"])
