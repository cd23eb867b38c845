"""Sign-in as a person uses it, through NiceGUI's simulated user: set-up, login, guard, logout."""

from __future__ import annotations

import base64
import json

import pytest
from nicegui import app
from nicegui.testing import User

pytestmark = pytest.mark.asyncio

OWNER = ("owner@example.com", "a long password")


async def set_up_owner(user: User) -> None:
    await user.open("/")
    await user.should_see("Create the owner account")
    user.find(marker="name").type("Olivia")
    user.find(marker="email").type(OWNER[0])
    user.find(marker="password").type(OWNER[1])
    user.find(marker="create-account").click()
    await user.should_see("How can I help?", retries=50)  # argon2 takes a moment


async def sign_out(user: User) -> None:
    user.find(marker="account-menu").click()
    user.find(marker="sign-out").click()
    await user.should_see("Sign in")


async def sign_in(user: User, email: str, password: str) -> None:
    user.find(marker="email").clear().type(email)
    user.find(marker="password").clear().type(password)
    user.find(marker="sign-in").click()


async def test_first_run_leads_to_set_up_then_the_chat_page(user: User) -> None:
    await user.open("/topic/whatever")
    await user.should_see("Create the owner account")
    await set_up_owner(user)
    await user.open("/setup")  # set-up is gone once an owner exists
    await user.should_see("How can I help?")


async def test_short_password_is_refused_with_a_clear_message(user: User) -> None:
    await user.open("/setup")
    user.find(marker="email").type("owner@example.com")
    user.find(marker="password").type("short")
    user.find(marker="create-account").click()
    await user.should_see("at least 8 characters", retries=50)


async def test_logout_then_guarded_page_returns_after_login(user: User) -> None:
    await set_up_owner(user)
    await sign_out(user)
    await user.open("/account")
    await user.should_see("Sign in")  # the guard sent us to login ...
    await sign_in(user, *OWNER)
    await user.should_see("Change password", retries=50)  # ... and back to the page we asked for


async def test_wrong_password_and_throttling(user: User) -> None:
    await set_up_owner(user)
    await sign_out(user)
    await sign_in(user, OWNER[0], "not the password")
    await user.should_see("Wrong email or password", retries=50)
    for _ in range(10):
        await sign_in(user, OWNER[0], "still not it")
    await user.should_see("Too many failed sign-in attempts", retries=50)
    await sign_in(user, *OWNER)  # refused too: the wait applies to the right password as well
    await user.should_see("Too many failed sign-in attempts", retries=50)
    await user.should_not_see("How can I help?")


async def test_sign_up_is_hidden_when_off(user: User) -> None:
    await set_up_owner(user)
    await sign_out(user)
    await user.should_not_see("Create an account")
    await user.open("/signup")
    await user.should_see("Sign in")
    await user.should_not_see("Create an account")


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
async def test_open_redirect_lands_on_home(user: User, target: str) -> None:
    await set_up_owner(user)
    await sign_out(user)
    await user.open(f"/login?next={target}")
    await sign_in(user, *OWNER)
    await user.should_see("How can I help?", retries=50)


def session_id(user: User) -> str:
    """The browser id inside NiceGUI's signed session cookie (base64 JSON, then signature)."""
    payload = user.http_client.cookies["session"].split(".", 1)[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))["id"]


async def test_signing_in_gives_the_browser_a_new_session_id(user: User) -> None:
    await user.open("/")  # a session id exists before sign-in: one an attacker could plant
    planted = session_id(user)
    await user.should_see("Create the owner account")
    user.find(marker="name").type("Olivia")
    user.find(marker="email").type(OWNER[0])
    user.find(marker="password").type(OWNER[1])
    user.find(marker="create-account").click()
    await user.should_see("How can I help?", retries=50)
    signed_in = session_id(user)
    assert signed_in != planted
    assert "token" not in app.storage._users[planted]  # the planted id signs nobody in
    await sign_out(user)
    await sign_in(user, *OWNER)
    await user.should_see("How can I help?", retries=50)
    assert session_id(user) not in (planted, signed_in)


async def test_a_used_or_made_up_ticket_signs_nobody_in(user: User) -> None:
    await set_up_owner(user)
    await sign_out(user)
    await user.open("/session/enter?ticket=made-up&next=/account")
    await user.should_see("Sign in")
