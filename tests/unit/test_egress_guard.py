"""The egress guard refuses every non-loopback connect and DNS lookup, except while allowed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.privacy.egress import GUARD, EgressEvent, EgressRefused, allow, is_loopback


@pytest.fixture()
def events() -> Iterator[list[EgressEvent]]:
    seen: list[EgressEvent] = []
    previous = GUARD.recorder
    GUARD.recorder = seen.append
    yield seen
    GUARD.recorder = previous


def test_guard_is_installed_for_every_test() -> None:
    assert GUARD.installed


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback_names(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["203.0.113.10", "10.0.0.1", "192.168.1.1", "example.com", "::2"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_connect_to_public_address_is_refused_before_any_packet(events: list[EgressEvent]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(EgressRefused, match="offline"):
            sock.connect(("203.0.113.10", 443))  # TEST-NET-3: never routable
        assert sock.connect_ex.__name__  # the socket is still usable as an object
        with pytest.raises(EgressRefused):
            sock.connect_ex(("198.51.100.7", 80))
    finally:
        sock.close()
    assert [(e.host, e.port, e.allowed) for e in events] == [
        ("203.0.113.10", 443, False),
        ("198.51.100.7", 80, False),
    ]


def test_dns_lookup_is_refused(events: list[EgressEvent]) -> None:
    with pytest.raises(EgressRefused):
        socket.getaddrinfo("example.com", 443)
    assert events[-1].kind == "dns" and not events[-1].allowed


def test_udp_sendto_is_refused() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(EgressRefused):
            sock.sendto(b"x", ("203.0.113.10", 53))
    finally:
        sock.close()


def test_allowance_lets_exactly_that_host_and_port_through(events: list[EgressEvent]) -> None:
    with allow("203.0.113.10", 443):
        assert GUARD._host_allowed("203.0.113.10", 443)
        assert not GUARD._host_allowed("203.0.113.10", 80)
        assert not GUARD._host_allowed("203.0.113.11", 443)
    assert not GUARD._host_allowed("203.0.113.10", 443)
    assert GUARD.open_allowances == 0


def test_loopback_http_works_with_the_guard_on() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/") as reply:
        assert reply.read() == b"ok"
    thread.join(5)
    server.server_close()
