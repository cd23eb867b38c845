"""/metrics: off by default, bearer-protected when on, and parseable by Prometheus' own parser."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.app_server import run_app
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_api import ALICE, add_user, login, send

TOKEN = "scrape-secret-1234"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_replies_tokens_errors_and_store_calls(
    fake: FakeOpenAI, data_dir: Path
) -> None:
    add_user(data_dir, *ALICE)
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_METRICS_TOKEN": TOKEN}
    with run_app(data_dir=data_dir, env={**env, "CHATAPP_AUTO_TITLE": "false"}) as app:
        assert httpx.get(f"{app.url}/metrics").status_code == 401
        wrong = httpx.get(f"{app.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        with closing(login(app, *ALICE)) as alice:
            topic = alice.post("/topics", json={}).json()
            fake.enqueue(Reply("four words of reply"), Reply("x", status=500))
            send(alice, topic["id"], "hello there")
            send(alice, topic["id"], "and again")  # the provider fails this one
        scraped = httpx.get(f"{app.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        found = samples(scraped.text)
    model = (("model", "gpt-4o-mini"),)
    assert found[("chatapp_replies_total", (*model, ("status", "complete")))] == 1
    assert found[("chatapp_replies_total", (*model, ("status", "error")))] == 1
    assert found[("chatapp_tokens_total", (("kind", "completion"), *model))] > 0
    assert found[("chatapp_provider_errors_total", (("kind", "ProviderUnavailable"),))] == 1
    assert found[("chatapp_provider_first_token_seconds_count", model)] == 1
    assert found[("chatapp_active_generations", ())] == 0
    assert found[("chatapp_http_requests_total", (("method", "POST"), ("status", "200")))] >= 3
    # Each question is written with its reply's row, in one call.
    assert found[("chatapp_store_seconds_count", (("operation", "add_messages"),))] == 2
    assert found[("chatapp_event_loop_lag_seconds_count", ())] > 0  # the probe runs


def test_metrics_are_off_unless_a_token_is_set(app) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{app.url}/metrics").status_code == 404
