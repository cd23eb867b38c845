"""Long topic: a topic of 1,000 messages (about 1 MB of markdown) opening in Chromium.

Timed until its latest message is on screen (in the viewport, checked in the page every
frame): the first time, as a page load by its address (nothing of the topic rendered yet in
the server's cache), and again as a user opens it again: a click on it in the sidebar, from
the new-chat pane, which swaps the chat pane in place. A page load of the topic again, and of
the new-chat page (which shows no messages at all), are the baselines in the same run. The
page draws a window of recent messages; the time to load the next page of older ones on
scroll up is shown too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.bench_render import realistic_reply
from benchmarks.common import (
    Figure,
    app_server,
    chromium,
    fake_server,
    median,
    signed_in_page,
    write_results,
)
from services.store import open_store
from tests.seed import conversation, seed

COUNT = 1_000
AGAIN = 5


def text(index: int) -> str:
    if index % 2 == 0:
        return f"Question {index}: how would you sum a list of numbers in Python, and why?"
    return f"Reply {index}.\n\n" + realistic_reply(1_900)


async def seed_topic(server: Any) -> tuple[str, int]:
    store = await open_store(f"sqlite:///{server.data_dir / 'chatapp.db'}")
    try:
        user = await store.get_user_by_email("bench@example.com")
        assert user is not None
        topic, messages = conversation(user.id, "A long topic", COUNT, text)
        await seed(store, [(topic, messages)])
    finally:
        await store.close()
    return topic.id, sum(len(m.content) for m in messages)


SERVED: list[float] = []  # ms until the page's HTML started to arrive, per open

# On screen: an element matching the selector holds the text and is in the viewport.
# Checked in the page on every animation frame: a locator's wait_for() polls from Playwright
# at 0, 20, 50, 100, 100 and then every 500 ms, so it saw a page up to half a second late.
ON_SCREEN = """([selector, text]) => {
  const found = [...document.querySelectorAll(selector)];
  const last = found.filter((e) => e.textContent.includes(text)).pop();
  if (!last) return false;
  const box = last.getBoundingClientRect();
  return box.height > 0 && box.bottom > 0 && box.top < window.innerHeight;
}"""
LATEST = (".messages [data-message-id]", f"Reply {COUNT - 1}.")
WELCOME = ("#app div", "How can I help?")  # the innermost such div: the label


async def open_ms(page: Any, url: str, shown: tuple[str, str]) -> float:
    """ms from asking for `url` to the element `shown` names on screen."""
    start = time.perf_counter()
    await page.goto(url, wait_until="commit")
    SERVED.append((time.perf_counter() - start) * 1000)
    await page.wait_for_function(ON_SCREEN, arg=list(shown), polling="raf")
    return (time.perf_counter() - start) * 1000


# Set before a click: from the click (in the page, so Playwright's own steps before it does
# not count) to the element on screen, checked every frame as ON_SCREEN does.
TIME_CLICK = (
    """([selector, text]) => {
  const onScreen = """
    + ON_SCREEN
    + """;
  window.__opened = undefined;
  document.addEventListener("click", () => {
    const start = performance.now();
    const check = () => {
      if (onScreen([selector, text])) window.__opened = performance.now() - start;
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }, { capture: true, once: true });
}"""
)


async def click_ms(page: Any, topic_id: str) -> float:
    """From the new-chat pane (reached as a user does, with New chat), ms from a click on the
    topic in the sidebar to its latest message on screen. Fails if the click loaded a page."""
    await page.get_by_role("button", name="New chat").click()
    await page.wait_for_function(ON_SCREEN, arg=list(WELCOME), polling="raf")
    await page.evaluate("window.__sameDocument = true")
    await page.evaluate(TIME_CLICK, list(LATEST))
    await page.locator(f"[data-topic-id='{topic_id}'] a.topic-link").click()
    await page.wait_for_function("window.__opened !== undefined", polling="raf")
    assert await page.evaluate("window.__sameDocument === true"), "the click loaded a page"
    return float(await page.evaluate("window.__opened"))


async def measure() -> dict[str, Any]:
    with (
        fake_server(chars=100, chunk_size=8, delay=0) as fake,  # the page lists its models
        app_server(fake) as (server, _token),
    ):
        topic_id, size = await seed_topic(server)
        async with chromium() as browser:
            page = await signed_in_page(browser, server)
            url = f"{server.url}/topic/{topic_id}"
            first = await open_ms(page, url, LATEST)
            clicked = [await click_ms(page, topic_id) for _ in range(AGAIN)]
            again = [await open_ms(page, url, LATEST) for _ in range(AGAIN)]
            served = SERVED[-AGAIN:]
            empty = [await open_ms(page, f"{server.url}/", WELCOME) for _ in range(AGAIN)]
            await open_ms(page, url, LATEST)
            await page.wait_for_load_state("networkidle")
            messages = page.locator(".messages [data-message-id]")
            shown = await messages.count()
            start = time.perf_counter()
            await page.evaluate("window.scrollTo({ top: 0 })")
            await page.wait_for_function(
                f"document.querySelectorAll('.messages [data-message-id]').length > {shown}"
            )
            older = (time.perf_counter() - start) * 1000
            html = len(await page.content())
    return {
        "messages": COUNT,
        "markdown_chars": size,
        "shown_at_first": shown,
        "first_open_ms": round(first, 1),
        "again_from_sidebar_ms": round(median(clicked), 1),
        "again_page_load_ms": round(median(again), 1),
        "again_served_ms": round(median(served), 1),
        "new_chat_page_ms": round(median(empty), 1),
        "load_older_ms": round(older, 1),
        "page_html_chars": html,
    }


def main() -> list[Figure]:
    got = asyncio.run(measure())
    print(
        f"long topic: {got['messages']:,} messages, {got['markdown_chars'] / 1e6:.2f} MB of "
        f"markdown; the page draws the latest {got['shown_at_first']}"
    )
    print(f"  first open:          {got['first_open_ms']} ms")
    print(f"  again, sidebar click (median of {AGAIN}): {got['again_from_sidebar_ms']} ms")
    print(
        f"  again, page load (median of {AGAIN}): {got['again_page_load_ms']} ms "
        f"(the server answered in {got['again_served_ms']} ms)"
    )
    print(f"  new-chat page:       {got['new_chat_page_ms']} ms (baseline: no messages)")
    print(f"  older messages load: {got['load_older_ms']} ms after scrolling to the top")
    figures = [
        Figure("long topic: first open", got["first_open_ms"], "ms", 1000),
        Figure("long topic: open again (sidebar)", got["again_from_sidebar_ms"], "ms", 300),
        Figure("long topic: open again (page load)", got["again_page_load_ms"], "ms"),
        Figure("long topic: new-chat page (baseline)", got["new_chat_page_ms"], "ms"),
        Figure("long topic: older messages on scroll up", got["load_older_ms"], "ms"),
    ]
    write_results("long_topic", got, figures)
    return figures


if __name__ == "__main__":
    main()
