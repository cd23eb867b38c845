"""Settings and start-up: defaults, generated secrets, and one clear line for a bad value."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chatapp.settings import ConfigError, load_settings


def test_defaults_use_the_data_folder(data_dir: Path) -> None:
    settings = load_settings()
    assert settings.database == f"sqlite:///{data_dir / 'chatapp.db'}"
    assert settings.port == 8080
    assert settings.demo_mode is True
    assert settings.allow_signup is False


def test_secrets_are_generated_once_with_mode_0600(data_dir: Path) -> None:
    first = load_settings()
    for name in ("jwt-secret", "storage-secret"):
        mode = stat.S_IMODE((data_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    again = load_settings()
    assert first.jwt_secret.get_secret_value() == again.jwt_secret.get_secret_value()
    assert first.jwt_secret.get_secret_value() != first.storage_secret.get_secret_value()


def test_openai_variables_keep_their_usual_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.openai_api_key.get_secret_value() == "sk-test"
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"
    assert settings.demo_mode is False
    assert "sk-test" not in repr(settings)


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATAPP_PORT", "9000")
    assert load_settings(port=9100).port == 9100


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CHATAPP_PORT", "99999", "CHATAPP_PORT"),
        ("CHATAPP_PORT", "http", "CHATAPP_PORT"),
        ("CHATAPP_DATABASE_URL", "postgres://db/x", "CHATAPP_DATABASE_URL"),
        ("CHATAPP_LOG_LEVEL", "loud", "CHATAPP_LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{expected}:")


def test_unwritable_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CHATAPP_DATA_DIR", str(blocker / "data"))
    with pytest.raises(ConfigError, match="CHATAPP_DATA_DIR: cannot write"):
        load_settings()


def run_cli(
    *args: str, env: dict[str, str] | None = None, input_text: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the real `chatapp` command in a child process with this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "chatapp", *args],
        capture_output=True,
        text=True,
        input=input_text,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_cli_bad_port_is_one_line_and_exit_2() -> None:
    result = run_cli(env={"CHATAPP_PORT": "70000"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "CHATAPP_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unknown_scheme_exit_2() -> None:
    result = run_cli("--database-url", "redis://127.0.0.1/0")
    assert result.returncode == 2
    assert "CHATAPP_DATABASE_URL" in result.stderr


def test_cli_unreachable_mongodb_is_one_clear_line() -> None:
    # run_cli's own timeout bounds it: a driver left waiting forever would fail the test.
    result = run_cli(env={"CHATAPP_DATABASE_URL": "mongodb://127.0.0.1:1/x"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("chatapp:")]
    assert len(lines) == 1 and "MongoDB" in lines[0], result.stderr


def test_cli_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("chatapp ")
