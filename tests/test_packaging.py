"""The shipped deployment files: systemd verifies the unit, node loads the pm2 file, and so on."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from chatapp.settings import Settings
from tests.conftest import require_tool
from tests.nginx_helpers import free_port

PACKAGING = Path(__file__).resolve().parent.parent / "packaging"
UNIT = PACKAGING / "systemd" / "chatapp.service"
ENV_EXAMPLE = PACKAGING / "systemd" / "chatapp.env.example"
ECOSYSTEM = PACKAGING / "pm2" / "ecosystem.config.js"
MONGOD_CONF = PACKAGING / "mongodb" / "mongod.conf"
CREATE_USER = PACKAGING / "mongodb" / "create-user.js"


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file; keys may repeat (SystemCallFilter=, Environment=)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def installed_unit(tmp_path: Path) -> Path:
    """The shipped unit with ExecStart pointed at this checkout's interpreter.

    `systemd-analyze verify` insists that the ExecStart program exists, and the shipped
    /opt/chatapp/.venv/bin/chatapp does not on a build machine. `python -m chatapp` is the
    same program as that console script, so only that one line differs from what ships.
    """
    text = UNIT.read_text()
    shipped = "ExecStart=/opt/chatapp/.venv/bin/chatapp"
    assert text.count(shipped) == 1
    unit = tmp_path / "chatapp.service"  # verify wants a file named like a unit
    unit.write_text(text.replace(shipped, f"ExecStart={sys.executable} -m chatapp"))
    return unit


def test_systemd_unit_verifies(installed_unit: Path) -> None:
    analyze = require_tool("systemd-analyze")
    result = subprocess.run(
        [analyze, "verify", str(installed_unit)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    # verify also reports mere warnings (an unknown key, a bad value) with exit code 0.
    assert "chatapp.service" not in result.stderr, result.stderr


def test_systemd_unit_is_sandboxed_and_supervised(installed_unit: Path) -> None:
    analyze = require_tool("systemd-analyze")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(installed_unit)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # systemd's own exposure score: 0 is fully locked down, 10 is a plain unsandboxed service.
    score = re.search(r"Overall exposure level for chatapp\.service: ([\d.]+) (\w+)", result.stdout)
    assert score, result.stdout
    assert float(score[1]) <= 2.0, result.stdout

    settings = unit_settings(UNIT.read_text())
    assert settings["Restart"] == ["on-failure"]
    assert settings["MemoryMax"] and settings["DynamicUser"] == ["yes"]
    assert settings["EnvironmentFile"] == ["-/etc/chatapp/chatapp.env"]
    assert settings["StateDirectory"] == ["chatapp"]
    assert "CHATAPP_DATA_DIR=/var/lib/chatapp" in settings["Environment"]
    assert settings["StandardOutput"] == ["journal"]
    assert settings["ProtectSystem"] == ["strict"]


def test_env_example_names_only_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable in the example, commented out or not, is one chatapp reads, and valid."""
    assignments = re.findall(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), re.M)
    assert len(assignments) >= 8
    fields = set(Settings.model_fields)
    for name, value in assignments:
        field = name.removeprefix("CHATAPP_").lower()
        assert field in fields, f"{name} in {ENV_EXAMPLE.name} is not a setting"
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.https_only is True
    assert settings.database.startswith("mongodb://chatapp:")


def node_eval(script: str, env: dict[str, str] | None = None) -> str:
    node = require_tool("node")
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def load_ecosystem(env: dict[str, str] | None = None) -> dict:
    return json.loads(
        node_eval(f"console.log(JSON.stringify(require({json.dumps(str(ECOSYSTEM))})))", env)
    )


def test_pm2_ecosystem_loads_with_restart_memory_and_log_settings(tmp_path: Path) -> None:
    env_file = tmp_path / "chatapp.env"
    env_file.write_text("# comment\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\nCHATAPP_PORT='9000'\n")
    config = load_ecosystem({"CHATAPP_ENV_FILE": str(env_file)})
    (app,) = config["apps"]
    assert app["autorestart"] is True
    assert app["max_memory_restart"] == "1G"
    assert app["merge_logs"] is True and app["time"] is True
    assert app["error_file"].endswith("error.log") and app["out_file"].endswith("out.log")
    assert app["interpreter"] == "none"
    # The same settings file as the systemd unit, read the way systemd reads it.
    assert app["env"]["OPENAI_BASE_URL"] == "http://127.0.0.1:9/v1"
    assert app["env"]["CHATAPP_PORT"] == "9000"
    assert app["env"]["CHATAPP_DATA_DIR"] == "/var/lib/chatapp"
    assert {"max_size", "retain", "compress"} <= set(config["logrotate"])


def pm2_apps(pm2: str, env: dict[str, str]) -> list[dict]:
    result = subprocess.run([pm2, "jlist"], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout[result.stdout.index("[") :])


def wait_for(check, what: str, attempts: int = 300):  # type: ignore[no-untyped-def]
    """Poll `check` until it returns something truthy; bounded by attempts, not a deadline."""
    for _ in range(attempts):
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_pm2_restarts_the_app_after_sigkill(tmp_path: Path, data_dir: Path) -> None:
    pm2 = require_tool("pm2")
    port = free_port()
    # The console script as `make` installs it; here a wrapper that execs the same module, so
    # the pid pm2 watches is the app's own.
    program = tmp_path / "chatapp"
    program.write_text(f'#!/bin/sh\nexec {sys.executable} -m chatapp "$@"\n')
    program.chmod(0o755)
    env_file = tmp_path / "chatapp.env"
    env_file.write_text(f"CHATAPP_PORT={port}\nCHATAPP_DATA_DIR={data_dir}\n")
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = tmp_path / "logs"
    env = {
        **os.environ,
        "PM2_HOME": str(tmp_path / "pm2"),  # a private pm2 daemon, never the machine's own
        "CHATAPP_BIN": str(program),
        "CHATAPP_ENV_FILE": str(env_file),
        "CHATAPP_LOG_DIR": str(logs),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    env.pop("PYTEST_CURRENT_TEST", None)  # NiceGUI would think the app runs inside pytest
    health = f"http://127.0.0.1:{port}/healthz"
    try:
        subprocess.run(
            [pm2, "start", str(ECOSYSTEM)], env=env, check=True, capture_output=True, cwd=tmp_path
        )
        wait_for(lambda: healthy(health), "the app to answer /healthz")
        (first,) = pm2_apps(pm2, env)
        assert first["name"] == "chatapp" and first["pm2_env"]["status"] == "online"

        os.kill(first["pid"], signal.SIGKILL)
        restarted = wait_for(
            lambda: next(
                (a for a in pm2_apps(pm2, env) if a["pid"] and a["pid"] != first["pid"]), None
            ),
            "pm2 to start a new process",
        )
        assert restarted["pm2_env"]["restart_time"] == first["pm2_env"]["restart_time"] + 1
        wait_for(lambda: healthy(health), "the restarted app to answer /healthz")
    finally:
        subprocess.run([pm2, "kill"], env=env, capture_output=True, timeout=60)
    # `time: true` stamps what pm2 writes to the merged log files (each write, so a
    # multi-line traceback is stamped once, on its first line).
    lines = (logs / "error.log").read_text().splitlines()
    assert lines and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", lines[0]), lines[:3]


def test_mongod_conf_requires_auth_and_listens_on_loopback() -> None:
    conf = yaml.safe_load(MONGOD_CONF.read_text())
    assert conf["security"]["authorization"] == "enabled"
    assert conf["net"]["bindIp"] == "127.0.0.1"
    assert conf["systemLog"]["logRotate"] == "reopen"
    assert conf["systemLog"]["logAppend"] is True
    assert conf["systemLog"]["destination"] == "file"
    assert conf["storage"]["dbPath"]


# mongosh's globals, enough to run the script under node: `db`, `print`, `passwordPrompt`.
MONGOSH_STAND_IN = """
const vm = require("vm");
const users = {};
const admin = {
  getUser: (name) => users[name] || null,
  createUser: (u) => { users[u.user] = { ...u, how: "created" }; },
  updateUser: (name, u) => { users[name] = { user: name, ...u, how: "updated" }; },
};
const context = () => ({
  process: { env: JSON.parse(process.argv[1]) },
  db: { getSiblingDB: (name) => { if (name !== "admin") throw new Error(name); return admin; } },
  print: () => {},
  passwordPrompt: () => { throw new Error("prompted"); },
});
const code = require("fs").readFileSync(process.argv[2], "utf8");
try { vm.runInNewContext(code, context()); vm.runInNewContext(code, context()); }
catch (err) { console.log(JSON.stringify({ error: err.message })); process.exit(0); }
console.log(JSON.stringify(users));
"""


def run_create_user(env: dict[str, str]) -> dict:
    node = require_tool("node")
    result = subprocess.run(
        [node, "-e", MONGOSH_STAND_IN, json.dumps(env), str(CREATE_USER)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_create_user_script_grants_read_write_on_chatapp_only() -> None:
    node = require_tool("node")
    subprocess.run([node, "--check", str(CREATE_USER)], check=True)
    users = run_create_user({"CHATAPP_DB_PASSWORD": "x" * 24})
    # Run twice: the second run updates the user rather than failing on a duplicate.
    assert users["chatapp"]["how"] == "updated"
    assert users["chatapp"]["roles"] == [{"role": "readWrite", "db": "chatapp"}]
    assert users["chatapp"]["pwd"] == "x" * 24
    assert run_create_user({}) == {"error": "prompted"}
    assert "16 characters" in run_create_user({"CHATAPP_DB_PASSWORD": "short"})["error"]
