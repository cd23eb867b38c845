"""Bold and italics in Chinese, Japanese and Korean replies render; English renders as before."""

from __future__ import annotations

import html
import re

import markdown2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.markdown import render_html
from services.markdown_emphasis import flanking, is_cjk


def visible_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# Replies as models write them, each with the emphasis a reader expects to see.
CORPUS: list[tuple[str, list[str]]] = [
    # Chinese: bold labels ending in a full-width colon, the most common shape.
    ("**注意：**这里的配置只在开发环境生效。", ["<strong>注意：</strong>这里"]),
    (
        "**总结：**使用 *B+ 树索引*可以显著提升查询速度。",
        ["<strong>总结：</strong>", "<em>B+ 树索引</em>"],
    ),
    (
        "1. **安装依赖：**运行 `pip install -r requirements.txt`。\n"
        "2. **配置数据库：**编辑 `config.yaml`，填写连接串。\n"
        "3. **启动服务：**执行 `make run`。",
        [
            "<li><strong>安装依赖：</strong>运行",
            "<strong>配置数据库：</strong>",
            "<strong>启动服务：</strong>",
        ],
    ),
    (
        "### 对比\n\n- **优点：**速度快，占用内存少。\n- **缺点：**生态不如 Python 丰富。",
        ["<li><strong>优点：</strong>速度快", "<li><strong>缺点：</strong>生态"],
    ),
    # Quotes and brackets just inside or outside the markers.
    ("“引号”和**加粗的“引号”**结束", ["和<strong>加粗的“引号”</strong>结束"]),
    ("**“数据库”**这个词有很多含义。", ["<strong>“数据库”</strong>这个词"]),
    ("他说：“**不要**这样做。”", ["“<strong>不要</strong>这样做"]),
    ("**【提示】**请在修改前备份数据。", ["<strong>【提示】</strong>请在"]),
    ("《**三体**》是刘慈欣的小说。", ["《<strong>三体</strong>》"]),
    ("价格：**¥100**（含税），运费另计。", ["<strong>¥100</strong>（含税）"]),
    # Bold inside sentences and next to 。，、！？
    ("这个问题的关键在于**索引的选择**，而不是查询本身。", ["于<strong>索引的选择</strong>，"]),
    ("这很**重要！**然后我们继续下一步。", ["很<strong>重要！</strong>然后"]),
    ("**为什么？**因为缓存失效了。", ["<strong>为什么？</strong>因为"]),
    ("你好，**世界**。", ["，<strong>世界</strong>。"]),
    ("这是*斜体*、**加粗**、以及***粗斜体***。", ["<em>斜体</em>、", "<strong>加粗</strong>、"]),
    # Nested bold and italics.
    ("***重要：***请先备份数据。", ["<em><strong>重要：</strong></em>请先"]),
    ("**这是*斜体*加粗：**后面的文字", ["<strong>这是<em>斜体</em>加粗：</strong>后面"]),
    # Mixed with English and code.
    (
        "使用 **Python 3.11：**的新特性，例如 `ExceptionGroup`。",
        ["<strong>Python 3.11：</strong>的"],
    ),
    ("[文档](https://example.com/docs_v2)里的**说明：**很详细。", ["<strong>说明：</strong>很"]),
    ("**Note：**这一步需要 root 权限。", ["<strong>Note：</strong>这一步"]),
    # Japanese.
    ("**注意：**この機能は実験的です。", ["<strong>注意：</strong>この"]),
    ("**「設定」**メニューを開いてください。", ["<strong>「設定」</strong>メニュー"]),
    ("「**重要**」と書かれた項目を確認してください。", ["「<strong>重要</strong>」と"]),
    ("*強調。*次の文です。", ["<em>強調。</em>次"]),
    ("**手順1：**インストールします。\n**手順2：**設定します。", ["<strong>手順2：</strong>設定"]),
    ("ここは**太字（注記）**です。", ["<strong>太字（注記）</strong>です"]),
    ("ﾃｽﾄ**ﾃﾞｰﾀ：**ﾊﾝｶｸ", ["<strong>ﾃﾞｰﾀ：</strong>ﾊﾝｶｸ"]),  # halfwidth katakana
    # Korean: ASCII punctuation inside, Hangul outside.
    ("**주의:**이 기능은 실험적입니다.", ["<strong>주의:</strong>이"]),
    ("**참고：**설정 파일을 확인하세요.", ["<strong>참고：</strong>설정"]),
    (
        "패키지를 발행하려면 **`npm publish`**를 실행하십시오.",
        ["<strong><code>npm publish</code></strong>를"],
    ),
]


@pytest.mark.parametrize(("source", "expected"), CORPUS, ids=[s[:12] for s, _ in CORPUS])
def test_cjk_emphasis_renders_as_a_reader_expects(source: str, expected: list[str]) -> None:
    page = render_html(source)
    for fragment in expected:
        assert fragment in page
    assert "*" not in visible_text(page), page


# English, code, URLs and underscores: exactly the HTML they rendered to before.
UNCHANGED = [
    ("**Note:** here", "<p><strong>Note:</strong> here</p>"),
    ("**Note:**here", "<p>**Note:**here</p>"),  # CommonMark: no bold between `:` and a letter
    (
        "snake_case_words and __init__ and _private_",
        "<p>snake_case_words and __init__ and _private_</p>",
    ),
    ("2*3*4 = 24", "<p>2<em>3</em>4 = 24</p>"),
    ("`code *x*` and `**y**`", "<p><code>code *x*</code> and <code>**y**</code></p>"),
    ("https://example.com/a_b_c?x_y=1", "<p>https://example.com/a_b_c?x_y=1</p>"),
    (
        "[docs](https://example.com/some_path_here)",
        '<p><a href="https://example.com/some_path_here" target="_blank" '
        'rel="noopener noreferrer nofollow">docs</a></p>',
    ),
    ("a * b * c", "<p>a * b * c</p>"),
    ("*(**nested**)*", "<p><em>(<strong>nested</strong>)</em></p>"),
    ("Price: $5 *or* **$10**.", "<p>Price: $5 <em>or</em> <strong>$10</strong>.</p>"),
    # Underscores make no emphasis in any script (`code-friendly`), nor do they in CJK words.
    ("中_文_字 __强调__ _斜体_", "<p>中_文_字 __强调__ _斜体_</p>"),
    ("面积 = 长*宽*高", "<p>面积 = 长<em>宽</em>高</p>"),  # as before: both sides are letters
]


@pytest.mark.parametrize(("source", "expected"), UNCHANGED, ids=[s[:16] for s, _ in UNCHANGED])
def test_english_code_and_urls_render_as_before(source: str, expected: str) -> None:
    assert render_html(source) == expected


def test_code_spans_and_math_next_to_cjk_stay_untouched() -> None:
    page = render_html("代码 `**注意：**这里` 和公式 $a*b*c$ 不变，**说明：**这里加粗。")
    assert "<code>**注意：**这里</code>" in page and "<strong>说明：</strong>这里" in page
    assert "<math" in page and "<em>b</em>" not in page


def test_cjk_punctuation_and_letters_are_told_apart_from_others() -> None:
    assert all(is_cjk(char) for char in "中文かなカナ한글：。，、！？「」『』【】《》（）")
    assert not any(is_cjk(char) for char in "a:.,!?()“”—é🙂⌚")  # “” are ambiguous width


LATIN = "ab Z9 \n\t.,:;!?()[]\"'-*_é\u0301\u00a0—“”…\u2003"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=LATIN, min_size=1, max_size=12))
def test_without_cjk_the_flanking_rules_are_markdown2s_own(text: str) -> None:
    """The amendment changes nothing around other characters: every run of `*` or `_` opens
    and closes exactly where markdown2's own rules let it."""
    own = markdown2.GFMItalicAndBoldProcessor(markdown2.Markdown(), None)
    for run in re.finditer(r"(\*+|_+)", text):  # one group, as markdown2 finds them
        left, right = own.delimiter_left_or_right(run)
        assert flanking(text, run.start(), run.end()) == (bool(left), bool(right))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="中文かな한：。「」“”a1 _\n", min_size=1, max_size=16))
def test_underscores_never_become_emphasis(text: str) -> None:
    page = render_html(text)
    assert "<em>" not in page and "<strong>" not in page
