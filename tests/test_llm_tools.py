"""Tool calls on the wire: streamed pieces put together, several at once, and a refusal."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from services.errors import ToolsUnsupported
from services.llm import Delta, Done, LLMClient, StreamEvent, ToolCalls
from services.tools.assemble import CallAssembler
from tests.fake_openai import Call, FakeOpenAI, Reply, tool_results

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The time in a time zone.",
            "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
        },
    }
]


@pytest.fixture
async def llm(fake: FakeOpenAI) -> AsyncIterator[LLMClient]:
    client = LLMClient(api_key="", base_url=fake.base_url, timeout=5)
    yield client
    await client.close()


async def collect(llm: LLMClient, messages: list[dict] | None = None) -> list[StreamEvent]:  # type: ignore[type-arg]
    stream = llm.stream(
        messages or [{"role": "user", "content": "What time is it?"}],
        model="fake-small",
        tools=TOOLS,
    )
    return [event async for event in stream]


async def test_parallel_calls_stream_in_pieces_and_come_whole(
    llm: LLMClient, fake: FakeOpenAI
) -> None:
    first = {"zone": "Europe/Paris", "note": "a longer argument, split in many pieces"}
    second = {"zone": "Asia/Tokyo"}
    fake.enqueue(
        Reply(
            "Let me look.",
            chunk_size=3,
            tool_calls=[Call("get_time", first, id="call_a"), Call("get_time", second, id="b")],
        )
    )
    events = await collect(llm)
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "Let me look."
    calls = next(e for e in events if isinstance(e, ToolCalls)).calls
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == [
        ("call_a", "get_time", first),
        ("b", "get_time", second),
    ]
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "tool_calls"
    assert fake.chats[-1].json["tools"] == TOOLS  # the request carried the tools


async def test_a_reply_can_answer_from_the_tool_results(llm: LLMClient, fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(answer=lambda body: f"It is {tool_results(body)[0]}."))
    messages = [
        {"role": "user", "content": "What time is it?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
    ]
    events = await collect(llm, messages)
    assert "".join(e.text for e in events if isinstance(e, Delta)) == "It is 12:00."
    assert not any(isinstance(e, ToolCalls) for e in events)


async def test_a_model_without_tools_is_a_clear_error(llm: LLMClient, fake: FakeOpenAI) -> None:
    fake.reject_tools = True
    with pytest.raises(ToolsUnsupported, match="cannot use tools"):
        await collect(llm)


def test_pieces_without_index_or_with_whole_objects_still_assemble() -> None:
    assembler = CallAssembler()
    assembler.feed([{"id": "x", "function": {"name": "a", "arguments": '{"k"'}}])
    assembler.feed([{"function": {"arguments": ": 1}"}}])
    assembler.feed([{"id": "y", "function": {"name": "b", "arguments": {"z": 2}}}])
    calls = assembler.calls()
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("x", "a", '{"k": 1}'),
        ("y", "b", '{"z": 2}'),
    ]


def test_a_malformed_tool_call_piece_is_refused() -> None:
    """The client's error guard turns this TypeError into ProviderMalformed."""
    with pytest.raises(TypeError):
        CallAssembler().feed("not a list")
    with pytest.raises(TypeError):
        CallAssembler().feed([{"index": 0, "function": "get_time"}])
