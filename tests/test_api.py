"""The API over real HTTP: the running app, the fake model server, httpx as the client."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app_server import AppServer, run_app
from tests.fake_openai import FakeOpenAI, Reply
from tests.files import png

ALICE = ("alice@example.com", "alice password")
BOB = ("bob@example.com", "bob's password")


def add_user(data_dir: Path, email: str, password: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "chatapp", "user", "add", email, "--password-stdin"],
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
        env={"CHATAPP_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def app(fake: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    data_dir = tmp_path_factory.mktemp("api") / "data"
    add_user(data_dir, *ALICE)
    add_user(data_dir, *BOB)
    env = {"OPENAI_BASE_URL": fake.base_url, "CHATAPP_AUTO_TITLE": "false"}
    with run_app(data_dir=data_dir, env=env) as server:
        yield server


def login(app: AppServer, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=f"{app.url}/api/v1", timeout=30)
    response = client.post("/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    client.headers["Authorization"] = f"Bearer {body['access_token']}"
    return client


@pytest.fixture
def alice(app: AppServer) -> Iterator[httpx.Client]:
    client = login(app, *ALICE)
    yield client
    client.close()


@pytest.fixture
def bob(app: AppServer) -> Iterator[httpx.Client]:
    client = login(app, *BOB)
    yield client
    client.close()


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """Parse server-sent events the way a browser's EventSource would."""
    name, data = "message", []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


def send(client: httpx.Client, topic_id: str, content: str) -> list[tuple[str, dict[str, Any]]]:
    with client.stream("POST", f"/topics/{topic_id}/messages", json={"content": content}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return list(events(r))


def test_the_full_flow(alice: httpx.Client, fake: FakeOpenAI) -> None:
    assert alice.get("/me").json()["email"] == ALICE[0]
    assert "fake-small" in alice.get("/models").json()["models"]
    topic = alice.post("/topics", json={}).json()
    # Paced like a model: a reply finished before the client listens arrives as one catch-up.
    fake.enqueue(Reply("Streaming over SSE works fine.", chunk_size=4, delay=0.02))
    received = send(alice, topic["id"], "Does SSE work?")
    names = [name for name, _ in received]
    assert names[0] == "start" and names[-1] == "done" and names.count("delta") >= 4
    assert "".join(d["text"] for n, d in received if n == "delta") == (
        "Streaming over SSE works fine."
    )
    done = received[-1][1]
    assert done["status"] == "complete" and done["usage"]["completion_tokens"] > 0

    listing = alice.get(f"/topics/{topic['id']}/messages").json()
    assert [(m["role"], m["status"]) for m in listing["messages"]] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    reply_id = listing["messages"][1]["id"]
    assert listing["active_leaf_id"] == reply_id

    renamed = alice.patch(f"/topics/{topic['id']}", json={"title": "SSE talk", "temperature": 0.5})
    assert (
        renamed.json()["title"] == "SSE talk" and renamed.json()["settings"]["temperature"] == 0.5
    )
    hits = alice.get("/topics/search", params={"q": "sse"}).json()
    assert [h["topic"]["id"] for h in hits] == [topic["id"]]

    fake.enqueue("A second opinion.")
    with alice.stream("POST", f"/messages/{reply_id}/regenerate") as r:
        assert [n for n, _ in events(r)][-1] == "done"
    question_id = listing["messages"][0]["id"]
    fake.enqueue("Answer to the edit.")
    with alice.stream("POST", f"/messages/{question_id}/edit", json={"content": "Edited?"}) as r:
        assert [n for n, _ in events(r)][-1] == "done"
    messages = alice.get(f"/topics/{topic['id']}/messages").json()["messages"]
    assert len(messages) >= 5
    roots = [m for m in messages if m["parent_id"] is None]
    assert [m["content"] for m in roots] == ["Does SSE work?", "Edited?"]

    page = alice.get("/topics", params={"limit": 1}).json()
    assert page["items"][0]["id"] == topic["id"] and page["total"] >= 1
    assert alice.delete(f"/topics/{topic['id']}").status_code == 204
    assert alice.get(f"/topics/{topic['id']}").status_code == 404


def test_reattach_and_stop(alice: httpx.Client, app: AppServer, fake: FakeOpenAI) -> None:
    topic = alice.post("/topics", json={"title": "long"}).json()
    fake.enqueue(Reply("tick " * 400, chunk_size=5, delay=0.02))
    with alice.stream("POST", f"/topics/{topic['id']}/messages", json={"content": "go"}) as r:
        stream = events(r)
        assert next(stream)[0] == "start"
        assert next(stream)[0] == "delta"
        second = login(app, *ALICE)  # another client re-attaches mid-stream
        with second.stream("GET", f"/topics/{topic['id']}/stream") as again:
            first_name, first_data = next(events(again))
            assert first_name == "delta" and first_data["text"].startswith("tick")
        second.close()
        stopped = alice.post(f"/topics/{topic['id']}/stop").json()
        assert stopped["status"] == "stopped"
        rest = list(stream)
        assert rest[-1][0] == "done" and rest[-1][1]["status"] == "stopped"
    saved = alice.get(f"/topics/{topic['id']}/messages").json()["messages"][-1]
    assert saved["status"] == "stopped" and 0 < len(saved["content"]) < len("tick " * 400)
    assert fake.disconnects
    assert alice.get(f"/topics/{topic['id']}/stream").status_code == 204  # nothing to follow


@pytest.mark.parametrize(
    ("reply", "expected"),
    [(Reply("x", status=429, retry_after=9), "rate"), (Reply("x", status=500), "unavailable")],
)
def test_provider_errors_arrive_as_an_error_event(
    alice: httpx.Client, fake: FakeOpenAI, reply: Reply, expected: str
) -> None:
    topic = alice.post("/topics", json={}).json()
    fake.enqueue(reply)
    received = send(alice, topic["id"], "hello?")
    name, data = received[-1]
    assert name == "error" and expected in data["message"].lower()
    messages = alice.get(f"/topics/{topic['id']}/messages").json()["messages"]
    assert messages[0]["content"] == "hello?" and messages[1]["status"] == "error"


def test_only_the_owner_reads_the_model_servers_address(
    alice: httpx.Client, bob: httpx.Client, fake: FakeOpenAI
) -> None:
    """As on the page: a failed reply's error names the model server (host and port) to the
    owner (alice, the first account), in the stream and as stored; others read it without."""
    host = urlsplit(fake.base_url).netloc
    for client, owner in [(alice, True), (bob, False)]:
        topic = client.post("/topics", json={}).json()
        fake.enqueue(Reply("x", status=500))
        name, data = send(client, topic["id"], "hello?")[-1]
        stored = client.get(f"/topics/{topic['id']}/messages").json()["messages"][-1]["error"]
        assert name == "error"
        if owner:
            assert host in data["message"] and host in stored
        else:
            said = "The model server is unavailable (HTTP 500)."
            assert (data["message"], stored) == (said, said)


def test_auth_errors_have_one_shape(app: AppServer, alice: httpx.Client) -> None:
    with httpx.Client(base_url=f"{app.url}/api/v1") as anonymous:
        for headers in ({}, {"Authorization": "Bearer nonsense"}):
            response = anonymous.get("/me", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert set(response.json()["error"]) == {"code", "message"}
        json_login = anonymous.post("/auth/token", json={"email": ALICE[0], "password": ALICE[1]})
        assert json_login.status_code == 200
        token = json_login.json()["access_token"]
        assert (
            anonymous.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code
            == 204
        )
        revoked = anonymous.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert revoked.status_code == 401
        assert anonymous.get("/healthz").json()["database"] == "ok"


def test_bad_bodies(alice: httpx.Client) -> None:
    topic = alice.post("/topics", json={}).json()
    too_long = alice.post(f"/topics/{topic['id']}/messages", json={"content": "x" * 200_000})
    assert too_long.status_code == 413 and too_long.json()["error"]["code"] == "too_large"
    empty = alice.post(f"/topics/{topic['id']}/messages", json={"content": ""})
    assert empty.status_code == 422 and "some text or a file" in empty.json()["error"]["message"]
    huge = alice.post(
        "/topics",
        content=b"{" + b" " * 3_000_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    bad_temperature = alice.patch(f"/topics/{topic['id']}", json={"temperature": 9})
    assert bad_temperature.status_code == 422


def test_a_parent_from_elsewhere_is_refused_before_the_model_is_asked(
    alice: httpx.Client, fake: FakeOpenAI
) -> None:
    """The message a question answers is checked with the history read, before the model
    request leaves: a plain 404, no model request, nothing saved."""
    first = alice.post("/topics", json={}).json()
    fake.enqueue("an answer")
    send(alice, first["id"], "a question")
    elsewhere = alice.get(f"/topics/{first['id']}/messages").json()["messages"][-1]["id"]
    second = alice.post("/topics", json={}).json()
    asked = len(fake.chats)
    for parent in (elsewhere, "no-such-message"):
        body = {"content": "hi", "parent_id": parent}
        response = alice.post(f"/topics/{second['id']}/messages", json=body)
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error["code"] == "not_found"
        assert error["message"] == "The message to answer is not in this topic."
    assert len(fake.chats) == asked
    assert alice.get(f"/topics/{second['id']}/messages").json()["messages"] == []


def test_throttled_login_says_when_to_retry(tmp_path: Path) -> None:
    # Its own app: throttling by client address would lock the other tests out of 127.0.0.1.
    with (
        run_app(data_dir=tmp_path / "data") as app,
        httpx.Client(base_url=f"{app.url}/api/v1") as client,
    ):
        for _ in range(10):
            client.post("/auth/token", data={"username": "nobody@example.com", "password": "x" * 9})
        response = client.post(
            "/auth/token", data={"username": "nobody@example.com", "password": "x" * 9}
        )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_another_user_gets_404_and_changes_nothing(
    alice: httpx.Client, bob: httpx.Client, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={"title": "Alice's secrets"}).json()
    fake.enqueue("secret answer")
    send(alice, topic["id"], "secret question")
    message_id = alice.get(f"/topics/{topic['id']}/messages").json()["messages"][0]["id"]
    before = alice.get(f"/topics/{topic['id']}/messages").json()
    tid, mid = topic["id"], message_id
    attempts = [
        ("GET", f"/topics/{tid}", None),
        ("PATCH", f"/topics/{tid}", {"title": "mine now"}),
        ("DELETE", f"/topics/{tid}", None),
        ("GET", f"/topics/{tid}/messages", None),
        ("POST", f"/topics/{tid}/messages", {"content": "hi"}),
        ("GET", f"/topics/{tid}/stream", None),
        ("POST", f"/topics/{tid}/stop", None),
        ("POST", f"/messages/{mid}/regenerate", None),
        ("POST", f"/messages/{mid}/edit", {"content": "changed"}),
        ("POST", f"/messages/{mid}/select", None),
    ]
    for method, path, body in attempts:
        response = bob.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_found"
    assert bob.get("/topics/search", params={"q": "secret"}).json() == []
    assert all(t["id"] != tid for t in bob.get("/topics").json()["items"])
    assert alice.get(f"/topics/{tid}/messages").json() == before
    assert alice.get(f"/topics/{tid}").json()["title"] == "Alice's secrets"


def test_attachments_reach_the_model_and_only_their_owner(
    alice: httpx.Client, bob: httpx.Client, fake: FakeOpenAI
) -> None:
    image = png(4, 4)
    topic = alice.post("/topics", json={}).json()
    body = {
        "content": "What is in these?",
        "attachments": [
            {"name": "dot.png", "data": base64.b64encode(image).decode()},
            {"name": "data.csv", "data": base64.b64encode(b"city,people\nLyon,520000\n").decode()},
        ],
    }
    with alice.stream("POST", f"/topics/{topic['id']}/messages", json=body) as response:
        assert response.status_code == 200
        assert [name for name, _ in events(response)][-1] == "done"
    content = fake.chats[-1].json["messages"][-1]["content"]
    assert content[0]["type"] == "text" and "Lyon,520000" in content[0]["text"]
    assert (
        content[1]["image_url"]["url"] == "data:image/png;base64," + body["attachments"][0]["data"]
    )

    listed = alice.get(f"/topics/{topic['id']}/messages").json()["attachments"]
    assert [(a["name"], a["media_type"], a["size"]) for a in listed] == [
        ("dot.png", "image/png", len(image)),
        ("data.csv", "text/plain", 24),
    ]
    got = alice.get(listed[0]["url"].removeprefix("/api/v1"))
    assert got.status_code == 200 and got.content == image
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    csv = alice.get(listed[1]["url"].removeprefix("/api/v1"))
    assert csv.headers["content-type"].startswith("text/plain")
    assert csv.headers["content-disposition"].startswith("attachment;")

    stolen = bob.get(listed[0]["url"].removeprefix("/api/v1"))
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("tool.exe", b"MZ\x90\x00", "not supported"),
        ("big.png", png()[:16] + bytes(9 * 1024 * 1024), "images may be at most"),
    ],
)
def test_refused_attachments_say_why_and_save_nothing(
    alice: httpx.Client, name: str, data: bytes, words: str
) -> None:
    topic = alice.post("/topics", json={}).json()
    body = {
        "content": "look",
        "attachments": [{"name": name, "data": base64.b64encode(data).decode()}],
    }
    response = alice.post(f"/topics/{topic['id']}/messages", json=body)
    assert response.status_code in (400, 413), response.text
    assert words in response.json()["error"]["message"]
    assert alice.get(f"/topics/{topic['id']}/messages").json()["messages"] == []


def test_export_import_and_share(
    alice: httpx.Client, bob: httpx.Client, app: AppServer, fake: FakeOpenAI
) -> None:
    topic = alice.post("/topics", json={"title": "Round trip"}).json()
    send(alice, topic["id"], "ping")
    markdown = alice.get(f"/topics/{topic['id']}/export", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Round trip\n") and "ping" in markdown.text
    one = alice.get(f"/topics/{topic['id']}/export").json()
    assert one["format"] == "chatapp.topic"

    archive = alice.get("/export").json()
    before = bob.get("/topics").json()["total"]
    imported = bob.post("/import", json=archive)
    assert imported.status_code == 201, imported.text
    assert "Round trip" in [t["title"] for t in imported.json()]
    assert bob.get("/topics").json()["total"] == before + len(archive["topics"])
    assert imported.headers["Import-Skipped"] == "0"
    again = bob.post("/import", json=archive)  # the same file: nothing new, and it says so
    assert again.status_code == 201 and again.json() == []
    assert again.headers["Import-Skipped"] == str(len(archive["topics"]))
    refused = bob.post("/import", content=b"[1, 2, 3]")
    assert refused.status_code == 400 and "format" in refused.json()["error"]["message"]
    assert bob.get("/topics").json()["total"] == before + len(archive["topics"])

    shared = alice.post(f"/topics/{topic['id']}/share")
    assert shared.status_code == 201
    path = shared.json()["path"]
    public = httpx.get(f"{app.url}/api/v1/shared/{shared.json()['id']}")  # no token
    assert public.status_code == 200 and public.json()["title"] == "Round trip"
    assert public.json()["messages"][0]["content"] == "ping"
    assert httpx.get(f"{app.url}{path}").status_code == 200  # the read-only page

    for method, url in [
        ("GET", f"/topics/{topic['id']}/export"),
        ("POST", f"/topics/{topic['id']}/share"),
        ("DELETE", f"/topics/{topic['id']}/share"),
    ]:
        assert bob.request(method, url).status_code == 404, url
    assert alice.delete(f"/topics/{topic['id']}/share").status_code == 204
    assert httpx.get(f"{app.url}/api/v1/shared/{shared.json()['id']}").status_code == 404
    assert httpx.get(f"{app.url}{path}").status_code == 404


def test_the_answers_schemathesis_asked_for(alice: httpx.Client) -> None:
    """What the schema test found, each seen once by name (tests/test_api_schema.py)."""
    topic = alice.post("/topics", json={}).json()
    options = alice.options(f"/topics/{topic['id']}")
    assert options.status_code == 405 and options.headers["Allow"] == "GET, PATCH, DELETE"
    assert alice.options("/topics/search").headers["Allow"] == "GET"  # not /topics/{topic_id}
    lost = alice.get("/topics/a%2Fb/stream")  # an id with a slash matches no route
    assert lost.status_code == 404 and lost.json()["error"]["code"] == "not_found"
    assert alice.delete(f"/topics/{topic['id']}/share").status_code == 204  # never shared
    blank = alice.post(f"/topics/{topic['id']}/messages", json={"content": " \n"})
    assert blank.status_code == 422
    bad_base64 = {"content": "x", "attachments": [{"name": "a.txt", "data": "aGk gaGk="}]}
    assert alice.post(f"/topics/{topic['id']}/messages", json=bad_base64).status_code == 422
    assert alice.patch(f"/topics/{topic['id']}", json={"temperature": True}).status_code == 422
    far = [{"title": "t", "create_time": 1e300, "mapping": {}}]
    assert alice.post("/import", json=far).status_code == 400
    archive = {"format": "chatapp.archive", "version": 1, "topics": [{"title": "t"}]}
    archive["topics"][0] |= {"created_at": "0001-01-01T00:00:00+05:00", "messages": []}
    answer = alice.post("/import", json=archive)
    assert answer.status_code == 400 and "created_at" in answer.json()["error"]["message"]
    schema = httpx.get(f"{str(alice.base_url).removesuffix('/api/v1/')}/openapi.json").json()
    assert not any(path.startswith("/static") for path in schema["paths"])


def test_pin_archive_and_rate(alice: httpx.Client, bob: httpx.Client, fake: FakeOpenAI) -> None:
    first = alice.post("/topics", json={"title": "Kept on top"}).json()
    second = alice.post("/topics", json={"title": "Put away"}).json()
    pinned = alice.patch(f"/topics/{first['id']}", json={"pinned": True}).json()
    assert (pinned["pinned"], pinned["archived"]) == (True, False)
    assert alice.patch(f"/topics/{second['id']}", json={"archived": True}).json()["archived"]
    assert alice.get("/topics").json()["items"][0]["id"] == first["id"]  # pinned: first
    listed = alice.get("/topics", params={"archived": "false"}).json()
    assert second["id"] not in [t["id"] for t in listed["items"]]
    archived = alice.get("/topics", params={"archived": "true"}).json()
    assert [t["id"] for t in archived["items"]] == [second["id"]] and archived["total"] == 1
    assert alice.patch(f"/topics/{first['id']}", json={"pinned": "yes"}).status_code == 422
    assert bob.patch(f"/topics/{first['id']}", json={"pinned": False}).status_code == 404

    fake.enqueue("Rate me.")
    send(alice, first["id"], "hello")
    question, reply = alice.get(f"/topics/{first['id']}/messages").json()["messages"]
    assert reply["rating"] is None
    rated = alice.put(f"/messages/{reply['id']}/rating", json={"rating": "up"})
    assert rated.status_code == 200 and rated.json()["rating"] == "up"
    messages = alice.get(f"/topics/{first['id']}/messages").json()["messages"]
    assert messages[1]["rating"] == "up"
    exported = alice.get(f"/topics/{first['id']}/export").json()["topic"]
    assert exported["pinned"] is True and exported["messages"][1]["rating"] == "up"
    assert alice.put(f"/messages/{question['id']}/rating", json={"rating": "up"}).status_code == 400
    assert bob.put(f"/messages/{reply['id']}/rating", json={"rating": "down"}).status_code == 404
    cleared = alice.put(f"/messages/{reply['id']}/rating", json={"rating": None}).json()
    assert cleared["rating"] is None
