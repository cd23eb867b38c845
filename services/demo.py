"""The offline demo model: a built-in markdown reply streamed at a human pace, no network."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from services.llm import Delta, Done, Reasoning, StreamEvent, join
from services.models import Usage

REPLY = """\
### Hello from the demo model

You wrote: *{quote}*

This reply comes from chatapp's **offline demo model**, so you can see streaming work
before you configure a real one. It shows what replies can hold:

- lists, **bold** and *italic* text, `inline code`
- tables and highlighted code blocks
- links such as [the OpenAI API docs](https://platform.openai.com/docs)

| Setting | Example |
| --- | --- |
| `OPENAI_API_KEY` | `sk-...` for OpenAI |
| `OPENAI_BASE_URL` | `http://127.0.0.1:11434/v1` for Ollama |

```python
def greet(name: str) -> str:
    \"\"\"Say hello.\"\"\"
    return f"Hello, {{name}}!"


print(greet("chatapp"))
```

To talk to a real model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL` for a local server such as
Ollama, vLLM or llama.cpp) and restart chatapp.
"""


THINKING = """\
The user wrote: "{quote}". I am the offline demo model, so I cannot really answer that. \
The most useful reply shows what chatapp can display: formatted text, a table and some code. \
I should also say how to connect a real model.
"""


def text_of(message: dict[str, Any]) -> str:
    """A message's text, whether its content is a string or a list of parts (text, images)."""
    content = message.get("content", "")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


class DemoLLM:
    """Same interface as `LLMClient`; `pace` is the pause between words (tests use 0).

    Like a thinking model it reasons first (about 1.5 s of words at the default pace), so a
    newcomer sees the thinking block, then answers.
    """

    model = "demo"

    def __init__(self, *, pace: float = 0.03) -> None:
        self.pace = pace

    async def stream(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
        tools: list[dict[str, Any]] | None = None,  # the demo model calls none
    ) -> AsyncIterator[StreamEvent]:
        question = next((text_of(m) for m in reversed(messages) if m.get("role") == "user"), "")
        question = question.split("<attached-file", 1)[0]  # quote the question, not its files
        words = " ".join(question.split()[:12]) or "nothing yet"
        quote = words.replace("*", "")
        thinking = THINKING.format(quote=quote.replace('"', "'"))
        for piece in _words(thinking):
            yield Reasoning(piece)
            await asyncio.sleep(self.pace)
        text = REPLY.format(quote=quote)
        for piece in _words(text):
            yield Delta(piece)
            await asyncio.sleep(self.pace)
        prompt = sum(len(text_of(m).split()) for m in messages)
        reasoning = len(thinking.split())
        completion = reasoning + len(text.split())
        yield Done(Usage(prompt, completion, prompt + completion, reasoning), "stop")

    async def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        temperature: float | None = None,
        reasoning_effort: str | None = None,
    ) -> str:
        if messages and "short title" in text_of(messages[-1]):
            return "Demo conversation"
        stream = self.stream(
            messages, model=model, temperature=temperature, reasoning_effort=reasoning_effort
        )
        return await join(stream)

    async def list_models(self) -> list[str]:
        return [self.model]

    async def close(self) -> None:
        """Nothing to close: the demo model holds no connection."""


def _words(text: str) -> list[str]:
    """Each word with the space after it, so the text streams at a reading pace."""
    return [piece for piece in re.findall(r"\S*\s*", text) if piece]
