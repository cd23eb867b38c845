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


FIELDS = """() => [...document.querySelectorAll('.q-card .q-field')]
  .filter(field => field.offsetParent !== null)
  .map(field => {
    const card = field.closest('.q-card'), style = getComputedStyle(card);
    const label = field.querySelector('.q-field__label');
    return {
      label: label ? label.textContent : field.getAttribute('aria-label'),
      width: field.getBoundingClientRect().width,
      card: card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      cut: label ? label.scrollWidth > label.clientWidth : false,
    };
  })"""
UPPERCASE = """() => [...document.querySelectorAll('.q-btn, .q-tab')]
  .filter(button => button.offsetParent !== null)
  .map(button => {
    const label = button.querySelector('.block, .q-tab__label');
    return [label ? label.textContent : '', getComputedStyle(label || button).textTransform];
  })
  .filter(([text, transform]) => /[a-z]/.test(text) && transform === 'uppercase')
  .map(([text]) => text)"""
CENTRED = """() => {
  const main = document.querySelector('.nicegui-content > .nicegui-column').getBoundingClientRect();
  const container = getComputedStyle(document.querySelector('.q-page-container'));
  return {
    drawer: [...document.querySelectorAll('.q-drawer')].some(d => d.offsetParent !== null),
    padding: parseFloat(container.paddingLeft) + parseFloat(container.paddingRight),
    offset: main.left + main.width / 2 - document.documentElement.clientWidth / 2,
  };
}"""


async def fields_fit(page: Any, where: str) -> None:
    """Each field is as wide as its card's content box, and shows its whole label."""
    fields = await page.evaluate(FIELDS)
    assert fields, f"{where}: no fields"
    for field in fields:
        assert abs(field["width"] - field["card"]) <= 2, f"{where}: {field}"
        assert not field["cut"], f"{where}: label cut: {field}"


async def buttons_keep_case(page: Any, where: str) -> None:
    assert await page.evaluate(UPPERCASE) == [], f"{where}: buttons shown in capitals"


async def test_secondary_pages_are_centred_alone_with_whole_fields_and_labels_as_written(  # type: ignore[no-untyped-def]
    browser, app: AppServer
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{app.url}/")
    await page.get_by_label("Your name").wait_for()
    await settle(page)
    await fields_fit(page, "set-up, phone")
    await buttons_keep_case(page, "set-up, phone")
    await page.screenshot(path=ARTIFACTS / "fit-setup-phone-light.png")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await fields_fit(page, "set-up, desktop")
    await page.screenshot(path=ARTIFACTS / "fit-setup-desktop-light.png")
    await set_up(page, app)
    await buttons_keep_case(page, "chat")
    state = await page.context.storage_state()
    await page.close()

    for size, (width, height) in SIZES.items():
        for scheme in ("light", "dark"):
            context = await browser.new_context(
                viewport={"width": width, "height": height},
                color_scheme=scheme,
                storage_state=state,
            )
            page = await context.new_page()
            for path, text in (
                ("account", "Change password"),
                ("usage", "Tokens used"),
                ("tools", "No tool servers yet."),
            ):
                where = f"/{path}, {size}, {scheme}"
                await page.goto(f"{app.url}/{path}")
                await page.get_by_text(text).first.wait_for()
                await settle(page)
                await buttons_keep_case(page, where)
                if path == "account":
                    await fields_fit(page, where)
                layout = await page.evaluate(CENTRED)
                assert not layout["drawer"] and layout["padding"] == 0, f"{where}: {layout}"
                assert abs(layout["offset"]) <= 1, f"{where}: not centred: {layout}"
                assert await page.evaluate("document.documentElement.scrollWidth") <= width
                await page.screenshot(path=ARTIFACTS / f"fit-{path}-{size}-{scheme}.png")
            # The header leads back to the chats.
            await page.get_by_role("button", name="Back to chats").click()
            await page.get_by_text("How can I help?").wait_for()

            await context.clear_cookies()
            await page.goto(f"{app.url}/login")
            await page.get_by_label("Email").wait_for()
            await settle(page)
            await fields_fit(page, f"login, {size}, {scheme}")
            await buttons_keep_case(page, f"login, {size}, {scheme}")
            await page.screenshot(path=ARTIFACTS / f"fit-login-{size}-{scheme}.png")
            await context.close()


async def test_the_undo_toast_keeps_its_button_on_a_phone_whatever_the_title(  # type: ignore[no-untyped-def]
    browser, app: AppServer
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    state = await page.context.storage_state()
    await page.close()
    await seed_topics(app.data_dir, [LATIN, CJK])
    for scheme in ("light", "dark"):
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, color_scheme=scheme, storage_state=state
        )
        page = await context.new_page()
        await page.goto(f"{app.url}/")
        await page.get_by_text("How can I help?").wait_for()
        await settle(page)
        for name, title in (("latin", LATIN), ("cjk", CJK)):
            link = page.get_by_role("link", name=title)
            if not await link.is_visible():  # the topics are a drawer on a phone
                await page.get_by_role("button", name="Show or hide topics").click()
            row = page.locator(".topic-row", has=link)
            await row.locator(".topic-menu").click()
            await page.get_by_role("menuitem", name="Delete").click()
            undo = page.locator(".undo-toast").get_by_role("button", name="Undo")
            await undo.wait_for()
            box = await undo.bounding_box()
            assert box is not None
            assert 0 <= box["x"] and box["x"] + box["width"] <= 390, f"{name}, {scheme}: {box}"
            toast = await page.locator(".undo-toast").bounding_box()
            assert toast is not None and 0 <= toast["x"] and toast["x"] + toast["width"] <= 390
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await page.screenshot(path=ARTIFACTS / f"fit-undo-{name}-phone-{scheme}.png")
            await undo.click()
            await page.get_by_role("link", name=title).wait_for(state="attached")
        await context.close()
