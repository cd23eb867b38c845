"""The offline demo model: a built-in markdown reply streamed at a human pace, no network."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from services import i18n
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


# The same reply in the other languages of the UI: the demo answers in the reader's language
# (services.i18n.speaking), as a real model answers in the language it is spoken to.
REPLIES = {
    "zh_CN": """\
### 来自演示模型的问候

你写道：*{quote}*

这条回复来自 chatapp 的**离线演示模型**，让你在配置真实模型之前就能看到流式输出的效果。

回复可以包含：

- 列表、**粗体**和*斜体*文字、`行内代码`
- 表格和高亮的代码块
- 链接，例如 [OpenAI API 文档](https://platform.openai.com/docs)

| 设置 | 示例 |
| --- | --- |
| `OPENAI_API_KEY` | OpenAI 的 `sk-...` |
| `OPENAI_BASE_URL` | Ollama 的 `http://127.0.0.1:11434/v1` |

```python
def greet(name: str) -> str:
    \"\"\"打个招呼。\"\"\"
    return f"你好，{{name}}！"


print(greet("chatapp"))
```

要与真实模型对话，请设置 `OPENAI_API_KEY`（或为 Ollama、vLLM、llama.cpp 等本地服务器设置
`OPENAI_BASE_URL`），然后重启 chatapp。
""",
    "zh_TW": """\
### 來自示範模型的問候

你寫道：*{quote}*

這則回覆來自 chatapp 的**離線示範模型**，讓你在設定真實模型之前就能看到串流輸出的效果。

回覆可以包含：

- 清單、**粗體**和*斜體*文字、`行內程式碼`
- 表格和醒目標示的程式碼區塊
- 連結，例如 [OpenAI API 文件](https://platform.openai.com/docs)

| 設定 | 範例 |
| --- | --- |
| `OPENAI_API_KEY` | OpenAI 的 `sk-...` |
| `OPENAI_BASE_URL` | Ollama 的 `http://127.0.0.1:11434/v1` |

```python
def greet(name: str) -> str:
    \"\"\"打個招呼。\"\"\"
    return f"你好，{{name}}！"


print(greet("chatapp"))
```

若要與真實模型對話，請設定 `OPENAI_API_KEY`（或為 Ollama、vLLM、llama.cpp 等本機伺服器設定
`OPENAI_BASE_URL`），然後重新啟動 chatapp。
""",
    "ja": """\
### デモモデルからこんにちは

あなたのメッセージ：*{quote}*

この返信は chatapp の**オフラインのデモモデル**からのものです。

実際のモデルを設定する前に、ストリーミングの様子を確認できます。

返信には次のようなものを含められます：

- リスト、**太字**と*斜体*、`インラインコード`
- 表とハイライトされたコードブロック
- リンク（例：[OpenAI API のドキュメント](https://platform.openai.com/docs)）

| 設定 | 例 |
| --- | --- |
| `OPENAI_API_KEY` | OpenAI の `sk-...` |
| `OPENAI_BASE_URL` | Ollama の `http://127.0.0.1:11434/v1` |

```python
def greet(name: str) -> str:
    \"\"\"あいさつする。\"\"\"
    return f"こんにちは、{{name}}！"


print(greet("chatapp"))
```

実際のモデルと話すには、`OPENAI_API_KEY`（または Ollama、vLLM、llama.cpp などのローカルサーバーなら
`OPENAI_BASE_URL`）を設定して chatapp を再起動してください。
""",
}

THOUGHTS = {
    "zh_CN": "用户写道：“{quote}”。我是离线演示模型，无法真正回答。最有用的回复是展示 chatapp "
    "能显示的内容：格式化文字、表格和代码。我还应该说明如何连接真实模型。\n",
    "zh_TW": "使用者寫道：「{quote}」。我是離線示範模型，無法真正回答。最有用的回覆是展示 chatapp "
    "能顯示的內容：格式化文字、表格和程式碼。我也應該說明如何連接真實模型。\n",
    "ja": "ユーザーは「{quote}」と書いています。私はオフラインのデモモデルなので、本当の答えは"
    "できません。chatapp が表示できるもの（書式付きの文章、表、コード）を見せるのが一番役に立つ"
    "でしょう。実際のモデルの接続方法も伝えるべきです。\n",
}

TITLES = {"zh_CN": "演示对话", "zh_TW": "示範對話", "ja": "デモの会話"}


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
        language = i18n.speaking.get()
        thinking = THOUGHTS.get(language, THINKING).format(quote=quote.replace('"', "'"))
        for piece in _words(thinking):
            yield Reasoning(piece)
            await asyncio.sleep(self.pace)
        text = REPLIES.get(language, REPLY).format(quote=quote)
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
            return TITLES.get(i18n.speaking.get(), "Demo conversation")
        stream = self.stream(
            messages, model=model, temperature=temperature, reasoning_effort=reasoning_effort
        )
        return await join(stream)

    async def list_models(self) -> list[str]:
        return [self.model]

    async def close(self) -> None:
        """Nothing to close: the demo model holds no connection."""


# Two letters of Chinese, Japanese or Korean at a time (they have no spaces to cut at), as
# models send them; other text a word and the space after it.
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"
PIECES = re.compile(rf"[{_CJK}]{{1,2}}\s*|[^\s{_CJK}]*\s*")


def _words(text: str) -> list[str]:
    """The text in the pieces it streams in, so it streams at a reading pace."""
    return [piece for piece in PIECES.findall(text) if piece]
