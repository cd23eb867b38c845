"""Relay overhead: what chatapp adds between the model server and the reader.

One fake model server (its own process) sends a 50-chunk reply, one chunk every 20 ms. The
baseline reads it directly with `AsyncOpenAI`; then the same reply is read through chatapp's
API (SSE over httpx) and in its page in Chromium. Figures: time to first token (from asking
to the first text) and the median gap between pieces of text, each minus the baseline's.
The baseline takes turns with each: the API's figures are against the direct replies read
between API replies, the page's against those read between page sends, so both compare
with the machine as it was at the time.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from openai import AsyncOpenAI

from benchmarks.common import (
    Figure,
    Reply,
    api_client,
    app_server,
    chromium,
    fake_server,
    median,
    new_topic,
    signed_in_page,
    stream_reply,
    write_results,
)

CHUNKS = 50
CHUNK_SIZE = 8
DELAY = 0.02
RUNS = 40  # API replies (and as many direct ones): a median of 15 moved by 1.5 ms
PAGE_RUNS = 20

# Records, in the page, when the text of the reply being written changes (performance.now()):
# its answer (`.markdown`), or its thinking (`.thinking`).
WATCH = """(part) => {
  window.__sent = null; window.__seen = [];
  const before = new Set([...document.querySelectorAll('[data-role=assistant]')].map(e => e.id));
  const composer = document.querySelector('textarea');
  composer.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && window.__sent === null)
      window.__sent = performance.now();
  }, { capture: true });
  let last = 0;
  const observer = new MutationObserver(() => {
    const replies = [...document.querySelectorAll('[data-role=assistant]')];
    const reply = replies[replies.length - 1];
    if (!reply || before.has(reply.id)) return;
    // textContent, not innerText: innerText lays the page out, on the page's own time.
    const length = (reply.querySelector(part) || reply).textContent.length;
    if (length !== last) { last = length; window.__seen.push(performance.now()); }
  });
  observer.observe(document.querySelector('.messages'),
                   { childList: true, subtree: true, characterData: true });
  window.__stop = () => observer.disconnect();
}"""


# The reply is drawn finished (with its actions) and Send is back. Send alone is no sign: it
# hides a moment after the message goes, which can be after the first words arrive.
FINISHED = """() => {
  const replies = document.querySelectorAll('[data-role=assistant]');
  const reply = replies[replies.length - 1];
  const send = document.querySelector('button[aria-label="Send"]');
  return window.__seen.length > 0 && !!reply?.querySelector('[aria-label="Regenerate reply"]')
    && send !== null && send.offsetParent !== null;
}"""


async def direct(client: AsyncOpenAI, field: str = "content") -> Reply:
    """The baseline: the SDK reading the fake itself (one client, as chatapp keeps one);
    `field`: the delta's field read, `reasoning_content` for a thinking model's thoughts."""
    reply = Reply(sent=time.monotonic())
    stream = await client.chat.completions.create(
        model="fake-small", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async for chunk in stream:
        if chunk.choices and (text := getattr(chunk.choices[0].delta, field, None)):
            reply.deltas.append((time.monotonic(), text))
    return reply


def summary(replies: list[Reply]) -> dict[str, float]:
    return {
        "first_token_ms": round(median([r.first_token for r in replies]) * 1000, 2),
        "gap_ms": round(median([g for r in replies for g in r.gaps]) * 1000, 2),
        "pieces": median([len(r.deltas) for r in replies]),
    }


async def in_page(
    browser: Any,
    server: Any,
    topic_id: str,
    sdk: AsyncOpenAI,
    baseline: list[Reply],
    *,
    runs: int = PAGE_RUNS,
    part: str = ".markdown",
    field: str = "content",
) -> list[tuple[float, list[float]]]:
    """Send `runs` messages in the topic's page; for each, when Enter went down and when the
    reply's `part` changed (ms, the page's clock). A direct reply (its `field`) goes to
    `baseline` before each."""
    page = await signed_in_page(browser, server)
    await page.goto(f"{server.url}/topic/{topic_id}")
    await page.wait_for_load_state("networkidle")
    found = []
    for n in range(runs):
        baseline.append(await direct(sdk, field))
        await page.evaluate(WATCH, part)
        await page.get_by_role("textbox", name="Message").fill(f"question {n}")
        await page.get_by_role("textbox", name="Message").press("Enter")
        # Checked in the page every 100 ms: a get_by_role() wait computes accessible names
        # over the whole page on every frame, on the main thread that draws the reply
        # (Chromium's profile of the reply's first words).
        await page.wait_for_function(FINISHED, polling=100, timeout=30_000)
        sent, seen = await page.evaluate("() => { window.__stop(); return [__sent, __seen]; }")
        found.append((sent, seen))
    await page.close()
    return found


async def measure() -> dict[str, Any]:
    with (
        fake_server(chars=CHUNKS * CHUNK_SIZE, chunk_size=CHUNK_SIZE, delay=DELAY) as fake,
        app_server(fake) as (server, token),
    ):
        direct_replies, api_replies, page_direct = [], [], []
        sdk = AsyncOpenAI(base_url=fake, api_key="bench", max_retries=0)
        async with sdk, api_client(server, token) as client:
            topic = await new_topic(client)
            await direct(sdk)  # both warmed up: connections open, code paths run once
            await stream_reply(client, topic, "warm-up")
            for n in range(RUNS):  # taking turns, so both see the same machine
                direct_replies.append(await direct(sdk))
                api_replies.append(await stream_reply(client, topic, f"question {n}"))
            page_topic = await new_topic(client)
            async with chromium() as browser:
                page_runs = await in_page(browser, server, page_topic, sdk, page_direct)
    page_first = [seen[0] - sent for sent, seen in page_runs if seen and sent is not None]
    page_gaps = [b - a for _, seen in page_runs for a, b in itertools.pairwise(seen)]
    return {
        "direct": summary(direct_replies),
        "page_direct": summary(page_direct),
        "api": summary(api_replies),
        "page": {
            "first_token_ms": round(median(page_first), 2),
            "gap_ms": round(median(page_gaps), 2),
            "pieces": median([len(seen) for _, seen in page_runs]),
        },
        "complete": all(r.chars == CHUNKS * CHUNK_SIZE for r in api_replies),
    }


def main() -> list[Figure]:
    got = asyncio.run(measure())
    print(f"relay: a {CHUNKS}-chunk reply, one chunk every {DELAY * 1000:.0f} ms; medians")
    print(f"  {'':34}{'first token ms':>15}{'gap ms':>9}{'pieces':>8}")
    rows = (
        ("direct AsyncOpenAI, API's turns", "direct"),
        ("API (SSE)", "api"),
        ("direct AsyncOpenAI, page's turns", "page_direct"),
        ("page", "page"),
    )
    for name, key in rows:
        row = got[key]
        print(f"  {name:34}{row['first_token_ms']:>15}{row['gap_ms']:>9}{row['pieces']:>8}")
    added = {
        key: {
            "first_token_ms": round(got[key]["first_token_ms"] - got[base]["first_token_ms"], 2),
            "gap_ms": round(got[key]["gap_ms"] - got[base]["gap_ms"], 2),
        }
        for key, base in (("api", "direct"), ("page", "page_direct"))
    }
    got["added"] = added
    figures = [
        Figure("relay: API first token, added", added["api"]["first_token_ms"], "ms", 5),
        Figure("relay: API gap between chunks, added", added["api"]["gap_ms"], "ms", 5),
        Figure("relay: page first token, added", added["page"]["first_token_ms"], "ms", 20),
        Figure("relay: page gap between updates, added", added["page"]["gap_ms"], "ms", 20),
    ]
    write_results("relay", got, figures)
    return figures


if __name__ == "__main__":
    main()
