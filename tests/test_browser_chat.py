"""Real Chromium against the real app: set-up, a streamed reply with highlighted code, stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply

ARTIFACTS = Path(__file__).parent / "artifacts"
OWNER = ("owner@example.com", "correct horse battery")
REPLY = """Here is a function:

```python
def add(a: int, b: int) -> int:
    return a + b
```

| x | add(x, 1) |
| --- | --- |
| 1 | 2 |

That is all."""


GROWTH_RECORDER = """
new MutationObserver(() => {
  const replies = document.querySelectorAll('[data-role=assistant] .markdown');
  const reply = replies[replies.length - 1];
  if (!reply) return;
  const seen = (window.__growth = window.__growth || []);
  const state = [reply.innerText.length, reply.querySelectorAll('table').length,
                 reply.querySelectorAll('.code-block').length];
  const last = seen[seen.length - 1];
  if (!last || last.join() !== state.join()) seen.push(state);
  // Text of the reply element itself, outside its rendered blocks: raw markdown.
  for (const live of document.querySelectorAll('.live-markdown'))
    for (const node of live.childNodes)
      if (node.nodeType === Node.TEXT_NODE && node.textContent.trim())
        window.__raw = node.textContent;
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


async def set_up(page, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{app.url}/")
    await page.wait_for_load_state("networkidle")  # the page's websocket is up
    await page.get_by_label("Your name").fill("Olivia")
    await page.get_by_label("Email").fill(OWNER[0])
    await page.get_by_label("Password", exact=True).fill(OWNER[1])
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")  # events sent before it connects are lost


async def test_send_streams_a_highlighted_code_block(browser, app: AppServer, fake: FakeOpenAI):  # type: ignore[no-untyped-def]
    fake.enqueue(Reply(REPLY, chunk_size=6, delay=0.04))
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Record every state the reply goes through in the browser itself: polling from here
    # misses the steps when a loaded machine delays this process.
    await page.add_init_script(GROWTH_RECORDER)
    await set_up(page, app)
    await page.get_by_label("Message").fill("Show me an add function")
    await page.keyboard.press("Enter")

    reply = page.locator("[data-role=assistant] .markdown").last
    await reply.get_by_text("That is all.").wait_for(timeout=30_000)
    growth = await page.evaluate("window.__growth")
    lengths = [length for length, _, _ in growth]
    assert len(lengths) >= 3 and lengths[0] < lengths[-1], f"did not grow in steps: {lengths}"
    # A block frozen mid-stream must never show twice (frozen copy and stale tail).
    assert max(tables for _, tables, _ in growth) <= 1
    assert max(blocks for _, _, blocks in growth) <= 1
    assert await page.evaluate("window.__raw") is None, "raw markdown shown beside the reply"

    await page.locator(".codehilite .k").first.wait_for()  # Pygments marked a keyword
    assert await page.locator(".code-lang").first.inner_text() == "python"
    assert await page.locator(".markdown table td").first.inner_text() == "1"
    assert (
        await page.locator("[data-role=user]").get_by_text("Show me an add function").count() == 1
    )
    await page.get_by_role("button", name="Send").wait_for()  # the reply has finished
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "chat-stream.png", full_page=True)
    assert not errors


async def test_stop_keeps_what_arrived(browser, app: AppServer, fake: FakeOpenAI):  # type: ignore[no-untyped-def]
    fake.enqueue(Reply("word " * 2000, chunk_size=5, delay=0.02))
    page = await browser.new_page()
    await set_up(page, app)
    await page.get_by_label("Message").fill("Talk for a long time")
    await page.keyboard.press("Enter")
    await page.locator("[data-role=assistant] .markdown").last.get_by_text("word").first.wait_for()
    await page.keyboard.press("Escape")
    await page.get_by_text("Stopped.").wait_for()
    await page.reload()
    await page.get_by_text("Stopped.").wait_for()
    kept = await page.locator("[data-role=assistant] .markdown").last.inner_text()
    assert 0 < len(kept) < len("word " * 2000)
    assert fake.disconnects


async def test_closing_the_tab_mid_reply_lets_it_finish_and_be_saved(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    full = "".join(f"step{n:03d} " for n in range(150))  # about 1.5 s of reply
    fake.enqueue(Reply(full, chunk_size=8, delay=0.01))
    page = await browser.new_page()
    await set_up(page, app)
    await page.get_by_label("Message").fill("Keep going without me")
    await page.keyboard.press("Enter")
    await page.get_by_text("step005").wait_for()
    await page.close()  # the reply belongs to the server, not to the tab
    assert not fake.disconnects
    async with httpx.AsyncClient(base_url=f"{app.url}/api/v1", timeout=30) as api:
        form = {"username": OWNER[0], "password": OWNER[1]}
        token = (await api.post("/auth/token", data=form)).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        (topic,) = (await api.get("/topics")).json()["items"]
        for _ in range(150):
            reply = (await api.get(f"/topics/{topic['id']}/messages")).json()["messages"][-1]
            if reply["status"] != "streaming":
                break
            await asyncio.sleep(0.1)
    assert reply["status"] == "complete" and reply["content"] == full
    assert not fake.disconnects  # the model was never cut off


async def test_the_topic_list_loads_more_as_it_scrolls(browser, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    async with httpx.AsyncClient(base_url=f"{app.url}/api/v1") as api:
        form = {"username": OWNER[0], "password": OWNER[1]}
        token = (await api.post("/auth/token", data=form)).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        for n in range(130):
            await api.post("/topics", json={"title": f"Topic number {n:03d}"})
    await page.goto(f"{app.url}/")
    rows = page.locator(".topic-row")
    await rows.nth(49).wait_for()
    assert await rows.count() == 50  # one page first
    drawer = page.locator(".q-drawer__content")
    for expected in (100, 130):  # scrolling to the end of the list loads the next page
        await drawer.evaluate("element => element.scrollTo(0, element.scrollHeight)")
        await rows.nth(expected - 1).wait_for()
    assert await rows.count() == 130
    assert await page.locator(".topic-link").last.inner_text() == "Topic number 000"
