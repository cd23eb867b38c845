"""Every page and state of the app, reached in Chromium from one set of data: what
`make screenshots` photographs (tests/test_screenshots.py) and axe audits
(tests/test_a11y_pages.py).

`build` makes the data once through the UI (a few chats, a long reply, thinking, a failed
reply, a tool call left waiting for approval, a reply left streaming, an archived chat, a
shared link); each `State` then opens one page or state in whatever browser context it is
given, and waits until it is fully drawn.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import mcp_servers
from tests.app_server import AppServer, run_app
from tests.fake_openai import Call, FakeOpenAI, Reply
from tests.test_browser_chat import set_up
from tests.test_browser_tools import add_time_server, send, time_tools_on

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SCHEMES = ("light", "dark")
# The gallery's app: a reply left streaming waits on a stalled model server for the whole run.
ENV = {"CHATAPP_LLM_TIMEOUT": "900"}

WIDE_COLUMNS = ["Algorithm", "Best case", "Average case", "Worst case", "Memory", "Stable"]
WIDE_COLUMNS += ["In place", "Adaptive", "Online", "Typical use", "Notes"]
WIDE_ROWS = [
    ["Quicksort", "n log n", "n log n", "n²", "log n", "no", "yes", "no", "no", "general"],
    ["Merge sort", "n log n", "n log n", "n log n", "n", "yes", "no", "no", "no", "linked lists"],
    ["Timsort", "n", "n log n", "n log n", "n", "yes", "no", "yes", "no", "Python's sorted()"],
    ["Heapsort", "n log n", "n log n", "n log n", "1", "no", "yes", "no", "no", "embedded"],
]
LONG_REPLY = (
    "Here is a merge sort, then how the common algorithms compare.\n\n"
    "```python\n"
    "def merge_sort(items: list[int]) -> list[int]:\n"
    "    if len(items) <= 1:\n"
    "        return items\n"
    "    middle = len(items) // 2\n"
    "    left, right = merge_sort(items[:middle]), merge_sort(items[middle:])\n"
    "    merged: list[int] = []\n"
    "    while left and right:\n"
    "        merged.append((left if left[0] <= right[0] else right).pop(0))\n"
    "    return merged + left + right  # whatever is left over is already in order\n"
    "```\n\n"
    + "| "
    + " | ".join(WIDE_COLUMNS)
    + " |\n|"
    + " --- |" * len(WIDE_COLUMNS)
    + "\n"
    + "".join(
        "| " + " | ".join([*row, "rarely the slowest in practice"]) + " |\n" for row in WIDE_ROWS
    )
    + "\n排序算法的选择取决于数据的规模、是否需要稳定性以及可用的内存。对于几乎有序的数据，"
    "Timsort 往往最快，因为它会利用已经存在的有序片段；而在内存受限的嵌入式设备上，堆排序"
    "不需要额外空间，因此更受欢迎。快速排序在平均情况下表现优秀，但在最坏情况下会退化为平方"
    "时间，所以实际的实现通常会随机选择基准值，或者在递归过深时改用堆排序。\n\n"
    "That is all."
)
THOUGHT = "The user wants **three** ideas.\n\n- something outdoors\n- something cheap\n- a backup"
STREAMING = (
    "A sourdough starter needs three things: flour, water and time. Feed it every day at the "
    "same hour, keep it somewhere warm, and after about a week it doubles within six hours of "
    "a feed. That is when it is ready to bake with, and the real work begins."
)


@contextmanager
def gallery_app(fake: FakeOpenAI, data_dir: Path) -> Iterator[AppServer]:
    """The app as conftest's `app` runs it, with a model timeout longer than the run."""
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_AUTO_TITLE": "false", **ENV}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


@dataclass
class Gallery:
    """What `build` made: the app, and the addresses the states open."""

    app: AppServer
    topics: dict[str, str] = field(default_factory=dict)  # by state name: the topic's URL
    share_url: str = ""
    state: dict[str, Any] = field(default_factory=dict)  # the owner's cookies (storage state)


async def ask(page: Any, text: str, answer: str) -> str:
    """Send `text` in a new chat; return the topic's address once `answer` shows (a selector)."""
    await page.get_by_role("button", name="New chat").click()
    await page.get_by_text("How can I help?").wait_for()
    await page.wait_for_load_state("networkidle")  # its websocket is up: keys count
    await send(page, text)
    await page.locator(answer).first.wait_for(timeout=30_000)
    await page.wait_for_url(re.compile(r"/topic/"))
    return str(page.url)


async def drawer(page: Any, phone: bool) -> None:
    """On the phone the topic list is a drawer: open it."""
    if phone:
        await page.get_by_role("button", name="Show or hide topics").click()
        await page.locator(".chat-drawer").get_by_role("button", name="New chat").wait_for()
        await settle(page)


async def settle(page: Any) -> None:
    """Let transitions (drawers, dialogs, menus) finish before a picture or an audit."""
    await page.evaluate(  # two frames first: Quasar starts some transitions a frame late
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        ".then(() => Promise.allSettled(document.getAnimations().map(a => a.finished)))"
        ".then(() => document.fonts.ready)"
    )


async def build(browser: Any, app: AppServer, fake: FakeOpenAI) -> Gallery:
    """The data every state shows, made through the UI by the owner in one desktop tab."""
    mcp_servers.time_server()  # installed (CI: or fail), for the tool call and the Tools page
    gallery = Gallery(app)
    context = await browser.new_context(viewport=SIZES["desktop"])
    page = await context.new_page()
    await set_up(page, app)
    await add_time_server(page, app)
    await page.goto(f"{app.url}/")
    await page.get_by_text("How can I help?").wait_for()
    for question in ("Explain Python decorators", "Plan a weekend in Lisbon"):
        await ask(page, question, f"text=You said: {question}")
    gallery.topics["archived-chat"] = await ask(
        page, "Old tax questions", "text=You said: Old tax questions"
    )
    await page.get_by_role("button", name="Send").wait_for()
    await page.locator(".topic-menu").first.click()
    await page.get_by_role("menuitem", name="Archive").click()
    await page.get_by_text("1 archived chat").wait_for()

    fake.enqueue(Reply(status=500))
    gallery.topics["error"] = await ask(page, "Summarise this week's news", ".error-banner")
    fake.enqueue(Reply("Try a picnic, a free museum day or a board game café.", reasoning=THOUGHT))
    gallery.topics["thinking"] = await ask(page, "Ideas for a rainy Sunday?", "text=board game")
    fake.enqueue(Reply(LONG_REPLY, chunk_size=200))
    gallery.topics["chat-long"] = await ask(page, "Compare sorting algorithms", "text=That is all.")
    await page.get_by_role("button", name="Send").wait_for()

    await page.locator(".topic-menu").first.click()  # the newest chat: the long reply
    await page.get_by_role("menuitem", name="Share…").click()
    await page.get_by_role("button", name="Create link").click()
    link = page.get_by_label("Link")
    await link.wait_for()
    gallery.share_url = await link.input_value()
    await page.keyboard.press("Escape")

    fake.enqueue("Hello!")
    gallery.topics["tool-approval"] = await ask(page, "Hi", "text=Hello!")
    await page.get_by_role("button", name="Send").wait_for()
    await time_tools_on(page)
    tokyo = Call("get_current_time", {"timezone": "Asia/Tokyo"})
    fake.enqueue(Reply("Let me check the clock.", tool_calls=[tokyo]))
    await send(page, "What time is it in Tokyo?")
    await page.get_by_text("Waiting for your approval").wait_for(timeout=30_000)

    fake.enqueue(Reply(STREAMING, chunk_size=20, fault="stall", fault_after=120, stall_seconds=900))
    starter = "How do I start a sourdough starter?"
    gallery.topics["streaming"] = await ask(page, starter, "text=flour")
    gallery.state = await context.storage_state()
    await context.close()
    return gallery


async def finish(browser: Any, gallery: Gallery) -> None:
    """Stop the reply left streaming and deny the waiting call, so the app shuts down quietly."""
    context = await browser.new_context(viewport=SIZES["desktop"], storage_state=gallery.state)
    page = await context.new_page()
    await page.goto(gallery.topics["streaming"])
    await page.get_by_role("button", name="Stop").click()
    await page.get_by_role("button", name="Send").wait_for()
    await context.close()


Opener = Callable[[Any, Gallery, bool], Awaitable[None]]


@dataclass(frozen=True)
class State:
    """One page or state: its file name's first part, and how to open it and see it drawn."""

    name: str
    open: Opener
    signed_in: bool = True
    phone_only: bool = False
    full_page: bool = False  # a page that scrolls as a whole: the picture shows all of it


async def listed(page: Any) -> None:
    """Wait for the sidebar's list of chats (drawn after the page, hidden on the phone)."""
    await page.locator(".topic-list a").first.wait_for(state="attached")


async def _topic(page: Any, gallery: Gallery, name: str, ready: str) -> None:
    await page.goto(gallery.topics[name])
    await page.locator(ready).first.wait_for(timeout=30_000)
    await listed(page)


async def _setup(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/")
    await page.get_by_label("Your name").wait_for()


async def _login(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/login")
    await page.get_by_label("Email").wait_for()


async def _login_expired(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/login?expired=1")
    await page.locator(".session-ended").wait_for()


async def _new_chat(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/")
    await page.locator(".example-prompt").first.wait_for()
    await listed(page)


async def _chat_long(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "chat-long", "[data-role=assistant] table")
    await page.get_by_role("button", name="Send").wait_for()


async def _streaming(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "streaming", "[data-role=assistant] .markdown")
    await page.get_by_role("button", name="Stop").wait_for()


async def _error(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "error", ".error-banner")


async def _thinking(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "thinking", "details.thinking summary")


async def _tool_approval(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "tool-approval", ".tool-call")
    await page.get_by_role("button", name="Allow").wait_for()


async def _search(page: Any, gallery: Gallery, phone: bool) -> None:
    await _new_chat(page, gallery, phone)
    await drawer(page, phone)
    await page.get_by_role("searchbox", name="Search chats").fill("python")
    await page.locator(".search-snippet").first.wait_for()
    await settle(page)


async def _archived(page: Any, gallery: Gallery, phone: bool) -> None:
    await _new_chat(page, gallery, phone)
    await drawer(page, phone)
    await page.get_by_role("button", name="1 archived chat").click()
    await page.mouse.move(640, 420)  # off the button: the picture shows the list, not a hover
    await page.locator(".topic-list").get_by_text("Old tax questions").wait_for()
    await settle(page)  # the button's ripple


async def _archived_chat(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "archived-chat", ".archived-note")


async def _editing(page: Any, gallery: Gallery, phone: bool) -> None:
    await _topic(page, gallery, "thinking", "details.thinking summary")
    await page.get_by_role("button", name="Edit message").first.click()
    await page.get_by_role("textbox", name="Edit message").wait_for()


async def _account(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/account")
    await page.get_by_text("Change password").first.wait_for()


async def _usage(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/usage")
    await page.locator(".usage-chart canvas").wait_for()
    await page.wait_for_function(  # ECharts animates the bars in: wait until they are drawn
        "() => { const c = document.querySelector('.usage-chart');"
        " const chart = c && window.echarts && echarts.getInstanceByDom(c);"
        " return !chart || !chart.getZr().animation._running }"
    )


async def _tools(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(f"{gallery.app.url}/tools")
    await page.get_by_text("Local command").wait_for()


async def _share_dialog(page: Any, gallery: Gallery, phone: bool) -> None:
    await _chat_long(page, gallery, phone)
    await drawer(page, phone)
    await page.get_by_role("button", name="Options for Compare sorting algorithms").click()
    await page.get_by_role("menuitem", name="Share…").click()
    await page.get_by_label("Link").wait_for()
    await settle(page)


async def _shared(page: Any, gallery: Gallery, phone: bool) -> None:
    await page.goto(gallery.share_url)
    await page.locator(".shared-chat table").wait_for()


async def _shortcuts(page: Any, gallery: Gallery, phone: bool) -> None:
    await _new_chat(page, gallery, phone)
    await page.get_by_role("button", name=re.compile("^Account menu")).click()
    await page.get_by_role("menuitem", name="Keyboard shortcuts").click()
    await page.locator(".shortcut-list").wait_for()
    await settle(page)


async def _drawer(page: Any, gallery: Gallery, phone: bool) -> None:
    await _chat_long(page, gallery, phone)
    await drawer(page, phone)


STATES = (
    State("login", _login, signed_in=False),
    State("login-expired", _login_expired, signed_in=False),
    State("new-chat", _new_chat),
    State("chat-long", _chat_long),
    State("streaming", _streaming),
    State("error", _error),
    State("thinking", _thinking),
    State("tool-approval", _tool_approval),
    State("search", _search),
    State("archived", _archived),
    State("archived-chat", _archived_chat),
    State("editing", _editing),
    State("account", _account, full_page=True),
    State("usage", _usage, full_page=True),
    State("tools", _tools),
    State("share-dialog", _share_dialog),
    State("shared", _shared),
    State("shortcuts", _shortcuts),
    State("drawer", _drawer, phone_only=True),
)
SETUP = State("setup", _setup, signed_in=False)  # before `build`: no account exists yet
