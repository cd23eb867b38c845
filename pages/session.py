"""The one guard: signed-in pages, safe return paths, and re-checking the user in handlers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from services.context import Services
from services.errors import AuthError
from services.models import User

# Pages anyone may open; everything else registered with `signed_in_page` needs a session.
OPEN_ROUTES = frozenset({"/login", "/setup", "/signup", "/share/{share_id}"})


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site; anything else (an open redirect) becomes /."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def login_url(next_path: str) -> str:
    next_path = safe_next(next_path)
    return "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='/')}"


def sign_in(token: str) -> None:
    """Keep the token server-side: NiceGUI's user storage, keyed by a signed browser cookie."""
    app.storage.user["token"] = token


def sign_out() -> None:
    """Forget the session, but keep drafts: they belong to the browser, not to the token."""
    app.storage.user.pop("token", None)


async def current_user(services: Services) -> User | None:
    """The signed-in user, renewing the token when it is half-way to expiry (sliding expiry)."""
    token = app.storage.user.get("token")
    if not token:
        return None
    try:
        user, _claims = await services.auth.verify_token(token)
    except AuthError:
        sign_out()
        return None
    renewed = await services.auth.refresh_if_old(token)
    if renewed is not None:
        sign_in(renewed.token)
    return user


def open_page(path: str, **page_kwargs: Any) -> Callable[..., Any]:
    """`ui.page` for the few routes anyone may open; they must be listed in OPEN_ROUTES."""
    if path not in OPEN_ROUTES:
        raise ValueError(f"{path} is not an open route; use signed_in_page")
    return ui.page(path, **page_kwargs)


def signed_in_page(services: Services, path: str, **page_kwargs: Any) -> Callable[..., Any]:
    """Like `ui.page`, but the page function receives `user`; others go to login (or set-up)."""

    def decorator(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @wraps(func)
        async def page(request: Request, **kwargs: Any) -> Any:
            if await services.auth.needs_setup():
                return RedirectResponse("/setup")
            user = await current_user(services)
            if user is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(login_url(target))
            return await func(user, **kwargs)

        params = [p for p in inspect.signature(func).parameters.values() if p.name != "user"]
        request_param = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request
        )
        page.__signature__ = inspect.Signature([request_param, *params])  # type: ignore[attr-defined]
        del page.__wrapped__  # NiceGUI reads the signature above, not the wrapped function's
        return ui.page(path, **page_kwargs)(page)

    return decorator


async def recheck(services: Services) -> User | None:
    """For event handlers (they bypass HTTP): the user, or None after sending them to login."""
    user = await current_user(services)
    if user is None:
        ui.notify("Your session has expired. Please sign in again.", type="warning")
        ui.navigate.to(login_url(ui.context.client.request.url.path))
    return user


async def log_out(services: Services) -> None:
    """Revoke this session's token and forget everything kept for this browser."""
    token = app.storage.user.get("token")
    if token:
        await services.auth.revoke(token)
    app.storage.user.clear()
    ui.navigate.to("/login")
