"""A real Secret Service (GNOME Keyring under dbus-run-session) stores and returns the key; with
no backend at all the app says so and stores nothing.

Needs apt packages `gnome-keyring` and `dbus-x11` (dbus-run-session); skipped with a reason
otherwise. Each scenario runs in a subprocess so the test process's environment stays clean.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-secret-service-test-0c1d2e3f"

STORE = f"""
import json
from app.frontier.keys import KeyStore
store = KeyStore()
status = store.status()
result = {{"secure": status.secure, "name": status.name}}
if status.secure:
    result["stored_in"] = store.set_api_key("gateway", {KEY!r})
print(json.dumps(result))
"""
READ = """
import json
from app.frontier.keys import KeyStore
key = KeyStore().get_api_key("gateway")
print(json.dumps({"value": key.reveal() if key else None}))
"""
NO_BACKEND = f"""
import json
from app.frontier.keys import NoSecureStorage, KeyStore
store = KeyStore()
status = store.status()
try:
    store.set_api_key("gateway", {KEY!r})
    outcome = "stored"
except NoSecureStorage as exc:
    outcome = str(exc)
print(json.dumps({{"secure": status.secure, "message": status.message, "outcome": outcome}}))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "KEYRING"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        ENCLAVE_HOME=str(tmp_path / "enclave-home"),
        PYTHONPATH=str(REPO),
        XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    return env


def _assert_key_in_no_file(root: Path) -> None:
    needles = [KEY.encode(), base64.b64encode(KEY.encode())]
    for path in [p for p in root.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"the key is readable in {path}"


def _last_json(output: str) -> dict[str, object]:
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert lines, output
    return dict(json.loads(lines[-1]))


@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs apt packages gnome-keyring and dbus-x11 (dbus-run-session)",
)
def test_gnome_keyring_stores_and_returns_the_key(tmp_path: Path) -> None:
    env = _env(tmp_path)
    py = sys.executable
    script = (
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 && "
        f"{py} -c {_quote(STORE)} && {py} -c {_quote(READ)}"
    )
    run = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        env=env, capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    stored, read = lines[0], lines[1]
    assert stored == {"secure": True, "name": "SecretService Keyring", "stored_in": "keyring"}
    assert read == {"value": KEY}  # a second process got it back from the Secret Service
    keyrings = list((tmp_path / "home").rglob("*.keyring"))
    assert keyrings, "gnome-keyring wrote no keyring file: was it really used?"
    _assert_key_in_no_file(tmp_path)  # its file is encrypted; Enclave wrote none of its own


def test_without_a_backend_the_app_says_so_and_stores_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)  # no DBUS_SESSION_BUS_ADDRESS: no Secret Service to talk to
    run = subprocess.run(
        [sys.executable, "-c", NO_BACKEND],
        env=env, capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    result = _last_json(run.stdout)
    assert result["secure"] is False
    assert "no secure key store" in str(result["message"])
    assert "memory for this session only" in str(result["outcome"])
    _assert_key_in_no_file(tmp_path)


def _quote(code: str) -> str:
    import shlex

    return shlex.quote(code)
