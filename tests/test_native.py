"""The desktop window: a one-time launch token signs the local owner in, and a real window.

The token tests run the real app with /launch enabled and no window (tests/launch_server.py,
the token on its stdin). The window test runs `chatapp --native` under Xvfb with pywebview
and WebKitGTK, takes a picture of the X display and checks the app saw the window sign in.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services.auth import LOCAL_OWNER_EMAIL, AuthService
from services.errors import AuthError
from services.launch import LaunchToken, new_launch_token
from services.store import Store, open_store
from tests.app_server import AppServer
from tests.conftest import require_tool

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "native.png"


# ----- the token itself ---------------------------------------------------------------------


def test_launch_token_is_accepted_once_and_a_wrong_one_spends_nothing() -> None:
    token = new_launch_token()
    launch = LaunchToken(token)
    assert "token" not in vars(launch) and token not in repr(vars(launch))  # only a hash kept
    for wrong in ("", token[:-1], token + "x", token.upper(), "x" * 10_000):
        assert not launch.redeem(wrong)
    assert not launch.spent
    assert launch.redeem(token)
    assert launch.spent
    assert not launch.redeem(token)
    with pytest.raises(ValueError):
        LaunchToken("short")


@pytest.fixture
async def auth(tmp_path: Path) -> AsyncIterator[AuthService]:
    store: Store = await open_store(f"sqlite:///{tmp_path / 'native.db'}")
    yield AuthService(store, secret="s" * 64)
    await store.close()


async def test_local_owner_is_made_once_then_reused(auth: AuthService) -> None:
    first = await auth.local_owner()
    assert first.email == LOCAL_OWNER_EMAIL and first.is_owner
    assert (await auth.local_owner()).id == first.id
    assert await auth.store.count_users() == 1


async def test_local_owner_is_the_existing_owner(auth: AuthService) -> None:
    password = "a long password"
    owner = await auth.register(email="olivia@example.com", password=password, is_owner=True)
    await auth.register(email="bob@example.com", password=password)
    assert (await auth.local_owner()).id == owner.id
    await auth.disable(owner.id)
    with pytest.raises(AuthError, match="disabled"):
        await auth.local_owner()


# ----- /launch in the real app --------------------------------------------------------------


@pytest.fixture
def launch_app(data_dir: Path) -> Iterator[tuple[AppServer, str]]:
    token = new_launch_token()
    server = AppServer(data_dir, module="tests.launch_server", stdin=token).start()
    try:
        yield server, token
    finally:
        server.stop()


def users(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "chatapp", "user", "list"],
        env={**os.environ, "CHATAPP_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_launch_route_signs_in_once_and_refuses_wrong_or_spent_tokens(
    launch_app: tuple[AppServer, str], data_dir: Path
) -> None:
    app, token = launch_app
    with httpx.Client(base_url=app.url, timeout=20) as window:
        wrong = window.get("/launch", params={"token": token[:-1] + "x"})
        assert wrong.status_code == 403
        assert "does not work" in wrong.text and 'href="/login"' in wrong.text
        assert window.get("/launch").status_code == 403
        # A wrong token did nothing: no account, nobody signed in.
        assert window.get("/").headers["location"] == "/setup"

        right = window.get("/launch", params={"token": token})
        assert right.status_code == 303 and right.headers["location"] == "/"
        chat = window.get("/")
        assert chat.status_code == 200, chat.headers
        assert "session" in window.cookies

    # The token is spent: another client gets nowhere with it.
    with httpx.Client(base_url=app.url, timeout=20) as other:
        again = other.get("/launch", params={"token": token})
        assert again.status_code == 403 and "used already" in again.text
        assert other.get("/").headers["location"] == "/login"

    listed = users(data_dir).splitlines()
    assert len(listed) == 1 and re.match(rf"{LOCAL_OWNER_EMAIL}\t\S+\towner$", listed[0]), listed
    log = app.output()
    assert "signed in as local@localhost with the launch token" in log
    assert token not in log, "the launch token reached the log"
    assert "/launch?token=…" in log  # the access log shows the request, the token redacted


# ----- a real window under Xvfb -------------------------------------------------------------


def free_display() -> int:
    for number in range(90, 200):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return number
    raise AssertionError("no free X display number")


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[str]:
    binary = require_tool("Xvfb")
    display = f":{free_display()}"
    log = (tmp_path / "xvfb.log").open("wb")
    proc = subprocess.Popen(
        [binary, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
        for _ in range(200):  # bounded by attempts: Xvfb is up within a second
            assert proc.poll() is None, (tmp_path / "xvfb.log").read_text()
            if socket.exists():
                break
            time.sleep(0.05)
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def distinct_colours(identify: str, picture: Path) -> int:
    out = subprocess.run(
        [identify, "-format", "%k", str(picture)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def test_native_window_opens_signed_in(xvfb: str, data_dir: Path, tmp_path: Path) -> None:
    grab, identify = require_tool("import"), require_tool("identify")
    # pywebview's GTK backend, through PyGObject (the `native` extra) and Debian's WebKitGTK.
    import gi  # noqa: F401  (fails the test, not skips it, when the extra is missing)
    import webview  # noqa: F401

    app = AppServer(
        data_dir,
        env={"DISPLAY": xvfb, "WEBKIT_DISABLE_COMPOSITING_MODE": "1"},
        args=["--native"],
    ).start()
    try:
        # The window opens /launch, is signed in and lands on the chat page.
        for _ in range(600):
            log = app.output()
            if re.search(r'"GET / HTTP/1\.1" 200', log.split("/launch?token=", 1)[-1]):
                break
            assert app.process is not None and app.process.poll() is None, log
            time.sleep(0.1)
        else:
            raise AssertionError(f"the window never loaded the chat page:\n{app.output()}")
        assert '"GET /launch?token=… HTTP/1.1" 303' in log, log
        assert "signed in as local@localhost with the launch token" in log
        assert "refused a launch token" not in log
        assert not re.search(r"GET /(login|setup)", log), log
        # The window process got the URL through a pipe: no command line or environment
        # on this machine shows it to other processes.
        for proc in Path("/proc").glob("[0-9]*"):
            for part in ("cmdline", "environ"):
                try:
                    text = (proc / part).read_bytes()
                except OSError:
                    continue  # gone already, or not ours to read
                assert b"launch?token=" not in text, (proc, part)

        # The page builds itself over its websocket: wait until the picture has settled into
        # something rich (text, icons, the sidebar), bounded by attempts.
        shot = tmp_path / "native.png"
        colours = 0
        for _ in range(60):
            subprocess.run(
                [grab, "-display", xvfb, "-window", "root", str(shot)], check=True, timeout=30
            )
            colours = distinct_colours(identify, shot)
            if colours >= 200:
                break
            time.sleep(0.5)
        assert colours >= 200, f"the screen looks blank: {colours} colours"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    finally:
        app.stop()
