"""A crash mid-reply (SIGKILL), then a restart: the reply is there up to its last save,
marked interrupted, and the page, which reconnects by itself, offers to continue it."""

from __future__ import annotations

import httpx

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import OWNER, set_up

CHUNK, DELAY = 8, 0.02  # 400 characters a second
FULL = "".join(f"word{n:04d} " for n in range(1200))  # 30 s of reply: never done in time


async def test_sigkill_mid_reply_loses_at_most_a_second_and_can_continue(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply(FULL, chunk_size=CHUNK, delay=DELAY))
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    await page.get_by_label("Message").fill("Count for a long time")
    await page.keyboard.press("Enter")
    await page.get_by_text("word0600").wait_for(timeout=30_000)  # well past a few saves
    shown = await page.locator(".assistant-message").last.inner_text()

    app.kill()  # no shutdown handler runs: only what was saved survives
    app.start()  # same port, same data folder

    api = httpx.AsyncClient(base_url=f"{app.url}/api/v1", timeout=30)
    token = await api.post("/auth/token", data={"username": OWNER[0], "password": OWNER[1]})
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    (topic,) = (await api.get("/topics")).json()["items"]
    messages = (await api.get(f"/topics/{topic['id']}/messages")).json()["messages"]
    question, reply = messages
    assert question["content"] == "Count for a long time"
    assert reply["status"] == "interrupted"
    saved = reply["content"]
    assert saved and FULL.startswith(saved)
    lost = len(shown.strip()) - len(saved.strip())
    assert lost <= 1.5 * CHUNK / DELAY, f"{lost} characters lost (~{lost * DELAY / CHUNK:.1f} s)"

    # The open page reconnects to the restarted server and shows the interrupted reply.
    await page.get_by_text("Interrupted").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Regenerate").first.wait_for()
    fake.enqueue(Reply(" THE END.", chunk_size=3, delay=0.01))
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_text("THE END.").wait_for(timeout=30_000)
    final = (await api.get(f"/topics/{topic['id']}/messages")).json()["messages"]
    assert len(final) == 2  # continued in place, not a new branch
    assert final[1]["status"] == "complete" and final[1]["content"] == saved + " THE END."
    assert fake.chats[-1].json["messages"][-2] == {"role": "assistant", "content": saved}
    await api.aclose()
