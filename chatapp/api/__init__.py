"""The JSON + SSE API under /api/v1 (bearer JWTs), and /healthz; the same services as the pages."""

from __future__ import annotations

from nicegui import app

from chatapp.api import docs, errors, routes
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
    docs.register(app, title="chatapp API", version=services.options.version)
    # 2 MB for any body, or room for the longest text allowed (up to 12 bytes a character in
    # JSON, as an escaped surrogate pair); a message with its files or an import, 64 MB more.
    max_bytes = max(2 * 1024 * 1024, 12 * services.options.max_message_chars + 64 * 1024)
    app.add_middleware(
        errors.BodyLimit, max_bytes=max_bytes, upload_bytes=max_bytes + 64 * 1024 * 1024
    )
