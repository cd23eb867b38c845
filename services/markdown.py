"""Markdown to safe HTML: markdown2 + Pygments + server-side math, then nh3's allow-list.

The pure function; `services.render_pool` runs it in worker processes within a time budget.
"""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import urlsplit

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from services.markdown_defuse import defuse
from services.markdown_emphasis import CjkMarkdown

EXTRAS = {
    "fenced-code-blocks": {"cssclass": "codehilite"},  # fences inside lists; top-level: ours
    "tables": None,
    "strike": None,
    "task_list": None,
    "cuddled-lists": None,
    "cjk-code-friendly": None,  # `code-friendly` (no `_` emphasis), CJK-friendly flanking
    "breaks": {"on_newline": True},  # a newline is a line break, like marked's `breaks: true`
}

FENCE = re.compile(
    r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)[^\n]*\n"
    r"(?P<body>.*?)(?:^ {0,3}(?P=fence)[`~]*[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
# A code span: a run of backticks to the next run of the same length, within its paragraph.
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.DOTALL)
BLOCK_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
# $x$ but not prices: no space just inside the dollars and no digit right after the closing one.
INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]+?)(?<=\S)\$(?![\d$])")

MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mstyle", "mtable", "mtr", "mtd", "munder", "mover",
    "munderover", "mpadded", "mphantom", "menclose", "semantics", "annotation",
}  # fmt: skip
TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "s",
    "code", "pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "a", "span", "div", "button", "input", "sup", "sub", "kbd",
} | MATHML_TAGS  # fmt: skip
ATTRIBUTES = {
    "*": {"class"},
    "a": {"href", "title", "target"},
    "button": {"type", "aria-label", "data-src", "title"},
    "input": {"type", "checked", "disabled"},
    "th": {"align", "style"},
    "td": {"align", "style"},
    "ol": {"start"},
    "math": {"display", "xmlns"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace"},
    "mstyle": {"displaystyle", "scriptlevel"},
    "mspace": {"width"},
    "mtable": {"columnalign"},
    "span": {"aria-hidden"},
}
FORMATTER = HtmlFormatter(cssclass="codehilite", nowrap=True)


def escape_text(text: str) -> str:
    """Plain text (a title, a user name) for HTML: everything escaped, nothing interpreted."""
    return html.escape(text, quote=True)


def _set_link_attributes(tag: str, name: str, value: str) -> str | None:
    if tag == "a" and name == "target":
        return "_blank"
    return value


def sanitize(fragment: str) -> str:
    """nh3 with our allow-list: http(s) and mailto links only, each opening in a new tab."""
    cleaned = nh3.clean(
        fragment,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
    return cleaned


def _code_block(body: str, lang: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    label = escape_text(lang or "text")
    code = highlight(body, lexer, FORMATTER)
    return (
        f'<div class="code-block"><div class="code-header"><span class="code-lang">{label}</span>'
        '<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>'
        f'<div class="codehilite"><pre><code>{code}</code></pre></div></div>'
    )


# latex2mathml unescapes its whole output, so `\text{<b>x</b>}` would come out as a real tag.
# `<` and `>` travel through it as private-use characters and come back as entities.
LT, GT = "\ue000", "\ue001"
MASKED_OPERATOR = re.compile(f"<mi>([{LT}{GT}])</mi>")


def _math(latex: str, block: bool) -> str:
    masked = latex.strip().replace(LT, "").replace(GT, "").replace("<", LT).replace(">", GT)
    try:
        rendered = latex_to_mathml(masked, display="block" if block else "inline")
        rendered = MASKED_OPERATOR.sub(r"<mo>\1</mo>", rendered)  # `a < b`: an operator again
        rendered = rendered.replace(LT, "&lt;").replace(GT, "&gt;")
    except Exception:  # latex2mathml raises many kinds; unreadable math is shown as code
        rendered = f"<code>{escape_text(latex)}</code>"
    return f'<div class="math-block">{rendered}</div>' if block else rendered


def _protect(text: str) -> tuple[str, dict[str, str]]:
    """Swap fenced code and math for inert tokens so markdown2's escaping cannot touch them."""
    nonce = secrets.token_hex(4)
    stash: dict[str, str] = {}

    def keep(rendered: str, block: bool) -> str:
        token = f"zzph{nonce}n{len(stash)}zz"
        stash[token] = rendered
        return f"\n\n{token}\n\n" if block else token

    def fence(match: re.Match[str]) -> str:
        body = match["body"]
        indent = len(match["indent"])
        if indent:
            body = re.sub(rf"(?m)^ {{1,{indent}}}", "", body)
        return keep(_code_block(body, match["lang"]), block=True)

    def math(piece: str) -> str:
        piece = BLOCK_MATH.sub(lambda m: keep(_math(m[1], True), block=True), piece)
        return INLINE_MATH.sub(lambda m: keep(_math(m[1], False), block=False), piece)

    text = FENCE.sub(fence, text)
    out: list[str] = []
    last = 0
    for code in INLINE_CODE.finditer(text):  # never touch math-looking text inside `code`
        out += [math(text[last : code.start()]), code.group(0)]
        last = code.end()
    out.append(math(text[last:]))
    return "".join(out), stash


IMAGE = re.compile(r'<img\s+src="([^"]*)"(?:\s+alt="([^"]*)")?[^>]*>')


def _image_placeholder(match: re.Match[str]) -> str:
    src, alt = html.unescape(match[1]), html.unescape(match[2] or "")
    host = urlsplit(src).netloc if src.startswith(("http://", "https://")) else ""
    if not host:
        return f'<span class="image-blocked">[image: {escape_text(alt or src)}]</span>'
    if src.startswith("http://"):  # the page's policy (https: images only) would refuse it
        return (
            f'<span class="image-blocked">Image from {escape_text(host)} not shown: '
            "its address is not secure (http)</span>"
        )
    return (
        f'<button type="button" class="image-placeholder" data-src="{escape_text(src)}" '
        f'title="{escape_text(alt)}">Image from {escape_text(host)}: click to load</button>'
    )


def render_html(text: str) -> str:
    """Markdown (untrusted) to HTML that is safe to put in a signed-in page, in this process.

    No time bound here: the app renders through `services.render_pool.Renderer`, whose worker
    processes run this with a budget. Tests and scripts may call it directly.
    """
    if not text.strip():
        return ""
    # The last line is complete (a fence opened on it is a fence), however the text was cut.
    protected, stash = _protect(defuse(text if text.endswith("\n") else text + "\n"))
    rendered = CjkMarkdown(extras=EXTRAS, safe_mode="escape").convert(protected)
    rendered = IMAGE.sub(_image_placeholder, rendered)
    if stash:  # one pass over the HTML, however many code blocks and formulas there are
        tokens = "|".join(re.escape(token) for token in stash)
        rendered = re.sub(
            rf"<p>({tokens})</p>|({tokens})",
            lambda m: stash[m[1] or m[2]],
            rendered,
        )
    return _scroll_tables(sanitize(rendered).strip())


def _scroll_tables(safe: str) -> str:
    """Each table in a box of its own that scrolls sideways (the table keeps its natural width,
    so its cells stay readable), focusable so keys scroll it too; a code block, which scrolls
    sideways on a phone, focusable too (axe: scrollable-region-focusable). Run on sanitised
    HTML, where `<table>` can only be a real tag."""
    boxed = safe.replace("<table>", '<div class="table-scroll" tabindex="0"><table>')
    code = '<div class="codehilite"><pre>'
    boxed = boxed.replace(code, code.replace("<pre>", '<pre tabindex="0">'))
    return boxed.replace("</table>", "</table></div>")


def plain_fallback(text: str) -> str:
    """A block that could not be rendered in time (or at all): its text, escaped, with a
    quiet note. Built here, all of it escaped, so it needs no sanitiser."""
    return (
        f'<div class="md-plain"><pre>{escape_text(text)}</pre>'
        '<div class="md-plain-note">shown as plain text</div></div>'
    )


# The languages replies show most: their Pygments lexers are made ready at start-up.
WARM_LANGUAGES = ("python", "javascript", "typescript", "bash")


def warm_up() -> None:
    """Render once what the first page or reply with code would pay for otherwise: a Pygments
    lexer compiles its patterns on its first use in a process (the Python lexer: ~60 ms), and
    markdown2 compiles its own. Each markdown worker runs this when it starts."""
    fences = "\n\n".join(f"```{language}\nx = 1\n```" for language in WARM_LANGUAGES)
    render_html(f"# Warm-up\n\n*A* **list**:\n\n- [link](https://example.com)\n\n{fences}")
