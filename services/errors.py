"""The few errors services raise; entry points map them to HTTP statuses or page messages.

ChatAppError
 ├── NotFound              the thing does not exist, or is not the caller's
 ├── PermissionDenied      signed in, but not allowed
 ├── Conflict              it exists already (an email, a running generation)
 ├── InvalidInput          a value the caller can fix
 │    └── TooLarge         a body, message or file over its limit
 ├── AuthError             not signed in, or a bad or revoked token
 │    └── InvalidCredentials
 ├── Throttled             too many tries; `retry_after` seconds
 ├── StoreUnavailable      the database cannot be reached or written
 └── ProviderError         the model server failed
      ├── ProviderAuthError      401/403: the key is wrong
      ├── ProviderRateLimited    429; `retry_after` seconds when known
      ├── ProviderUnavailable    5xx, refused connection, timeout
      ├── ProviderMalformed      a reply that is not the OpenAI format
      ├── ContextTooLong         the prompt does not fit the model
      ├── ReasoningEffortUnsupported  the server refuses a `reasoning_effort` setting
      └── ToolsUnsupported       the model or server refuses `tools`
ToolError (a ChatAppError)     an MCP tool server could not be reached or failed
"""

from __future__ import annotations


class ChatAppError(Exception):
    """Base of every error a service raises on purpose; `str()` is safe to show a user."""

    code = "error"

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        message = message or self.default_message()
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    @classmethod
    def default_message(cls) -> str:
        """The class's docstring as one line: what a user reads when nothing more is said.
        tools/messages.py puts these in the catalogs, so pages can show them translated."""
        return " ".join((cls.__doc__ or cls.code).split())


class NotFound(ChatAppError):
    """Not found."""

    code = "not_found"


class PermissionDenied(ChatAppError):
    """You are not allowed to do that."""

    code = "forbidden"


class Conflict(ChatAppError):
    """That already exists."""

    code = "conflict"


class InvalidInput(ChatAppError):
    """That input is not valid."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """That is too large."""

    code = "too_large"


class AuthError(ChatAppError):
    """Please sign in."""

    code = "unauthorized"


class InvalidCredentials(AuthError):
    """Wrong email or password."""

    code = "invalid_credentials"


class Throttled(ChatAppError):
    """Too many attempts; please wait."""

    code = "throttled"


class StoreUnavailable(ChatAppError):
    """The database is not available right now."""

    code = "store_unavailable"


class ProviderError(ChatAppError):
    """The model server failed."""

    code = "provider_error"


class ProviderAuthError(ProviderError):
    """The model server refused the API key: check OPENAI_API_KEY."""

    code = "provider_auth"


class ProviderRateLimited(ProviderError):
    """The model server is rate limiting requests."""

    code = "provider_rate_limited"


class ProviderUnavailable(ProviderError):
    """The model server is unavailable."""

    code = "provider_unavailable"


class ProviderMalformed(ProviderError):
    """The model server sent a reply chatapp could not read."""

    code = "provider_malformed"


class ContextTooLong(ProviderError):
    """The conversation is too long for this model."""

    code = "context_too_long"


class ReasoningEffortUnsupported(ProviderError):
    """The model server does not accept a reasoning effort setting. Turn it off in this chat's
    settings."""

    code = "reasoning_effort_unsupported"


class ToolsUnsupported(ProviderError):
    """This model cannot use tools. Turn tools off in this chat, or pick another model."""

    code = "tools_unsupported"


class ToolError(ChatAppError):
    """The tool server could not be reached, or failed."""

    code = "tool_error"
