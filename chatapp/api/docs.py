"""The API's documentation page, /docs (Swagger UI), drawn from files this app serves.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which the app's Content-Security-
Policy forbids (and an offline machine cannot reach). The `fastapi-offline` package ships
those files; only its folder of assets is used here, since NiceGUI builds the FastAPI app.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import Request
from fastapi.openapi.docs import (
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from nicegui import App

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-static"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# No validator badge: Swagger UI would send the schema's address to validator.swagger.io.
SWAGGER_PARAMETERS = {"validatorUrl": None}

_registered: set[int] = set()


def register(app: App, *, title: str, version: str) -> None:
    """/openapi.json and /docs on `app`, /redoc leading to /docs; once per app."""
    if id(app) in _registered:
        return
    _registered.add(id(app))
    app.title, app.version = title, version
    app.openapi_url = "/openapi.json"
    app.swagger_ui_oauth2_redirect_url = OAUTH2_REDIRECT
    app.setup()  # adds /openapi.json; docs_url and redoc_url stay None, so nothing from a CDN
    app.add_static_files(ASSETS_URL, ASSETS)
    for route in app.routes:  # files, not API: out of the schema (as /static is)
        if isinstance(route, APIRoute) and route.path.startswith(ASSETS_URL):
            route.include_in_schema = False

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}/favicon.ico",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> RedirectResponse:
        # ReDoc searches in a worker made from a blob: URL (which the policy forbids) and shows
        # a logo from its own CDN; one documentation page, drawn in full, serves better.
        return RedirectResponse(f"{request.scope.get('root_path', '').rstrip('/')}/docs")
