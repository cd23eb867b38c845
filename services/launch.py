"""The desktop window's one-time launch token: it signs the single local user in, once."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_launch_token() -> str:
    """A fresh random token (256 bits), for the window's first URL only."""
    return secrets.token_urlsafe(32)


class LaunchToken:
    """Keeps only the token's hash, and accepts the token itself exactly once.

    The window is opened in-process with the token in its URL (never on a command line), and
    the window uses it at once; should another local process learn it later, it is spent.
    """

    def __init__(self, token: str) -> None:
        if len(token) < 32:
            raise ValueError("a launch token needs at least 32 characters")
        self._digest: bytes | None = _digest(token)

    @property
    def spent(self) -> bool:
        return self._digest is None

    def redeem(self, presented: str) -> bool:
        """True the first time the right token is presented; False for anything else after.

        No await between the check and spending it, so two requests cannot both succeed.
        """
        if self._digest is None:
            return False
        # Compare digests in constant time: the time taken says nothing about the token.
        if not hmac.compare_digest(_digest(presented[:256]), self._digest):
            return False
        self._digest = None
        return True


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
