"""Real Chromium in Chinese: a browser asking for zh-CN gets every page in Simplified Chinese
(no English left on set-up, chat, sidebar, account and login), the demo model answers in
Chinese, search finds a Chinese word and opens its message, the account page's choice is
remembered for the user (another browser, asking for English, still gets Chinese), and axe
finds nothing critical or serious. It also makes the README's Chinese screenshots."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app_server import AppServer, run_app
from tests.test_a11y import audit
from tests.test_browser_chat import OWNER

SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
QUESTION = "我们今天讨论数据库索引的设计和查询优化"

# What may stay Latin on a Chinese page: names of things, not words of the UI.
NAMES = {
    "chatapp",
    "token",
    "demo",  # the demo model's name, in the model picker
    "JSON",
    "Markdown",
    "ChatGPT",
    "conversations.json",
    "UTC",
    "English",  # the language chooser lists each language in itself
    "Enter",  # keys, as printed on them
    "Shift+Enter",
    "API",
    "Python",  # in an example prompt
    "OPENAI_API_KEY",  # settings and servers the demo notice names
    "OPENAI_BASE_URL",
    "Ollama",
    "vLLM",
    "llama.cpp",
}
LATIN_WORD = re.compile(r"[A-Za-z][\w.+']*[A-Za-z]")

# Visible text and the names a screen reader reads, outside what users and models wrote.
UI_TEXT = """() => {
  const shown = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const content = ".markdown, .user-message, .topic-title, .search-snippet, .q-icon, "
    + ".material-icons, .account-name, script, style, .chat-title";
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && shown(parent) && !parent.closest(content)) {
      found.push(walker.currentNode.textContent);
    }
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (!shown(el) || el.closest(content)) continue;
    for (const name of ["aria-label", "placeholder", "title"]) {
      const value = el.getAttribute(name);
      if (value) found.push(value);
    }
  }
  return found;
}"""


async def english_left(page: Any) -> list[str]:
    """Latin words of the UI on the page (user-written content and names excepted)."""
    texts = await page.evaluate(UI_TEXT)
    words = []
    for text in texts:
        text = text.replace(OWNER[0], "").replace("Olivia", "")
        words += [w for w in LATIN_WORD.findall(text) if w not in NAMES]
    return words


@pytest.fixture
def demo_app(data_dir: Path) -> Iterator[AppServer]:
    """The app with no model configured: the offline demo model answers."""
    env = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "CHATAPP_AUTO_TITLE": "false"}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


async def settle(page: Any) -> None:
    await page.wait_for_load_state("networkidle")


async def test_the_ui_in_chinese(browser, demo_app: AppServer) -> None:  # type: ignore[no-untyped-def]
    app = demo_app
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    problems: list[str] = []

    # Set-up, in Chinese because the browser asks for it.
    await page.goto(f"{app.url}/")
    await settle(page)
    await page.get_by_label("你的名字").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "zh-CN"
    assert await english_left(page) == []
    problems += await audit(page, "set-up (zh)")
    await page.get_by_label("你的名字").fill("Olivia")
    await page.get_by_label("邮箱").fill(OWNER[0])
    await page.get_by_label("密码", exact=True).fill(OWNER[1])
    await page.get_by_role("button", name="创建账户").click()

    # The chat page and its sidebar; the demo model answers in Chinese.
    await page.get_by_text("有什么可以帮你？").wait_for()
    await settle(page)
    assert await english_left(page) == []
    box = page.get_by_role("textbox", name="消息")
    await box.fill(QUESTION)
    await box.press("Enter")
    summary = page.locator("details.thinking summary")
    await summary.get_by_text("思考中").wait_for(timeout=30_000)  # live, counting
    await summary.get_by_text("已思考").wait_for(timeout=30_000)  # folded as the answer starts
    assert await page.get_by_role("button", name="停止").is_visible()  # still the live reply
    await page.get_by_text("来自演示模型的问候").wait_for(timeout=30_000)
    await page.get_by_role("button", name="发送").wait_for(timeout=30_000)  # the reply ended
    await page.get_by_text("条消息").first.wait_for()  # the sidebar's count, in Chinese
    assert await english_left(page) == []
    problems += await audit(page, "chat (zh)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.locator("[data-role=user]").first.scroll_into_view_if_needed()
    await page.mouse.wheel(0, -2000)  # the question at the top, as the reader left it
    await page.wait_for_timeout(300)
    await page.screenshot(path=SHOTS / "chinese-desktop.png")

    # Search finds a word inside the sentence and opens the topic at its message.
    await page.get_by_role("button", name="新对话").click()
    await page.get_by_text("有什么可以帮你？").wait_for()
    await page.get_by_label("搜索对话").fill("索引")
    await page.get_by_role("status").get_by_text("找到 1 个").wait_for()
    assert await english_left(page) == []
    await page.locator(".topic-link").first.click()
    await page.locator(".message-hit").wait_for()
    assert QUESTION in await page.locator(".message-hit").inner_text()

    # The phone, dark.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        color_scheme="dark",
        storage_state=await context.storage_state(),
    )
    small = await phone.new_page()
    await small.goto(page.url.split("#")[0])
    await small.get_by_text("来自演示模型的问候").wait_for()
    await settle(small)
    header = await small.locator(".chat-header").bounding_box()
    assert header is not None and header["height"] < 60  # one row: the long title is cut
    assert await small.evaluate("document.documentElement.scrollWidth") <= 390
    await small.screenshot(path=SHOTS / "chinese-phone.png")
    await phone.close()

    # The account page: everything in Chinese; choosing the language keeps it for the user.
    await page.goto(f"{app.url}/account")
    await page.get_by_text("修改密码").first.wait_for()
    await settle(page)
    assert await english_left(page) == []
    problems += await audit(page, "account (zh)")
    await page.get_by_label("语言").click()
    async with page.expect_navigation():  # the page loads again in the chosen language
        await page.get_by_role("option", name="简体中文").click()
    await page.get_by_text("修改密码").first.wait_for()  # reloaded, still Chinese
    await settle(page)
    await page.get_by_role("button", name="退出登录", exact=True).click()

    # Signed out: the login page speaks the language this browser chose.
    await page.get_by_role("button", name="登录", exact=True).wait_for()
    await settle(page)
    assert await english_left(page) == []
    problems += await audit(page, "login (zh)")

    # Another browser asking for English: the login page is English, the user's pages Chinese.
    other = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    second = await other.new_page()
    await second.goto(f"{app.url}/login")
    await second.get_by_role("button", name="Sign in").wait_for()
    await settle(second)
    await second.get_by_label("Email").fill(OWNER[0])
    await second.get_by_label("Password").fill(OWNER[1])
    await second.get_by_role("button", name="Sign in").click()
    await second.get_by_text("有什么可以帮你？").wait_for()
    assert await second.evaluate("document.documentElement.lang") == "zh-CN"

    # Back to English on the account page: the user's pages follow.
    await second.goto(f"{app.url}/account")
    await second.get_by_label("语言").click()
    await second.get_by_role("option", name="English").click()
    await second.get_by_text("Change password").first.wait_for()
    assert await second.evaluate("document.documentElement.lang") == "en-US"
    await other.close()
    await context.close()

    assert errors == []
    assert problems == []
