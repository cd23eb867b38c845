"""Real Chromium: typing Chinese through an input method. Enter that picks a candidate while
composing must not send; Enter afterwards does."""

from __future__ import annotations

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import ARTIFACTS, set_up

ANSWER = """你好！我们今天讨论**数据库索引**的设计和查询优化。

1. **注意：**索引不是越多越好。
2. 「复合索引」要按查询的顺序建立。

| 类型 | 适用场景 |
| --- | --- |
| B树索引 | 范围查询、排序 |
| 哈希索引 | 等值查询 |
"""


async def test_enter_while_composing_does_not_send(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    box = page.get_by_role("textbox", name="Message")
    await box.focus()
    # An input method at work, as Chromium's DevTools protocol drives one: pinyin "nihao"
    # being composed, Enter pressed to pick the candidate (keyCode 229, isComposing), then the
    # chosen characters committed.
    cdp = await page.context.new_cdp_session(page)
    await cdp.send(
        "Input.imeSetComposition", {"text": "nihao", "selectionStart": 5, "selectionEnd": 5}
    )
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229}
    await cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **enter})
    await cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    await cdp.send("Input.insertText", {"text": "你好"})
    assert await box.input_value() == "你好"  # composed, still in the box, not sent

    fake.enqueue(Reply(ANSWER, chunk_size=6))
    await page.keyboard.press("Enter")  # now it sends
    await page.get_by_text("查询优化").first.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "chinese-chat.png")
    questions = page.locator("[data-role=user]")
    assert await questions.count() == 1
    assert await questions.first.locator(".message").inner_text() == "你好"
    assert [chat.json["messages"][-1]["content"] for chat in fake.chats] == ["你好"]
    assert await page.locator("[data-role=assistant] table td").first.inner_text() == "B树索引"
    bold = page.locator("[data-role=assistant] strong")  # CJK-friendly emphasis, in the page
    assert "注意：" in await bold.all_inner_texts()
