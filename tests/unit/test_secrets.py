"""API keys: OS keyring only, memory for the session as the fallback, never a file."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path
from typing import Any

import pytest

from app.frontier.keys import (
    SERVICE_NAME,
    ApiKey,
    KeyStore,
    KeyStoreError,
    NoSecureStorage,
)

KEY = "sk-unit-test-5a4b3c2d1e"


class MemoryKeyring:
    """A stand-in keyring backend (tests only): a dict."""

    name = "memory"

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, value: str) -> None:
        self.store[(service, user)] = value

    def get_password(self, service: str, user: str) -> str | None:
        return self.store.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        if (service, user) not in self.store:  # what the real backends do
            from keyring.errors import PasswordDeleteError

            raise PasswordDeleteError("Password not found")
        del self.store[(service, user)]


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's base64 'plaintext' file keyring."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def test_api_key_hides_its_value() -> None:
    key = ApiKey(f"  {KEY}\n")
    assert key.reveal() == KEY
    assert KEY not in repr(key) and KEY not in str(key) and KEY not in f"{key}"
    assert KEY not in repr({"key": key})
    with pytest.raises(TypeError):
        pickle.dumps(key)
    for bad in ("", "   ", "a\nb", "x" * 5000):
        with pytest.raises(KeyStoreError):
            ApiKey(bad)


def test_keyring_round_trip() -> None:
    backend = MemoryKeyring()
    store = KeyStore(backend, trust_backend=True)
    assert store.status().secure
    assert store.set_api_key("gateway", KEY) == "keyring"
    assert backend.store == {(SERVICE_NAME, "frontier-api-key:gateway"): KEY}
    fetched = store.get_api_key("gateway")
    assert fetched is not None and fetched.reveal() == KEY
    assert store.storage_of("gateway") == "keyring"
    store.delete_api_key("gateway")
    assert store.get_api_key("gateway") is None
    store.delete_api_key("gateway")  # deleting a missing key is fine


@pytest.mark.parametrize("backend", [PlaintextKeyring(), object()])
def test_insecure_backends_are_refused_and_nothing_is_stored(backend: Any) -> None:
    store = KeyStore(backend)
    status = store.status()
    assert not status.secure and "no secure key store" in status.message
    with pytest.raises(NoSecureStorage, match="memory for this session only"):
        store.set_api_key("gateway", KEY)
    if isinstance(backend, MemoryKeyring):
        assert backend.store == {}


def test_session_only_key_lives_in_memory() -> None:
    store = KeyStore(PlaintextKeyring())
    assert store.keep_for_session("gateway", KEY) == "session"
    fetched = store.get_api_key("gateway")
    assert fetched is not None and fetched.reveal() == KEY
    assert store.storage_of("gateway") == "session"
    store.forget_session()
    assert store.get_api_key("gateway") is None


def test_a_failing_keyring_says_so_without_the_key() -> None:
    class Broken(MemoryKeyring):
        def set_password(self, service: str, user: str, value: str) -> None:
            raise RuntimeError(f"cannot store {value}")

    with pytest.raises(KeyStoreError) as error:
        KeyStore(Broken(), trust_backend=True).set_api_key("gateway", KEY)
    assert KEY not in str(error.value) and error.value.__cause__ is None


def test_headless_machine_has_no_secure_backend_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enclave_home: Path
) -> None:
    """The real `keyring` library on a box without a Secret Service (this CI machine)."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    store = KeyStore()
    assert not store.status().secure
    with pytest.raises(NoSecureStorage):
        store.set_api_key("gateway", KEY)
    needles = [KEY.encode(), base64.b64encode(KEY.encode())]
    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        assert not any(n in data for n in needles), path
