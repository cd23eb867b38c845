"""One error shape for the API, `{"error": {"code", "message"}}`, from one table of statuses."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from services import errors

STATUS: list[tuple[type[errors.ChatAppError], int]] = [  # the first match wins
    (errors.TooLarge, 413),
    (errors.InvalidInput, 400),
    (errors.AuthError, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Throttled, 429),
    (errors.ProviderRateLimited, 429),
    (errors.ProviderAuthError, 502),
    (errors.ProviderError, 502),
    (errors.ToolError, 502),
    (errors.StoreUnavailable, 503),
    (errors.ChatAppError, 500),
]


def status_of(exc: errors.ChatAppError) -> int:
    return next(status for kind, status in STATUS if isinstance(exc, kind))


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(exc: errors.ChatAppError) -> JSONResponse:
    headers = {}
    if exc.retry_after:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    if isinstance(exc, errors.AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(exc.code, exc.message), status_code=status_of(exc), headers=headers
    )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def allowed_methods(request: Request) -> str:
    """The methods the schema gives the request's path (Starlette's 405 names only one route's).

    The first path that matches wins, as in routing: /topics/search is not /topics/{topic_id}.
    """
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(root) if root and path.startswith(root + "/") else path
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            return ", ".join(method.upper() for method in operations)
    return ""


def register(app: FastAPI) -> None:
    async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.ChatAppError)
        return error_response(exc)

    async def on_validation_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, RequestValidationError)
        if not _is_api(request):
            return await request_validation_exception_handler(request, exc)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        said = first.get("msg", "invalid").removeprefix("Value error, ")
        message = f"{where}: {said}" if where else said
        return JSONResponse(error_body("invalid_request", message), status_code=422)

    async def on_http_error(request: Request, exc: Exception) -> Any:
        assert isinstance(exc, HTTPException)
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers
        )

    # NiceGUI answers 404 with its HTML page, and a handler by status wins over one by class:
    # an API path that matches no route (e.g. an id with a slash in it) must still get JSON.
    page_404 = app.exception_handlers.get(404)

    async def on_not_found(request: Request, exc: Exception) -> Any:
        if _is_api(request) and isinstance(exc, HTTPException):
            return await on_http_error(request, exc)
        if page_404 is None:
            return await http_exception_handler(request, exc)  # type: ignore[arg-type]
        return await page_404(request, exc)

    app.add_exception_handler(errors.ChatAppError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(404, on_not_found)


class BodyLimit:
    """Refuse API request bodies over `max_bytes` with 413, before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.upload_bytes = upload_bytes  # sending a message with files (base64) may be larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"].endswith(("/messages", "/import"))
        max_bytes = self.upload_bytes if upload else self.default_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and int(declared or 0) > max_bytes:
            too_large = errors.TooLarge(f"The request body is over {max_bytes} bytes.")
            await error_response(too_large)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise errors.TooLarge(f"The request body is over {max_bytes} bytes.")
            return message

        await self.app(scope, counting_receive, send)
