"""Real Chromium: whatever the content, things fit. A long title keeps the header one row and
the delete toast's Undo on screen; the account, usage and tools pages stand alone, centred;
fields fill their cards with their labels whole; buttons keep their labels' case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.store import open_store
from tests.app_server import AppServer
from tests.seed import conversation, owner, seed
from tests.test_browser_chat import ARTIFACTS, OWNER, set_up

LATIN = " ".join(["Planning"] + ["a very long weekend itinerary"] * 8)[:200]
CJK = ("我们今天讨论数据库索引的设计和查询优化" * 12)[:200]
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


async def seed_topics(data_dir: Path, titles: list[str]) -> list[str]:
    """Topics with these titles for the signed-in owner, written to the app's own database."""
    store = await open_store(f"sqlite:///{data_dir / 'chatapp.db'}")
    try:
        user = await owner(store, OWNER[0])
        topics = [
            conversation(user.id, title, 2, lambda i: ["A question", "An answer"][i])
            for title in titles
        ]
        await seed(store, topics)
        return [topic.id for topic, _ in topics]
    finally:
        await store.close()


async def settle(page: Any) -> None:
    await page.wait_for_load_state("networkidle")
    await page.evaluate("document.fonts.ready.then(() => true)")


async def header_height(page: Any) -> float:
    box = await page.locator(".chat-header").bounding_box()
    assert box is not None
    return float(box["height"])


async def test_a_long_title_keeps_the_header_one_row(browser, app: AppServer) -> None:  # type: ignore[no-untyped-def]
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    state = await page.context.storage_state()
    await page.close()
    latin, cjk = await seed_topics(app.data_dir, [LATIN, CJK])
    ARTIFACTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        for scheme in ("light", "dark"):
            context = await browser.new_context(
                viewport={"width": width, "height": height},
                color_scheme=scheme,
                storage_state=state,
            )
            page = await context.new_page()
            await page.goto(f"{app.url}/")
            await page.get_by_text("How can I help?").wait_for()
            await settle(page)
            normal = await header_height(page)
            for name, topic_id in (("latin", latin), ("cjk", cjk)):
                await page.goto(f"{app.url}/topic/{topic_id}")
                await page.locator(".q-page").get_by_text("An answer").wait_for()
                await settle(page)
                where = f"{name} title, {size}, {scheme}"
                assert await header_height(page) == normal, where
                title = page.locator(".chat-title")
                assert await title.evaluate("e => e.scrollWidth > e.clientWidth"), where  # cut
                account = await page.get_by_role("button", name="Account menu").bounding_box()
                assert account is not None, where
                assert account["x"] >= 0 and account["x"] + account["width"] <= width, where
                assert await page.evaluate("document.documentElement.scrollWidth") <= width
                await page.screenshot(path=ARTIFACTS / f"fit-header-{name}-{size}-{scheme}.png")
            await context.close()
