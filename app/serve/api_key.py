"""The API key of `enclave serve`: made once, kept in the OS keyring (app.frontier.keys), shown
once; every request must carry it as `Authorization: Bearer <key>`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.frontier.keys import ApiKey, KeyStore

__all__ = ["KEY_ID", "KeyCheck", "make_key", "store_new_key", "stored_key"]

# The key's name in the keyring. A policy endpoint id must start with a letter or digit, so no
# frontier endpoint's key can ever be this one.
KEY_ID = "_enclave-serve"


def make_key() -> str:
    """A new random key (256 bits)."""
    return "enclave-" + secrets.token_urlsafe(32)


def store_new_key(keys: KeyStore) -> str:
    """Make a key and keep it in the OS keyring, replacing the earlier one; return it (to be
    shown once). Raises NoSecureStorage where there is no keyring."""
    key = make_key()
    keys.set_api_key(KEY_ID, key)
    return key


def stored_key(keys: KeyStore) -> ApiKey | None:
    return keys.get_api_key(KEY_ID)


class KeyCheck:
    """Compares a request's Authorization header with the key in constant time."""

    def __init__(self, key: ApiKey) -> None:
        self._digest = hashlib.sha256(key.reveal().encode()).digest()

    def allows(self, authorization: str | None) -> bool:
        scheme, _, given = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return False
        digest = hashlib.sha256(given.strip().encode()).digest()
        return hmac.compare_digest(digest, self._digest)
