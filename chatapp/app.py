"""The composition root: settings in, services built at start-up, pages and API registered."""

from __future__ import annotations

import asyncio
import logging
import sys
import weakref
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from nicegui import app, ui
from nicegui.middlewares import RedirectWithPrefixMiddleware, SetCacheControlMiddleware
from nicegui.storage import RequestTrackingMiddleware, Storage
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import pages
from chatapp import __version__, api, metrics
from chatapp.probe import probe_loop
from chatapp.security import SecurityHeaders
from chatapp.settings import Settings
from services.archive import ArchiveService
from services.auth import AuthService
from services.chat import ChatService
from services.context import Services
from services.launch import LaunchToken, new_launch_token
from services.llm import LLM, make_llm
from services.options import Options
from services.render_pool import Renderer
from services.store import Store, open_store
from services.telemetry import timed_store
from services.tools.mcp import McpSessions
from services.tools.runner import ToolRunner
from services.tools.service import ToolService
from services.topics import TopicService

log = logging.getLogger("chatapp")


class WaitUntilReady:
    """Hold requests that arrive while the services still open (NiceGUI starts them as a task)."""

    def __init__(self, app: ASGIApp, ready: asyncio.Event) -> None:
        self.app = app
        self.ready = ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), timeout=30)
            except TimeoutError:
                if scope["type"] == "http":
                    response = JSONResponse({"status": "starting"}, status_code=503)
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# NiceGUI's middlewares for browsers: its session cookie and per-browser storage, and headers
# for its own files. Three of them are BaseHTTPMiddleware, which hands every request and
# every streamed chunk between tasks.
BROWSER_ONLY = (
    SessionMiddleware,
    RequestTrackingMiddleware,
    RedirectWithPrefixMiddleware,
    SetCacheControlMiddleware,
)


def is_machine_path(path: str) -> bool:
    """The API, the health check and the metrics: asked for with tokens, never by a page."""
    return path.startswith("/api/") or path in ("/healthz", "/metrics")


class MachineLane:
    """Send API, health and metrics requests past NiceGUI's browser middlewares.

    They gave each request that came without a cookie (curl, scripts, a health check, any
    API client) a new browser session and kept its storage in memory for good, and they cost
    a reply's first token about 1.3 ms (`make bench`, relay). Every other middleware (body
    limit, security headers, request counts, error handlers) applies on both lanes.
    """

    def __init__(self, browser: ASGIApp, machine: ASGIApp) -> None:
        self.browser = browser
        self.machine = machine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        machine = scope["type"] == "http" and is_machine_path(scope["path"])
        await (self.machine if machine else self.browser)(scope, receive, send)


_laned: weakref.WeakSet[FastAPI] = weakref.WeakSet()


def add_machine_lane(app: FastAPI) -> None:
    """Build the app's middleware stack twice, the second time without BROWSER_ONLY.

    Starlette builds the stack on the first ASGI call (the lifespan), after ui.run has added
    NiceGUI's middlewares, which is why this wraps the build rather than adding a middleware.
    """
    if app in _laned:  # create_app runs again on the same app (in-process tests): once
        return
    _laned.add(app)
    build = app.build_middleware_stack

    def build_both() -> ASGIApp:
        browser = build()
        everything = app.user_middleware
        app.user_middleware = [m for m in everything if m.cls not in BROWSER_ONLY]
        try:
            machine = build()
        finally:
            app.user_middleware = everything
        return MachineLane(browser, machine)

    app.build_middleware_stack = build_both  # type: ignore[method-assign]


def options_from(settings: Settings) -> Options:
    return Options(
        version=__version__,
        allow_signup=settings.allow_signup,
        demo=settings.demo_mode,
        default_model="demo" if settings.demo_mode else settings.default_model,
        title_model=settings.title_model,
        auto_title=settings.auto_title,
        history_budget_chars=settings.history_budget_chars,
        max_message_chars=settings.max_message_chars,
        replies_per_minute=settings.replies_per_minute,
        database_kind="mongodb" if settings.database.startswith("mongodb") else "sqlite",
        tools_remote_for_all=settings.tools_remote_for_all,
        tools_local=settings.tools_local,
        tool_timeout=settings.tool_timeout,
        tool_result_max_bytes=settings.tool_result_max_bytes,
        tool_max_rounds=settings.tool_max_rounds,
    )


async def start_services(
    services: Services, settings: Settings, *, store: Store | None = None, llm: LLM | None = None
) -> Services:
    """Open the store and build every service; any part can be passed in instead (tests do)."""
    services.store = store or await open_store(settings.database)
    if services.telemetry is not None:
        services.store = timed_store(services.store, services.telemetry)
    interrupted = await services.store.mark_streaming_interrupted()
    if interrupted:
        log.warning(
            "marked %d reply(ies) left streaming by the last run as interrupted", interrupted
        )
    services.auth = AuthService(
        services.store,
        secret=settings.jwt_secret.get_secret_value(),
        token_ttl=timedelta(days=settings.token_ttl_days),
    )
    services.llm = llm or make_llm(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
    )
    services.mcp = McpSessions()
    services.chat = ChatService(
        services.store,
        services.llm,
        services.options,
        telemetry=services.telemetry,
        tools=ToolRunner(services.store, services.options, services.mcp),
    )
    services.tools = ToolService(services.store, services.options, services.mcp, services.chat)
    services.topics = TopicService(services.store, services.options, services.chat)
    services.archive = ArchiveService(services.store, services.chat)
    services.renderer = Renderer(settings.render_workers)
    services.ready.set()
    return services


async def build_services(
    settings: Settings, *, store: Store | None = None, llm: LLM | None = None
) -> Services:
    """Services without any web app: for the CLI, scripts and tests."""
    return await start_services(Services(options_from(settings)), settings, store=store, llm=llm)


async def stop_services(services: Services) -> None:
    await services.renderer.close()
    await services.topics.close()
    await services.chat.close()
    await services.mcp.close()  # after the replies: their calls are cancelled by then
    await services.llm.close()
    await services.store.close()


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    llm: LLM | None = None,
    launch: LaunchToken | None = None,
) -> Services:
    """Register pages and API routes on NiceGUI's app; the services open when it starts.

    With a launch token (the desktop window) there is also /launch, which accepts it once.
    """
    services = Services(options_from(settings))
    prometheus = None
    if token := settings.metrics_token.get_secret_value():
        services.telemetry = prometheus = metrics.register(app, services, token)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(WaitUntilReady, ready=services.ready)
    add_machine_lane(app)
    pages.register(services)
    if launch is not None:
        from pages import launch as launch_page

        launch_page.register(services, launch)
    api.register(services)

    probe: list[asyncio.Task[None]] = []

    async def startup() -> None:
        await start_services(services, settings, store=store, llm=llm)
        await services.renderer.start()  # its workers warm up the common lexers meanwhile
        if settings.loop_probe is not None or prometheus is not None:
            observe = prometheus.loop_lag.observe if prometheus is not None else None
            probe.append(asyncio.create_task(probe_loop(path=settings.loop_probe, observe=observe)))
        log.info("chatapp %s ready, database: %s", __version__, services.options.database_kind)

    async def shutdown() -> None:
        for task in probe:
            task.cancel()
        await stop_services(services)

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    return services


SWITCH_INTERVAL = 0.0005  # seconds; see run()


def run(settings: Settings, *, native: bool = False, launch_token: str | None = None) -> None:
    """Serve the app until interrupted (blocking).

    `native` opens it in a desktop window, signed in by a one-time launch token that only the
    window gets. `launch_token` enables /launch with a known token and no window (tests).
    """
    # NiceGUI keeps per-browser storage (our session tokens, drafts) in files: the data folder,
    # not whatever folder the process happened to start in.
    Storage.path = (settings.data_dir / "nicegui").resolve()
    # With Redis, that storage is shared by every process using the same URL and prefix, so
    # a browser signed in through one process is signed in on all (docs/scaling.md).
    if settings.redis_url:
        Storage.redis_url = settings.redis_url
        Storage.redis_key_prefix = settings.redis_key_prefix
    app.storage = Storage()
    app.storage.general.initialize_sync()
    if native and launch_token is None:
        launch_token = new_launch_token()
    create_app(settings, launch=LaunchToken(launch_token) if launch_token else None)
    # Helper threads (aiosqlite's, which does every write) wait for the event loop's thread
    # to hand over the GIL, which it does when it waits, or else after the switch interval:
    # 5 ms by default. A send's rows are written while its model request is on its way, in
    # trips to that thread (three when this was measured, two now); each waited while the
    # loop built and sent the request, and the rows were done after the first words were
    # back (the API's stream waits for them). Interleaved A/B at 0.5 ms, ms added to the
    # API's first token: 12.5 -> 9.7 and 10.5 -> 9.5; 100 replies at once lag no more
    # (`make bench`, relay and concurrency).
    sys.setswitchinterval(SWITCH_INTERVAL)
    if native and launch_token:
        open_window_signed_in(settings, launch_token)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="chatapp",
        language="en-US",  # <html lang> for screen readers, and Quasar's own texts
        favicon=Path(pages.__file__).parent / "static" / "favicon.svg",
        storage_secret=settings.storage_secret.get_secret_value(),
        reload=False,
        show=False,
        native=native,
        window_size=(1100, 760) if native else None,
        fastapi_docs=False,  # chatapp.api.docs serves /docs and /redoc without a CDN
        show_welcome_message=False,
        uvicorn_logging_level=settings.log_level.lower(),
        # The session cookie is HttpOnly and SameSite=Lax; behind TLS it is also Secure.
        session_middleware_kwargs={"https_only": settings.https_only, "same_site": "lax"},
        # Behind a reverse proxy, trust its X-Forwarded-* headers (nginx on the same host).
        forwarded_allow_ips=settings.forwarded_allow_ips,
        proxy_headers=True,
        # The pages' Tailwind is compiled ahead of time (pages/tailwind.css, `make css`), not
        # in every browser on every page load and every change to the page.
        tailwind=False,
    )


def open_window_signed_in(settings: Settings, launch_token: str) -> None:
    """Have NiceGUI's window open /launch with the token, and then forget the token here.

    NiceGUI starts the window as a child process and hands it these arguments through a
    pipe, so the token is on no command line; /launch keeps only its hash. Once the server
    starts (the window process has its copy by then) the URL is dropped from this process.
    """
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    window_args = app.native.window_args
    window_args["url"] = f"http://{host}:{settings.port}/launch?token={launch_token}"
    app.on_startup(lambda: window_args.pop("url", None))
