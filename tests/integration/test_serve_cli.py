"""`enclave serve`'s refusals, each one sentence from the real entry point in a child process
(no model is loaded: each is refused before that)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave


@pytest.fixture
def no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home where no Secret Service is reachable (as on a headless box)."""
    for name in [n for n in os.environ if n.startswith(("DBUS_", "KEYRING"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-runtime"))
    return tmp_path / "home"


def test_no_key_yet_says_how_to_make_one(no_keyring: Path) -> None:
    proc = enclave(no_keyring, "serve", "--port", "0", check=False)
    assert proc.returncode == 1
    assert "no API key for `enclave serve` yet: run `enclave serve --new-key`" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_new_key_without_a_keyring_stores_nothing(no_keyring: Path) -> None:
    proc = enclave(no_keyring, "serve", "--new-key", check=False)
    assert proc.returncode == 1
    assert "no secure key store" in proc.stderr and "--session-key" in proc.stderr
    assert proc.stdout == ""  # no key shown: none was kept


def test_another_address_needs_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    proc = enclave(home, "serve", "--host", "0.0.0.0", "--session-key", check=False)
    assert proc.returncode == 1
    assert "loopback (127.0.0.1) only" in proc.stderr
    assert "serve.listen" in proc.stderr
    assert proc.stdout == ""  # refused before a key was made or shown
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "serve": {"listen": ["10.20.0.5"]}}))
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy))
    proc = enclave(home, "serve", "--host", "0.0.0.0", "--session-key", check=False)
    assert proc.returncode == 1 and "not allow listening on 0.0.0.0" in proc.stderr


def test_a_host_name_and_a_missing_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = enclave(home, "serve", "--host", "my-laptop", "--session-key", check=False)
    assert proc.returncode == 1 and "--host takes an IP address" in proc.stderr
    proc = enclave(home, "serve", "-w", "nope", "--session-key", "--port", "0", check=False)
    assert proc.returncode == 1 and "There is no workspace called 'nope'" in proc.stderr
    assert proc.stdout == ""  # no key made for a server that cannot start
    assert "Traceback" not in proc.stderr
