"""Where `enclave serve` listens, and running uvicorn there with no access log.

The listening socket is made here, for an address the policy allows (loopback unless the
administrator's `serve.listen` names another; app.privacy.policy), and handed to uvicorn, so no
name is ever looked up and the egress guard stays as it is: accepting connections opens no way
out. uvicorn's access log is off and its own log keeps to warnings without content (the
request line, which could hold a query, is never written).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from app.serve.errors import ServeError

if TYPE_CHECKING:
    from app.privacy.policy import Policy

__all__ = ["listening_socket", "serve_forever"]


def listening_socket(host: str, port: int, policy: Policy) -> socket.socket:
    """A socket listening on host:port (port 0: a free one). ServeError in one sentence for an
    address the policy does not allow, a host name, or a port in use."""
    address = "127.0.0.1" if host.strip().lower() == "localhost" else host.strip().strip("[]")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ServeError(f"--host takes an IP address (such as 127.0.0.1), not {host!r}.") from None
    if not policy.allows_listen(str(ip)):
        raise ServeError(
            f"Enclave serves on loopback (127.0.0.1) only: your administrator's policy does not "
            f"allow listening on {ip} (serve.listen in policy.json)."
            + (f" {policy.problem}" if policy.problem else "")
        )
    if not 0 <= port <= 65535:
        raise ServeError(f"--port must be between 0 and 65535, not {port}.")
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((str(ip), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(f"Cannot listen on {ip} port {port}: {exc.strerror or exc}.") from None
    return sock


def serve_forever(app: Any, sock: socket.socket, on_ready: Callable[[], None]) -> None:
    """Run uvicorn on `sock` until SIGINT/SIGTERM; `on_ready()` once it accepts requests."""
    import uvicorn

    config = uvicorn.Config(
        app,
        http="h11",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=5,
    )

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                on_ready()

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn raises a stop signal again after its graceful shutdown (SIGTERM would then
            # kill the process before Enclave closes its models); here it is the normal end.
            self._captured_signals.clear()

    ReadyServer(config).run(sockets=[sock])
