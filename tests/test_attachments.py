"""Attachments through the chat service, on a real SQLite file and the fake model server."""

from __future__ import annotations

import base64

import pytest

from services.attachments import MAX_FILES, MAX_IMAGE_BYTES, Upload, check
from services.context import Services
from services.errors import InvalidInput, NotFound, TooLarge
from services.models import User
from tests.fake_openai import FakeOpenAI
from tests.files import pdf, png
from tests.test_chat import collect


async def test_an_image_reaches_the_model_as_an_image_part(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    image = png(3, 2)
    topic = await services.topics.create_topic(alice.id)
    await collect(
        await services.chat.send(
            alice.id, topic.id, "What colour is this?", files=[Upload("red.png", image)]
        )
    )
    content = fake.chats[-1].json["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What colour is this?"}
    assert content[1]["type"] == "image_url"
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == image
    (turn_question, _reply) = await services.chat.conversation(alice.id, topic.id)
    (attachment,) = turn_question.attachments
    assert (attachment.name, attachment.media_type, attachment.size) == (
        "red.png",
        "image/png",
        len(image),
    )
    assert await services.store.read_attachment(alice.id, attachment.id) == image


async def test_text_files_and_pdfs_reach_the_model_delimited(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    files = [
        Upload("notes/todo.md", b"- buy milk\n- call Bob\n"),
        Upload("report.pdf", pdf("Quarterly revenue grew by 12 percent")),
    ]
    await collect(await services.chat.send(alice.id, topic.id, "Summarise these", files=files))
    content = fake.chats[-1].json["messages"][-1]["content"]
    assert isinstance(content, str)
    assert content.startswith("Summarise these")
    assert '<attached-file name="todo.md">' in content and "- call Bob" in content
    assert '<attached-file name="report.pdf">' in content
    assert "Quarterly revenue grew by 12 percent" in content
    # Later turns still carry the files as history.
    await collect(await services.chat.send(alice.id, topic.id, "And the milk?"))
    history = fake.chats[-1].json["messages"]
    assert "- buy milk" in history[0]["content"] and history[-1]["content"] == "And the milk?"


@pytest.mark.parametrize(
    ("upload", "error", "words"),
    [
        (
            Upload("big.png", png()[:16] + b"\0" * MAX_IMAGE_BYTES),
            TooLarge,
            "images may be at most",
        ),
        (Upload("tool.exe", b"MZ\x90\x00binary"), InvalidInput, "not supported"),
        (Upload("fake.txt", b"\xff\xfe\x00bad"), InvalidInput, "not UTF-8"),
        (Upload("empty.md", b""), InvalidInput, "empty"),
        (Upload("broken.pdf", b"%PDF-1.4 garbage"), InvalidInput, "PDF"),
        (Upload("picture.svg", b"<svg onload=alert(1)>"), InvalidInput, "not supported"),
    ],
)
def test_refused_files_say_why(upload: Upload, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        check(upload)


async def test_a_refused_file_saves_nothing(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    with pytest.raises(InvalidInput, match=r"tool\.exe"):
        await services.chat.send(
            alice.id, topic.id, "look", files=[Upload("a.txt", b"ok"), Upload("tool.exe", b"MZ")]
        )
    too_many = [Upload(f"{n}.txt", b"x") for n in range(MAX_FILES + 1)]
    with pytest.raises(TooLarge, match=f"At most {MAX_FILES} files"):
        await services.chat.send(alice.id, topic.id, "look", files=too_many)
    assert await services.store.list_messages(alice.id, topic.id) == []
    assert fake.chats == []


async def test_an_edited_question_keeps_its_files(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    topic = await services.topics.create_topic(alice.id)
    first = await services.chat.send(alice.id, topic.id, "v1", files=[Upload("a.txt", b"data")])
    await collect(first)
    question_id = first.message.parent_id
    assert question_id is not None
    await collect(await services.chat.edit(alice.id, question_id, "v2"))
    assert "data" in fake.chats[-1].json["messages"][-1]["content"]
    turns = await services.chat.conversation(alice.id, topic.id)
    assert [a.name for a in turns[0].attachments] == ["a.txt"]


async def test_another_user_cannot_read_an_attachment(
    services: Services, alice: User, fake: FakeOpenAI
) -> None:
    bob = await services.auth.register(email="bob@example.com", password="correct horse")
    topic = await services.topics.create_topic(alice.id)
    await collect(
        await services.chat.send(alice.id, topic.id, "mine", files=[Upload("a.png", png())])
    )
    (attachment,) = (await services.chat.conversation(alice.id, topic.id))[0].attachments
    with pytest.raises(NotFound):
        await services.store.read_attachment(bob.id, attachment.id)
