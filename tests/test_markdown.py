"""The renderer: formatting, highlighted code, math, and nothing unsafe getting through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.markdown import escape_text, render_html
from services.render_pool import RenderCache, Rendered, Renderer


def test_formatting() -> None:
    html = render_html("# Title\n\n**bold** ~~gone~~\nnext line\n\n- [x] done\n- [ ] todo")
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<s>gone</s>" in html and "<br" in html  # a newline is a line break
    assert 'type="checkbox"' in html and "checked" in html


def test_table() -> None:
    html = render_html("| a | b |\n| --- | --- |\n| 1 | 2 |")
    assert "<table>" in html and "<td>1</td>" in html


def test_code_block_has_language_copy_button_and_highlighting() -> None:
    html = render_html("```python\ndef f():\n    return '<b>'\n```")
    assert '<span class="code-lang">python</span>' in html
    assert 'aria-label="Copy code"' in html
    assert '<span class="k">def</span>' in html  # Pygments classes, themed by CSS
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_math_becomes_mathml_but_prices_stay_text() -> None:
    html = render_html("Euler: $e^{i\\pi}+1=0$ costs $5 or $10.\n\n$$\n\\frac{a}{b}\n$$")
    assert html.count("<math") == 2 and "<mfrac>" in html
    assert "$5 or $10" in html


def test_raw_html_is_shown_as_text() -> None:
    html = render_html('Hello <script>alert(1)</script> <img src=x onerror="alert(2)">')
    assert "<script" not in html and "onerror=" not in html.replace("&quot;", '"').split("&lt;")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # visible, not dropped


def test_html_inside_math_text_is_shown_as_text() -> None:
    # latex2mathml unescapes its output: \text{<b>} would otherwise become a real tag.
    html = render_html("$\\text{<b>bold</b> <script>alert(1)</script>}$ and $a<b>c$")
    assert "<b>" not in html and "<script" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<mo>&lt;</mo>" in html and "<mo>&gt;</mo>" in html  # comparison operators stay math


def test_link_attributes_cannot_be_broken_out_of() -> None:
    html = render_html(
        '[x](http://a.example" onmouseover="alert(1)) [y](http://b.example "t\\" onclick=x")'
    )
    assert ' onclick="' not in html and ' onmouseover="' not in html


@pytest.mark.parametrize(
    "source", ["[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](vbscript:msgbox)"]
)
def test_unsafe_links_lose_their_target(source: str) -> None:
    html = render_html(source)
    assert "javascript:" not in html and "data:" not in html and "vbscript:" not in html


def test_links_open_safely_in_a_new_tab() -> None:
    html = render_html("[site](https://example.com)")
    assert 'href="https://example.com"' in html
    assert 'target="_blank"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_remote_images_wait_for_a_click() -> None:
    html = render_html("![cat](https://img.example/cat.png)")
    assert "<img" not in html
    assert 'data-src="https://img.example/cat.png"' in html and "img.example" in html


def test_insecure_images_are_said_to_be_blocked_not_offered() -> None:
    """The page's policy allows https: images only: an http one could never load on click."""
    from pages.i18n import localize

    html = render_html("![cat](http://img.example:8080/cat.png)")
    assert "<img" not in html and "data-src" not in html and "<button" not in html
    assert "Image from img.example:8080 not shown: its address is not secure (http)" in html
    assert "img.example:8080" in localize(html, "ja")


def test_escape_text() -> None:
    assert escape_text('<b onclick="x">&</b>') == "&lt;b onclick=&quot;x&quot;&gt;&amp;&lt;/b&gt;"


def test_cache_is_bounded_in_bytes() -> None:
    cache = RenderCache(max_bytes=50_000)
    for index in range(500):
        text = f"paragraph number {index} " * 20
        cache.put(text, Rendered(render_html(text)))
    assert 0 < cache.size <= 50_000
    hit = cache.get("paragraph number 499 " * 20)
    assert hit is not None and hit.html.startswith("<p>")
    assert cache.get("paragraph number 0 " * 20) is None  # the oldest went first


async def test_a_long_reply_renders_block_by_block_to_the_same_page(renderer: Renderer) -> None:
    from tests.test_markdown_stream import same_page

    text = "\n\n".join(
        f"## Part {n}\n\nSome *text* with $x_{n}$.\n\n- a\n- b\n\n```python\nprint({n})\n```"
        for n in range(400)
    )
    assert same_page(await renderer.render(text), render_html(text))
    assert renderer.cached(text) is not None  # every block of it, for the next page


def test_warm_up_readies_the_common_lexers_before_a_first_use() -> None:
    """A Pygments lexer compiles its patterns on its first use in a process (`_tokens` on the
    class): chatapp's start-up does that for the common languages, not a user's first page."""
    check = (
        "from pygments.lexers import find_lexer_class_by_name\n"
        "from services import markdown\n"
        "lexers = [find_lexer_class_by_name(name) for name in markdown.WARM_LANGUAGES]\n"
        "assert not any('_tokens' in lexer.__dict__ for lexer in lexers)\n"
        "markdown.warm_up()\n"
        "assert all('_tokens' in lexer.__dict__ for lexer in lexers), lexers\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).parents[1])
