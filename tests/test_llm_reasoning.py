"""Thinking models: reasoning apart from the answer, from every wire shape, on the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.demo import DemoLLM
from services.errors import (
    ProviderError,
    ProviderMalformed,
    ProviderUnavailable,
    ReasoningEffortUnsupported,
)
from services.llm import Delta, Done, LLMClient, Reasoning, StreamEvent
from services.models import Usage
from services.think import ThinkSplitter
from tests.fake_openai import FakeOpenAI, ReasoningShape, Reply

SHAPES: list[ReasoningShape] = ["reasoning_content", "reasoning", "think"]
THOUGHT = "The user greets me. A short, friendly answer fits."
ANSWER = "Hello! How can I help?"


@pytest.fixture
async def llm(fake: FakeOpenAI) -> AsyncIterator[LLMClient]:
    client = LLMClient(api_key="", base_url=fake.base_url, timeout=5)
    yield client
    await client.close()


async def collect(llm: LLMClient, reasoning_effort: str | None = None) -> list[StreamEvent]:
    stream = llm.stream(
        [{"role": "user", "content": "Hi"}], model="fake-small", reasoning_effort=reasoning_effort
    )
    return [event async for event in stream]


async def collect_until_error(llm: LLMClient) -> tuple[list[StreamEvent], Exception]:
    events: list[StreamEvent] = []
    with pytest.raises(ProviderError) as caught:
        async for event in llm.stream([{"role": "user", "content": "Hi"}], model="fake-small"):
            events.append(event)
    return events, caught.value


def texts(events: Sequence[StreamEvent]) -> tuple[str, str]:
    """(reasoning, answer) as a reader would see them."""
    thought = "".join(e.text for e in events if isinstance(e, Reasoning))
    answer = "".join(e.text for e in events if isinstance(e, Delta))
    return thought, answer


# ----- against the fake server ------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
async def test_each_wire_shape_streams_reasoning_before_the_answer(
    fake: FakeOpenAI, llm: LLMClient, shape: ReasoningShape
) -> None:
    fake.enqueue(Reply(ANSWER, chunk_size=5, reasoning=THOUGHT, reasoning_shape=shape))
    events = await collect(llm)
    assert texts(events) == (THOUGHT, ANSWER)
    kinds = [type(e) for e in events]
    assert kinds.count(Reasoning) > 1  # streamed, not held until the end
    assert kinds.index(Delta) > max(i for i, k in enumerate(kinds) if k is Reasoning)
    done = events[-1]
    assert isinstance(done, Done) and done.finish_reason == "stop"
    assert done.usage is not None and done.usage.reasoning_tokens == len(THOUGHT.split())


@pytest.mark.parametrize("chunk_size", [1, 2, 3])
async def test_think_tags_split_across_chunks(
    fake: FakeOpenAI, llm: LLMClient, chunk_size: int
) -> None:
    for tag in ("think", "thinking"):
        fake.enqueue(Reply(f"<{tag}>{THOUGHT}</{tag}>\n\n{ANSWER}", chunk_size=chunk_size))
        assert texts(await collect(llm)) == (THOUGHT, ANSWER)


async def test_an_unclosed_think_block_is_all_reasoning(fake: FakeOpenAI, llm: LLMClient) -> None:
    fake.enqueue(Reply("<think>Still weighing it up </thi", chunk_size=3))
    events = await collect(llm)
    assert texts(events) == ("Still weighing it up </thi", "")
    assert isinstance(events[-1], Done)


async def test_think_mentioned_later_in_an_answer_stays_answer_text(
    fake: FakeOpenAI, llm: LLMClient
) -> None:
    text = "Wrap it as <think>…</think>: the model then writes <think> first."
    fake.enqueue(Reply(text, chunk_size=2))
    assert texts(await collect(llm)) == ("", text)


async def test_whitespace_before_the_tag_and_after_it(fake: FakeOpenAI, llm: LLMClient) -> None:
    fake.enqueue(Reply(" \n\n<think>\nHmm.\n</think>\n\n\nYes.", chunk_size=2))
    assert texts(await collect(llm)) == ("Hmm.\n", "Yes.")


async def test_complete_returns_the_answer_only(fake: FakeOpenAI, llm: LLMClient) -> None:
    for shape in SHAPES:
        fake.enqueue(Reply(ANSWER, reasoning=THOUGHT, reasoning_shape=shape))
        assert await llm.complete([{"role": "user", "content": "Hi"}], model="m") == ANSWER


async def test_no_reasoning_reports_no_reasoning_tokens(fake: FakeOpenAI, llm: LLMClient) -> None:
    fake.enqueue(Reply(ANSWER))
    events = await collect(llm)
    assert texts(events) == ("", ANSWER)
    done = events[-1]
    assert isinstance(done, Done) and done.usage is not None
    assert done.usage.reasoning_tokens == 0


def test_usage_round_trips_reasoning_tokens_and_reads_old_records() -> None:
    usage = Usage(10, 30, 40, reasoning_tokens=20)
    assert usage.to_dict()["reasoning_tokens"] == 20
    assert Usage.from_dict(usage.to_dict()) == usage
    old = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert Usage.from_dict(old) == Usage(1, 2, 3, 0)


async def test_reasoning_effort_is_sent_only_when_set(fake: FakeOpenAI, llm: LLMClient) -> None:
    await collect(llm)
    await collect(llm, reasoning_effort="high")
    await llm.complete([{"role": "user", "content": "Hi"}], model="m", reasoning_effort="low")
    sent = [seen.json for seen in fake.chats]
    assert "reasoning_effort" not in sent[0]
    assert [body.get("reasoning_effort") for body in sent[1:]] == ["high", "low"]


async def test_a_server_that_rejects_reasoning_effort_gets_one_clear_error() -> None:
    with FakeOpenAI(reject_reasoning_effort=True) as strict:
        llm = LLMClient(api_key="", base_url=strict.base_url, timeout=5)
        try:
            with pytest.raises(ReasoningEffortUnsupported) as caught:
                await collect(llm, reasoning_effort="medium")
            assert "does not accept a reasoning effort" in caught.value.message
            assert "settings" in caught.value.message
            assert texts(await collect(llm)) == ("", "You said: Hi")  # without it, all is well
        finally:
            await llm.close()
    assert "reasoning_effort" in strict.chats[0].json


async def test_an_unrelated_bad_request_is_not_blamed_on_reasoning_effort(
    fake: FakeOpenAI, llm: LLMClient
) -> None:
    fake.enqueue(Reply(status=400))
    with pytest.raises(ProviderError) as caught:
        await collect(llm, reasoning_effort="low")
    assert not isinstance(caught.value, ReasoningEffortUnsupported)


@pytest.mark.parametrize("shape", SHAPES)
async def test_a_cut_while_thinking_keeps_the_reasoning_that_arrived(
    fake: FakeOpenAI, llm: LLMClient, shape: ReasoningShape
) -> None:
    thought = "one two three four five six seven eight nine ten"
    fake.enqueue(
        Reply(
            ANSWER,
            chunk_size=4,
            reasoning=thought,
            reasoning_shape=shape,
            fault="cut",
            fault_after=20,
        )
    )
    events, error = await collect_until_error(llm)
    assert isinstance(error, ProviderUnavailable)
    reasoning, answer = texts(events)
    assert answer == "" and reasoning and thought.startswith(reasoning)
    assert not any(isinstance(e, Done) for e in events)
    assert fake.chats[-1].sent_at  # the chunks before the cut did go out


async def test_a_malformed_chunk_while_thinking(fake: FakeOpenAI, llm: LLMClient) -> None:
    fake.enqueue(Reply(ANSWER, chunk_size=4, reasoning=THOUGHT, fault="malformed", fault_after=8))
    events, error = await collect_until_error(llm)
    assert isinstance(error, ProviderMalformed)
    assert texts(events) == (THOUGHT[:8], "")


async def test_a_stall_while_thinking_times_out(fake: FakeOpenAI) -> None:
    llm = LLMClient(api_key="", base_url=fake.base_url, timeout=0.5)
    fake.enqueue(Reply(ANSWER, reasoning=THOUGHT, fault="stall", fault_after=8, stall_seconds=3))
    try:
        events, error = await collect_until_error(llm)
    finally:
        await llm.close()
    assert isinstance(error, ProviderUnavailable) and "timed out" in error.message
    assert texts(events) == (THOUGHT[:8], "")


async def test_the_default_fault_point_is_unchanged_without_reasoning(
    fake: FakeOpenAI, llm: LLMClient
) -> None:
    fake.enqueue(Reply("abcdefghijklmnop", chunk_size=4, fault="cut"))
    events, error = await collect_until_error(llm)
    assert isinstance(error, ProviderUnavailable)
    assert texts(events) == ("", "abcdefgh")


async def test_the_demo_model_thinks_first() -> None:
    events = [
        e async for e in DemoLLM(pace=0).stream([{"role": "user", "content": "Hi"}], model="demo")
    ]
    reasoning, answer = texts(events)
    assert reasoning and answer
    assert [type(e) for e in events].index(Delta) > 0
    assert all(isinstance(e, Reasoning) for e in events[: [type(e) for e in events].index(Delta)])
    done = events[-1]
    assert isinstance(done, Done) and done.usage is not None and done.usage.reasoning_tokens > 0
    demo = DemoLLM(pace=0)
    assert await demo.complete([{"role": "user", "content": "Hi"}], model="demo") == answer


# ----- the splitter on its own ------------------------------------------------------------------


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    pieces = [piece for chunk in chunks for piece in splitter.feed(chunk)] + splitter.end()
    assert all(piece.text for piece in pieces)  # never an empty event
    return texts(pieces)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<think>a</think>b", ("a", "b")),
        ("<thinking>a</thinking>b", ("a", "b")),
        ("<think>\n\na\n</think>\n\n b ", ("a\n", "b ")),
        ("\t \n<think>a</think>b", ("a", "b")),
        ("<think>a</thinking>b</think>c", ("a</thinking>b", "c")),  # only its own closing tag
        ("<thinking>a</think>b", ("a</think>b", "")),
        ("<think>never closed", ("never closed", "")),
        ("<think>", ("", "")),
        ("<think></think>", ("", "")),
        ("<think></think>answer", ("", "answer")),
        ("answer <think>x</think>", ("", "answer <think>x</think>")),
        ("x<think>a</think>", ("", "x<think>a</think>")),
        ("<thin", ("", "<thin")),  # a reply that is only a partial tag loses nothing
        ("<thinker>", ("", "<thinker>")),
        ("<Think>a</Think>", ("", "<Think>a</Think>")),
        ("  ", ("", "  ")),
        ("", ("", "")),
        ("  plain answer", ("", "  plain answer")),
        ("<think>a < b and c </thi", ("a < b and c </thi", "")),
    ],
)
def test_splitter_examples(content: str, expected: tuple[str, str]) -> None:
    assert split([content]) == expected
    assert split(list(content)) == expected  # one character at a time


def test_splitter_holds_back_no_more_than_a_possible_tag() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed(" <th") == []  # could still be the opening tag
    assert splitter.feed("ink>I think") == [Reasoning("I think")]
    assert splitter.feed(" a < b </th") == [Reasoning(" a < b ")]
    assert splitter.feed("e end") == [Reasoning("</the end")]  # not the tag after all
    assert splitter.feed("</think>\n") == []
    assert splitter.feed("\nAnswer") == [Delta("Answer")]
    assert splitter.feed(" <think>") == [Delta(" <think>")]
    assert splitter.end() == []
    plain = ThinkSplitter()
    assert plain.feed("Sure") == [Delta("Sure")]  # no tag can start here: nothing held
    assert plain.feed("<think>") == [Delta("<think>")]


PARTS = ["<think>", "</think>", "<thinking>", "</thinking>", "<th", "ink>", "</", "<", ">"]
ATOMS = st.one_of(st.sampled_from(PARTS), st.sampled_from([" ", "\n", "a", "b", "t", "é"]))


def chunkings(text: str) -> st.SearchStrategy[list[str]]:
    cuts = st.lists(st.integers(0, len(text)), max_size=12).map(sorted)
    return cuts.map(lambda at: [text[i:j] for i, j in zip([0, *at], [*at, len(text)], strict=True)])


@st.composite
def text_and_chunks(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(ATOMS, max_size=20)))
    return text, draw(chunkings(text))


@given(text_and_chunks())
def test_any_chunking_splits_like_the_whole_text(case: tuple[str, list[str]]) -> None:
    text, chunks = case
    assert "".join(chunks) == text
    assert split(chunks) == split([text])


@given(text_and_chunks())
def test_nothing_is_lost_but_tags_and_the_whitespace_around_them(
    case: tuple[str, list[str]],
) -> None:
    text, chunks = case
    reasoning, answer = split(chunks)
    if not text.lstrip().startswith(("<think>", "<thinking>")):
        assert (reasoning, answer) == ("", text)
    else:
        assert len(reasoning) + len(answer) <= len(text)
        assert answer == "" or text.endswith(answer)
