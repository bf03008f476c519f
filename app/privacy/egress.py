"""A process-wide guard: no socket leaves loopback unless a call has been explicitly allowed.

It wraps `socket.socket.connect`/`connect_ex`/`sendto` and `socket.getaddrinfo`, so every Python
library (httpx, urllib, requests, chromadb's posthog) goes through it. Native code that opens
sockets itself is invisible here; the strace test checks the whole process from outside.

`allow(host, port)` is the only way through: a context manager the frontier route enters for
exactly one approved, consented request. Every attempt, allowed or refused, is reported to the
recorder (the audit ledger) without any content.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from app.errors import EnclaveError

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class EgressRefused(EnclaveError, ConnectionRefusedError):
    """Raised instead of opening a connection (or DNS lookup) to a non-loopback address."""


@dataclass(frozen=True)
class EgressEvent:
    host: str
    port: int | None
    kind: str  # "connect" or "dns"
    allowed: bool


Recorder = Callable[[EgressEvent], None]


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class _Guard:
    def __init__(self) -> None:
        self.installed = False
        self._lock = threading.Lock()
        self._allowed: dict[tuple[str, int], int] = {}  # (host, port) -> active allowances
        self._resolved: dict[str, set[str]] = {}  # allowed host -> its resolved addresses
        self.recorder: Recorder | None = None
        self.refused_count = 0
        self._orig: dict[str, Any] = {}

    # -- decisions -------------------------------------------------------------------------
    def _host_allowed(self, host: str, port: int | None) -> bool:
        with self._lock:
            for (allowed_host, allowed_port), count in self._allowed.items():
                if count <= 0 or (port is not None and port != allowed_port):
                    continue
                if host == allowed_host or host in self._resolved.get(allowed_host, set()):
                    return True
        return False

    def _check(self, host: str, port: int | None, kind: str) -> None:
        if is_loopback(host):
            return
        allowed = self._host_allowed(host, port)
        if self.recorder is not None:
            self.recorder(EgressEvent(host=host, port=port, kind=kind, allowed=allowed))
        if not allowed:
            with self._lock:
                self.refused_count += 1
            raise EgressRefused(
                f"Enclave is offline: a {kind} to {host}"
                f"{'' if port is None else f':{port}'} was blocked. Only an approved, consented "
                "frontier call may leave this computer."
            )

    # -- patched functions -----------------------------------------------------------------
    def _address_host(self, address: Any) -> tuple[str, int | None] | None:
        if isinstance(address, tuple) and address and isinstance(address[0], str):
            port = address[1] if len(address) > 1 and isinstance(address[1], int) else None
            return address[0], port
        return None  # AF_UNIX paths and the like never leave the machine

    def install(self) -> None:
        with self._lock:
            if self.installed:
                return
            self._orig = {
                "connect": socket.socket.connect,
                "connect_ex": socket.socket.connect_ex,
                "sendto": socket.socket.sendto,
                "getaddrinfo": socket.getaddrinfo,
            }
            self.installed = True
        guard = self
        orig = self._orig

        def connect(sock: socket.socket, address: Any) -> None:
            target = guard._address_host(address)
            if target is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                guard._check(target[0], target[1], "connect")
            return orig["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            target = guard._address_host(address)
            if target is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                guard._check(target[0], target[1], "connect")
            return orig["connect_ex"](sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            address = args[-1] if args else None
            target = guard._address_host(address)
            if target is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                guard._check(target[0], target[1], "connect")
            return orig["sendto"](sock, data, *args)

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None:
                name = host.decode() if isinstance(host, bytes) else str(host)
                if not is_loopback(name):
                    guard._check(name, port if isinstance(port, int) else None, "dns")
            return orig["getaddrinfo"](host, port, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo

    def uninstall(self) -> None:
        """For tests only: restore the original socket functions."""
        with self._lock:
            if not self.installed:
                return
            socket.socket.connect = self._orig["connect"]  # type: ignore[method-assign]
            socket.socket.connect_ex = self._orig["connect_ex"]  # type: ignore[method-assign]
            socket.socket.sendto = self._orig["sendto"]  # type: ignore[method-assign]
            socket.getaddrinfo = self._orig["getaddrinfo"]
            self.installed = False

    @contextmanager
    def allow(self, host: str, port: int) -> Iterator[None]:
        """Let connections to exactly host:port through while the block runs."""
        host = host.lower()
        with self._lock:
            self._allowed[(host, port)] = self._allowed.get((host, port), 0) + 1
        try:
            if not is_loopback(host):
                infos = self._orig.get("getaddrinfo", socket.getaddrinfo)(host, port)
                with self._lock:
                    self._resolved.setdefault(host, set()).update(str(info[4][0]) for info in infos)
            yield
        finally:
            with self._lock:
                self._allowed[(host, port)] -= 1
                if self._allowed[(host, port)] <= 0:
                    del self._allowed[(host, port)]
                    self._resolved.pop(host, None)

    @property
    def open_allowances(self) -> int:
        with self._lock:
            return sum(self._allowed.values())

    def close_allowances(self) -> int:
        """Close every open allowance (for a test harness after a test that failed with one
        open); returns how many there were."""
        with self._lock:
            count = sum(self._allowed.values())
            self._allowed.clear()
            self._resolved.clear()
            return count


GUARD = _Guard()


def install_egress_guard(recorder: Recorder | None = None) -> None:
    """Install the guard (idempotent). Call first thing in every entry point."""
    if recorder is not None:
        GUARD.recorder = recorder
    GUARD.install()


def allow(host: str, port: int) -> Any:
    """Context manager: the one way through the guard (for an approved, consented call)."""
    return GUARD.allow(host, port)
