"""Hostile markdown through the real pipeline (worker processes with a time budget): every
case comes back, rendered or as plain text, never an exception, never a stuck worker."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal

import pytest

from services import render_pool
from services.markdown import render_html
from services.markdown_defuse import MAX_RUN, defuse
from services.render_pool import Renderer, blocks_of
from tests.hostile_markdown import CORPUS


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


async def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("name", list(CORPUS))
async def test_each_hostile_case_comes_back_rendered_or_as_text(
    renderer: Renderer, name: str
) -> None:
    text = CORPUS[name]
    page = await renderer.render(text)
    assert page.strip(), "nothing shown"
    assert "<script" not in page.lower()
    # A block that fell back shows all of its text, escaped, with the note.
    for fallback in re.findall(r'<div class="md-plain"><pre>(.*?)</pre>', page, re.DOTALL):
        assert html.unescape(fallback) in {block for block in blocks_of(text)}
    assert renderer.replaced == 0, "a worker had to be killed: the budget did not hold"


async def test_a_case_past_the_budget_falls_back_and_is_not_rendered_twice(
    renderer: Renderer,
) -> None:
    text = "x " + "[a](" * 3_000  # markdown2's link matching: seconds, past 0.5 s
    first = await renderer.render(text)
    assert "shown as plain text" in first and html.escape(text) in first
    rendered = renderer.rendered
    again = await renderer.render(text)
    assert again == first and renderer.rendered == rendered  # the cache kept the outcome


async def test_a_worker_that_hangs_is_replaced_and_the_others_keep_rendering() -> None:
    """The budget is a signal in the worker; if a worker ever stops answering anyway, the
    app kills it after the batch's budgets and a margin, and starts another."""
    pool = Renderer(1, budget=0.2)
    await pool.start()
    try:
        while not pool.pids:
            await asyncio.sleep(0.01)
        os.kill(pool.pids[0], signal.SIGSTOP)  # it will never answer
        stuck = await pool.render_many(["**frozen**", "*fine*"])  # one batch
        assert pool.replaced == 1
        # Which block hung the worker? Each went again on its own, to a new worker.
        assert stuck == ["<p><strong>frozen</strong></p>", "<p><em>fine</em></p>"]
        assert await pool.render("*after*") == "<p><em>after</em></p>"
    finally:
        await pool.close()


async def test_many_renders_at_once_share_the_workers(renderer: Renderer) -> None:
    texts = [f"Paragraph {n} with **bold** and `code`." for n in range(300)]
    pages = await asyncio.gather(*(renderer.render(text) for text in texts))
    assert pages == [render_html(text) for text in texts]


def test_defusing_keeps_what_people_write() -> None:
    ordinary = (
        "# Title\n\nSome **bold**, _em_ and `code` — a [link](https://example.com).\n\n"
        "> a quote\n> > nested once\n\n- a\n  - b\n    - c\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Setext\n======\n\n---\n\n```python\nprint('*' * 80)  # " + "*" * 80 + "\n```\n"
    )
    assert defuse(ordinary) == ordinary


def test_defusing_cuts_runs_and_depth_but_never_inside_code() -> None:
    assert defuse("x " + "`" * 10_000) == "x " + "`" * MAX_RUN
    assert defuse("a" + "_" * 500 + "b") == "a" + "_" * MAX_RUN + "b"
    assert defuse(">" * 3_000 + " x").count(">") == 8
    assert defuse("  " * 400 + "- x") == " " * 32 + "- x"
    code = "```\n" + "`" * 100 + "\n```"
    assert defuse(code) == code
    linked = defuse("[a](" * 100)
    assert linked.count("\\[") == 100 - 64 and linked.replace("\\[", "[") == "[a](" * 100


async def test_closing_as_a_worker_starts_ends_every_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """close() cancels the servers; a cancel that lands just as a worker's start completes
    was lost (Python 3.11's wait_for returned the worker instead), and that server then
    waited for work forever, hanging the app's shutdown. Here close() comes at that moment."""
    real_start = render_pool._Worker.start
    closing: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()

    async def start_then_close(budget: float) -> render_pool._Worker:
        worker = await real_start(budget)
        if not closing:  # after the start's result is on its way, before it is taken
            loop.call_soon(lambda: closing.append(loop.create_task(pool.close())))
        return worker

    monkeypatch.setattr(render_pool._Worker, "start", start_then_close)
    pool = Renderer(1)
    await pool.start()
    while not closing:
        await asyncio.sleep(0.01)
    done, _ = await asyncio.wait(closing, timeout=60)  # a guard against a hang, not a measure
    assert done, "close() did not end"
    assert pool.pids == []
