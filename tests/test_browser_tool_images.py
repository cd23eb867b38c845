"""Real Chromium, the real server-everything (npm, over stdio) and the fake model: a tool's image
shows under its result as a thumbnail that loads under the app's CSP, opens large in a new tab
like an attachment, and fits a phone in dark mode. Shares: made from the page's dialog, a copy
without results shows the call but not what it answered; with them, the result and image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests import mcp_servers
from tests.app_server import AppServer
from tests.fake_openai import Call, FakeOpenAI, Reply
from tests.test_a11y import audit
from tests.test_api import login, send
from tests.test_browser_chat import OWNER, set_up
from tests.test_browser_tools import on_a_dark_phone

SHOTS = Path(__file__).parent / "artifacts"  # looked at by people, not compared
LOADED = "img => img.complete && img.naturalWidth > 0"


def reply_with_an_image(app: AppServer, fake: FakeOpenAI) -> str:
    """Over the API: server-everything on, its image tool allowed, a reply that called it."""
    api = login(app, *OWNER)
    try:
        server = {"name": "everything", **mcp_servers.everything_stdio()}
        added = api.post("/tools/servers", json=server)
        assert added.status_code == 201, added.text
        server_id = added.json()["id"]
        tool = api.patch(
            f"/tools/servers/{server_id}/tools/get-tiny-image", json={"approval": "always"}
        )
        assert tool.status_code == 200, tool.text
        topic = api.post("/topics", json={"title": "Logo"}).json()
        api.put(f"/topics/{topic['id']}/tools", json={"server_ids": [server_id]})
        fake.enqueue(
            Reply("Fetching it.", tool_calls=[Call("get-tiny-image", {}, id="img1")]),
            Reply("There is the MCP logo."),
        )
        send(api, topic["id"], "Show me the logo")
        (call,) = api.get(f"/topics/{topic['id']}/messages").json()["messages"][-1]["tool_calls"]
        assert call["status"] == "done" and call["images"][0]["mime"] == "image/png"
        return str(topic["id"])
    finally:
        api.close()


async def open_row(page: Any) -> Any:
    row = page.locator(".tool-call").last
    await row.locator("summary").click()
    return row


async def test_tool_images_and_shares(browser, app: AppServer, fake: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    mcp_servers.everything_stdio()  # installed (CI: or fail)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    await set_up(page, app)
    topic_id = reply_with_an_image(app, fake)

    await page.goto(f"{app.url}/topic/{topic_id}")
    await page.get_by_text("There is the MCP logo.").wait_for()
    row = await open_row(page)
    image = row.locator("img.tool-call-image")
    await image.wait_for()
    await page.wait_for_function(f"({LOADED})(document.querySelector('img.tool-call-image'))")
    problems = await audit(page, "a tool's image in the chat")
    assert (await image.get_attribute("src") or "").startswith("data:image/png;base64,")
    assert await image.get_attribute("alt") == "Image from get-tiny-image"
    await page.screenshot(path=SHOTS / "tool-image-desktop.png")

    # A click opens it large in a new tab, from its own address, as attachments do.
    async with page.context.expect_page() as opened:
        await image.click()
    large = await opened.value
    await large.wait_for_load_state()
    assert "/tool-images/" in large.url and large.url.endswith("/img1/0")
    assert await large.evaluate(f"({LOADED})(document.querySelector('img'))")
    await large.close()
    async with httpx.AsyncClient() as stranger:  # no session: nothing
        assert (await stranger.get(large.url)).status_code == 404

    # The phone, dark: the thumbnail loads and the row fits.
    phone, small = await on_a_dark_phone(browser, page)
    await small.get_by_text("There is the MCP logo.").wait_for()
    await open_row(small)
    await small.wait_for_function(f"({LOADED})(document.querySelector('img.tool-call-image'))")
    assert await small.evaluate("document.documentElement.scrollWidth") <= 390
    await small.screenshot(path=SHOTS / "tool-image-phone-dark.png")
    await phone.close()

    # Shares from the dialog: without results (the default), then with them.
    async def share(results: bool) -> str:
        await page.goto(f"{app.url}/topic/{topic_id}")
        await page.get_by_text("There is the MCP logo.").wait_for()
        await page.wait_for_load_state("networkidle")
        await page.get_by_role("button", name="Options for Logo").click()
        await page.get_by_text("Share…").click()
        dialog = page.get_by_role("dialog")
        box = dialog.get_by_role("checkbox", name="Include tool results")
        await box.wait_for()
        assert await box.get_attribute("aria-checked") == "false"  # off by default
        if results:
            await box.click()
            await page.screenshot(path=SHOTS / "share-dialog.png")
            await dialog.get_by_role("button", name="Update copy").click()
        else:
            await dialog.get_by_role("button", name="Create link").click()
        link = dialog.get_by_label("Link")
        await link.wait_for()
        if results:
            await page.wait_for_function(
                "([el, old]) => el.value !== old", arg=[await link.element_handle(), shared[0]]
            )
        url = await link.input_value()
        await page.keyboard.press("Escape")
        return url

    shared: list[str] = []
    shared.append(await share(False))
    visitor = await browser.new_page(viewport={"width": 1280, "height": 900})
    await visitor.goto(shared[0])
    await visitor.get_by_text("There is the MCP logo.").wait_for()
    row = await open_row(visitor)
    await row.get_by_text("everything · get-tiny-image").wait_for()
    await row.get_by_text("Arguments").wait_for()
    assert await row.get_by_text("Result", exact=True).is_hidden()
    assert await row.locator("img").count() == 0
    assert "MCP logo" not in await row.inner_text()  # the tool's text answer is left out

    shared.append(await share(True))
    assert shared[1] != shared[0]
    await visitor.goto(shared[1])
    await visitor.get_by_text("There is the MCP logo.").wait_for()
    row = await open_row(visitor)
    await row.get_by_text("Result", exact=True).wait_for()
    assert "[image image/png]" in await row.inner_text()
    await visitor.wait_for_function(f"({LOADED})(document.querySelector('img.tool-call-image'))")
    href = await row.locator("a").first.get_attribute("href")
    assert href is not None and "/tool-images/" in href
    opened_large = await visitor.request.get(f"{app.url}{href}")
    assert opened_large.status == 200 and opened_large.headers["content-type"] == "image/png"
    await visitor.screenshot(path=SHOTS / "tool-share-results.png")
    problems += await audit(visitor, "a shared chat with a tool's image")
    assert errors == [] and problems == []
