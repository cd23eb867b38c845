"""schemathesis over the app's own /openapi.json, signed in, with every check and every phase
(examples, coverage, fuzzing, stateful): the API answers exactly what its schema says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app_server import AppServer, run_app
from tests.fake_openai import FakeOpenAI
from tests.test_api import ALICE, add_user

ROOT = Path(__file__).parent.parent
# A fixed run for make test; other seeds are worth a try by hand (README): CHATAPP_SCHEMA_SEED=…
SEED = int(os.environ.get("CHATAPP_SCHEMA_SEED", "20261204"))


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
            # The test account is the owner: random commands must never be started.
            "CHATAPP_TOOLS_LOCAL": "false",
        }
        with run_app(data_dir=data_dir, env=env) as app:
            token = httpx.post(
                f"{app.url}/api/v1/auth/token", data={"username": ALICE[0], "password": ALICE[1]}
            ).json()["access_token"]
            yield app, token


def test_the_api_keeps_to_its_schema(fuzzed_app: tuple[AppServer, str]) -> None:
    app, token = fuzzed_app
    # The CLI as an operator would run it, with the repository's schemathesis.toml (which says
    # where this API's statuses differ from schemathesis's defaults, and why).
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{app.url}/openapi.json",
        "--checks",
        "all",
        # schemathesis.toml turns this one off, but `--checks all` turns it back on: the stateful
        # phase reads "The message to answer is not in this topic." (a foreign parent_id) as the
        # topic just created being gone. tests/test_api.py checks that a created topic is found.
        "--exclude-checks",
        "ensure_resource_availability",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--header",
        f"Authorization: Bearer {token}",
        # Logging out would revoke the token every other case uses; test_api.py covers it.
        "--exclude-path",
        "/api/v1/auth/logout",
        "--request-timeout",
        "30",
        "--seed",
        str(SEED),
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    output = done.stdout + done.stderr
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) >= 25, output[-4000:]  # the whole API was fuzzed
    assert done.returncode == 0 and " passed" in output, output[-20000:]
    assert not re.search(r"\d+ failures?", output), output[-20000:]
