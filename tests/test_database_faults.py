"""The database failing under a running app: a clear error in the page and the API, no crash,
nothing lost, and work carrying on when it is back.

A full disk is made real with a file-size limit on the app's process (RLIMIT_FSIZE 0: every
write to a file fails with EFBIG, which SQLite reports as a disk I/O error; Python ignores
the SIGXFSZ that comes with it). It works for root too, where file modes would not.
MongoDB going away mid-session runs the real driver against a server that does not answer,
and, when CHATAPP_TEST_MONGODB_URL is set, against a real server behind a proxy we cut.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from motor.motor_asyncio import AsyncIOMotorClient
from nicegui.testing import User as NiceGUIUser

from services.chat import ChatService
from services.context import Services
from services.errors import StoreUnavailable
from services.models import MessageStatus, User
from services.store.mongo import MongoStore
from services.topics import TopicService
from tests import ui_state
from tests.app_server import AppServer, free_port
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import OWNER, set_up
from tests.test_ui_auth import set_up_owner

LONG = "".join(f"part{n:03d} " for n in range(300))  # 3 s at the pace below
WRITE_FAILED = "could not be written"


@contextmanager
def full_disk(app: AppServer) -> Iterator[None]:
    """No file of the app's process can grow while inside (its log file neither)."""
    assert app.process is not None
    soft, hard = resource.prlimit(app.process.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(app.process.pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.prlimit(app.process.pid, resource.RLIMIT_FSIZE, (soft, hard))


def saved_messages(data_dir: Path) -> list[tuple[str, str, str]]:
    """(role, status, content) straight from the file, not through the app."""
    with sqlite3.connect(f"file:{data_dir / 'chatapp.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT role, status, content FROM messages ORDER BY id").fetchall()


async def eventually(check: Any) -> None:
    async with asyncio.timeout(30):
        while not check():
            await asyncio.sleep(0.2)


@pytest.fixture
async def api(app: AppServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{app.url}/api/v1", timeout=30) as client:
        yield client


async def test_a_full_disk_under_a_running_app(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI, api: httpx.AsyncClient
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    token = await api.post("/auth/token", data={"username": OWNER[0], "password": OWNER[1]})
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    box = page.get_by_role("textbox", name="Message")

    # 1. The disk fills while a reply streams: it streams on to the end, the page says it is
    # not saved yet, and it reaches the file once there is room again.
    fake.enqueue(Reply(LONG, chunk_size=10, delay=0.1))
    await box.fill("Count slowly")
    await page.keyboard.press("Enter")
    await page.get_by_text("part010").wait_for(timeout=30_000)
    with full_disk(app):
        await page.get_by_text("part299").wait_for(timeout=30_000)
        await page.get_by_text("could not be saved yet").wait_for(timeout=15_000)
        (topic,) = (await api.get("/topics")).json()["items"]  # reading still works
        listing = (await api.get(f"/topics/{topic['id']}/messages")).json()["messages"]
        assert listing[-1]["content"] == LONG and listing[-1]["status"] == "complete"
        assert saved_messages(app.data_dir)[-1][2] != LONG  # only the service has it

        # 2. Sending while the disk is full: a clear error, the draft stays, nothing saved.
        await box.fill("Are you there?")
        await page.keyboard.press("Enter")
        # The error toast: the reply above says "could not be written" too, in a warning.
        failed = page.locator(".q-notification.bg-negative").filter(has_text=WRITE_FAILED)
        await failed.wait_for(timeout=15_000)
        assert await box.input_value() == "Are you there?"
        refused = await api.post(f"/topics/{topic['id']}/messages", json={"content": "Hello?"})
        assert refused.status_code == 503
        assert WRITE_FAILED in refused.json()["error"]["message"]
        assert len(saved_messages(app.data_dir)) == 2
    assert app.process is not None and app.process.poll() is None  # no crash

    # 3. Room again: the finished reply is saved by the retry, and the kept draft sends.
    await eventually(lambda: saved_messages(app.data_dir)[-1] == ("assistant", "complete", LONG))
    fake.enqueue(Reply("Yes, still here.", chunk_size=4, delay=0.01))
    await page.get_by_role("button", name="Send").click()
    await page.get_by_text("Yes, still here.").wait_for(timeout=30_000)
    await eventually(
        lambda: saved_messages(app.data_dir)[-1][1:] == ("complete", "Yes, still here.")
    )
    assert [m[2] for m in saved_messages(app.data_dir)][-2] == "Are you there?"
    assert await box.input_value() == ""


async def test_a_page_opened_while_the_disk_is_full_still_shows_everything(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    """Reading needs no writes: pages open and show what is saved while nothing can be saved."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    fake.enqueue(Reply("Saved before the disk filled.", chunk_size=8, delay=0.01))
    await page.get_by_label("Message").fill("Remember this")
    await page.keyboard.press("Enter")
    await page.get_by_text("Saved before the disk filled.").wait_for(timeout=30_000)
    await eventually(lambda: saved_messages(app.data_dir)[-1][1] == "complete")
    with full_disk(app):
        await page.reload()
        await page.get_by_text("Saved before the disk filled.").wait_for(timeout=30_000)
        await page.get_by_role("link", name="Remember this").wait_for()  # the sidebar row


# ----- MongoDB going away --------------------------------------------------------------------


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 that forwards to `target` until `cut()` closes everything."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.open = True

    async def start(self) -> CuttableProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            await writer.wait_closed()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        self.open = False
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def mend(self) -> None:
        self.open = True

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_mongodb_that_stops_answering_is_a_clear_error_everywhere(
    services: Services, alice: User
) -> None:
    """The real driver after its server went away (nothing answers on its port any more):
    every kind of call, and a message sent, is StoreUnavailable with a sentence to act on,
    which the API turns into 503 and the page into a toast."""
    client: Any = AsyncIOMotorClient(
        f"mongodb://127.0.0.1:{free_port()}/chatapp", serverSelectionTimeoutMS=300
    )
    store = MongoStore(client, "chatapp")
    chat = ChatService(store, services.llm, services.options)
    try:
        calls = [
            store.get_user(alice.id),
            store.list_topics(alice.id),
            store.create_topic(alice.id, "lost"),
            store.search(alice.id, "anything"),
            store.is_token_revoked("jti"),
            chat.send(alice.id, "some-topic", "Hello?"),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable, match="Cannot reach MongoDB"):
                await call
        assert not await store.ping()
    finally:
        await chat.close()
        await store.close()


@pytest.mark.skipif(
    not os.environ.get("CHATAPP_TEST_MONGODB_URL"), reason="CHATAPP_TEST_MONGODB_URL is not set"
)
async def test_real_mongodb_going_away_mid_session_and_coming_back(
    services: Services, fake: FakeOpenAI
) -> None:
    url = urlsplit(os.environ["CHATAPP_TEST_MONGODB_URL"])
    proxy = await CuttableProxy((url.hostname or "127.0.0.1", url.port or 27017)).start()
    credentials = url.netloc.rsplit("@", 1)[0] + "@" if "@" in url.netloc else ""
    query = "&".join(filter(None, [url.query, "serverSelectionTimeoutMS=1000"]))
    proxied = url._replace(
        netloc=f"{credentials}127.0.0.1:{proxy.port}", path="/chatapp_faults", query=query
    )
    store = await MongoStore.open(proxied.geturl())
    chat = ChatService(store, services.llm, services.options)
    topics = TopicService(store, services.options, chat)
    try:
        user = await store.create_user(User("mongo-faults@example.com", "x"))
        topic = await topics.create_topic(user.id)
        proxy.cut()
        with pytest.raises(StoreUnavailable, match="Cannot reach MongoDB"):
            await chat.send(user.id, topic.id, "lost?")
        proxy.mend()
        fake.enqueue("Back again.")
        for _ in range(100):  # the driver finds the server again within a few seconds
            try:
                generation = await chat.send(user.id, topic.id, "still there?")
                break
            except StoreUnavailable:
                await asyncio.sleep(0.2)
        else:
            pytest.fail("sending still failed 20 s after the server came back")
        await generation.finished.wait()
        assert generation.message.status == MessageStatus.COMPLETE
        turns = await chat.conversation(user.id, topic.id)
        assert [t.message.content for t in turns] == ["still there?", "Back again."]
    finally:
        await store.client.drop_database("chatapp_faults")
        await topics.close()
        await chat.close()
        await store.close()
        await proxy.stop()


# ----- a page opened while the database is away -------------------------------------------------


async def test_pages_opened_while_the_database_is_away_say_so_and_retry(
    ui_fake: FakeOpenAI, user: NiceGUIUser
) -> None:
    await set_up_owner(user)
    assert ui_state.services is not None
    await ui_state.services.store.close()  # every call now fails as an unreachable server's
    for path in ("/", "/login", "/usage"):
        response = await user.http_client.get(path)
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "5"
        assert "The database is unavailable" in response.text
        assert "The database has been closed." in response.text
        assert '<meta http-equiv=refresh content="5">' in response.text
