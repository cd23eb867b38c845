"""Tools over the API, against the real app in a child process: servers managed (secrets
never sent back), a topic's tools chosen, and a reply's calls streamed as SSE events, the
pending one answered through its route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import mcp_servers
from tests.app_server import AppServer, run_app
from tests.fake_openai import Call, FakeOpenAI, Reply, tool_results
from tests.test_api import ALICE, add_user, events, login

BOB = ("bob@example.com", "another good password")


@pytest.fixture
def tools_app(fake: FakeOpenAI, tmp_path: Path) -> Iterator[AppServer]:
    data_dir = tmp_path / "data"
    add_user(data_dir, *ALICE)  # the first account: the owner
    add_user(data_dir, *BOB)
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_AUTO_TITLE": "false"}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


def test_servers_tools_and_a_call_answered_over_the_api(
    tools_app: AppServer, fake: FakeOpenAI
) -> None:
    alice, answering = login(tools_app, *ALICE), login(tools_app, *ALICE)
    try:
        calls_answered_over_the_api(alice, answering, fake)
    finally:
        alice.close()
        answering.close()


def calls_answered_over_the_api(
    alice: httpx.Client, answering: httpx.Client, fake: FakeOpenAI
) -> None:
    server = {"name": "test", **mcp_servers.test_server(), "env": {"SECRET": "s3cret"}}
    added = alice.post("/tools/servers", json=server)
    assert added.status_code == 201, added.text
    server_id = added.json()["id"]
    assert added.json()["env"] == {"SECRET": "********"}
    assert "s3cret" not in alice.get("/tools/servers").text
    tested = alice.post(f"/tools/servers/{server_id}/test").json()
    assert tested["ok"] and {"shout", "sleep"} <= {t["name"] for t in tested["tools"]}
    assert {t["approval"] for t in tested["tools"]} == {"ask"}
    topic = alice.post("/topics", json={}).json()
    chosen = alice.put(f"/topics/{topic['id']}/tools", json={"server_ids": [server_id]})
    assert chosen.json() == {"server_ids": [server_id]}

    fake.enqueue(
        Reply("Shouting.", tool_calls=[Call("shout", {"text": "over the api"}, id="c1")]),
        Reply(answer=lambda body: "It said " + tool_results(body)[0]),
    )
    received = []
    body = {"content": "Shout it"}
    with alice.stream("POST", f"/topics/{topic['id']}/messages", json=body) as response:
        for name, data in events(response):
            received.append((name, data))
            if name == "tool_approval":
                answered = answering.post(
                    f"/topics/{topic['id']}/tool_calls/{data['id']}", json={"allow": True}
                )
                assert answered.status_code == 204, answered.text
    names = [name for name, _ in received]
    assert names.index("tool_approval") < names.index("tool_call") < names.index("tool_result")
    approval = dict(received)["tool_approval"]
    assert (approval["status"], approval["arguments"], approval["offset"]) == (
        "pending",
        '{"text": "over the api"}',
        len("Shouting."),
    )
    result = dict(received)["tool_result"]
    assert (result["status"], result["result"]) == ("done", "OVER THE API")
    done = received[-1][1]
    assert names[-1] == "done" and done["content"] == "Shouting.\n\nIt said OVER THE API"
    assert [c["status"] for c in done["tool_calls"]] == ["done"]
    saved = alice.get(f"/topics/{topic['id']}/messages").json()["messages"][-1]
    assert saved["tool_calls"][0]["result"] == "OVER THE API"
    late = answering.post(f"/topics/{topic['id']}/tool_calls/c1", json={"allow": False})
    assert late.status_code == 404

    # A share shows the call; its result only when the owner asks for it.
    site = str(alice.base_url).rstrip("/").removesuffix("/api/v1")

    def shared_call(**body: Any) -> dict[str, Any]:
        made = alice.post(f"/topics/{topic['id']}/share", **body)
        assert made.status_code == 201, made.text
        copy = httpx.get(f"{site}/api/v1/shared/{made.json()['id']}").json()  # no token
        assert copy["tool_results"] == (body.get("json") or {}).get("tool_results", False)
        (call,) = copy["messages"][-1]["tool_calls"]
        assert (call["name"], call["arguments"]) == ("shout", '{"text": "over the api"}')
        return call

    assert shared_call()["result"] == ""  # no body: the default, without results
    assert shared_call(json={"tool_results": False})["result"] == ""
    assert shared_call(json={"tool_results": True})["result"] == "OVER THE API"
    assert alice.post(f"/topics/{topic['id']}/share", json={"tool_results": 0}).status_code == 422
    schema = httpx.get(f"{site}/openapi.json").json()
    flag = schema["components"]["schemas"]["ShareIn"]["properties"]["tool_results"]
    assert flag["type"] == "boolean" and "result" in flag["description"]


def test_only_the_owner_adds_local_commands(tools_app: AppServer) -> None:
    bob = login(tools_app, *BOB)
    try:
        only_the_owner(bob)
    finally:
        bob.close()


def only_the_owner(bob: httpx.Client) -> None:
    refused = bob.post("/tools/servers", json={"name": "x", **mcp_servers.test_server()})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    remote = bob.post(
        "/tools/servers", json={"name": "x", "transport": "http", "url": "http://x.test/mcp"}
    )
    assert remote.status_code == 403  # CHATAPP_TOOLS_REMOTE_FOR_ALL is off by default
    assert bob.get("/tools/servers").json() == []
