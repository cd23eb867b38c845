"""Attaching files in the page (NiceGUI's simulated user; the upload route is NiceGUI's own)."""

from __future__ import annotations

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from tests.fake_openai import FakeOpenAI
from tests.files import png
from tests.test_ui_auth import set_up_owner


async def attach(user: User, name: str, data: bytes, content_type: str) -> None:
    (uploader,) = user.find(marker="uploader").elements
    assert isinstance(uploader, ui.upload)
    await uploader.handle_uploads([SmallFileUpload(name, content_type, data)])


async def test_an_attached_image_and_text_file_reach_the_model(
    ui_fake: FakeOpenAI, user: User
) -> None:
    await set_up_owner(user)
    image = png(5, 5)
    await attach(user, "photo.png", image, "image/png")
    await attach(user, "notes.md", b"# Shopping\n- apples\n", "text/markdown")
    await user.should_see(marker="pending-file")
    await user.should_see(f"photo.png · {len(image)} B")
    user.find(marker="composer").type("Describe the photo and read my notes")
    user.find(marker="send").click()
    await user.should_see("You said: Describe the photo", retries=100)
    content = ui_fake.chats[-1].json["messages"][-1]["content"]
    assert content[0]["type"] == "text" and "- apples" in content[0]["text"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    await user.should_see("notes.md · 20 B")  # the sent message shows its files
    await user.should_not_see(marker="pending-file")
    thumbs = [e for e in user.find(kind=ui.element).elements if "attachment-thumb" in e.classes]
    assert len(thumbs) == 1 and thumbs[0].props["src"].startswith("/attachments/")

    # The owner gets the bytes back; without the session cookie nobody does.
    response = await user.http_client.get(thumbs[0].props["src"])
    assert response.status_code == 200 and response.content == image
    user.http_client.cookies.clear()
    stranger = await user.http_client.get(thumbs[0].props["src"])
    assert stranger.status_code == 404


async def test_a_wrong_file_is_refused_with_a_clear_message(
    ui_fake: FakeOpenAI, user: User
) -> None:
    await set_up_owner(user)
    await attach(user, "setup.exe", b"MZ\x90\x00", "application/octet-stream")
    await user.should_see("setup.exe: this kind of file is not supported")
    await user.should_not_see(marker="pending-file")
