"""A corpus of hostile markdown: short texts that make renderers slow, deep, wide or wrong.

Each is something a misbehaving model, a prompt-injected page or a share link could send:
runs of every delimiter, deep nesting of every construct, unclosed constructs, huge tables,
long words, and the same mixed with Chinese text. The renderer tests, the browser test and
`make bench` all use it.
"""

from __future__ import annotations

DELIMITERS = "`*_~[]()<>!#|\\-=+:&$"


def _table(columns: int, rows: int, cell: str = "cell") -> str:
    head = "| " + " | ".join(f"column {n}" for n in range(columns)) + " |"
    rule = "|" + "|".join("---" for _ in range(columns)) + "|"
    body = [
        "| " + " | ".join(f"{cell} {r}.{c}" for c in range(columns)) + " |" for r in range(rows)
    ]
    return "\n".join([head, rule, *body])


CORPUS: dict[str, str] = {
    # Runs of every delimiter, alone on a line and after a word.
    **{f"run of {ch!r}": ch * 20_000 for ch in DELIMITERS},
    "backticks after a word": "x " + "`" * 10_000,
    "underscores after a word": "word " + "_" * 20_000 + " end",
    "open brackets then one close": "[" * 5_000 + "]",
    "html comment openers": "<!--" * 5_000,
    "alternating emphasis": "*_" * 10_000,
    "link openers": "[a](" * 3_000,
    "image openers": "![" * 5_000 + "x",
    "autolink openers": "<http://" * 3_000,
    "html tag openers": "<div>" * 5_000,
    "entities": "&amp;" * 10_000,
    # Deep nesting of every construct.
    "list nested 400 deep": "\n".join("  " * depth + "- x" for depth in range(400)),
    "ordered list nested 300 deep": "\n".join("   " * d + "1. x" for d in range(300)),
    "bullets on one line": "- " * 3_000 + "x",
    "quote nested 3000 deep": ">" * 3_000 + " x",
    "spaced quotes 3000 deep": "> " * 3_000 + "x",
    "quotes and lists interleaved": "> - " * 2_000 + "x",
    "emphasis nested 2000 deep": "*" * 2_000 + "x" + "*" * 2_000,
    "strong and em interleaved": "**a _b " * 2_000,
    "links nested": "[" * 2_000 + "x" + "](y)" * 2_000,
    # Unclosed constructs.
    "fence never closed": "```python\n" + "def f():\n    return 1\n" * 2_000,
    "long fence opener": "`" * 10_000 + "\ncode\n",
    "math never closed": "$$\n" + "x^2 + " * 5_000,
    "inline math runs": "$a$ " * 5_000,
    "latex fractions": "$" + "\\frac{1}{" * 1_000 + "$",
    "html never closed": "<table><tr><td>" * 2_000,
    "reference definitions": "\n".join(f"[r{n}]: https://example.com/{n}" for n in range(2_000))
    + "\n\n"
    + " ".join(f"[x][r{n}]" for n in range(2_000)),
    # Huge tables and long words.
    "table 60 columns": _table(60, 5),
    "table 2000 rows": _table(8, 2_000),
    "word of 30000 letters": "a" * 30_000,
    "url of 50000 characters": "https://example.com/" + "a" * 50_000,
    "code line of 20000 characters": "```\n" + "x = 1; " * 3_000 + "\n```",
    "setext underline of 50000": "Title\n" + "=" * 50_000,
    # Mixed with Chinese text.
    "chinese between asterisk runs": "中文" + "*" * 5_000 + "测试" + "*" * 5_000,
    "chinese line without spaces": "数据库索引的设计和查询优化" * 3_000,
    "chinese in a deep quote": "> " * 1_000 + "**注意：**这里",
    "chinese bold labels on one line": "**注意：**这里" * 5_000,
    "chinese emphasis interleaved with quotes": "*「中**」文“*" * 3_000,
    "chinese table 40 columns": _table(40, 20, "中文单元格"),
    "chinese with bracket runs": "我们" + "[" * 5_000 + "讨论" + "]" * 5_000,
}
