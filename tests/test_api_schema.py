"""schemathesis over the app's own /openapi.json, signed in: no server error, and every
answer (status, content type, body) is one the schema declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks as sc

from tests.app_server import AppServer, run_app
from tests.fake_openai import FakeOpenAI
from tests.test_api import ALICE, add_user

EXAMPLES = 25  # per operation: varied enough, and the file runs in well under a minute


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, str]]:
    data_dir: Path = tmp_path_factory.mktemp("schema") / "data"
    add_user(data_dir, *ALICE)
    with FakeOpenAI() as fake:
        env = {
            "OPENAI_BASE_URL": fake.base_url,
            "CHATAPP_AUTO_TITLE": "false",
            "CHATAPP_REPLIES_PER_MINUTE": "100000",
            "CHATAPP_LLM_TIMEOUT": "5",
        }
        with run_app(data_dir=data_dir, env=env) as app:
            token = httpx.post(
                f"{app.url}/api/v1/auth/token", data={"username": ALICE[0], "password": ALICE[1]}
            ).json()["access_token"]
            yield app, token


CHECKS = [
    sc.not_a_server_error,
    sc.status_code_conformance,
    sc.content_type_conformance,
    sc.response_schema_conformance,
]


def test_the_api_keeps_to_its_schema(fuzzed_app: tuple[AppServer, str]) -> None:
    app, token = fuzzed_app
    schema = schemathesis.openapi.from_url(f"{app.url}/openapi.json")
    # Logging out would revoke the token every other case uses; the API tests cover it.
    schema = schema.include(path_regex="^/api/").exclude(path="/api/v1/auth/logout")
    headers = {"Authorization": f"Bearer {token}"}
    failures: dict[str, str] = {}
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=app.url, headers=headers, checks=CHECKS, timeout=30)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            failures[operation.label] = str(exc)[:2000]
    assert len(tried) >= 15, tried  # the whole API was there to fuzz
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
