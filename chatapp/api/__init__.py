"""The JSON + SSE API under /api/v1 (bearer JWTs), and /healthz; the same services as the pages."""

from __future__ import annotations

from nicegui import app

from chatapp.api import errors, routes
from services.context import Services


def register(services: Services) -> None:
    async def healthz() -> dict[str, str]:
        database_ok = await services.store.ping()
        return {
            "status": "ok" if database_ok else "degraded",
            "database": "ok" if database_ok else "unavailable",
            "version": services.options.version,
        }

    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    app.include_router(routes.router(services, healthz))
    errors.register(app)
    # 2 MB for any body; a message with its files (5, in base64) or an import up to 64 MB.
    app.add_middleware(errors.BodyLimit, max_bytes=2 * 1024 * 1024, upload_bytes=64 * 1024 * 1024)
