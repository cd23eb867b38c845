"""Streaming render == one-shot render, for any text cut into any chunks (hypothesis)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nicegui import ui
from nicegui.testing import User

from pages.live_markdown import TAIL_INTERVAL, LiveMarkdown
from services.markdown import render_html as render
from services.markdown_blocks import BlockSplitter
from services.render_pool import Renderer, blocks_of
from tests import ui_state

PIECES = [
    "Plain paragraph with *emphasis* and `code`.",
    "# Heading",
    "- item one\n- item two",
    "- loose one\n\n- loose two",
    "1. first\n2. second",
    "  indented continuation",
    "| a | b |\n| --- | --- |\n| 1 | 2 |",
    "```python\nx = 1\n\ny = 2\n```",
    "~~~\nraw ~~~ text\n~~~",
    "```js\nunclosed(",
    "$$\na^2\n\n+ b^2\n$$",
    "Inline $x^2$ and a price of $5.",
    "<script>alert(1)</script>",
    "> a quote\n> more",
    "[link](https://example.com) and [ref][r]",
    "[r]: https://example.com/ref",
    "Line one\nline two",
    "[r]:https://example.com/no-space",
    "````\n```\nstill code\n\n```\n````",
    "Setext title\n============",
    "    indented code\n\n    more code",
    "1. outer\n\n    - inner\n\n    ```\n    code in a list\n    ```",
    "<div>\n\n*raw*\n\n</div>",
    "***",
    "",
    # CJK emphasis (services/markdown_emphasis.py): bold labels, quotes, lists, Korean.
    "**注意：**这里的配置只在开发环境生效。",
    "- **优点：**速度快，\n- **缺点：**生态小。",
    "“引号”和**加粗的“引号”**结束",
    "「**重要**」と*強調。*次の文、***重要：***です",
    "**주의:**이 기능은 **`npm publish`**를 실행합니다.",
]

# Shapes the renderer defuses (services/markdown_defuse.py), each cut within its lines.
HOSTILE_PIECES = [
    "x " + "`" * 40 + " y " + "_*" * 20,
    "> " * 12 + "quoted deep",
    "\n".join("  " * depth + "- level" for depth in range(12)),
    "`" * 40 + "\ncode under a long fence\n" + "`" * 50,
    "[a](" * 80,
    "*" * 100 + "bold?" + "_" * 100,
]


def joined(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), min_size=1, max_size=8).map("\n\n".join)


documents = joined(PIECES)


def same_page(a: str, b: str) -> bool:
    """Equal HTML but for whitespace between tags (which a browser does not show)."""
    return re.sub(r">\s+<", "><", a).strip() == re.sub(r">\s+<", "><", b).strip()


def streamed(text: str, cuts: list[int]) -> str:
    """Exactly what LiveMarkdown shows at the end: frozen blocks, then the tail."""
    splitter = BlockSplitter()
    blocks: list[str] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(text)]:
        blocks += splitter.feed(text[start:cut])
        start = cut
    blocks += splitter.feed("\n")  # finish(): the last line is complete
    if splitter.needs_full_render:
        return render(text)
    return "".join(render(block) for block in blocks) + render(splitter.tail)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=documents, data=st.data())
def test_any_chunking_renders_like_the_whole(text: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=30))
    assert same_page(streamed(text, cuts), render(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=joined(PIECES + HOSTILE_PIECES), data=st.data())
def test_any_chunking_renders_like_the_apps_one_shot_render(text: str, data: st.DataObject) -> None:
    """The app draws a stored reply block by block (services.render_pool.blocks_of): a
    streamed reply ends as that, whatever the text. (Against markdown2 on the whole text, as
    above, a stray run of backticks can tie blocks together: the one case where they differ.)"""
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=30))
    blocks = blocks_of(text)
    one_shot = "".join(render(block) for block in blocks)
    assert same_page(streamed(text, cuts), one_shot)


def test_blocks_really_freeze() -> None:
    """Not everything may end in the tail: finished paragraphs are handed out as they end."""
    splitter = BlockSplitter()
    finished = splitter.feed("First paragraph.\n\nSecond paragraph.\n\nThird\n")
    assert finished == ["First paragraph.", "Second paragraph."]
    assert splitter.tail == "Third\n"


def test_fences_and_loose_lists_are_not_cut() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("```\na\n\nb\n```\n\nafter\n") == ["```\na\n\nb\n```"]
    splitter = BlockSplitter()
    assert splitter.feed("- one\n\n- two\n\nnext\n") == ["- one\n\n- two"]


async def test_live_markdown_freezes_blocks_and_ends_as_the_one_shot_render(user: User) -> None:
    shown: list[LiveMarkdown] = []

    @ui.page("/live-markdown-probe")
    def probe() -> None:
        shown.append(LiveMarkdown(renderer()))

    await user.open("/live-markdown-probe")
    live = shown[0]
    text = (
        "# Title\n\n- one\n\n- two\n\n```python\nx = 1\n\ny = 2\n```\n\n| a |\n| - |\n| 1 |\n\nend"
    )
    for start in range(0, len(text), 7):
        live.append(text[start : start + 7])
    # Heading, loose list, code; the table stays live until the line after it is complete.
    await until(lambda: len(live.frozen) == 3)
    assert [block[:4] for block in live.frozen] == ["<h1>", "<ul>", "<div"]
    await live.finish()
    assert same_page(live.html, render(text))
    await user.should_see("Title")

    live.set_text("Replaced [ref][r]\n\n[r]: https://example.com")
    await live.finish()  # a late reference definition: the reply is rendered whole once more
    assert same_page(live.html, render(live.text)) and 'href="https://example.com"' in live.html


async def test_live_markdown_sends_a_held_back_tail_without_more_text(user: User) -> None:
    """Text that arrives within TAIL_INTERVAL of the last update is held back, and goes out
    once the interval has passed even if nothing more arrives; a closed page gets nothing."""
    shown: list[LiveMarkdown] = []

    @ui.page("/live-markdown-tail")
    def probe() -> None:
        shown.append(LiveMarkdown(renderer()))
        shown.append(LiveMarkdown(renderer()))

    await user.open("/live-markdown-tail")
    live, closed = shown
    live.append("Hello")
    await until(lambda: "Hello" in live.html)
    live.append(" world")  # within the interval: held back
    assert "world" not in live.html
    closed.append("Hi")
    closed.append(" there")
    closed.delete()
    await until(lambda: "Hello world" in live.html)
    await asyncio.sleep(TAIL_INTERVAL * 3)
    assert "there" not in closed.html


async def test_a_tail_that_cannot_render_in_time_stays_text_until_its_block_ends(
    user: User,
) -> None:
    """A hostile tail falls back to escaped text once, and is not rendered again on every
    update (each try would cost a worker its whole budget); the next block renders again."""
    shown: list[LiveMarkdown] = []

    @ui.page("/live-markdown-hostile")
    def probe() -> None:
        shown.append(LiveMarkdown(renderer()))

    await user.open("/live-markdown-hostile")
    live = shown[0]
    pool = renderer()
    hostile = "x " + "[a](" * 3000  # markdown2 takes seconds over this: past the budget
    live.append(hostile)
    await until(lambda: "shown as plain text" in live.html, seconds=10)
    rendered_before = pool.rendered
    for _ in range(5):
        live.append("[a](")
        await asyncio.sleep(TAIL_INTERVAL * 2)
    assert "[a]([a](" in live.html and "shown as plain text" in live.html
    assert pool.rendered == rendered_before  # no new try reached the workers
    live.append("\n\nAnd **then** normal text")
    await live.finish()
    assert live.html.count("shown as plain text") == 1
    assert "<strong>then</strong>" in live.html


def renderer() -> Renderer:
    assert ui_state.services is not None
    return ui_state.services.renderer


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the page did not get there in time")
