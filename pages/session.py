"""The one guard: signed-in pages, safe return paths, and re-checking the user in handlers."""

from __future__ import annotations

import html
import inspect
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from nicegui import app, ui
from nicegui import storage as nicegui_storage

from pages.i18n import choose
from services.context import Services
from services.errors import AuthError, StoreUnavailable
from services.models import User

# Pages anyone may open; everything else registered with `signed_in_page` needs a session.
OPEN_ROUTES = frozenset({"/login", "/setup", "/signup", "/share/{share_id}"})  # + /session/enter


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site; anything else (an open redirect) becomes /."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def login_url(next_path: str, *, ended: bool = False) -> str:
    """The sign-in page, back to `next_path` after; `ended`: it says the session ended (a
    token that expired or was revoked), rather than being a bare form."""
    query = ["expired=1"] if ended else []
    next_path = safe_next(next_path)
    if next_path != "/":
        query.append(f"next={quote(next_path, safe='/')}")
    return "/login" + (f"?{'&'.join(query)}" if query else "")


def browser_storage() -> Any:
    """`app.storage.user` of the browser this page belongs to.

    NiceGUI finds it through the request of the moment; a handler can run outside the request
    that built its page (a background task, a test's simulated click), so the page's own
    request is made the current one first. In HTTP routes there is no page: the route's
    request already is.
    """
    try:
        request = ui.context.client.request
    except RuntimeError:  # not in a page: an HTTP route
        request = None
    if request is not None:
        nicegui_storage.request_contextvar.set(request)
    return app.storage.user


def sign_in(token: str) -> None:
    """Keep the token server-side: NiceGUI's user storage, keyed by a signed browser cookie."""
    browser_storage()["token"] = token


TICKET_SECONDS = 60
_tickets: dict[str, tuple[str, float]] = {}  # one-time ticket -> (token, expiry)


def enter(token: str, next_path: str | None) -> None:
    """Finish a sign-in: the browser is sent through /session/enter, which gives it a new
    session id before the token is stored, so a session id planted before sign-in (session
    fixation) never becomes a signed-in one. A page handler cannot set cookies; a request can.
    """
    now = time.monotonic()
    for stale in [t for t, (_token, expiry) in _tickets.items() if expiry < now]:
        del _tickets[stale]
    ticket = secrets.token_urlsafe(32)
    _tickets[ticket] = (token, now + TICKET_SECONDS)
    target = quote(safe_next(next_path), safe="/")
    ui.navigate.to(f"/session/enter?ticket={ticket}&next={target}")


def register_session_routes() -> None:
    @app.get("/session/enter", include_in_schema=False)
    async def session_enter(request: Request, ticket: str = "", next: str = "/") -> Response:
        token, expiry = _tickets.pop(ticket, ("", 0.0))
        if not token or expiry < time.monotonic():
            return RedirectResponse(login_url(next), status_code=303)
        kept = {k: v for k, v in app.storage.user.items() if k != "token"}  # drafts stay
        fresh = str(uuid.uuid4())
        # NiceGUI makes a browser's storage when a request with a new id arrives; this request
        # changes the id half-way, so the storage is made here (NiceGUI's own helper).
        await app.storage._create_user_storage(fresh)
        request.session["id"] = fresh
        app.storage.user.update(kept)
        app.storage.user["token"] = token
        return RedirectResponse(safe_next(next), status_code=303)


def sign_out() -> None:
    """Forget the session, but keep drafts: they belong to the browser, not to the token."""
    browser_storage().pop("token", None)


async def current_user(services: Services) -> User | None:
    """The signed-in user, renewing the token when it is half-way to expiry (sliding expiry)."""
    token = browser_storage().get("token")
    if not token:
        return None
    try:
        user, renewed = await services.auth.check_session(token)
    except AuthError:
        sign_out()
        return None
    if renewed is not None:
        sign_in(renewed.token)
    return user


RETRY_SECONDS = 5  # how soon a page shown while the database is away loads itself again


def unavailable(exc: StoreUnavailable) -> HTMLResponse:
    """What a page is while the database cannot be reached: why, and a reload every few s."""
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv=refresh content="{RETRY_SECONDS}">'
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        "<title>chatapp: the database is unavailable</title></head>"
        '<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">'
        "<h1>The database is unavailable</h1>"
        f"<p>{html.escape(exc.message)}</p>"
        f"<p>This page tries again every {RETRY_SECONDS} seconds. What you typed before is "
        "kept.</p></body></html>",
        status_code=503,
        headers={"Retry-After": str(RETRY_SECONDS)},
    )


def _while_store_unavailable(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Wrap a page function so a database outage is a page that retries, not a 500."""

    @wraps(func)
    async def page(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except StoreUnavailable as exc:
            return unavailable(exc)

    return page


def open_page(path: str, **page_kwargs: Any) -> Callable[..., Any]:
    """`ui.page` for the few routes anyone may open; they must be listed in OPEN_ROUTES."""
    if path not in OPEN_ROUTES:
        raise ValueError(f"{path} is not an open route; use signed_in_page")

    def decorator(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @wraps(func)
        async def page(*args: Any, **kwargs: Any) -> Any:
            choose(None, browser_storage().get("language"))
            return await func(*args, **kwargs)

        return ui.page(path, **page_kwargs)(_while_store_unavailable(page))

    return decorator


def signed_in_page(services: Services, path: str, **page_kwargs: Any) -> Callable[..., Any]:
    """Like `ui.page`, but the page function receives `user`; others go to login (or set-up)."""

    def decorator(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @wraps(func)
        @_while_store_unavailable
        async def page(request: Request, **kwargs: Any) -> Any:
            if await services.auth.needs_setup():
                return RedirectResponse("/setup")
            had_token = bool(browser_storage().get("token"))
            user = await current_user(services)
            if user is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(login_url(target, ended=had_token))
            choose(user, browser_storage().get("language"))
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
    """For event handlers (they bypass HTTP): the user, or None after sending them to login,
    which says why (the page was signed in when it was built)."""
    user = await current_user(services)
    if user is None:
        ui.navigate.to(login_url(ui.context.client.request.url.path, ended=True))
    return user


async def log_out(services: Services) -> None:
    """Revoke this session's token and forget everything kept for this browser."""
    storage = browser_storage()
    token = storage.get("token")
    if token:
        await services.auth.revoke(token)
    kept = {key: storage[key] for key in ("language",) if key in storage}
    storage.clear()
    storage.update(kept)  # the language this browser chose is not personal: it stays
    ui.navigate.to("/login")
