"""The chat service on a real SQLite file and the fake OpenAI server: streams, stop, branches."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.chat import Finished, Generation, TextDelta
from services.context import Services
from services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StoreUnavailable,
    Throttled,
    TooLarge,
)
from services.models import Message, MessageStatus, Role, User
from services.store import open_store
from tests.fake_openai import FakeOpenAI, Reply


async def collect(generation: Generation) -> tuple[list[str], Finished]:
    deltas: list[str] = []
    async for event in generation.events():
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            return deltas, event
    raise AssertionError("the stream ended without Finished")


async def test_send_streams_in_steps_and_saves(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("Hello there, how are you today?", chunk_size=5, delay=0.02))
    topic = await services.topics.create_topic(alice.id)
    generation = await services.chat.send(alice.id, topic.id, "Hi!")
    deltas, finished = await collect(generation)
    assert len(deltas) > 3
    assert "".join(deltas) == "Hello there, how are you today?"
    assert finished.message.status == MessageStatus.COMPLETE
    messages = await services.store.list_messages(alice.id, topic.id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        (Role.USER, "Hi!", MessageStatus.COMPLETE),
        (Role.ASSISTANT, "Hello there, how are you today?", MessageStatus.COMPLETE),
    ]
    assert messages[1].usage is not None and messages[1].usage.completion_tokens > 0
    assert fake.chats[-1].json["messages"][-1] == {"role": "user", "content": "Hi!"}
    topic = await services.store.get_topic(alice.id, topic.id)
    assert topic.title == "Hi!" and topic.message_count == 2


async def test_system_prompt_and_history_reach_the_model(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    await services.topics.update_topic_settings(
        alice.id, topic.id, system_prompt="Be brief.", temperature=0.2, model="m1"
    )
    fake.enqueue("first answer")
    await collect(await services.chat.send(alice.id, topic.id, "one"))
    fake.enqueue("second answer")
    await collect(await services.chat.send(alice.id, topic.id, "two"))
    body = fake.chats[-1].json
    assert body["model"] == "m1" and body["temperature"] == 0.2
    assert [m["content"] for m in body["messages"]] == [
        "Be brief.",
        "one",
        "first answer",
        "two",
    ]


async def test_a_long_history_is_read_only_as_far_as_the_budget(
    services: Services, alice: User, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt keeps the newest messages that fit the history budget, and the branch above
    them is not even read: a send in a long topic does not load all of it first."""
    monkeypatch.setattr(
        services.chat, "options", replace(services.chat.options, history_budget_chars=30)
    )
    topic = await services.topics.create_topic(alice.id)
    for n in range(4):
        fake.enqueue(f"answer {n}")
        await collect(await services.chat.send(alice.id, topic.id, f"question {n}"))
    read: list[list[str]] = []
    path_to = services.store.path_to

    async def recorded(*args: Any, **kwargs: Any) -> list[Message]:
        path = await path_to(*args, **kwargs)
        read.append([m.content for m in path])
        return path

    monkeypatch.setattr(services.store, "path_to", recorded)
    fake.enqueue("answer 4")
    await collect(await services.chat.send(alice.id, topic.id, "question 4"))
    sent = [m["content"] for m in fake.chats[-1].json["messages"]]
    assert sent == ["question 3", "answer 3", "question 4"]  # 30 characters hold no more
    # Read: those two, "answer 2" (26 characters from the leaf) and "question 2", the one
    # that passes 30; not all eight.
    assert read == [["question 2", "answer 2", "question 3", "answer 3"]]


async def test_a_listener_after_the_end_gets_the_same_end(
    services: Services, alice: User, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listener that comes after a reply ended (the API's stream subscribes once the send
    has returned, and a fast reply can be over by then) gets the text and the very
    `Finished` the others got, its `unsaved` included."""

    async def refuse(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("The database could not be written: disk is full.")

    topic = await services.topics.create_topic(alice.id)
    fake.enqueue("An answer.")
    sent = await services.chat.send(alice.id, topic.id, "A question")
    monkeypatch.setattr(services.store, "update_message", refuse)  # the reply's last save
    deltas, finished = await collect(sent)
    assert finished.unsaved and "disk is full" in finished.unsaved
    late_deltas, late = await collect(sent)
    assert late is finished and "".join(late_deltas) == "".join(deltas) == "An answer."


async def test_late_listener_gets_text_so_far(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("abcdefghijklmnopqrstuvwxyz", chunk_size=2, delay=0.02))
    topic = await services.topics.create_topic(alice.id)
    generation = await services.chat.send(alice.id, topic.id, "letters")
    first = generation.events()
    assert isinstance(await anext(first), TextDelta)
    await first.aclose()
    while len(generation.text) < 6:
        await asyncio.sleep(0.01)
    deltas, _ = await collect(generation)  # a second tab opening the topic now
    assert "".join(deltas) == "abcdefghijklmnopqrstuvwxyz"
    assert len(deltas[0]) >= 6  # the catch-up arrives as one piece


async def test_stop_keeps_partial_text_and_closes_the_provider_stream(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("word " * 400, chunk_size=5, delay=0.01))
    topic = await services.topics.create_topic(alice.id)
    generation = await services.chat.send(alice.id, topic.id, "talk a lot")
    while len(generation.text) < 20:
        await asyncio.sleep(0.01)
    stopped = await services.chat.stop(alice.id, topic.id)
    assert stopped is not None and stopped.status == MessageStatus.STOPPED
    saved = await services.store.get_message(alice.id, stopped.id)
    assert saved.status == MessageStatus.STOPPED
    assert 20 <= len(saved.content) < len("word " * 400)
    for _ in range(200):
        if fake.disconnects:
            break
        await asyncio.sleep(0.01)
    assert fake.disconnects, "the fake server never saw the stream closed"
    assert services.chat.generation(topic.id) is None


async def test_a_window_of_the_conversation_is_its_end_with_the_same_branches(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    for n in range(3):
        fake.enqueue(f"answer {n}")
        await collect(await services.chat.send(alice.id, topic.id, f"question {n}"))
    whole = await services.chat.conversation(alice.id, topic.id)
    fake.enqueue("answer 1, again")
    await collect(await services.chat.regenerate(alice.id, whole[3].message.id))
    await services.chat.select_branch(alice.id, whole[3].message.id)  # back to the first one
    whole = await services.chat.conversation(alice.id, topic.id)

    latest = await services.chat.conversation(alice.id, topic.id, limit=3)
    assert [t.message.content for t in latest] == ["answer 1", "question 2", "answer 2"]
    assert latest == whole[-3:]  # the same turns, with the same ‹ 1/2 › siblings
    assert len(latest[0].sibling_ids) == 2
    above = await services.chat.conversation(
        alice.id, topic.id, limit=2, before=latest[0].message.id
    )
    assert above == whole[1:3]
    first = await services.chat.conversation(
        alice.id, topic.id, limit=5, before=above[0].message.id
    )
    assert first == whole[:1] and first[0].message.parent_id is None  # nothing above it
    other = await services.topics.create_topic(alice.id)
    with pytest.raises(NotFound):  # a message of another topic is not a place in this one
        await services.chat.conversation(alice.id, other.id, before=latest[0].message.id)


async def test_regenerate_and_edit_make_sibling_branches(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    fake.enqueue("answer one")
    _, first = await collect(await services.chat.send(alice.id, topic.id, "question"))
    fake.enqueue("answer two")
    _, second = await collect(await services.chat.regenerate(alice.id, first.message.id))
    turns = await services.chat.conversation(alice.id, topic.id)
    assert [t.message.content for t in turns] == ["question", "answer two"]
    assert turns[1].sibling_ids == [first.message.id, second.message.id]

    await services.chat.select_branch(alice.id, first.message.id)
    turns = await services.chat.conversation(alice.id, topic.id)
    assert [t.message.content for t in turns] == ["question", "answer one"]

    fake.enqueue("answer to the edit")
    await collect(await services.chat.edit(alice.id, turns[0].message.id, "better question"))
    turns = await services.chat.conversation(alice.id, topic.id)
    assert [t.message.content for t in turns] == ["better question", "answer to the edit"]
    assert len(turns[0].sibling_ids) == 2
    assert len(await services.store.list_messages(alice.id, topic.id)) == 5  # nothing lost
    # the topic counts the branch it shows; lists hear of a version chosen, to count again
    assert (await services.store.get_topic(alice.id, topic.id)).message_count == 2
    heard: list[str] = []
    services.chat.watch_topics(alice.id, heard.append)
    await services.chat.select_branch(alice.id, first.message.id)
    assert heard == [topic.id]


async def test_a_reply_carries_the_question_just_asked_with_it(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    """Pages draw a new question and its reply from the generation, without a store read."""
    topic = await services.topics.create_topic(alice.id)
    fake.enqueue("answer one")
    sent = await services.chat.send(alice.id, topic.id, "question")
    await collect(sent)
    saved = await services.store.list_messages(alice.id, topic.id)
    assert sent.question is not None
    assert (sent.question.id, sent.question.content) == (saved[0].id, "question")
    assert sent.message.parent_id == sent.question.id and sent.question_files == []

    fake.enqueue("answer two")
    again = await services.chat.regenerate(alice.id, sent.message.id)
    await collect(again)
    assert again.question is None  # its question was asked before: pages have it drawn

    fake.enqueue("answer to the edit")
    edited = await services.chat.edit(alice.id, sent.question.id, "better question")
    await collect(edited)
    assert edited.question is not None and edited.question.content == "better question"
    assert edited.question.parent_id is None and edited.message.parent_id == edited.question.id


async def test_a_question_the_database_refuses_takes_its_model_request_back(
    services: Services, alice: User, fake: FakeOpenAI, data_dir: Path
) -> None:
    """The model request leaves before the question is written (the rows are written while
    it travels). When writing fails, the request is closed, nothing is kept, the error is
    raised as before, and the topic is free for the next message."""
    topic = await services.topics.create_topic(alice.id)
    fake.enqueue(Reply("never shown", fault="stall", stall_seconds=30))
    other = sqlite3.connect(data_dir / "chatapp.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the wait
    try:
        with pytest.raises(StoreUnavailable):
            await services.chat.send(alice.id, topic.id, "Hello?")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert fake.chats and fake.chats[-1].json["messages"][-1]["content"] == "Hello?"
    for _ in range(200):
        if fake.disconnects:
            break
        await asyncio.sleep(0.01)
    assert fake.disconnects == [fake.chats[-1]], "the model request was left open"
    assert services.chat.generations == {} and services.chat.generation(topic.id) is None
    assert await services.store.list_messages(alice.id, topic.id) == []

    fake.enqueue("Here now.")
    _, finished = await collect(await services.chat.send(alice.id, topic.id, "Hello?"))
    assert finished.message.status == MessageStatus.COMPLETE
    saved = await services.store.list_messages(alice.id, topic.id)
    assert [m.content for m in saved] == ["Hello?", "Here now."]


async def test_a_title_the_database_refuses_takes_nothing_back(
    services: Services, alice: User, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first question names its topic after the exchange is written: if only that write
    fails, the question and its reply stand, and the topic keeps its old title."""

    async def refuse(*args: object) -> None:
        raise StoreUnavailable("The database could not be written: disk is full.")

    topic = await services.topics.create_topic(alice.id)
    monkeypatch.setattr(services.store, "rename_topic", refuse)
    fake.enqueue("An answer.")
    _, finished = await collect(await services.chat.send(alice.id, topic.id, "A question"))
    assert finished.message.status == MessageStatus.COMPLETE
    saved = await services.store.list_messages(alice.id, topic.id)
    assert [(m.content, m.status) for m in saved] == [
        ("A question", MessageStatus.COMPLETE),
        ("An answer.", MessageStatus.COMPLETE),
    ]
    assert (await services.store.get_topic(alice.id, topic.id)).title == "New chat"


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (Reply("x", status=429, retry_after=7), "rate"),
        (Reply("x", status=500), "unavailable"),
        (Reply("partial text that is cut off", chunk_size=4, fault="cut"), ""),
        (Reply("partial text then garbage", chunk_size=4, fault="malformed"), ""),
        (Reply("", fault="empty"), "empty"),
    ],
)
async def test_provider_failures_keep_the_message_and_partial_reply(
    services: Services, alice: User, fake: FakeOpenAI, reply: Reply, words: str
) -> None:
    fake.enqueue(reply)
    topic = await services.topics.create_topic(alice.id)
    _, finished = await collect(await services.chat.send(alice.id, topic.id, "please"))
    assert finished.message.status == MessageStatus.ERROR
    assert finished.message.error and words in finished.message.error.lower()
    messages = await services.store.list_messages(alice.id, topic.id)
    assert messages[0].content == "please"
    assert messages[1].status == MessageStatus.ERROR
    assert messages[1].content == finished.message.content  # partial text, if any, is kept
    fake.enqueue("it works now")
    _, retried = await collect(await services.chat.regenerate(alice.id, messages[1].id))
    assert retried.message.status == MessageStatus.COMPLETE


async def test_bad_input_and_other_users(services: Services, alice: User) -> None:
    bob = await services.auth.register(email="bob@example.com", password="another pass")
    topic = await services.topics.create_topic(alice.id)
    with pytest.raises(InvalidInput):
        await services.chat.send(alice.id, topic.id, "   ")
    with pytest.raises(TooLarge):
        await services.chat.send(alice.id, topic.id, "x" * (services.options.max_message_chars + 1))
    with pytest.raises(NotFound):
        await services.chat.send(bob.id, topic.id, "hello")
    with pytest.raises(NotFound):
        await services.chat.conversation(bob.id, topic.id)
    assert await services.store.list_messages(alice.id, topic.id) == []


async def test_one_reply_at_a_time_per_topic_and_a_rate_limit(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply("slow " * 50, chunk_size=5, delay=0.02))
    topic = await services.topics.create_topic(alice.id)
    generation = await services.chat.send(alice.id, topic.id, "first")
    with pytest.raises(Conflict):
        await services.chat.send(alice.id, topic.id, "second")
    await services.chat.stop(alice.id, topic.id)
    await collect(generation)
    limit = services.options.replies_per_minute
    for _ in range(limit - 1):
        other = await services.topics.create_topic(alice.id)
        await collect(await services.chat.send(alice.id, other.id, "hi"))
    with pytest.raises(Throttled) as caught:
        await services.chat.send(alice.id, topic.id, "one too many")
    assert caught.value.retry_after and caught.value.retry_after > 0


async def test_reply_is_saved_while_it_grows_and_interrupted_on_restart(
    services: Services, alice: User, fake: FakeOpenAI, data_dir: Path
) -> None:
    services.chat.replies.save_interval = 0.05
    fake.enqueue(Reply("chunk " * 200, chunk_size=6, delay=0.01))
    topic = await services.topics.create_topic(alice.id)
    generation = await services.chat.send(alice.id, topic.id, "go")
    while len(generation.text) < 120:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    saved = await services.store.get_message(alice.id, generation.message.id)
    assert saved.status == MessageStatus.STREAMING and len(saved.content) >= 60
    # A second process opening the same file while this one still streams sees it as a crash.
    other = await open_store(f"sqlite:///{data_dir / 'chatapp.db'}")
    try:
        assert await other.mark_streaming_interrupted() == 1
        left = await other.get_message(alice.id, generation.message.id)
        assert left.status == MessageStatus.INTERRUPTED and left.content
    finally:
        await other.close()
    await services.chat.stop(alice.id, topic.id)


async def test_usage_is_recorded_per_reply_and_outlives_the_topic(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    await collect(await services.chat.send(alice.id, topic.id, "one two three"))
    await collect(await services.chat.send(alice.id, topic.id, "four"))
    (row,) = await services.topics.usage(alice.id)
    assert row.replies == 2 and row.model == "gpt-4o-mini"
    saved = [m.usage for m in await services.store.list_messages(alice.id, topic.id) if m.usage]
    assert row.prompt_tokens == sum(u.prompt_tokens for u in saved) > 0
    assert row.completion_tokens == sum(u.completion_tokens for u in saved) > 0
    await services.topics.delete_topic(alice.id, topic.id)
    assert await services.topics.usage(alice.id) == [row]


async def test_continue_carries_on_an_unfinished_reply_in_place(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    fake.enqueue(Reply("The first part, cut", chunk_size=4, fault="cut"))
    _, failed = await collect(await services.chat.send(alice.id, topic.id, "tell me"))
    assert failed.message.status == MessageStatus.ERROR and failed.message.content
    partial = failed.message.content
    fake.enqueue(" and the rest.")
    generation = await services.chat.continue_reply(alice.id, failed.message.id)
    deltas, done = await collect(generation)
    assert deltas[0] == partial  # a follower first gets the text so far
    assert done.message.status == MessageStatus.COMPLETE
    assert done.message.content == partial + " and the rest."
    sent = fake.chats[-1].json["messages"]
    assert sent[-2] == {"role": "assistant", "content": partial}
    assert "Continue" in sent[-1]["content"]
    messages = await services.store.list_messages(alice.id, topic.id)
    assert len(messages) == 2 and messages[1].content == partial + " and the rest."
    assert not messages[1].error
    with pytest.raises(InvalidInput):  # a complete reply has nothing to continue
        await services.chat.continue_reply(alice.id, failed.message.id)
    with pytest.raises(InvalidInput):
        await services.chat.continue_reply(alice.id, messages[0].id)


async def test_long_titles_deleting_mid_reply_and_shutdown(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    with pytest.raises(TooLarge, match="title is too long"):
        await services.topics.rename_topic(alice.id, topic.id, "x" * 201)
    fake.enqueue(Reply("tick " * 400, chunk_size=5, delay=0.01))
    generation = await services.chat.send(alice.id, topic.id, "go on")
    while not generation.text:
        await asyncio.sleep(0.01)
    await services.topics.delete_topic(alice.id, topic.id)  # while the reply streams
    assert services.chat.generation(topic.id) is None
    with pytest.raises(NotFound):
        await services.store.list_messages(alice.id, topic.id)

    other = await services.topics.create_topic(alice.id)
    fake.enqueue(Reply("tock " * 400, chunk_size=5, delay=0.01))
    running = await services.chat.send(alice.id, other.id, "and this")
    while not running.text:
        await asyncio.sleep(0.01)
    await services.chat.close()  # a clean shutdown saves what arrived, as interrupted
    saved = await services.store.get_message(alice.id, running.message.id)
    assert saved.status == MessageStatus.INTERRUPTED and saved.content.startswith("tock")
