"""The model server's address in error sentences: the owner reads it, nobody else does."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nicegui.testing import User

from services import i18n
from services.i18n import Msg
from services.server_address import WITHOUT_HOST, shown_error
from tests import ui_state
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_ui_auth import set_up_owner, sign_in, sign_out
from tests.test_ui_chat import send

LLM = Path(__file__).parent.parent / "services" / "llm.py"


def test_every_sentence_naming_the_server_has_a_twin_without_it() -> None:
    named = set()
    for node in ast.walk(ast.parse(LLM.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "msg" and node.args:
            template = ast.literal_eval(node.args[0])
            if "{host}" in template:
                named.add(template)
    assert named and named == set(WITHOUT_HOST)
    for template, hidden in WITHOUT_HOST.items():
        assert "{host}" not in hidden
        assert set(re.findall(r"\{(\w+)\}", hidden)) == set(re.findall(r"\{(\w+)\}", template)) - {
            "host"
        }


def test_the_owner_reads_the_address_and_others_the_sentence_without_it() -> None:
    said = Msg(
        "The model server at {host} is unavailable (HTTP {status}).",
        host="10.0.0.5:11434",
        status=502,
    )
    stored = str(said)  # as read back from the database: plain English
    for text in (said, stored):
        assert shown_error(text, owner=True) == stored
        hidden = shown_error(text, owner=False)
        assert hidden == "The model server is unavailable (HTTP 502)."
        assert isinstance(hidden, Msg)  # so a page shows it translated
    limited = Msg(
        "The model server at {host} is rate limiting requests.{when}",
        host="api.example.com",
        when=" Try again in 5 s.",
    )
    assert shown_error(str(limited), owner=False) == (
        "The model server is rate limiting requests. Try again in 5 s."
    )
    plain = "The model sent an empty reply."
    assert shown_error(plain, owner=False) is plain
    assert shown_error("Something at a place we never wrote", owner=False) == (
        "Something at a place we never wrote"
    )


def test_a_stored_error_is_shown_translated_again() -> None:
    stored = "The model server at 127.0.0.1:9 is unavailable (HTTP 500)."
    for code in ("zh_CN", "ja"):
        translated = i18n.translate(code, shown_error(stored, owner=True))
        assert translated != stored and "127.0.0.1:9" in translated and "500" in translated


async def test_only_the_owner_sees_the_model_servers_address(
    ui_fake: FakeOpenAI, user: User
) -> None:
    address = ui_fake.base_url.split("//")[1].split("/")[0]  # 127.0.0.1:port
    await set_up_owner(user)
    ui_fake.enqueue(Reply("x", status=500))
    await send(user, "owner asks")
    await user.should_see(f"The model server at {address} is unavailable (HTTP 500).", retries=50)

    assert ui_state.services is not None
    await ui_state.services.auth.register(email="guest@example.com", password="guest password")
    await sign_out(user)
    await sign_in(user, "guest@example.com", "guest password")
    await user.should_see("How can I help?", retries=50)
    ui_fake.enqueue(Reply("x", status=500))
    await send(user, "guest asks")
    await user.should_see("The model server is unavailable (HTTP 500).", retries=50)
    await user.should_not_see(address)
    await user.should_not_see("127.0.0.1")
