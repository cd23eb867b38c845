"""chatapp behind a real LiteLLM proxy (tests/litellm_proxy.py), in front of the fake model
server: what a thinking model, a tool-calling model and a failing one send arrives through
LiteLLM's re-encoding of the stream as it does straight from the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.app_server import AppServer, run_app
from tests.fake_openai import FakeOpenAI, Reply
from tests.litellm_proxy import MODEL, Proxy, litellm_proxy
from tests.test_api import ALICE, add_user, login, send
from tests.test_api_tools import calls_answered_over_the_api


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    with litellm_proxy(fake.base_url, tmp_path_factory.mktemp("litellm")) as running:
        yield running


@pytest.fixture(scope="module")
def app(proxy: Proxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    data_dir: Path = tmp_path_factory.mktemp("behind-litellm") / "data"
    add_user(data_dir, *ALICE)  # the owner: may add the local test MCP server
    env = {
        "OPENAI_BASE_URL": proxy.base_url,
        "OPENAI_API_KEY": proxy.key,
        "CHATAPP_DEFAULT_MODEL": MODEL,
        "CHATAPP_AUTO_TITLE": "false",
    }
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


@pytest.fixture
def alice(app: AppServer) -> Iterator[httpx.Client]:
    client = login(app, *ALICE)
    yield client
    client.close()


def test_models_are_listed_through_litellm(alice: httpx.Client) -> None:
    assert MODEL in alice.get("/models").json()["models"]


@pytest.mark.parametrize("shape", ["reasoning_content", "reasoning", "think"])
def test_thinking_arrives_apart_from_the_answer(
    alice: httpx.Client, fake: FakeOpenAI, shape: str
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(
        Reply(
            "The answer is 4.",
            reasoning="Two and two: four, checked twice.",
            reasoning_shape=shape,  # type: ignore[arg-type]
            chunk_size=5,
        ),
        Reply("Still 4."),
    )
    received = send(alice, topic["id"], "What is 2+2?")
    names = [name for name, _ in received]
    assert names[-1] == "done", received[-1]
    assert names.index("reasoning") < names.index("delta")
    reply = received[-1][1]
    assert reply["content"] == "The answer is 4."
    assert reply["reasoning"] == "Two and two: four, checked twice."
    assert "<think>" not in "".join(d.get("text", "") for n, d in received if n == "delta")
    # The next question's history carries the answer, never the thinking.
    send(alice, topic["id"], "Sure?")
    sent = fake.requests[-1].json["messages"]
    assert [m["content"] for m in sent if m["role"] == "assistant"] == ["The answer is 4."]
    assert "checked twice" not in str(sent)


def test_usage_is_counted_through_litellm(alice: httpx.Client, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply("Counted."))
    reply = send(alice, topic["id"], "Count me")[-1][1]
    assert reply["usage"] and reply["usage"]["completion_tokens"] > 0, reply


def test_a_tool_call_round_trip_through_litellm(
    alice: httpx.Client, app: AppServer, fake: FakeOpenAI
) -> None:
    answering = login(app, *ALICE)
    try:
        # The same round trip as straight to the server (tests/test_api_tools.py): the call
        # assembled from LiteLLM's re-chunked fragments, approved, run on a real MCP server,
        # its result sent back as a `tool` message and used in the answer.
        calls_answered_over_the_api(alice, answering, fake)
    finally:
        answering.close()


def test_a_stream_cut_mid_reply_keeps_what_came(alice: httpx.Client, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply("The first half arrives, the second never does.", fault="cut"))
    name, data = send(alice, topic["id"], "Tell me")[-1]
    assert name == "error", data
    saved = alice.get(f"/topics/{topic['id']}/messages").json()["messages"]
    assert saved[0]["content"] == "Tell me"
    assert saved[1]["status"] in {"error", "interrupted"}
    assert saved[1]["content"] and "The first half arrives".startswith(saved[1]["content"][:10])


def test_a_failing_server_is_a_clear_error_through_litellm(
    alice: httpx.Client, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(Reply(status=503))
    name, data = send(alice, topic["id"], "Anyone there?")[-1]
    assert name == "error" and "model server" in data["message"].lower(), data
    saved = alice.get(f"/topics/{topic['id']}/messages").json()["messages"]
    assert saved[0]["content"] == "Anyone there?" and saved[1]["status"] == "error"
