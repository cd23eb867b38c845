"""Real Chromium, a real MCP server (mcp-server-time, over stdio) and the fake model: the owner
adds the server on the Tools page and lists its tools, turns it on in a chat, and the model's
calls show in the reply: waiting with Allow and Deny, then running, then their result; a
reload while a call waits finds it waiting still; Deny tells the model. It makes the README's
screenshot of a reply that used a tool."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests import mcp_servers
from tests.app_server import AppServer
from tests.fake_openai import Call, FakeOpenAI, Reply, tool_results
from tests.test_a11y import audit
from tests.test_browser_chat import set_up

SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"


def answer_with_result(body: dict[str, Any]) -> str:
    """The model's answer, written from the tool's result as a model would."""
    (result,) = tool_results(body)
    now = json.loads(result)
    return f"In Tokyo it is now **{now['datetime'][11:16]}** on {now['day_of_week']}."


async def send(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def on_a_dark_phone(browser: Any, page: Any) -> tuple[Any, Any]:
    """`page`'s address on a 390 px phone in dark mode, signed in as `page` is: (context, page)."""
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        color_scheme="dark",
        storage_state=await page.context.storage_state(),
    )
    small = await phone.new_page()
    await small.goto(page.url)
    return phone, small


async def add_time_server(page: Any, app: AppServer) -> None:
    """The Tools page: add mcp-server-time as a local command, test it, see its tools."""
    await page.goto(f"{app.url}/tools")
    await page.get_by_text("No tool servers yet.").wait_for()
    await page.get_by_role("button", name="Add a server").click()
    await page.get_by_label("Name", exact=True).fill("time")
    await page.get_by_label("Command", exact=True).fill(f"{sys.executable} -m mcp_server_time")
    await page.get_by_role("button", name="Save").click()
    card = page.locator(".q-card").filter(has_text="time")
    await card.get_by_text("Local command").wait_for()
    await card.get_by_role("button", name="Test and list tools").click()
    await page.get_by_text("get_current_time").wait_for(timeout=30_000)


async def time_tools_on(page: Any) -> None:
    """Turn the time server's tools on in the open chat's settings."""
    await page.get_by_role("button", name="Chat settings").click()
    await page.get_by_label("Tools in this chat").click()
    await page.get_by_role("option", name="time").click()
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text("Settings saved").wait_for()


# The reply's text that came before its call is above the call's row, as the model wrote it.
TEXT_BEFORE_CALL = """(text) => {
    const reply = [...document.querySelectorAll('[data-role=assistant]')].pop();
    const call = reply && reply.querySelector('.tool-call');
    const said = reply && [...reply.querySelectorAll('.markdown')]
        .find((part) => part.textContent.includes(text));
    const after = Node.DOCUMENT_POSITION_FOLLOWING;
    return !!(call && said && (said.compareDocumentPosition(call) & after));
}"""


async def test_tools_in_the_page(browser, app: AppServer, fake: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    mcp_servers.time_server()  # installed (CI: or fail)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await set_up(page, app)

    await add_time_server(page, app)
    assert await page.get_by_text("convert_time").count() == 1
    problems = await audit(page, "tools page")

    # A chat with the server's tools on (the chat's settings).
    await page.goto(f"{app.url}/")
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")
    fake.enqueue("Hello!")
    await send(page, "Hi")
    await page.get_by_text("Hello!").wait_for()
    await page.get_by_role("button", name="Send").wait_for()
    await time_tools_on(page)

    # The model calls a tool: the call waits for Allow, runs, and the answer uses its result.
    tokyo = Call("get_current_time", {"timezone": "Asia/Tokyo"})
    fake.enqueue(
        Reply("Let me check the clock.", tool_calls=[tokyo]), Reply(answer=answer_with_result)
    )
    await send(page, "What time is it in Tokyo?")
    row = page.locator(".tool-call").last
    await row.get_by_text("Waiting for your approval").wait_for(timeout=30_000)
    await row.get_by_text("time · get_current_time").wait_for()
    await page.wait_for_function(TEXT_BEFORE_CALL, arg="Let me check the clock.")
    problems += await audit(page, "a call waiting")

    # A reload while it waits: the call is still there, waiting, with its buttons.
    await page.reload()
    row = page.locator(".tool-call").last
    await row.get_by_text("Waiting for your approval").wait_for(timeout=30_000)
    await page.wait_for_function(TEXT_BEFORE_CALL, arg="Let me check the clock.")  # re-attached
    await page.wait_for_load_state("networkidle")
    await row.get_by_role("button", name="Allow").click()
    await page.get_by_text("In Tokyo it is now").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Send").wait_for()
    row = page.locator(".tool-call").last
    await row.locator("summary").click()  # open: arguments and result
    result = row.locator(".tool-call-text").last
    assert "Asia/Tokyo" in await result.inner_text()
    assert "Asia/Tokyo" in await row.locator(".tool-call-text").first.inner_text()  # arguments
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / "tool-call.png")

    # Deny: the call is marked so, and the model is told the user declined.
    fake.enqueue(
        Reply(tool_calls=[Call("get_current_time", {"timezone": "Europe/Paris"})]),
        Reply(answer=lambda body: "Understood: " + " | ".join(tool_results(body))),
    )
    await send(page, "And in Paris?")
    row = page.locator("[data-role=assistant]").last.locator(".tool-call")
    await row.get_by_role("button", name="Deny").click(timeout=30_000)
    await page.get_by_text("Understood:").wait_for(timeout=30_000)
    await page.locator("[data-role=assistant]").last.get_by_text("Denied").wait_for()
    assert "declined" in " ".join(tool_results(fake.chats[-1].json))

    # The phone, dark: the rows fit.
    phone, small = await on_a_dark_phone(browser, page)
    await small.get_by_text("Understood:").wait_for()
    assert await small.evaluate("document.documentElement.scrollWidth") <= 390
    await small.screenshot(path=SHOTS / "tool-call-phone.png")
    await phone.close()
    assert errors == []
    assert problems == []
