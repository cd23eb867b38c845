"""Search snippets read as text: markdown's marks around the words go, the words stay."""

from __future__ import annotations

import pytest

from services.topics import plain_snippet


@pytest.mark.parametrize(
    ("snippet", "shown"),
    [
        ("…```python def add(a, b): return a + b```…", "… python def add(a, b): return a + b …"),
        ("```python\ndef add(a, b):\n    return a + b\n```", "python def add(a, b): return a + b"),
        ("**注意：**这里用`索引`", "注意： 这里用 索引"),
        ("# Heading\n> quote\n- item\n2. two", "Heading quote item two"),
        ("| a | b |\n|---|:---:|\n| 1 | 2 |", "a b 1 2"),
        # What only looks like a mark stays: mid-line, inside words, in numbers.
        ("x * y = 3 and a-b", "x * y = 3 and a-b"),
        ("Version 2. Then", "Version 2. Then"),
        ("…__init__ method…", "…__init__ method…"),
        ("C# and c++ and 3.14", "C# and c++ and 3.14"),
    ],
)
def test_plain_snippet(snippet: str, shown: str) -> None:
    assert plain_snippet(snippet) == shown
