"""One validated settings object, read from CHATAPP_* variables, an optional .env and flags."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_SCHEMES = ("sqlite:///", "mongodb://", "mongodb+srv://")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class ConfigError(Exception):
    """A setting is invalid; the message names the variable and is shown as one line."""


class Settings(BaseSettings):
    """Everything an operator can configure. Each field is `CHATAPP_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="CHATAPP_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("chatapp")))
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    default_model: str = "gpt-4o-mini"
    title_model: str = ""
    auto_title: bool = True
    allow_signup: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_file: Path | None = None
    openai_api_key: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("OPENAI_API_KEY", "CHATAPP_OPENAI_API_KEY")
    )
    openai_base_url: str = Field(
        "", validation_alias=AliasChoices("OPENAI_BASE_URL", "CHATAPP_OPENAI_BASE_URL")
    )
    llm_timeout: float = Field(60.0, gt=0, le=3600)
    jwt_secret: SecretStr = SecretStr("")
    storage_secret: SecretStr = SecretStr("")
    token_ttl_days: float = Field(7.0, gt=0, le=365)
    history_budget_chars: int = Field(48_000, ge=1_000)
    max_message_chars: int = Field(100_000, ge=100, le=10_000_000)
    replies_per_minute: int = Field(20, ge=1)
    # Markdown renders in this many worker processes, each block within a time budget
    # (services/render_pool.py): a hostile reply cannot stall the app for everyone.
    render_workers: int = Field(2, ge=1, le=32)
    https_only: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    # /metrics (Prometheus) is off unless a token is set; scrapers send it as a bearer token.
    metrics_token: SecretStr = SecretStr("")
    # A file to which the event-loop lag probe appends its samples (benchmarks); empty: off.
    loop_probe: Path | None = None
    # Several processes behind one proxy share NiceGUI's per-browser storage (the sign-in)
    # through Redis; empty keeps it in files in the data folder (docs/scaling.md).
    redis_url: str = ""
    redis_key_prefix: str = Field("chatapp:", min_length=1)
    # Tools (MCP servers). Only the owner may add local-command servers (they run programs on
    # this machine); this lets every account add remote (Streamable HTTP) ones too.
    tools_remote_for_all: bool = False
    # Off: no local-command server may be added or started, not even by the owner (a shared
    # host, or a machine where nothing but remote tools should run).
    tools_local: bool = True
    tool_timeout: float = Field(60.0, gt=0, le=3600)  # seconds a tool call may take
    tool_result_max_bytes: int = Field(100_000, ge=1_000, le=10_000_000)  # kept of a result
    tool_max_rounds: int = Field(8, ge=1, le=100)  # requests with tool calls in one reply

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(DATABASE_SCHEMES):
            raise ValueError("must start with sqlite:/// or mongodb://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(REDIS_SCHEMES):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @property
    def database(self) -> str:
        """The database URL, defaulting to an SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'chatapp.db'}"

    @property
    def demo_mode(self) -> bool:
        """No key and no base URL: the offline demo model answers."""
        return not self.openai_api_key.get_secret_value() and not self.openai_base_url


def load_settings(**overrides: object) -> Settings:
    """Read settings (flags given as overrides win), or raise ConfigError naming the variable."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    prepare_data_dir(settings)
    return settings


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "?"
    variable = field.upper() if field.startswith("OPENAI_") else f"CHATAPP_{field.upper()}"
    value = error.get("input")
    # Secrets, keys and URLs (which may carry a password) are never echoed back.
    hidden = "secret" in field or "key" in field or field.endswith("_url")
    shown = "" if hidden else f" (got {value!r})"
    return f"{variable}: {error['msg']}{shown}"


def prepare_data_dir(settings: Settings) -> None:
    """Create the data folder, check it is writable, and fill in generated secrets."""
    folder = settings.data_dir.expanduser()
    settings.data_dir = folder
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"CHATAPP_DATA_DIR: cannot write to {folder} ({exc.strerror or exc})"
        ) from None
    if not settings.jwt_secret.get_secret_value():
        settings.jwt_secret = SecretStr(_secret_file(folder / "jwt-secret"))
    if not settings.storage_secret.get_secret_value():
        settings.storage_secret = SecretStr(_secret_file(folder / "storage-secret"))


def _secret_file(path: Path) -> str:
    """Read a generated secret, creating it (mode 0600, never world-readable) on first start."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
