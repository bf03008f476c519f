"""API keys for approved frontier endpoints: in the OS keyring, or in memory for this session only.

The only module that imports `keyring`. A key is stored with the platform's secure store (macOS
Keychain, Windows Credential Locker, the freedesktop Secret Service: GNOME Keyring, KWallet) and
nowhere else. Backends that are not secure storage are refused: `keyring`'s `fail` and `null`
backends, and every `keyrings.alt` file backend (its "plaintext" keyring is base64, not
encryption). Where none is available (a headless Linux box), `set_api_key()` raises
`NoSecureStorage`, whose message says so and offers `keep_for_session()`: the key then lives in
this process's memory until it exits. Enclave never writes a key to a file of its own.

A key comes back wrapped in `ApiKey`, whose repr/str are masked and which cannot be pickled, so it
does not end up in settings, logs, exports or crash reports by accident.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Literal

from app.errors import EnclaveError

SERVICE_NAME = "Enclave"
_SECURE_BACKEND_MODULES = (
    "keyring.backends.macOS",
    "keyring.backends.Windows",
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
)
NO_SECURE_STORAGE_MESSAGE = (
    "This computer has no secure key store (no OS keyring such as Keychain, Windows Credential "
    "Locker or a Secret Service like GNOME Keyring is available), so Enclave will not save the "
    "API key. It can keep the key in memory for this session only; you will be asked again "
    "next time. The key is never written to a file."
)


class KeyStoreError(EnclaveError):
    """The key store failed; the message is for the user and never contains the key."""


class NoSecureStorage(KeyStoreError):
    """No secure backend. Offer `KeyStore.keep_for_session()` instead."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(NO_SECURE_STORAGE_MESSAGE + (f" ({detail})" if detail else ""))


class ApiKey:
    """A key in memory. `reveal()` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value:
            raise KeyStoreError("The API key is empty.")
        if len(value) > 4096 or any(ch in value for ch in "\r\n\x00"):
            raise KeyStoreError("That does not look like an API key (too long or multi-line).")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("An API key cannot be pickled or serialised.")


@dataclass(frozen=True)
class BackendStatus:
    secure: bool
    name: str  # the keyring backend class, e.g. "SecretService Keyring"; "none" if none
    message: str  # a sentence for the settings screen


Storage = Literal["keyring", "session"]


def _is_secure(backend: Any) -> bool:
    module = type(backend).__module__
    return module.startswith(_SECURE_BACKEND_MODULES)


def _username(endpoint_id: str) -> str:
    return f"frontier-api-key:{endpoint_id}"


class KeyStore:
    """Keys per approved endpoint id. Thread-safe.

    `backend`: a keyring backend object (tests inject one); None picks the OS default lazily.
    `trust_backend=True` accepts an injected backend that is not on the secure list (tests only).
    """

    def __init__(self, backend: Any | None = None, *, trust_backend: bool = False) -> None:
        self._backend = backend
        self._trusted = trust_backend
        self._resolved = backend is not None
        self._session: dict[str, ApiKey] = {}
        self._lock = threading.Lock()

    # -- backend ---------------------------------------------------------------------------
    def _secure_backend(self) -> Any | None:
        with self._lock:
            if not self._resolved:
                self._backend = _find_secure_backend()
                self._resolved = True
            backend = self._backend
        if backend is None:
            return None
        if self._trusted or _is_secure(backend):
            return backend
        return None

    def status(self) -> BackendStatus:
        backend = self._secure_backend()
        if backend is None:
            return BackendStatus(False, "none", NO_SECURE_STORAGE_MESSAGE)
        name = getattr(backend, "name", type(backend).__name__)
        return BackendStatus(True, str(name), f"API keys are stored in {name}.")

    # -- keys ------------------------------------------------------------------------------
    def set_api_key(self, endpoint_id: str, key: str) -> Storage:
        """Store `key` in the OS keyring. Raises NoSecureStorage where there is none."""
        api_key = ApiKey(key)
        backend = self._secure_backend()
        if backend is None:
            raise NoSecureStorage()
        try:
            backend.set_password(SERVICE_NAME, _username(endpoint_id), api_key.reveal())
        except Exception as exc:  # keyring raises many types; none may carry the key out
            raise KeyStoreError(
                f"The OS key store refused to save the key ({type(exc).__name__}). "
                "Nothing was saved."
            ) from None
        with self._lock:
            self._session.pop(endpoint_id, None)
        return "keyring"

    def keep_for_session(self, endpoint_id: str, key: str) -> Storage:
        """Hold the key in this process's memory only (the user accepted the offer)."""
        api_key = ApiKey(key)
        with self._lock:
            self._session[endpoint_id] = api_key
        return "session"

    def get_api_key(self, endpoint_id: str) -> ApiKey | None:
        with self._lock:
            in_memory = self._session.get(endpoint_id)
        if in_memory is not None:
            return in_memory
        backend = self._secure_backend()
        if backend is None:
            return None
        try:
            value = backend.get_password(SERVICE_NAME, _username(endpoint_id))
        except Exception as exc:
            raise KeyStoreError(
                f"The OS key store could not be read ({type(exc).__name__}); it may be locked."
            ) from None
        return ApiKey(value) if value else None

    def storage_of(self, endpoint_id: str) -> Storage | None:
        with self._lock:
            if endpoint_id in self._session:
                return "session"
        return "keyring" if self.get_api_key(endpoint_id) is not None else None

    def delete_api_key(self, endpoint_id: str) -> None:
        """Forget the key everywhere (memory and keyring). Missing keys are fine."""
        with self._lock:
            self._session.pop(endpoint_id, None)
        backend = self._secure_backend()
        if backend is None:
            return
        try:
            backend.delete_password(SERVICE_NAME, _username(endpoint_id))
        except Exception as exc:
            if type(exc).__name__ != "PasswordDeleteError":
                raise KeyStoreError(
                    f"The OS key store could not delete the key ({type(exc).__name__})."
                ) from None

    def forget_session(self) -> None:
        with self._lock:
            self._session.clear()


def _find_secure_backend() -> Any | None:
    """The OS default keyring if it is secure, else any viable secure one, else None."""
    try:
        import keyring
        import keyring.backend
    except ImportError:
        return None
    try:
        default = keyring.get_keyring()
    except Exception:
        default = None
    candidates: list[Any] = []
    if default is not None:
        candidates.extend(getattr(default, "backends", None) or [default])
    with contextlib.suppress(Exception):
        candidates.extend(keyring.backend.get_all_keyring())
    for backend in candidates:
        if _is_secure(backend) and _viable(backend):
            return backend
    return None


def _viable(backend: Any) -> bool:
    try:
        return float(type(backend).priority) > 0
    except Exception:
        return False
