"""A real OpenAI-compatible server behind a streaming, recording proxy, for the inference-server
tests (tests/integration/test_inference_server.py, tests/ui/test_window_inference_server.py).

`served(model)` runs `python -m llama_cpp.server` (tests/llama_server.py) with an API key on a
free loopback port behind a `StreamingProxy`: it forwards the answer as it streams, records each
request body and reply, and can slow the stream down, add the key itself (a gateway holding
it), or SIGKILL the server in the middle of an answer. `make_ca`/`server_tls` make a real
internal CA and a certificate for 127.0.0.1 with openssl.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.privacy.egress import GUARD
from tests.llama_server import llama_server

API_KEY = "sk-team-server-5a4b3c2d1e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StreamingProxy:
    """Forwards to a llama server as the answer streams; records what passed; can kill it."""

    upstream: int
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    bodies: list[bytes] = field(default_factory=list)
    replies: list[bytes] = field(default_factory=list)
    allowances: list[int] = field(default_factory=list)  # egress allowances open on arrival
    kill_after: int | None = None  # SIGKILL the server after this many streamed events
    killed: bool = False
    delay_s: float = 0.0  # pause after each streamed event (an answer slow enough to stop)
    add_key: bool = False  # add the server's key itself (a gateway that holds the key)
    client_gone: bool = False  # the client closed the connection mid-answer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer_text(self, n: int = -1) -> str:
        """The answer text inside a recorded SSE reply (read independently of the client)."""
        text = []
        for line in self.replies[n].decode().splitlines():
            if line.startswith("data: {"):
                for choice in json.loads(line[6:]).get("choices", []):
                    text.append((choice.get("delta") or {}).get("content") or "")
        return "".join(text)


def handler(proxy: StreamingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            proxy.bodies.append(body)
            proxy.allowances.append(GUARD.open_allowances)
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=120)
            forward = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            if proxy.add_key:
                forward["Authorization"] = f"Bearer {API_KEY}"
            upstream.request("POST", self.path, body=body, headers=forward)
            reply = upstream.getresponse()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.getheader("Content-Type", "text/plain"))
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            raw, events = b"", 0
            while True:
                try:
                    line = reply.readline()
                except (OSError, http.client.HTTPException):
                    line = b""
                if not line:
                    break
                raw += line
                events += line.startswith(b"data:")
                try:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                except OSError:  # the client went away (Stop, Ctrl-C)
                    proxy.client_gone = True
                    break
                if proxy.delay_s and line.startswith(b"data:"):
                    time.sleep(proxy.delay_s)
                if proxy.kill_after is not None and events >= proxy.kill_after:
                    assert proxy.process is not None
                    os.kill(proxy.process.pid, signal.SIGKILL)  # the server dies mid-answer
                    proxy.process.wait()
                    proxy.killed = True
                    break
            proxy.replies.append(raw)
            if proxy.killed or proxy.client_gone:  # no end: the connection just drops
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def start_proxy(proxy: StreamingProxy, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(proxy))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    proxy.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate authority (openssl), returned as (cert, key)."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(folder: Path, ca: tuple[Path, Path]) -> ssl.SSLContext:
    """A TLS context for 127.0.0.1 with a certificate the CA signed (subjectAltName IP)."""
    key, csr, cert = folder / "srv.key", folder / "srv.csr", folder / "srv.pem"
    ext = folder / "srv.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    subprocess.run(
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(csr)], check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
         "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
    return conn.getresponse().status == 200


@contextmanager
def served(model: Path) -> Iterator[StreamingProxy]:
    """A real llama server with a key, behind a streaming proxy."""
    port = free_port()
    with llama_server(
        model, "127.0.0.1", port, lambda: ready(port), extra=("--api_key", API_KEY)
    ) as process:
        proxy = StreamingProxy(upstream=port, process=process)
        server = start_proxy(proxy)
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
