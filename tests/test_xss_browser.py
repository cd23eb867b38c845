"""Hostile markdown through the real renderer, in real Chromium: nothing runs, nothing loads."""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.markdown import escape_text, plain_fallback, render_html
from services.markdown_blocks import BlockSplitter

pytestmark = pytest.mark.browser

STATIC = Path(__file__).parents[1] / "pages" / "static"
BATCHES = 4


def load_payloads() -> list[str]:
    lines = (Path(__file__).parent / "xss_payloads.txt").read_text().splitlines()
    payloads = [line for line in lines if line and not line.startswith("#!")]
    return [
        re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), p.replace("\\n", "\n"))
        for p in payloads
    ]


PAYLOADS = load_payloads()


def streamed_views(text: str, size: int = 3) -> list[str]:
    """Every HTML fragment LiveMarkdown would send while `text` arrives `size` characters a time."""
    splitter, views = BlockSplitter(), []
    for start in range(0, len(text), size):
        views += [render_html(block) for block in splitter.feed(text[start : start + size])]
        views.append(render_html(splitter.tail))
    return list(dict.fromkeys(views))


def page_for(payloads: list[str], *, unsafe: bool = False) -> str:
    """Each payload as a title (escape_text), a one-shot render, every streamed view, and the
    plain-text form a block takes when it cannot be rendered in time (`render_html` is what
    the app's worker processes run).

    The renders appear twice: parsed with the document (where a <script> would run) and set
    through innerHTML afterwards, which is how NiceGUI's `ui.html` puts them in the page.
    `unsafe` skips our pipeline entirely: the control that proves the trap can go off.
    """
    parsed, later = [], []
    for text in payloads:
        views = (
            [text] if unsafe else [render_html(text), *streamed_views(text), plain_fallback(text)]
        )
        title = text if unsafe else escape_text(text)
        parsed.append(f'<h3 class="title">{title}</h3><div class="markdown">{views[0]}</div>')
        later += views
    return f"""<!doctype html><html><head><meta charset="utf-8">
<script>window.__xss = 0;</script>
<link rel="stylesheet" href="/markdown-static/chat.css">
<script src="/markdown-static/chat.js"></script></head>
<body><main id="parsed">{"".join(parsed)}</main><main id="later"></main>
<script id="views" type="application/json">{html.escape(json.dumps(later), quote=False)}</script>
<script>
  for (const view of JSON.parse(document.getElementById("views").textContent)) {{
    const box = document.createElement("div");
    box.className = "markdown";
    box.innerHTML = view;
    document.getElementById("later").append(box);
  }}
  window.__ready = true;
</script></body></html>"""


class Site:
    """A tiny HTTP server on 127.0.0.1: our pages, chat.css and chat.js, and nothing else."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/markdown-static/"):
                    file = STATIC / path.removeprefix("/markdown-static/")
                    body = file.read_bytes() if file.parent == STATIC and file.is_file() else None
                else:
                    body = site.pages.get(path)
                self.send_response(200 if body is not None else 404)
                kind = {".css": "text/css", ".js": "text/javascript"}.get(Path(path).suffix)
                self.send_header("Content-Type", kind or "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Site:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        yield server


async def visit(browser: Any, site: Site, path: str, document: str) -> dict[str, Any]:
    """Open `document` and report what went off: dialogs, the flag, requests elsewhere."""
    site.pages[path] = document.encode()
    page = await browser.new_page()
    dialogs: list[str] = []
    foreign: list[str] = []

    async def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)

    async def guard(route: Any) -> None:
        if route.request.url.startswith(site.origin + "/"):
            await route.continue_()
        else:  # recorded, and never allowed out
            foreign.append(route.request.url)
            await route.abort()

    await page.route("**/*", guard)
    await page.goto(site.origin + path, wait_until="load")
    await page.wait_for_function("window.__ready === true")
    await page.wait_for_load_state("networkidle")
    report = await page.evaluate(
        """() => {
        const rendered = [...document.querySelectorAll(".markdown, .title")];
        const all = rendered.flatMap((box) => [...box.querySelectorAll("*")]);
        return {
          flag: window.__xss,
          handlers: all.flatMap((el) => [...el.attributes].map((a) => a.name))
                       .filter((name) => name.startsWith("on")),
          tags: [...new Set(all.map((el) => el.localName))],
          hrefs: all.filter((el) => el.hasAttribute("href")).map((el) => el.getAttribute("href")),
          styles: all.filter((el) => el.hasAttribute("style")).map((el) => el.style.cssText),
          placeholders: document.querySelectorAll(".image-placeholder, .image-blocked").length,
          titles: [...document.querySelectorAll(".title")].map((el) => el.textContent),
          shown: [...document.querySelectorAll("#parsed .markdown")].map((el) => el.textContent),
          boxes: document.querySelectorAll(".markdown").length,
        };
    }"""
    )
    report |= {"dialogs": dialogs, "foreign": foreign, "page": page}
    return report


FORBIDDEN_TAGS = {
    "script", "img", "iframe", "object", "embed", "style", "link", "meta", "base", "form",
    "svg", "video", "audio", "source", "picture", "template", "textarea", "title", "details",
    "marquee", "noscript", "xmp", "plaintext", "noembed", "annotation-xml", "body", "x",
}  # fmt: skip


@pytest.mark.parametrize("batch", range(BATCHES))
async def test_no_payload_runs_or_loads_anything(browser: Any, site: Site, batch: int) -> None:
    assert len(PAYLOADS) >= 100
    payloads = PAYLOADS[batch::BATCHES]
    report = await visit(browser, site, f"/batch{batch}", page_for(payloads))
    # escape_text: shown exactly as typed (but for NUL, which HTML parsing drops)
    assert report["titles"] == [payload.replace("\0", "") for payload in payloads]
    assert report["boxes"] > 2 * len(payloads)  # every render and streamed view is in the page
    assert report["dialogs"] == [] and report["flag"] == 0
    assert report["foreign"] == []
    assert report["handlers"] == []
    assert not FORBIDDEN_TAGS & set(report["tags"]), report["tags"]
    assert all(re.match(r"(https?:|mailto:|#)", href) for href in report["hrefs"]), report["hrefs"]
    assert all(re.fullmatch(r"text-align: ?\w+;?", s) for s in report["styles"]), report["styles"]
    assert report["placeholders"] > 0  # remote images are there, waiting for a click or refused
    await report["page"].close()


async def test_an_image_loads_only_when_its_placeholder_is_clicked(
    browser: Any, site: Site
) -> None:
    report = await visit(
        browser, site, "/image", page_for(["![cat](https://evil.example/cat.png)"])
    )
    assert report["foreign"] == []
    page = report["page"]
    async with page.expect_request("https://evil.example/cat.png"):  # (aborted by our guard)
        await page.locator("#parsed .image-placeholder").click()
    for _ in range(100):  # the guard records it as it aborts it
        if report["foreign"]:
            break
        await asyncio.sleep(0.05)
    assert report["foreign"] == ["https://evil.example/cat.png"]
    assert await page.locator("#parsed img").get_attribute("src") == "https://evil.example/cat.png"
    await page.close()


async def test_the_trap_goes_off_without_the_pipeline(browser: Any, site: Site) -> None:
    """Control: the same payloads, unrendered, do run and load, so the checks above can fail."""
    hostile = [
        "<img src=x onerror=alert(1)>",
        "<img src=y onerror=window.__xss=1>",
        '<img src="http://evil.example/pixel.png">',
    ]
    report = await visit(browser, site, "/control", page_for(hostile, unsafe=True))
    assert report["dialogs"] and report["flag"] == 1
    assert "http://evil.example/pixel.png" in report["foreign"]
    assert "img" in report["tags"] and "onerror" in report["handlers"]
    await report["page"].close()


async def test_raw_html_is_visible_as_text(browser: Any, site: Site) -> None:
    raw = ["<script>window.__xss=1</script>", "<img src=x onerror=alert(1)>", "<b>not bold</b>"]
    report = await visit(browser, site, "/raw", page_for(raw))
    assert report["shown"] == raw and report["flag"] == 0
    await report["page"].close()


def test_escape_text_leaves_nothing_to_parse() -> None:
    for payload in PAYLOADS:
        escaped = escape_text(payload)
        assert "<" not in escaped and ">" not in escaped and '"' not in escaped
        assert html.unescape(escaped) == payload  # shown exactly as typed
