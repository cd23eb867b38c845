"""Accounts and sessions: argon2 hashes, login throttling, revocable HS256 JWTs."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from passlib.context import CryptContext

from services.errors import AuthError, Conflict, InvalidCredentials, InvalidInput, Throttled
from services.i18n import msg
from services.models import User, utcnow
from services.store import Store

PASSWORD_MIN, PASSWORD_MAX = 8, 1024
LOCAL_OWNER_EMAIL = "local@localhost"
MAX_TOKEN_CHARS = 4096
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
REQUIRED_CLAIMS = ["sub", "iat", "nbf", "exp", "jti", "ver"]

# argon2 for every new hash; bcrypt hashes (from an older install) still verify and are
# replaced by argon2 at the next successful login.
PASSWORDS = CryptContext(schemes=["argon2", "bcrypt"], deprecated="auto")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


class LoginThrottle:
    """At most `limit` failures per account and per client address within `window` seconds."""

    def __init__(
        self,
        *,
        limit: int = 10,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, *keys: str) -> None:
        """Raise Throttled when any key is over the limit (before the password is even tried)."""
        now = self.clock()
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                wait = self.window - (now - failures[0])
                minutes = max(1, round(wait / 60))
                raise Throttled(
                    msg(
                        "Too many failed sign-in attempts. Try again in {minutes} min.",
                        minutes=minutes,
                    ),
                    retry_after=wait,
                )

    def fail(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:  # keep memory bounded under a spray of addresses
            for key in [k for k, v in self._failures.items() if not self._recent(k, now)]:
                del self._failures[key]

    def succeed(self, account: str, *others: str) -> None:
        """A right password: forget the account's failures, take back this try elsewhere."""
        self._failures.pop(account, None)
        for key in others:
            if self._failures.get(key):
                self._failures[key].pop()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures


class AuthService:
    """Registration, sign-in and tokens. Plain values in, plain values out; no web framework."""

    def __init__(
        self,
        store: Store,
        *,
        secret: str,
        token_ttl: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = utcnow,
        throttle: LoginThrottle | None = None,
    ) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT secret must be at least 32 characters")
        self.store = store
        self.secret = secret
        self.token_ttl = token_ttl
        self.clock = clock
        self.throttle = throttle or LoginThrottle()
        self._dummy_hash = PASSWORDS.hash(uuid.uuid4().hex)

    # ----- accounts ---------------------------------------------------------------------------

    async def needs_setup(self) -> bool:
        return await self.store.count_users() == 0

    async def register(
        self, *, email: str, password: str, display_name: str = "", is_owner: bool = False
    ) -> User:
        email = normalise_email(email)
        check_password(password)
        display_name = " ".join(display_name.split())
        if len(display_name) > 100:
            raise InvalidInput(msg("The name is too long (at most 100 characters)."))
        hashed = await asyncio.to_thread(PASSWORDS.hash, password)
        user = User(email=email, password_hash=hashed, display_name=display_name, is_owner=is_owner)
        try:
            return await self.store.create_user(user)
        except Conflict:
            raise Conflict(msg("An account with this email already exists.")) from None

    async def local_owner(self) -> User:
        """The account a desktop window signs in: the site's owner, made on the first start.

        With no owner yet, that is a new owner `local@localhost` with a random password nobody
        knows (set one with `chatapp user reset-password local@localhost` to sign in from a
        browser too). An existing owner is used as it is: the earliest, if there are several.
        """
        owners = [user for user in await self.store.list_users() if user.is_owner]
        if not owners:
            try:
                owners = [
                    await self.register(
                        email=LOCAL_OWNER_EMAIL,
                        password=secrets.token_urlsafe(32),
                        display_name="Me",
                        is_owner=True,
                    )
                ]
            except Conflict:
                raise AuthError(
                    f"{LOCAL_OWNER_EMAIL} exists but is not the owner; sign in with a password."
                ) from None
        if owners[0].disabled:
            raise AuthError(
                msg("The owner account is disabled. Enable it with `chatapp user enable`.")
            )
        return owners[0]

    async def authenticate(self, *, email: str, password: str, client: str = "") -> User:
        """The user for these credentials, or InvalidCredentials / Throttled / AuthError."""
        email = email.strip().lower()[:320]
        keys = [f"account:{email}"] + ([f"client:{client}"] if client else [])
        self.throttle.check(*keys)
        # Count the try before the first await, so parallel guesses cannot all pass the check;
        # a success takes it back.
        self.throttle.fail(*keys)
        user = await self.store.get_user_by_email(email) if email else None
        # An unknown email costs one hash check too, so timing does not reveal which exist.
        stored = user.password_hash if user else self._dummy_hash
        ok, new_hash = await asyncio.to_thread(
            PASSWORDS.verify_and_update, password[:PASSWORD_MAX], stored
        )
        if user is None or not ok:
            raise InvalidCredentials(msg("Wrong email or password."))
        self.throttle.succeed(*keys)
        if user.disabled:
            raise AuthError(msg("This account is disabled. Ask the site's owner."))
        if new_hash:  # an old bcrypt hash: store the argon2 one now that we know the password
            user = await self.store.update_user(user.id, password_hash=new_hash)
        return user

    async def change_password(self, user: User, *, current: str, new: str) -> User:
        ok = await asyncio.to_thread(PASSWORDS.verify, current[:PASSWORD_MAX], user.password_hash)
        if not ok:
            raise InvalidCredentials(msg("The current password is wrong."))
        return await self.set_password(user.id, new)

    async def set_password(self, user_id: str, new: str) -> User:
        """Set a password and sign out every session of the user (older tokens stop working)."""
        check_password(new)
        hashed = await asyncio.to_thread(PASSWORDS.hash, new)
        await self.store.update_user(user_id, password_hash=hashed)
        await self.store.bump_token_version(user_id)
        user = await self.store.get_user(user_id)
        assert user is not None
        return user

    async def sign_out_everywhere(self, user: User) -> None:
        await self.store.bump_token_version(user.id)

    async def disable(self, user_id: str) -> None:
        await self.store.update_user(user_id, disabled=True)
        await self.store.bump_token_version(user_id)

    async def enable(self, user_id: str) -> None:
        await self.store.update_user(user_id, disabled=False)

    # ----- tokens -----------------------------------------------------------------------------

    def issue_token(self, user: User) -> IssuedToken:
        now = self.clock()
        expires = now + self.token_ttl
        jti = uuid.uuid4().hex
        claims = {
            "sub": user.id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": jti,
            "ver": user.token_version,
        }
        return IssuedToken(jwt.encode(claims, self.secret, algorithm="HS256"), jti, expires)

    def _decode(self, token: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise AuthError(msg("Invalid token."))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],  # pinned: no "none", no key confusion
                options={
                    "require": REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise AuthError(msg("Invalid token.")) from None
        # Time checks against our clock (tests move it), with a little leeway for skew.
        now = self.clock().timestamp()
        if not all(isinstance(claims[c], int) for c in ("iat", "nbf", "exp", "ver")):
            raise AuthError(msg("Invalid token."))
        if claims["exp"] <= now - 10:
            raise AuthError(msg("Your session has expired. Please sign in again."))
        if claims["nbf"] > now + 10 or claims["iat"] > now + 10:
            raise AuthError(msg("Invalid token."))
        return claims

    async def verify_token(self, token: str) -> tuple[User, dict[str, Any]]:
        """The token's user and claims, or AuthError with a short reason."""
        claims = self._decode(token)
        # Both asked at once: every API request and page event waits for this.
        user, revoked = await asyncio.gather(
            self.store.get_user(str(claims["sub"])),
            self.store.is_token_revoked(str(claims["jti"])),
        )
        if user is None or user.disabled or claims["ver"] != user.token_version or revoked:
            raise AuthError(msg("Your session was signed out."))
        return user, claims

    async def revoke(self, token: str) -> None:
        """Log out: this token's id is refused until it would have expired anyway."""
        try:
            claims = self._decode(token)
        except AuthError:
            return
        expires = datetime.fromtimestamp(claims["exp"], tz=self.clock().tzinfo)
        await self.store.revoke_token(str(claims["jti"]), expires)

    async def check_session(self, token: str) -> tuple[User, IssuedToken | None]:
        """A browser session's user, and (sliding expiry) the fresh token that replaces its
        own once that is past half its life, else None: one look-up of the token."""
        user, claims = await self.verify_token(token)
        age = self.clock().timestamp() - claims["iat"]
        if age < self.token_ttl.total_seconds() / 2:
            return user, None
        fresh = self.issue_token(user)
        await self.revoke(token)
        return user, fresh


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInput(msg("Please enter a valid email address."))
    return email


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(msg("Password must be at least {count} characters.", count=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(msg("Password must be at most {count} characters.", count=PASSWORD_MAX))
