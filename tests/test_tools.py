"""Tools through the services: real MCP servers as child processes (and over HTTP), the fake
model calling them, the user allowing or denying, and every way a call can go wrong."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from chatapp.app import build_services, stop_services
from chatapp.settings import load_settings
from services.context import Services
from services.errors import NotFound, PermissionDenied
from services.generation import Generation, ToolCallUpdate
from services.models import MessageStatus, ToolCall, ToolCallStatus, User
from services.tools.answers import answer_of
from services.tools.runner import CANCELLED, DECLINED
from services.tools.service import MASK
from tests import mcp_servers
from tests.fake_openai import Call, FakeOpenAI, Reply, tool_results
from tests.files import png


@pytest.fixture
async def services(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Services]:
    """As conftest's, with a short tool timeout for the test that waits it out."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("CHATAPP_LLM_TIMEOUT", "30")
    monkeypatch.setenv("CHATAPP_AUTO_TITLE", "false")
    monkeypatch.setenv("CHATAPP_TOOL_TIMEOUT", "2")
    built = await build_services(load_settings())
    yield built
    await stop_services(built)


@pytest.fixture
async def owner(services: Services) -> User:
    return await services.auth.register(
        email="owner@example.com", password="correct horse", is_owner=True
    )


@pytest.fixture
async def bob(services: Services) -> User:
    return await services.auth.register(email="bob@example.com", password="correct horse")


async def until(check: Callable[[], Any]) -> Any:
    """Wait for a state (a guard against a hang, not a measure of time)."""
    async with asyncio.timeout(60):
        while not (found := check()):
            await asyncio.sleep(0.01)
    return found


async def topic_with(
    services: Services, user: User, server: dict[str, Any], *, approval: str = "ask"
) -> tuple[str, str]:
    added = await services.tools.add_server(user, name="srv", **server)
    for tool in await services.tools.list_tools(user, added.id):
        await services.tools.set_tool(user, added.id, tool.name, approval=approval)
    topic = await services.topics.create_topic(user.id)
    await services.tools.set_topic_tools(user, topic.id, [added.id])
    return topic.id, added.id


async def ask(services: Services, user: User, topic_id: str) -> Generation:
    return await services.chat.send(user.id, topic_id, "Please use the tool.")


async def saved_reply(services: Services, user: User, generation: Generation) -> Any:
    await generation.finished.wait()
    return await services.store.get_message(user.id, generation.message.id)


def calls_in(generation: Generation, status: ToolCallStatus) -> list[ToolCall]:
    return [call for call in generation.tool_calls if call.status == status]


def answer_with_result(body: dict[str, Any]) -> str:
    return "The tool said: " + " | ".join(tool_results(body))


async def round_trip(
    services: Services, fake: FakeOpenAI, owner: User, server: dict[str, Any], call: Call
) -> Any:
    topic_id, _ = await topic_with(services, owner, server, approval="always")
    fake.enqueue(Reply("Checking.", tool_calls=[call]), Reply(answer=answer_with_result))
    generation = await ask(services, owner, topic_id)
    reply = await saved_reply(services, owner, generation)
    assert reply.status == MessageStatus.COMPLETE, reply.error
    (done,) = reply.tool_calls
    assert done.status == ToolCallStatus.DONE and done.result
    assert (done.offset, done.round, done.server_name) == (len("Checking."), 0, "srv")
    # the next request carried the call and its result, and the answer used it
    sent = fake.chats[-1].json
    assert sent["messages"][-2]["tool_calls"][0]["id"] == done.id
    assert sent["messages"][-1] == {"role": "tool", "tool_call_id": done.id, "content": done.result}
    assert reply.content == f"Checking.\n\nThe tool said: {done.result}"
    assert [t["function"]["name"] for t in fake.chats[0].json["tools"]]
    return reply


# ----- real third-party servers --------------------------------------------------------------


async def test_time_server_over_stdio(services: Services, fake: FakeOpenAI, owner: User) -> None:
    server = mcp_servers.time_server()
    added = await services.tools.add_server(owner, name="time", **server)
    names = {tool.name for tool in await services.tools.test_server(owner, added.id)}
    assert {"get_current_time", "convert_time"} <= names
    call = Call("get_current_time", {"timezone": "Asia/Tokyo"})
    reply = await round_trip(services, fake, owner, server, call)
    assert json.loads(reply.tool_calls[0].result)["timezone"] == "Asia/Tokyo"


async def test_server_everything_over_stdio(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    server = mcp_servers.everything_stdio()
    added = await services.tools.add_server(owner, name="everything", **server)
    names = {tool.name for tool in await services.tools.list_tools(owner, added.id)}
    assert {"echo", "get-sum"} <= names
    reply = await round_trip(services, fake, owner, server, Call("get-sum", {"a": 19, "b": 23}))
    assert "42" in reply.tool_calls[0].result and "42" in reply.content


async def test_an_image_result_is_kept_for_the_page_and_named_to_the_model(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    server = mcp_servers.everything_stdio()
    reply = await round_trip(services, fake, owner, server, Call("get-tiny-image", {}))
    (call,) = reply.tool_calls
    assert "[image image/png]" in call.result and "MCP logo" in call.result
    (image,) = call.images
    assert image["mime"] == "image/png"
    assert base64.b64decode(image["data"]).startswith(b"\x89PNG")
    assert image["data"] not in json.dumps(fake.chats[-1].json)  # the model got the text only
    # saved with the call, and kept by an export and its import
    topic_id = reply.topic_id
    exported = await services.archive.topic_json(owner.id, topic_id)
    (imported,) = (
        await services.archive.import_file(owner.id, json.dumps(exported).encode())
    ).topics
    copy = (await services.store.list_messages(owner.id, imported.id))[-1]
    assert copy.tool_calls[0].images == [image]


def test_images_over_the_limits_are_named_with_a_note() -> None:
    def image(mime: str, data: bytes) -> Any:
        return SimpleNamespace(type="image", mime_type=mime, data=base64.b64encode(data).decode())

    content = [
        image("image/svg+xml", b"<svg/>"),
        image("image/jpeg", b"\xff\xd8\xff" + b"x" * 1_000_000),
        SimpleNamespace(type="image", mime_type="image/gif", data="not base64!"),
        image("image/png", b"<svg onload=alert(1)/>"),  # labelled PNG, but it is not one
    ] + [image("image/png", png())] * 5
    answer = answer_of(SimpleNamespace(content=content, structured_content=None))
    assert [image["mime"] for image in answer.images] == ["image/png"] * 4
    lines = answer.text.splitlines()
    assert "not a PNG, JPEG, WebP or GIF" in lines[0]
    assert "over 1 MB" in lines[1]
    assert "not base64" in lines[2]
    assert "its data is not image/png" in lines[3]
    assert lines[4:8] == ["[image image/png]"] * 4
    assert "only 4 images" in lines[8]


async def test_server_everything_over_streamable_http(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    with mcp_servers.everything_http() as url:
        server = {"transport": "http", "url": url, "headers": {"X-Test": "secret"}}
        added = await services.tools.add_server(owner, name="everything", **server)
        assert added.headers == {"X-Test": MASK}
        names = {tool.name for tool in await services.tools.test_server(owner, added.id)}
        assert {"echo", "get-sum"} <= names
        call = Call("echo", {"message": "hello over http"})
        reply = await round_trip(services, fake, owner, server, call)
        assert "hello over http" in reply.tool_calls[0].result


# ----- approval ------------------------------------------------------------------------------


@pytest.mark.parametrize("allow", [True, False])
async def test_a_call_waits_for_the_user(
    services: Services, fake: FakeOpenAI, owner: User, allow: bool
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server())
    fake.enqueue(
        Reply(tool_calls=[Call("shout", {"text": "hi"}, id="c1")]),
        Reply(answer=answer_with_result),
    )
    generation = await ask(services, owner, topic_id)

    async def stored_reply() -> Any:
        return await services.store.get_message(owner.id, generation.message.id)

    (pending,) = await until(lambda: calls_in(generation, ToolCallStatus.PENDING))
    assert len(fake.chats) == 1  # nothing runs, nothing is sent, until the user answers

    async with asyncio.timeout(60):  # saved as it is, just after it is announced
        while [c.status for c in (await stored_reply()).tool_calls] != [ToolCallStatus.PENDING]:
            await asyncio.sleep(0.01)
    with pytest.raises(NotFound):
        await services.tools.answer_tool_call(owner, topic_id, "no-such-call", True)
    await services.tools.answer_tool_call(owner, topic_id, pending.id, allow)
    reply = await saved_reply(services, owner, generation)
    (call,) = reply.tool_calls
    if allow:
        assert (call.status, call.result, reply.content) == (
            ToolCallStatus.DONE,
            "HI",
            "The tool said: HI",
        )
    else:
        assert (call.status, call.error) == (ToolCallStatus.DENIED, DECLINED)
        assert fake.chats[-1].json["messages"][-1]["content"] == DECLINED
        assert reply.content == f"The tool said: {DECLINED}"


async def test_another_user_cannot_answer_or_see_the_call(
    services: Services, fake: FakeOpenAI, owner: User, bob: User
) -> None:
    topic_id, server_id = await topic_with(services, owner, mcp_servers.test_server())
    fake.enqueue(Reply(tool_calls=[Call("shout", {"text": "x"})]), Reply("ok"))
    generation = await ask(services, owner, topic_id)
    (pending,) = await until(lambda: calls_in(generation, ToolCallStatus.PENDING))
    for attempt in (
        services.tools.answer_tool_call(bob, topic_id, pending.id, True),
        services.tools.list_tools(bob, server_id),
        services.tools.set_topic_tools(owner, topic_id, ["someone-elses"]),
    ):
        with pytest.raises(NotFound):
            await attempt
    await services.chat.stop(owner.id, topic_id)


async def test_a_second_listener_sees_the_pending_call(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server())
    fake.enqueue(Reply("Let me shout.", tool_calls=[Call("shout", {"text": "x"})]), Reply("done"))
    generation = await ask(services, owner, topic_id)
    await until(lambda: calls_in(generation, ToolCallStatus.PENDING))
    # a reload: the page reads the topic, then follows the reply being written
    (_, reply_turn) = await services.chat.conversation(owner.id, topic_id)
    assert [c.status for c in reply_turn.message.tool_calls] == [ToolCallStatus.PENDING]
    follower = services.chat.generation(topic_id)
    assert follower is generation
    with follower.subscribe() as subscription:
        first = await subscription.next()
        updates = [e for e in first if isinstance(e, ToolCallUpdate)]
        assert [(u.call.status, u.call.offset) for u in updates] == [
            (ToolCallStatus.PENDING, len("Let me shout."))
        ]
        await services.tools.answer_tool_call(owner, topic_id, updates[0].call.id, True)
        seen: list[ToolCallStatus] = []
        while ToolCallStatus.DONE not in seen:
            seen += [e.call.status for e in await subscription.next() if hasattr(e, "call")]
        assert seen[:2] == [ToolCallStatus.RUNNING, ToolCallStatus.DONE]
    await generation.finished.wait()


# ----- limits and failures -------------------------------------------------------------------


async def test_stop_cancels_a_hanging_call(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(Reply("Waiting.", tool_calls=[Call("sleep", {"seconds": 3600})]))
    generation = await ask(services, owner, topic_id)
    await until(lambda: calls_in(generation, ToolCallStatus.RUNNING))
    stopped = await services.chat.stop(owner.id, topic_id)
    assert stopped is not None and stopped.status == MessageStatus.STOPPED
    reply = await saved_reply(services, owner, generation)
    assert (reply.status, reply.content) == (MessageStatus.STOPPED, "Waiting.")
    assert [(c.status, c.error) for c in reply.tool_calls] == [
        (ToolCallStatus.CANCELLED, CANCELLED)
    ]
    assert len(fake.chats) == 1


async def test_stop_cancels_a_pending_approval(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server())
    fake.enqueue(Reply(tool_calls=[Call("shout", {"text": "x"}, id="c9")]))
    generation = await ask(services, owner, topic_id)
    await until(lambda: calls_in(generation, ToolCallStatus.PENDING))
    await services.chat.stop(owner.id, topic_id)
    reply = await saved_reply(services, owner, generation)
    assert [c.status for c in reply.tool_calls] == [ToolCallStatus.CANCELLED]
    with pytest.raises(NotFound):  # too late to answer
        await services.tools.answer_tool_call(owner, topic_id, "c9", True)


async def test_a_hanging_call_times_out_and_the_model_is_told(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(
        Reply(tool_calls=[Call("sleep", {"seconds": 3600})]), Reply(answer=answer_with_result)
    )
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    (call,) = reply.tool_calls
    assert (call.status, call.error) == (
        ToolCallStatus.ERROR,
        "The tool did not answer within 2 s.",
    )
    told = fake.chats[-1].json["messages"][-1]["content"]
    assert told == "Error: The tool did not answer within 2 s."
    assert reply.status == MessageStatus.COMPLETE


async def test_a_server_that_crashes_mid_call_is_reported_and_restarted(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(
        Reply(tool_calls=[Call("crash", {})]),
        Reply(answer=answer_with_result),
        Reply(tool_calls=[Call("shout", {"text": "again"})]),
        Reply(answer=answer_with_result),
    )
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    (call,) = reply.tool_calls
    assert call.status == ToolCallStatus.ERROR and "stopped during the call" in (call.error or "")
    assert "stopped during the call" in fake.chats[1].json["messages"][-1]["content"]
    again = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert [(c.status, c.result) for c in again.tool_calls] == [(ToolCallStatus.DONE, "AGAIN")]


async def test_a_result_over_the_cap_is_cut_with_a_note(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(Reply(tool_calls=[Call("big", {"size": 250_000})]), Reply("Long."))
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    (call,) = reply.tool_calls
    assert call.truncated and len(call.result.encode()) == services.options.tool_result_max_bytes
    told = fake.chats[-1].json["messages"][-1]["content"]
    assert told.endswith("[The result was cut at 100 KB.]")


async def test_rounds_stop_at_the_limit_with_a_clear_error(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    rounds = services.options.tool_max_rounds
    fake.enqueue(*[Reply(tool_calls=[Call("shout", {"text": str(n)})]) for n in range(rounds + 1)])
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert len(reply.tool_calls) == rounds and len(fake.chats) == rounds + 1
    assert reply.status == MessageStatus.ERROR and f"after {rounds} rounds" in (reply.error or "")


async def test_parallel_calls_and_history_on_the_next_question(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(
        Reply(tool_calls=[Call("shout", {"text": "a"}), Call("shout", {"text": "b"})]),
        Reply(answer=answer_with_result),
        Reply("Second answer."),
    )
    first = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert sorted(c.result for c in first.tool_calls) == ["A", "B"]
    await saved_reply(services, owner, await ask(services, owner, topic_id))
    history = fake.chats[-1].json["messages"]
    roles = [m["role"] for m in history]
    assert roles == ["user", "assistant", "tool", "tool", "assistant", "user"]
    assert history[4]["content"] == "The tool said: A | B"


async def test_a_model_without_tools_gets_a_clear_message(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server())
    fake.reject_tools = True
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    assert reply.status == MessageStatus.ERROR and "cannot use tools" in (reply.error or "")
    question = (await services.store.list_messages(owner.id, topic_id))[0]
    assert question.content == "Please use the tool."  # the question stays


# ----- who may add what, and secrets ---------------------------------------------------------


async def test_only_the_owner_may_add_local_commands(
    services: Services, owner: User, bob: User
) -> None:
    with pytest.raises(PermissionDenied):
        await services.tools.add_server(bob, name="x", **mcp_servers.test_server())
    with pytest.raises(PermissionDenied):  # remote ones too, unless the owner allows them
        await services.tools.add_server(bob, name="x", transport="http", url="http://x.test/mcp")
    assert await services.tools.list_servers(bob) == []


async def test_secrets_never_come_back_and_survive_an_update(
    services: Services, owner: User
) -> None:
    added = await services.tools.add_server(
        owner, name="s", **mcp_servers.test_server(), env={"API_TOKEN": "t0p", "MODE": "x"}
    )
    assert added.env == {"API_TOKEN": MASK, "MODE": MASK}
    changed = await services.tools.update_server(
        owner, added.id, name="renamed", env={"API_TOKEN": MASK, "NEW": "v"}
    )
    assert (changed.name, changed.env) == ("renamed", {"API_TOKEN": MASK, "NEW": MASK})
    kept = await services.store.get_tool_server(owner.id, added.id)
    assert kept.env == {"API_TOKEN": "t0p", "NEW": "v"}
    assert [s.env for s in await services.tools.list_servers(owner)] == [changed.env]


async def test_export_import_and_share_keep_the_calls(
    services: Services, fake: FakeOpenAI, owner: User
) -> None:
    topic_id, _ = await topic_with(services, owner, mcp_servers.test_server(), approval="always")
    fake.enqueue(Reply("Hm.", tool_calls=[Call("shout", {"text": "kept"})]), Reply("Done."))
    reply = await saved_reply(services, owner, await ask(services, owner, topic_id))
    exported = await services.archive.topic_json(owner.id, topic_id)
    (imported,) = (
        await services.archive.import_file(owner.id, json.dumps(exported).encode())
    ).topics
    copy = (await services.store.list_messages(owner.id, imported.id))[-1]
    assert [(c.id, c.result, c.status, c.offset) for c in copy.tool_calls] == [
        (c.id, c.result, c.status, c.offset) for c in reply.tool_calls
    ]
    share = await services.archive.share(owner.id, topic_id)
    (shown,) = share.snapshot["messages"][-1]["tool_calls"]
    assert (shown["name"], shown["result"]) == ("shout", "")  # results left out by default
    share = await services.archive.share(owner.id, topic_id, tool_results=True)
    assert share.snapshot["messages"][-1]["tool_calls"][0]["result"] == "KEPT"
