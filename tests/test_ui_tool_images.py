"""A tool result's images in the page: thumbnails like attachments, from data: URLs built
from the saved call (NiceGUI's simulated user)."""

from __future__ import annotations

import base64

from nicegui import ui
from nicegui.testing import User

from services.models import ToolCall, ToolCallStatus
from tests import ui_state
from tests.fake_openai import FakeOpenAI
from tests.files import png
from tests.test_ui_auth import set_up_owner
from tests.test_ui_chat import send, shown_topic


async def test_a_saved_calls_images_show_as_thumbnails(ui_fake: FakeOpenAI, user: User) -> None:
    await set_up_owner(user)
    ui_fake.enqueue("Here is the logo.")
    await send(user, "Show me the logo")
    await user.should_see("Here is the logo.", retries=100)
    topic_id = await shown_topic(user)
    services = ui_state.services
    assert services is not None
    (owner,) = await services.store.list_users()
    reply = (await services.store.list_messages(owner.id, topic_id))[-1]
    data = base64.b64encode(png(3, 3)).decode()
    images = [
        {"mime": "image/png", "data": data},
        {"mime": "text/html", "data": data},  # never a type a result may keep: not shown
    ]
    call = ToolCall(
        id="call_1",
        name="get-tiny-image",
        tool="get-tiny-image",
        status=ToolCallStatus.DONE,
        result="[image image/png]",
        images=images,
        seconds=0.1,
    )
    await services.store.update_message(owner.id, reply.id, tool_calls=[call])
    await user.open(f"/topic/{topic_id}")
    await user.should_see(marker="tool-images", retries=50)
    shown = [e for e in user.find(kind=ui.element).elements if "tool-call-image" in e.classes]
    assert len(shown) == 1
    assert shown[0].tag == "img"
    assert shown[0].props["src"] == f"data:image/png;base64,{data}"
    assert shown[0].props["alt"] == "Image from get-tiny-image"
