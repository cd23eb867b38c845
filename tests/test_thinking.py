"""Thinking models through the real app and the fake model server: every wire shape gives
reasoning apart from the answer, saved as it grows, kept on stop, errors and a crash, and
never sent back to the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app_server import AppServer, run_app
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_api import ALICE, add_user, events, login, send

THOUGHT = "First, the user asks about *primes*. 2, 3, 5 and 7 are below 10. 我想一想。"
ANSWER = "There are **four** primes below 10: 2, 3, 5 and 7."


@pytest.fixture
def thinking_app(fake: FakeOpenAI, tmp_path: Path) -> Iterator[AppServer]:
    data_dir = tmp_path / "data"
    add_user(data_dir, *ALICE)
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_AUTO_TITLE": "false"}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


@pytest.fixture
def alice(thinking_app: AppServer) -> Iterator[httpx.Client]:
    client = login(thinking_app, *ALICE)
    yield client
    client.close()


def last_reply(client: httpx.Client, topic_id: str) -> dict:  # type: ignore[type-arg]
    return client.get(f"/topics/{topic_id}/messages").json()["messages"][-1]  # type: ignore[no-any-return]


@pytest.mark.parametrize("shape", ["reasoning_content", "reasoning", "think"])
def test_each_wire_shape_streams_reasoning_apart_from_the_answer(
    alice: httpx.Client, fake: FakeOpenAI, shape: str
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(ANSWER, reasoning=THOUGHT, reasoning_shape=shape, chunk_size=3))
    received = send(alice, topic["id"], "How many primes are below 10?")
    names = [name for name, _ in received]
    assert names[0] == "start" and names[-1] == "done"
    assert names.index("reasoning") < names.index("delta")  # thinking first, then the answer
    assert "".join(d["text"] for n, d in received if n == "reasoning").strip() == THOUGHT
    assert "".join(d["text"] for n, d in received if n == "delta") == ANSWER
    done = received[-1][1]
    assert (done["content"], done["reasoning"].strip()) == (ANSWER, THOUGHT)
    assert done["reasoning_seconds"] is not None
    saved = last_reply(alice, topic["id"])
    assert (saved["content"], saved["reasoning"].strip(), saved["status"]) == (
        ANSWER,
        THOUGHT,
        "complete",
    )
    # The next question's history carries the answer, never the reasoning.
    fake.enqueue(Reply("Yes."))
    send(alice, topic["id"], "Sure?")
    sent = fake.chats[-1].json["messages"]
    assert {"role": "assistant", "content": ANSWER} in sent
    assert not any("primes*" in str(message["content"]) for message in sent)
    assert "<think>" not in str(sent)


def test_stop_while_thinking_keeps_the_reasoning(alice: httpx.Client, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(ANSWER, reasoning="hmm " * 500, chunk_size=4, delay=0.02))
    with alice.stream("POST", f"/topics/{topic['id']}/messages", json={"content": "go"}) as r:
        stream = events(r)
        assert next(stream)[0] == "start"
        assert next(stream)[0] == "reasoning"
        stopped = alice.post(f"/topics/{topic['id']}/stop").json()
        assert stopped["status"] == "stopped"
        assert list(stream)[-1][0] == "done"
    saved = last_reply(alice, topic["id"])
    assert saved["status"] == "stopped" and saved["content"] == ""
    assert saved["reasoning"].startswith("hmm") and len(saved["reasoning"]) < len("hmm " * 500)
    assert saved["reasoning_seconds"] is not None
    assert fake.disconnects


def test_a_provider_error_while_thinking_keeps_the_reasoning(
    alice: httpx.Client, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(ANSWER, reasoning=THOUGHT * 4, chunk_size=5, fault="cut", fault_after=60))
    received = send(alice, topic["id"], "think and fail")
    assert received[-1][0] == "error"
    saved = last_reply(alice, topic["id"])
    assert saved["status"] == "error" and saved["content"] == ""
    assert saved["reasoning"] and (THOUGHT * 4).startswith(saved["reasoning"])


def test_kill_while_thinking_keeps_what_was_saved(
    alice: httpx.Client, thinking_app: AppServer, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(ANSWER, reasoning="thinking " * 2000, chunk_size=9, delay=0.01))
    with alice.stream("POST", f"/topics/{topic['id']}/messages", json={"content": "go"}) as r:
        thought = ""
        for name, data in events(r):
            if name == "reasoning":
                thought += data["text"]
            if len(thought) > 2_500:  # about 3 s of thinking: past a few progress saves
                break
    thinking_app.kill()  # no shutdown handler runs: only what was saved survives
    thinking_app.start()
    client = login(thinking_app, *ALICE)
    saved = last_reply(client, topic["id"])
    client.close()
    assert saved["status"] == "interrupted" and saved["content"] == ""
    assert len(saved["reasoning"]) > 1_000 and ("thinking " * 2000).startswith(saved["reasoning"])


def test_reasoning_effort_is_sent_only_when_chosen_and_a_refusal_says_how_to_undo_it(
    alice: httpx.Client, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply("plain"))
    send(alice, topic["id"], "one")
    assert "reasoning_effort" not in fake.chats[-1].json  # the default: not sent
    patched = alice.patch(f"/topics/{topic['id']}", json={"reasoning_effort": "high"})
    assert patched.status_code == 200 and patched.json()["settings"]["reasoning_effort"] == "high"
    fake.enqueue(Reply("thought hard", reasoning="hard"))
    send(alice, topic["id"], "two")
    assert fake.chats[-1].json["reasoning_effort"] == "high"

    fake.reject_reasoning_effort = True
    try:
        received = send(alice, topic["id"], "three")
    finally:
        fake.reject_reasoning_effort = False
    name, data = received[-1]
    assert name == "error" and "reasoning effort" in data["message"].lower()
    assert alice.patch(f"/topics/{topic['id']}", json={"reasoning_effort": ""}).status_code == 200
    fake.enqueue(Reply("fine again"))
    assert send(alice, topic["id"], "four")[-1][0] == "done"
    assert "reasoning_effort" not in fake.chats[-1].json
    bad = alice.patch(f"/topics/{topic['id']}", json={"reasoning_effort": "extreme"})
    assert bad.status_code == 422


def test_usage_counts_reasoning_tokens(alice: httpx.Client, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(ANSWER, reasoning=THOUGHT))
    done = send(alice, topic["id"], "count")[-1][1]
    assert done["usage"]["reasoning_tokens"] > 0


def test_export_and_import_keep_the_reasoning(alice: httpx.Client, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={"title": "exported"}).json()
    fake.enqueue(Reply(ANSWER, reasoning=THOUGHT))
    send(alice, topic["id"], "Primes?")
    markdown = alice.get(f"/topics/{topic['id']}/export", params={"format": "markdown"}).text
    assert "<details><summary>Thought" in markdown and ANSWER in markdown
    exported = alice.get(f"/topics/{topic['id']}/export").json()
    assert exported["topic"]["messages"][-1]["reasoning"].strip() == THOUGHT
    imported = alice.post("/import", json=exported)
    assert imported.status_code == 201, imported.text
    (copy,) = imported.json()
    saved = last_reply(alice, copy["id"])
    assert (saved["content"], saved["reasoning"].strip()) == (ANSWER, THOUGHT)
