"""`/metrics` in Prometheus' text format: requests, replies, tokens, provider and store timing.

Off unless CHATAPP_METRICS_TOKEN is set; a scraper then sends `Authorization: Bearer <token>`
(Prometheus: `authorization: {credentials: <token>}` in the scrape config). The metrics live
in their own registry, so two apps in one process (tests) never collide.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.context import Services
from services.models import Usage

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
LOOP_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)


class PrometheusTelemetry:
    """The services' `Telemetry`, counted into Prometheus metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "chatapp_http_requests",
            "HTTP requests answered, by method and status code.",
            ["method", "status"],
            registry=registry,
        )
        self.active = Gauge(
            "chatapp_active_generations", "Replies being written right now.", registry=registry
        )
        self.replies = Counter(
            "chatapp_replies",
            "Replies finished, by model and how they ended.",
            ["model", "status"],
            registry=registry,
        )
        self.tokens = Counter(
            "chatapp_tokens",
            "Tokens used, by model and kind (prompt or completion).",
            ["model", "kind"],
            registry=registry,
        )
        self.first_token_seconds = Histogram(
            "chatapp_provider_first_token_seconds",
            "Time from asking the model to its first text.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.reply_seconds = Histogram(
            "chatapp_provider_reply_seconds",
            "Time from asking the model to the end of its reply.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.provider_errors = Counter(
            "chatapp_provider_errors",
            "Replies that failed, by kind of error.",
            ["kind"],
            registry=registry,
        )
        self.store_seconds = Histogram(
            "chatapp_store_seconds",
            "Time per database call, by operation.",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=registry,
        )
        self.loop_lag = Histogram(
            "chatapp_event_loop_lag_seconds",
            "How late a 10 ms sleep of the event loop wakes up (sampled continuously).",
            buckets=LOOP_LAG_BUCKETS,
            registry=registry,
        )
        self.store_errors = Counter(
            "chatapp_store_errors",
            "Database calls that failed because the database could not be used.",
            ["operation"],
            registry=registry,
        )

    def first_token(self, model: str, seconds: float) -> None:
        self.first_token_seconds.labels(model).observe(seconds)

    def reply_finished(
        self, model: str, status: str, usage: Usage | None, error_kind: str | None, seconds: float
    ) -> None:
        self.replies.labels(model, status).inc()
        self.reply_seconds.labels(model).observe(seconds)
        if usage is not None:
            self.tokens.labels(model, "prompt").inc(usage.prompt_tokens)
            self.tokens.labels(model, "completion").inc(usage.completion_tokens)
        if error_kind is not None:
            self.provider_errors.labels(error_kind).inc()

    def store_call(self, operation: str, seconds: float, failed: bool) -> None:
        self.store_seconds.labels(operation).observe(seconds)
        if failed:
            self.store_errors.labels(operation).inc()


class CountRequests:
    """ASGI middleware: one count per HTTP response, by method and status."""

    def __init__(self, app: ASGIApp, telemetry: PrometheusTelemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.telemetry.requests.labels(scope["method"], str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counting_send)


def register(app: FastAPI, services: Services, token: str) -> PrometheusTelemetry:
    """Serve /metrics (bearer `token` required) and count requests; returns the telemetry."""
    telemetry = PrometheusTelemetry(CollectorRegistry())
    telemetry.active.set_function(
        lambda: len(services.chat.generations) if services.ready.is_set() else 0
    )
    app.add_middleware(CountRequests, telemetry=telemetry)
    expected = f"Bearer {token}".encode()

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(
                "A bearer token is required.",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
                media_type="text/plain",
            )
        return Response(generate_latest(telemetry.registry), media_type=CONTENT_TYPE_LATEST)

    return telemetry
