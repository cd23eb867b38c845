"""/launch: the desktop window's way in. Its one-time token signs the local owner in."""

from __future__ import annotations

import html
import logging

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from nicegui import app

from pages.session import sign_in
from services.context import Services
from services.errors import AuthError
from services.launch import LaunchToken

log = logging.getLogger("chatapp.launch")

REFUSED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatapp: launch link refused</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 4rem auto; line-height: 1.5">
<h1>This launch link does not work</h1>
<p>{reason}</p>
<p><a href="/login">Sign in with your email and password</a> instead.</p>
</body></html>
"""


def register(services: Services, launch: LaunchToken) -> None:
    """Only with a launch token (the desktop window): without one there is no such route."""

    @app.get("/launch", include_in_schema=False)
    async def launch_route(token: str = "") -> Response:
        if not launch.redeem(token):
            log.warning("refused a launch token: wrong, or already used")
            return refused(
                "A launch link signs in once, from the window that chatapp opened at start-up. "
                "This one is wrong or has been used already."
            )
        try:
            user = await services.auth.local_owner()
        except AuthError as exc:
            log.warning("launch token accepted, but no local owner: %s", exc.message)
            return refused(exc.message)
        sign_in(services.auth.issue_token(user).token)
        log.info("desktop window signed in as %s with the launch token", user.email)
        return RedirectResponse("/", status_code=303)


def refused(reason: str) -> HTMLResponse:
    return HTMLResponse(REFUSED.format(reason=html.escape(reason)), status_code=403)
