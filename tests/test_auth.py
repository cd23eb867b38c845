"""The auth service on a real SQLite store: hashing, throttling, and tokens that can be revoked."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import bcrypt
import jwt
import pytest

from services.auth import AuthService, LoginThrottle
from services.errors import AuthError, Conflict, InvalidCredentials, InvalidInput, Throttled
from services.models import User, utcnow
from services.store import Store, open_store

SECRET = "s" * 64
PASSWORD = "correct horse battery"


class Clock:
    """A clock tests move by hand, for token expiry and throttle windows."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.seconds = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, delta: timedelta) -> None:
        self.now += delta
        self.seconds += delta.total_seconds()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'auth.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(store: Store, clock: Clock) -> AuthService:
    return AuthService(
        store, secret=SECRET, clock=clock, throttle=LoginThrottle(clock=clock.monotonic)
    )


@pytest.fixture
async def alice(auth: AuthService) -> User:
    return await auth.register(email=" Alice@Example.com ", password=PASSWORD, is_owner=True)


async def test_register_and_sign_in(auth: AuthService, alice: User) -> None:
    assert alice.email == "alice@example.com" and alice.password_hash.startswith("$argon2")
    assert not await auth.needs_setup()
    assert (await auth.authenticate(email="ALICE@example.com", password=PASSWORD)).id == alice.id
    with pytest.raises(Conflict):
        await auth.register(email="alice@example.com", password=PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "words"),
    [
        ("a@example.com", "short", "at least 8"),
        ("a@example.com", "x" * 1025, "at most 1024"),
        ("not an email", PASSWORD, "valid email"),
    ],
)
async def test_registration_input_is_checked(
    auth: AuthService, email: str, password: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        await auth.register(email=email, password=password)
    assert await auth.needs_setup()


async def test_wrong_password_and_unknown_email_look_the_same(
    auth: AuthService, alice: User
) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        await auth.authenticate(email=alice.email, password="wrong password")
    with pytest.raises(InvalidCredentials) as unknown:
        await auth.authenticate(email="nobody@example.com", password="wrong password")
    assert str(wrong.value) == str(unknown.value)


async def test_bcrypt_hash_verifies_and_is_upgraded(auth: AuthService, store: Store) -> None:
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    user = await store.create_user(User(email="old@example.com", password_hash=legacy))
    await auth.authenticate(email="old@example.com", password=PASSWORD)
    upgraded = await store.get_user(user.id)
    assert upgraded is not None and upgraded.password_hash.startswith("$argon2")
    await auth.authenticate(email="old@example.com", password=PASSWORD)


async def test_throttling_per_account_and_per_address(
    auth: AuthService, alice: User, clock: Clock
) -> None:
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await auth.authenticate(email=alice.email, password="nope nope", client="10.0.0.1")
    with pytest.raises(Throttled) as caught:
        await auth.authenticate(email=alice.email, password=PASSWORD, client="10.0.0.2")
    assert caught.value.retry_after and 0 < caught.value.retry_after <= 15 * 60
    assert "Try again in 15 min." in str(caught.value)
    with pytest.raises(Throttled):  # the address is throttled for other accounts too
        await auth.authenticate(email="other@example.com", password="x" * 9, client="10.0.0.1")
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await auth.authenticate(email=alice.email, password=PASSWORD)).id == alice.id


async def test_success_forgives_the_account(auth: AuthService, alice: User) -> None:
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await auth.authenticate(email=alice.email, password="nope nope")
    await auth.authenticate(email=alice.email, password=PASSWORD)
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await auth.authenticate(email=alice.email, password="nope nope")


async def test_disabled_user_cannot_sign_in_or_use_a_token(auth: AuthService, alice: User) -> None:
    token = auth.issue_token(alice).token
    await auth.disable(alice.id)
    with pytest.raises(AuthError, match="disabled"):
        await auth.authenticate(email=alice.email, password=PASSWORD)
    with pytest.raises(AuthError):
        await auth.verify_token(token)


async def test_token_round_trip_logout_and_password_change(auth: AuthService, alice: User) -> None:
    first, second = auth.issue_token(alice), auth.issue_token(alice)
    user, claims = await auth.verify_token(first.token)
    assert user.id == alice.id and claims["jti"] == first.jti
    await auth.revoke(first.token)
    with pytest.raises(AuthError):
        await auth.verify_token(first.token)
    await auth.verify_token(second.token)  # only that one session ended
    changed = await auth.change_password(alice, current=PASSWORD, new="a new password")
    with pytest.raises(AuthError):
        await auth.verify_token(second.token)
    await auth.verify_token(auth.issue_token(changed).token)
    with pytest.raises(InvalidCredentials):
        await auth.change_password(changed, current="not it at all", new="whatever else")


async def test_sign_out_everywhere(auth: AuthService, alice: User) -> None:
    tokens = [auth.issue_token(alice).token for _ in range(3)]
    await auth.sign_out_everywhere(alice)
    for token in tokens:
        with pytest.raises(AuthError):
            await auth.verify_token(token)


async def test_sliding_expiry(auth: AuthService, alice: User, clock: Clock) -> None:
    token = auth.issue_token(alice).token
    assert await auth.check_session(token) == (alice, None)
    clock.advance(timedelta(days=4))
    user, fresh = await auth.check_session(token)
    assert user == alice and fresh is not None
    await auth.verify_token(fresh.token)
    with pytest.raises(AuthError):
        await auth.verify_token(token)  # the old one was revoked when it was swapped
    clock.advance(timedelta(days=8))
    with pytest.raises(AuthError, match="expired"):
        await auth.verify_token(fresh.token)


def forge(claims: dict[str, object], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_tampered_tokens_are_all_refused(
    auth: AuthService, alice: User, clock: Clock
) -> None:
    now = int(clock().timestamp())
    good = {
        "sub": alice.id,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": "j1",
        "ver": alice.token_version,
    }
    await auth.verify_token(forge(good))  # the baseline is accepted
    revoked = forge({**good, "jti": "revoked"})
    await auth.revoke(revoked)
    bob = await auth.register(email="bob@example.com", password=PASSWORD)
    await auth.disable(bob.id)
    tampered = {
        "alg none": unsigned(good),
        "HS512": forge(good, algorithm="HS512"),
        "RS256 header": ".".join(
            [
                base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode(),
                *forge(good).split(".")[1:],
            ]
        ),
        "wrong key": forge(good, key="k" * 64),
        "expired": forge({**good, "exp": now - 60}),
        "not yet valid": forge({**good, "nbf": now + 3600, "iat": now + 3600}),
        "revoked jti": revoked,
        "old version": forge({**good, "ver": alice.token_version - 1}),
        "disabled user": forge({**good, "sub": bob.id}),
        "unknown user": forge({**good, "sub": "nobody"}),
        "string version": forge({**good, "ver": "0"}),
        "garbage": "not.a.token",
        "empty": "",
        "huge": "a" * 100_000,
        "extra dots": forge(good) + ".extra",
        "flipped signature": forge(good)[:-2] + ("AA" if not forge(good).endswith("AA") else "BB"),
    }
    for claim in ("sub", "iat", "nbf", "exp", "jti", "ver"):
        tampered[f"missing {claim}"] = forge({k: v for k, v in good.items() if k != claim})
    for name, token in tampered.items():
        with pytest.raises(AuthError):
            await auth.verify_token(token)
            pytest.fail(f"accepted a token with: {name}")
