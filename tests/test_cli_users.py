"""`chatapp user ...`: operators manage accounts on the configured database from a shell."""

from __future__ import annotations

import asyncio

from chatapp.app import build_services, stop_services
from chatapp.settings import load_settings
from services.errors import AuthError, InvalidCredentials
from tests.test_settings import run_cli


def authenticate(email: str, password: str) -> str:
    """Sign in through the services, as the web page would; returns the outcome's name."""

    async def attempt() -> str:
        services = await build_services(load_settings())
        try:
            await services.auth.authenticate(email=email, password=password)
            return "ok"
        except (InvalidCredentials, AuthError) as exc:
            return type(exc).__name__
        finally:
            await stop_services(services)

    return asyncio.run(attempt())


def test_add_list_reset_disable() -> None:
    added = run_cli(
        "user", "add", "Ops@Example.com", "--password-stdin", input_text="first pass 1\n"
    )
    assert added.returncode == 0, added.stderr
    assert "owner" in added.stdout  # the first account is the owner
    second = run_cli("user", "add", "b@example.com", "--password-stdin", input_text="second pass\n")
    assert second.returncode == 0 and "owner" not in second.stdout

    listing = run_cli("user", "list")
    assert listing.returncode == 0
    assert [line.split("\t")[0] for line in listing.stdout.splitlines()] == [
        "ops@example.com",
        "b@example.com",
    ]
    assert authenticate("ops@example.com", "first pass 1") == "ok"

    reset = run_cli(
        "user", "reset-password", "ops@example.com", "--password-stdin", input_text="new pass 22\n"
    )
    assert reset.returncode == 0, reset.stderr
    assert authenticate("ops@example.com", "first pass 1") == "InvalidCredentials"
    assert authenticate("ops@example.com", "new pass 22") == "ok"

    assert run_cli("user", "disable", "b@example.com").returncode == 0
    assert authenticate("b@example.com", "second pass") != "ok"
    assert run_cli("user", "enable", "b@example.com").returncode == 0
    assert authenticate("b@example.com", "second pass") == "ok"


def test_clear_errors() -> None:
    short = run_cli("user", "add", "a@example.com", "--password-stdin", input_text="short\n")
    assert short.returncode == 1
    assert "8 characters" in short.stderr and "Traceback" not in short.stderr
    missing = run_cli("user", "disable", "nobody@example.com")
    assert missing.returncode == 1 and "no account" in missing.stderr
    run_cli("user", "add", "a@example.com", "--password-stdin", input_text="long enough\n")
    again = run_cli("user", "add", "a@example.com", "--password-stdin", input_text="long enough\n")
    assert again.returncode == 1 and "exists" in again.stderr
