"""A real LiteLLM proxy (PyPI `litellm[proxy]`, installed by `make litellm` into .venv-litellm,
its own venv since its pins clash with chatapp's) in front of the fake model server, as people
run it in front of vLLM or Ollama: chatapp talks to LiteLLM, LiteLLM to the fake.

Not installed: the tests skip on a developer's machine and fail in CI (`CI=true`), where
`make test` installs it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.app_server import end

ROOT = Path(__file__).resolve().parent.parent
LITELLM = ROOT / ".venv-litellm" / "bin" / "litellm"
MODEL = "fake-small"


@dataclass(frozen=True)
class Proxy:
    base_url: str  # what chatapp's OPENAI_BASE_URL is set to
    key: str  # the proxy's master key: chatapp's OPENAI_API_KEY
    log: Path


@contextmanager
def litellm_proxy(upstream: str, workdir: Path) -> Iterator[Proxy]:
    """LiteLLM on a free loopback port, serving `MODEL` from `upstream` (an OpenAI base URL)."""
    if not LITELLM.exists():
        message = "LiteLLM is not installed: run `make litellm` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    config = workdir / "litellm.yaml"
    # No retries: a retried half-streamed reply would be a second reply (chatapp never retries
    # either); the fake serves each queued reply once.
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream}\n"
        "      api_key: not-needed\n"
        "litellm_settings:\n"
        "  num_retries: 0\n"
        "  request_timeout: 20\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "sk-chatapp-test-" + os.urandom(16).hex()
    log = workdir / "litellm.log"
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": key,
        "LITELLM_TELEMETRY": "False",
        "NO_DOCS": "True",
        "PYTHONPATH": "",  # LiteLLM's venv, not chatapp's imports
    }
    command = [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120  # a start-up guard (it imports a lot), not a measurement
        while True:
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"LiteLLM did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield Proxy(f"{url}/v1", key, log)
    finally:
        end(process)
