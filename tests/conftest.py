"""Shared fixtures: a private data folder per test, the fake model server, the app, Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from chatapp.app import build_services, stop_services
from chatapp.settings import load_settings
from services.context import Services
from services.models import User
from services.render_pool import Renderer
from tests.app_server import AppServer, run_app
from tests.chromium import CHROMIUM, chromium
from tests.fake_openai import FakeOpenAI


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point chatapp at a fresh data folder and strip any real provider settings."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CHATAPP_DATA_DIR", str(folder))
    for name in list(os.environ):
        if name.startswith("CHATAPP_") and name not in (
            "CHATAPP_DATA_DIR",
            "CHATAPP_TEST_MONGODB_URL",
            "CHATAPP_TEST_CHROMIUM",
        ):
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return folder


def require_tool(path: str) -> str:
    """Return a system tool's path; a missing tool fails the test (never a silent skip)."""
    found = shutil.which(path)
    if not found:
        pytest.fail(f"{path} is not installed: see .ci/run for the system packages tests need")
    return found


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require_tool(CHROMIUM)


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[object]:
    """A real headless Chromium (Debian's), driven by Playwright's async API."""
    async with chromium(chromium_path) as launched:
        yield launched


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    """The one fake OpenAI server, on 127.0.0.1 and a free port."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def ui_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The fake model server for in-process UI tests; request it before `user`, so the app
    NiceGUI's `user` fixture starts is pointed at it."""
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("CHATAPP_LLM_TIMEOUT", "5")
        monkeypatch.setenv("CHATAPP_AUTO_TITLE", "false")
        yield server


@pytest.fixture
def app(fake: FakeOpenAI, data_dir: Path) -> Iterator[AppServer]:
    """The real app in a child process, answering with the fake model server."""
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_AUTO_TITLE": "false"}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


@pytest.fixture
async def services(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    """The services in this process, on a real SQLite file and the fake model server."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("CHATAPP_LLM_TIMEOUT", "5")
    monkeypatch.setenv("CHATAPP_AUTO_TITLE", "false")
    built = await build_services(load_settings())
    yield built
    await stop_services(built)


@pytest.fixture
async def alice(services: Services) -> User:
    return await services.auth.register(email="alice@example.com", password="correct horse")


@pytest.fixture
async def renderer() -> AsyncIterator[Renderer]:
    """The markdown worker pool, as the app runs it: real worker processes."""
    pool = Renderer(2)
    await pool.start()
    yield pool
    await pool.close()
