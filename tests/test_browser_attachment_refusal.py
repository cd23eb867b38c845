"""Files the page refuses before they are sent, in real Chromium: each refusal names the file and
its real reason (its type, its size against the limit, one file too many)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI
from tests.test_browser_chat import set_up

ARTIFACTS = Path(__file__).parent / "artifacts"
SETTLED = "document.getAnimations().every(a => a.playState !== 'running')"


# The text of the first toast that names `name`: watched from before the files are set, since
# setting 11 MB can take longer than a toast stays on a busy machine.
TOAST_TEXT = """(name) => [...document.querySelectorAll('.q-notification')]
    .map((toast) => toast.innerText).find((text) => text.includes(name)) || null"""


async def refusal_of(page: Any, picker: Any, named: list[dict[str, object]], name: str) -> str:
    """Set the files; the text of the toast that refuses `name`."""
    watching = asyncio.ensure_future(page.wait_for_function(TOAST_TEXT, arg=name))
    await picker.set_input_files(named)
    return str(await (await watching).json_value())


def files(*named: tuple[str, str, bytes]) -> list[dict[str, object]]:
    return [{"name": name, "mimeType": kind, "buffer": data} for name, kind, data in named]


async def test_refusals_name_the_file_and_the_reason(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    picker = page.locator(".chat-uploader input[type=file]")
    toasts = page.locator(".q-notification")

    exe = files(("setup.exe", "application/x-msdownload", b"MZ" * 5))
    refusal = await refusal_of(page, picker, exe, "setup.exe")
    assert "this kind of file is not supported" in refusal
    assert "MB" not in refusal  # not the size rule it did not break
    ARTIFACTS.mkdir(exist_ok=True)
    await page.wait_for_function(SETTLED)
    await page.screenshot(path=ARTIFACTS / "refusal-type.png")

    big = files(("huge log.txt", "text/plain", bytes(11 * 1024 * 1024)))
    refusal = await refusal_of(page, picker, big, "huge log.txt")
    assert "huge log.txt is 11.0 MB; files may be at most 10.0 MB." in refusal

    six = files(*[(f"note{n}.txt", "text/plain", b"hello") for n in range(6)])
    refusal = await refusal_of(page, picker, six, "Not attached: note5.txt.")
    assert "At most 5 files go with one message." in refusal
    await page.locator(".pending-files .q-chip").nth(4).wait_for()  # the five that fit
    assert await page.locator(".pending-files .q-chip").count() == 5
    await page.wait_for_function(SETTLED)
    await page.screenshot(path=ARTIFACTS / "refusal-count.png")

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()  # as a phone opens it
    await page.wait_for_load_state("networkidle")
    await picker.set_input_files(files(("setup.exe", "application/x-msdownload", b"MZ" * 5)))
    await toasts.filter(has_text="setup.exe").wait_for()
    await page.wait_for_function(SETTLED)  # the toast has slid in
    await page.screenshot(path=ARTIFACTS / "refusal-390.png")
