"""The Markdown export of a reply that called tools: each call a block under the reply, with
its tool, arguments as JSON, result (cut when long), and what happened when it did not run."""

from __future__ import annotations

from services.context import Services
from services.models import ToolCall, ToolCallStatus, User
from services.tools.export import RESULT_CHARS
from tests.fake_openai import FakeOpenAI
from tests.test_chat import collect


async def test_markdown_export_shows_the_calls_under_the_reply(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id, title="Tools")
    fake.enqueue("It is noon in Tokyo.")
    generation = await services.chat.send(alice.id, topic.id, "Time in Tokyo?")
    await collect(generation)
    long = "```\nnot a fence's end\n" + "x" * (RESULT_CHARS + 500)
    calls = [
        ToolCall(
            "c1",
            "time__now",
            '{"timezone":"Asia/Tokyo"}',
            server_name="time",
            tool="now",
            status=ToolCallStatus.DONE,
            result='{"time": "12:00"}',
            seconds=0.4,
            images=[{"mime": "image/png", "data": "iVBORw0KGgo="}],
        ),
        ToolCall("c2", "time__now", "{}", tool="now", status=ToolCallStatus.DONE, result=long),
        ToolCall(
            "c3",
            "files__rm",
            '{"path": "/"}',
            tool="rm",
            status=ToolCallStatus.DENIED,
            error="The user declined this call.",
        ),
        ToolCall(
            "c4",
            "slow__wait",
            "{}",
            tool="wait",
            status=ToolCallStatus.ERROR,
            error="The tool did not answer within 60 s.",
        ),
    ]
    await services.store.update_message(alice.id, generation.message.id, tool_calls=calls)
    text = await services.archive.topic_markdown(alice.id, topic.id)
    reply = text[text.index("It is noon in Tokyo.") :]  # the calls come under the reply
    assert "**Tool call: time · now** (0.4 s)" in reply
    assert 'Arguments:\n\n```json\n{\n  "timezone": "Asia/Tokyo"\n}\n```' in reply
    assert 'Result:\n\n```\n{"time": "12:00"}\n```' in reply
    assert "*The result held 1 image (kept in the JSON export, not here).*" in reply
    # a long result: in a fence its own backticks cannot close, cut with a note
    assert "Result:\n\n````\n```\nnot a fence's end\n" in reply
    assert "x" * (RESULT_CHARS + 1) not in reply
    assert f"*The result is cut here: {RESULT_CHARS:,} of its {len(long):,} characters" in reply
    assert "**Tool call: rm** (Denied)" in reply
    assert "*Denied: The user declined this call.*" in reply
    assert "**Tool call: wait** (Failed)" in reply
    assert "*Failed: The tool did not answer within 60 s.*" in reply
