"""app.serve's HTTP layer and its queue with a scripted pipeline (fast unit tests: the real
model, index and server are in tests/integration/test_serve_openai.py), and the listening
socket with real sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.chat.types import AskOptions, ChatAnswer, ChatEvent, EvidenceFound
from app.frontier.keys import ApiKey
from app.library.workspaces import Workspace
from app.privacy.policy import Policy, parse_policy
from app.serve.api_key import KeyCheck
from app.serve.dispatch import Answering
from app.serve.errors import ServeError
from app.serve.listen import listening_socket
from app.serve.names import Target
from app.serve.server import create_app
from models.types import CancelToken
from tests.unit.test_serve_mapping import QUOTE, _answer, _quote

KEY = "enclave-unit-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
ACME = Workspace("acme", "ACME", "2026-01-01", Path("/nonexistent/acme"))


class ScriptedBackend:
    """The evidence, then an evidence-only answer; or, with `hold`, waits until cancelled."""

    def __init__(self, max_pending: int = 4) -> None:
        self.released: list[str] = []
        self.hold = False
        self.asked: list[tuple[str, AskOptions]] = []
        self.answering = Answering(self._ask, self.released.append, max_pending=max_pending)

    def model_names(self) -> list[str]:
        return ["enclave:acme", "enclave:acme:m1"]

    def resolve(self, target: Target, conversation_id: str | None) -> Workspace:
        if target.workspace != "acme":
            raise ServeError("There is no workspace.", status=404, code="model_not_found")
        return ACME

    def _ask(
        self, ws: Workspace, question: str, options: AskOptions, cancel: CancelToken
    ) -> Iterator[ChatEvent]:
        self.asked.append((question, options))
        ev = [_quote()]
        yield EvidenceFound(ev)
        while self.hold and not cancel.cancelled:
            threading.Event().wait(0.01)
        yield _answer(
            f"\u201c{QUOTE}\u201d [1]", ev, evidence_only=True, cancelled=cancel.cancelled
        )


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def client(backend: ScriptedBackend) -> TestClient:
    return TestClient(create_app(backend, KeyCheck(ApiKey(KEY))))


AUTH = {"Authorization": f"Bearer {KEY}"}
BODY = {"model": "enclave:acme", "messages": [{"role": "user", "content": "Which law?"}]}


def test_every_route_needs_the_key(client: TestClient) -> None:
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            response = client.request(method, path, headers=headers, json=BODY)
            assert response.status_code == 401
            error = response.json()["error"]
            assert error["code"] == "invalid_api_key" and "API key" in error["message"]


def test_models_and_errors_in_openais_shape(client: TestClient) -> None:
    models = client.get("/v1/models", headers=AUTH).json()
    assert [m["id"] for m in models["data"]] == ["enclave:acme", "enclave:acme:m1"]
    assert client.get("/v1/models/enclave:acme:m1", headers=AUTH).json()["id"] == "enclave:acme:m1"
    assert client.get("/v1/models/gpt-4", headers=AUTH).status_code == 404
    wrong = client.post("/v1/chat/completions", headers=AUTH, json={**BODY, "model": "gpt-4"})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "model_not_found"
    bad = client.post("/v1/chat/completions", headers=AUTH, content=b"{not json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["error"]["message"]
    assert client.get("/v2/other", headers=AUTH).json()["error"]["type"] == "invalid_request_error"
    assert client.get("/v1/chat/completions", headers=AUTH).status_code == 405


def test_a_whole_answer(client: TestClient, backend: ScriptedBackend) -> None:
    reply = client.post(
        "/v1/chat/completions", headers=AUTH, json={**BODY, "reasoning_effort": "low"}
    ).json()
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"]["content"].startswith("From your documents:\n[1]")
    assert reply["enclave"]["evidence"][0]["quote"] == QUOTE
    assert backend.asked == [("Which law?", AskOptions(choice="quick"))]
    assert backend.released == ["acme"]  # the index is let go when no request uses it


def test_a_streamed_answer_in_openais_chunk_format(client: TestClient) -> None:
    with client.stream(
        "POST", "/v1/chat/completions", headers=AUTH, json={**BODY, "stream": True}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[1]["choices"][0]["delta"]["content"].startswith("From your documents:")
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["enclave"]["citations"][0]["n"] == 1
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_beyond_max_pending_a_request_is_told_to_wait() -> None:
    backend = ScriptedBackend(max_pending=1)
    backend.hold = True

    async def scenario() -> tuple[ServeError, ChatAnswer]:
        loop = asyncio.get_running_loop()
        first = backend.answering.start(loop, ACME, "Q1", AskOptions())
        with pytest.raises(ServeError) as busy:
            backend.answering.start(loop, ACME, "Q2", AskOptions())
        assert backend.answering.pending == 1
        assert isinstance(await first.next(), EvidenceFound)
        first.cancel.cancel()  # what a client that goes away does: the answer stops
        answer = await first.next()
        assert isinstance(answer, ChatAnswer)
        assert await first.next() is None
        return busy.value, answer

    busy, answer = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert busy.status == 429 and busy.kind == "rate_limit_error"
    assert answer.cancelled
    assert backend.answering.pending == 0
    assert backend.released == ["acme"]


def test_an_error_inside_the_answer_reaches_the_client_as_one_sentence() -> None:
    from app.chat.errors import ChatError

    def failing(*_: Any) -> Iterator[ChatEvent]:
        raise ChatError("That conversation belongs to another workspace.")
        yield  # a generator

    backend = ScriptedBackend()
    backend.answering = Answering(failing, backend.released.append)
    client = TestClient(create_app(backend, KeyCheck(ApiKey(KEY))))
    whole = client.post("/v1/chat/completions", headers=AUTH, json=BODY)
    assert whole.status_code == 400
    assert whole.json()["error"]["message"] == "That conversation belongs to another workspace."
    with client.stream(
        "POST", "/v1/chat/completions", headers=AUTH, json={**BODY, "stream": True}
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert "another workspace" in json.loads(lines[-2].removeprefix("data: "))["error"]["message"]


# -- where it listens -------------------------------------------------------------------------
def test_loopback_always_and_a_free_port() -> None:
    sock = listening_socket("127.0.0.1", 0, Policy.closed())
    try:
        host, port = sock.getsockname()[:2]
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(ServeError, match=r"Cannot listen on 127\.0\.0\.1 port"):
            listening_socket("127.0.0.1", port, Policy.closed()).close()
    finally:
        sock.close()
    listening_socket("localhost", 0, Policy.closed()).close()


@pytest.mark.parametrize("host", ["0.0.0.0", "10.20.0.5", "::"])
def test_another_address_only_when_the_policy_names_it(host: str) -> None:
    with pytest.raises(ServeError, match=r"loopback \(127.0.0.1\) only"):
        listening_socket(host, 0, Policy.closed())
    with pytest.raises(ServeError, match="loopback"):
        listening_socket(host, 0, parse_policy({"version": 1, "serve": {"listen": ["10.9.9.9"]}}))


def test_a_listed_address_is_listened_on_and_nothing_can_leave() -> None:
    from app.privacy.egress import GUARD, EgressRefused

    policy = parse_policy({"version": 1, "serve": {"listen": ["0.0.0.0"]}})
    sock = listening_socket("0.0.0.0", 0, policy)
    try:
        assert sock.getsockname()[0] == "0.0.0.0"
        assert GUARD.installed  # tests/conftest.py installs it, as every entry point does
        with socket.socket() as out, pytest.raises(EgressRefused):
            out.connect(("192.0.2.1", 443))  # the guard still allows loopback only
    finally:
        sock.close()


def test_a_host_name_is_not_looked_up() -> None:
    with pytest.raises(ServeError, match="takes an IP address"):
        listening_socket("lan-host.internal", 0, Policy.closed())
