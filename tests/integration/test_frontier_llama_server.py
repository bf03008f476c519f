"""The frontier route against a real OpenAI-compatible server on loopback.

`python -m llama_cpp.server` serves the embedded SmolLM2 GGUF with an API key; a small recording
reverse proxy (stdlib http.server) sits in front of it, so the tests assert on the bytes that
actually left the client: the approved "frontier" is the proxy's loopback URL. The real client
(models.openai_client), the real policy file, the real ledger on disk and the real egress guard
(installed by tests/conftest.py) are used throughout.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import record_egress
from app.cli import audit
from app.frontier.gateway import FrontierGateway, FrontierRefused, answer_with_fallback
from app.frontier.keys import KeyStore
from app.paths import Paths
from app.privacy.egress import GUARD
from app.privacy.ledger import AuditLedger
from app.privacy.policy import load_policy
from models.types import GenerationOptions
from tests.llama_server import llama_server as llama_server_process

pytestmark = pytest.mark.slow

API_KEY = "sk-enclave-test-9f8e7d6c5b4a"
WORKSPACE = "clinic"
OPTIONS = GenerationOptions(max_tokens=32, temperature=0.0, seed=0)

# Identifiers planted in the question and the documents: none may cross the wire.
CANARIES = [
    "Margaret Ellison", "Ellison", "Margaret", "00482913", "03/14/1952", "(617) 555-0143",
    "617", "5550143", "Karen Ellison-Moss", "Karen", "078-05-1120", "078051120",
    "m.ellison@example.org", "1457389204", "88 Pinecrest Lane", "Pinecrest", "Daniel Whitcombe",
    "Whitcombe", "ACC-99120374", "99120374", "Case No. 1:23-cv-04417", "04417",
]  # fmt: skip
QUESTION = "Who is the daughter of Margaret Ellison?"
DOCUMENTS = [
    "DISCHARGE SUMMARY\nPatient: Margaret Ellison   MRN: 00482913   DOB: 03/14/1952\n"
    "SSN 078-05-1120. Home: 88 Pinecrest Lane, Asheville, NC 28803.\n"
    "Margaret Ellison was admitted with community-acquired pneumonia and treated with "
    "ceftriaxone. Her daughter Karen Ellison-Moss can be reached at (617) 555-0143.",
    "Attending: Daniel Whitcombe, MD (NPI 1457389204). Billing account ACC-99120374. "
    "Email for the family: m.ellison@example.org. Related litigation: Case No. 1:23-cv-04417.",
]


# -- servers ----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(smollm2_path: Path) -> Iterator[int]:
    """A real OpenAI-compatible server (llama-cpp-python[server]) on a free loopback port."""
    port = _free_port()

    def ready() -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
        return conn.getresponse().status == 200

    with llama_server_process(smollm2_path, "127.0.0.1", port, ready, extra=("--api_key", API_KEY)):
        yield port


@dataclass
class Exchange:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response: bytes = b""


@dataclass
class RecordingProxy:
    """Forwards to the llama server and keeps every request and response it saw."""

    port: int
    upstream: int
    exchanges: list[Exchange] = field(default_factory=list)
    force_status: int | None = None  # answer this status itself (a gateway's 429, say)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def all_bytes_sent(self) -> bytes:
        parts = []
        for ex in self.exchanges:
            parts.append(ex.path.encode())
            parts += [f"{k}: {v}".encode() for k, v in ex.headers.items()]
            parts.append(ex.body)
        return b"\n".join(parts)


def _handler(proxy: RecordingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            exchange = Exchange(self.path, dict(self.headers.items()), body)
            proxy.exchanges.append(exchange)
            if proxy.force_status is not None:
                payload = json.dumps({"error": {"message": "slow down"}}).encode()
                self.send_response(proxy.force_status)
                self.send_header("Retry-After", "7")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                exchange.status, exchange.response = proxy.force_status, payload
                return
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=600)
            forward = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request("POST", self.path, body=body, headers=forward)
            reply = upstream.getresponse()
            data = reply.read()
            exchange.status, exchange.response = reply.status, data
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.getheader("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture(scope="module")
def proxy_server(llama_server: int) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(port=0, upstream=llama_server)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    proxy.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield proxy
    server.shutdown()
    server.server_close()


@pytest.fixture()
def proxy(proxy_server: RecordingProxy) -> RecordingProxy:
    proxy_server.exchanges.clear()
    proxy_server.force_status = None
    return proxy_server


# -- the app side -----------------------------------------------------------------------------
def _write_policy(path: Path, base_url: str, timeout_s: float = 600) -> None:
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "frontier": {
                    "enabled": True,
                    "endpoints": [{"id": "gateway", "base_url": base_url, "model": "smollm2"}],
                    "workspaces": [WORKSPACE],
                    "review_required": True,
                    "max_chunks": 4,
                    "timeout_s": timeout_s,
                },
            }
        ),
        encoding="utf-8",
    )


def _service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str, *, key: str = API_KEY,
    timeout_s: float = 600,
) -> FrontierGateway:  # fmt: skip
    policy_file = tmp_path / "policy.json"
    _write_policy(policy_file, base_url, timeout_s)
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy_file))
    paths = Paths.from_env().ensure()
    policy = load_policy(paths)
    assert policy.problem is None and policy.is_allowed(WORKSPACE)
    secrets = KeyStore()
    if secrets.status().secure:  # a developer's desktop: keep the test off the real keyring
        secrets = KeyStore(backend=object())
    secrets.keep_for_session("gateway", key)  # the headless path: memory only, this session
    return FrontierGateway(policy, secrets, AuditLedger.for_paths(paths))


def _ledger(enclave_home: Path) -> AuditLedger:
    return AuditLedger.for_paths(Paths.from_env())


@pytest.fixture(scope="module")
def local_model(smollm2_path: Path) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=str(smollm2_path), n_ctx=512, n_threads=2, verbose=False)


def _local_answer(local_model: Any, question: str) -> str:
    local_model.reset()
    result = local_model.create_chat_completion(
        messages=[{"role": "user", "content": question}], max_tokens=16, temperature=0.0
    )
    return str(result["choices"][0]["message"]["content"])


def _sse_text(raw: bytes) -> str:
    """The answer text inside a recorded server-sent-events body (independent of the client)."""
    text = []
    for line in raw.decode().splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                text.append((choice.get("delta") or {}).get("content") or "")
    return "".join(text)


# -- the tests --------------------------------------------------------------------------------
def test_canaries_never_leave_and_the_reply_is_restored(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(tmp_path, monkeypatch, proxy.base_url)
    request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
    for canary in CANARIES:
        assert canary not in request.display_text, canary
    assert not proxy.exchanges  # preparing sends nothing

    pieces: list[str] = []
    outcome = service.send(request, consent=True, on_text=pieces.append)

    assert outcome.status == "answered", outcome.notice
    assert len(proxy.exchanges) == 1
    sent = proxy.all_bytes_sent()
    assert proxy.exchanges[0].body == request.body  # exactly what was reviewed
    for canary in CANARIES:
        assert canary.encode() not in sent, f"{canary!r} left the machine"
    assert b"[PERSON_" in proxy.exchanges[0].body and b"[MRN_1]" in proxy.exchanges[0].body
    # The server really answered with a placeholder, and the user sees the name instead.
    raw_reply = _sse_text(proxy.exchanges[0].response)
    assert "[PERSON_" in raw_reply, raw_reply
    assert "[PERSON_" not in outcome.answer
    assert "Ellison" in outcome.answer
    assert "".join(pieces) == outcome.answer  # the stream, restored piece by piece
    assert outcome.bytes_out == len(request.body) and outcome.bytes_in > 0


def test_no_consent_no_call(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enclave_home: Path
) -> None:
    service = _service(tmp_path, monkeypatch, proxy.base_url)
    request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
    outcome = service.send(request, consent=False)
    assert outcome.status == "no_consent"
    assert "Nothing was sent" in outcome.notice
    assert proxy.exchanges == []
    last = list(_ledger(enclave_home).entries())[-1]
    assert last["outcome"] == "no_consent" and last["allowed"] is False


def test_wrong_key_gives_the_local_answer_with_a_notice(
    proxy: RecordingProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    local_model: Any,
) -> None:
    service = _service(tmp_path, monkeypatch, proxy.base_url, key="sk-wrong-key")
    request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
    outcome = service.send(request, consent=True)
    assert outcome.status == "unauthorized"
    assert proxy.exchanges[0].status == 401  # the real server refused the key
    final = answer_with_fallback(outcome, lambda: _local_answer(local_model, QUESTION))
    assert final.source == "local" and final.text.strip()
    assert "API key" in final.notice


def test_dead_server_gives_the_local_answer_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_model: Any
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    service = _service(tmp_path, monkeypatch, dead)
    request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
    outcome = service.send(request, consent=True)
    assert outcome.status == "unreachable"
    final = answer_with_fallback(outcome, lambda: _local_answer(local_model, QUESTION))
    assert final.source == "local" and final.text.strip()
    assert "could not be reached" in final.notice


def test_a_server_that_never_answers_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accepts and then says nothing at all
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        service = _service(tmp_path, monkeypatch, url, timeout_s=1.5)
        request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
        outcome = service.send(request, consent=True)
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        listener.close()
    assert outcome.status == "timed_out"
    assert "within 1.5 s" in outcome.notice


def test_rate_limit_is_a_clear_outcome(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy.force_status = 429
    service = _service(tmp_path, monkeypatch, proxy.base_url)
    request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
    outcome = service.send(request, consent=True)
    assert outcome.status == "rate_limited"
    assert outcome.retry_after_s == 7.0
    assert "rate limiting" in outcome.notice


def test_unapproved_endpoint_is_refused_even_when_the_user_asks(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enclave_home: Path
) -> None:
    service = _service(tmp_path, monkeypatch, proxy.base_url)
    with pytest.raises(FrontierRefused) as refused:
        service.prepare(QUESTION, DOCUMENTS, WORKSPACE, endpoint_id="my-own-server")
    assert refused.value.status == "refused_by_policy"
    with pytest.raises(FrontierRefused):
        service.prepare(QUESTION, DOCUMENTS, "another-workspace")
    from app.privacy.policy import PolicyRefusal

    with pytest.raises(PolicyRefusal, match="not an approved destination"):
        service.policy.check_url("https://203.0.113.10/v1")
    assert proxy.exchanges == []
    outcomes = [e.get("outcome") for e in _ledger(enclave_home).entries()]
    assert outcomes.count("refused_by_policy") == 2


def test_ledger_records_the_call_and_detects_an_edited_line(
    proxy: RecordingProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    enclave_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = _service(tmp_path, monkeypatch, proxy.base_url)
    ledger = _ledger(enclave_home)
    previous = GUARD.recorder
    from app.frontier.gateway import egress_recorder

    GUARD.recorder = egress_recorder(ledger)  # the guard reports to the ledger, as in the app
    try:
        request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
        outcome = service.send(request, consent=True)
        import httpx

        with pytest.raises(httpx.ConnectError):  # an unapproved host, straight through httpx
            httpx.get("http://203.0.113.10:8080/", trust_env=False)
    finally:
        GUARD.recorder = previous
    assert outcome.ok
    entries = list(ledger.entries())
    call = [e for e in entries if e.get("kind") == "frontier_call"][-1]
    assert call["destination"] == f"127.0.0.1:{proxy.port}" and call["allowed"] is True
    assert call["bytes_out"] == len(proxy.exchanges[0].body)
    assert call["bytes_in"] == len(proxy.exchanges[0].response)
    assert call["request_sha256"] == hashlib.sha256(proxy.exchanges[0].body).hexdigest()
    assert call["redactions"]["PERSON"] >= 3 and call["redactions"]["MRN"] == 1
    refused = [e for e in entries if e.get("kind") == "egress" and not e["allowed"]]
    assert any(e["destination"].startswith("203.0.113.10") for e in refused)
    raw = ledger.path.read_text(encoding="utf-8")
    # Ids, counts and hashes only. A hex digest can hold "617" by chance, so digests are taken
    # out before the canaries are looked for.
    without_digests = re.sub(r"\b[0-9a-f]{12,64}\b", "<digest>", raw)
    for canary in CANARIES:
        assert canary not in without_digests
    assert ledger.verify().ok

    args = type("Args", (), {"verify": True, "json": True, "limit": 0})()
    assert audit.run(args, paths=Paths.from_env()) == 0  # type: ignore[arg-type]
    lines = raw.splitlines()
    number = next(i for i, line in enumerate(lines) if '"frontier_call"' in line)
    lines[number] = lines[number].replace(f'"bytes_out":{call["bytes_out"]}', '"bytes_out":1')
    ledger.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert audit.run(args, paths=Paths.from_env()) == 1  # type: ignore[arg-type]
    report = json.loads(capsys.readouterr().out)
    assert report["verify"]["first_bad_line"] == number + 1


def test_the_key_is_in_no_file_after_a_session(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enclave_home: Path
) -> None:
    log_file = Paths.from_env().ensure().logs / "session.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # the noisiest the app could be configured
    try:
        service = _service(tmp_path, monkeypatch, proxy.base_url)
        for _ in range(2):
            request = service.prepare(QUESTION, DOCUMENTS, WORKSPACE, options=OPTIONS)
            assert service.send(request, consent=True).ok
            repr(request), repr(service.keys.get_api_key("gateway"))
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    # The key really was used (so the scan below could have found it) ...
    assert proxy.exchanges[0].headers.get("Authorization") == f"Bearer {API_KEY}"
    # ... and no file under ENCLAVE_HOME holds it, plain or base64.
    needles = [API_KEY.encode(), base64.b64encode(API_KEY.encode()), API_KEY[8:].encode()]
    files = [p for p in enclave_home.rglob("*") if p.is_file()]
    assert files, "the session wrote nothing at all?"
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"the API key is in {path}"
    assert os.environ.get("ENCLAVE_POLICY")  # the policy file is outside ENCLAVE_HOME


# -- the whole route, from the user's question to the stored answer ----------------------------
def _enclave_with_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str, real_embedder: Any
) -> tuple[Any, Any]:
    from app.container import Enclave
    from app.library.ingest import ingest_paths

    policy_file = tmp_path / "policy.json"
    _write_policy(policy_file, base_url)
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy_file))
    enclave = Enclave(embedder=real_embedder)  # the session's loaded model, loaded once
    record_egress(enclave.ledger)  # as the entry point does
    enclave.keys.keep_for_session("gateway", API_KEY)
    ws = enclave.workspaces.create(WORKSPACE)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n, text in enumerate(DOCUMENTS):
        (folder / f"note-{n}.txt").write_text(text, encoding="utf-8")
    events = list(ingest_paths(enclave.index(ws), [folder], limits=enclave.parse_limits))
    assert events[-1].counts == {"indexed": 2}  # type: ignore[union-attr]
    return enclave, ws


def test_a_question_the_user_sends_is_answered_remotely_cited_and_stored(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: Any
) -> None:
    from app.chat.service import ChatAnswer, Token

    enclave, ws = _enclave_with_documents(tmp_path, monkeypatch, proxy.base_url, real_embedder)
    assert enclave.frontier.available(ws)
    prepared = enclave.frontier.prepare(ws, QUESTION)
    assert prepared.request.review_required and not proxy.exchanges
    events: list[Any] = []
    in_flight_at_first_token = None
    for event in enclave.frontier.send(prepared, consent=True):
        if isinstance(event, Token) and in_flight_at_first_token is None:
            # Streamed: the first piece is here while the request is still running.
            in_flight_at_first_token = any(
                t.name == "enclave-frontier-call" and t.is_alive() for t in threading.enumerate()
            )
        events.append(event)
    assert in_flight_at_first_token
    answer = events[-1]
    assert isinstance(answer, ChatAnswer)
    assert answer.route.tier == "frontier" and answer.route.model_id == "smollm2"
    # The remote draft streams (restored); the stored answer holds only what passed the check.
    assert "".join(e.text for e in events if isinstance(e, Token)).strip() == answer.draft
    assert all(c.supported for c in answer.citations)
    assert answer.not_found or answer.citations
    assert "[PERSON_" not in answer.answer and answer.device.startswith("frontier (127.0.0.1:")
    sent = proxy.all_bytes_sent()
    for canary in CANARIES:
        assert canary.encode() not in sent, f"{canary!r} left the machine"
    stored = enclave.history.messages(answer.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].meta["route"]["tier"] == "frontier"
    assert any("audit ledger" in n for n in answer.notices)
    enclave.close()


def test_a_declined_review_sends_nothing_and_the_local_model_answers(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: Any
) -> None:
    from app.chat.service import ChatAnswer

    enclave, ws = _enclave_with_documents(tmp_path, monkeypatch, proxy.base_url, real_embedder)
    prepared = enclave.frontier.prepare(ws, QUESTION)
    answer = list(enclave.frontier.send(prepared, consent=False))[-1]
    assert isinstance(answer, ChatAnswer)
    assert proxy.exchanges == []
    assert answer.route.tier != "frontier"
    assert answer.notices[0].startswith("Nothing was sent")
    enclave.close()


# -- minimum necessary: three patients, a question about one ---------------------------------
def test_a_question_about_one_patient_sends_nothing_of_the_other_two(
    proxy: RecordingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_embedder: Any
) -> None:
    """Three patients' notes (tests/frontier_notes.py), all on metformin, each with a planted
    name, MRN, date of birth, address and phone; the recording proxy keeps every byte that
    reaches the 'frontier'. Only the asked-about patient's answering passage leaves, redacted;
    the other two notes are left out whole, and the review says so."""
    from app.chat.service import ChatAnswer
    from app.container import Enclave
    from app.frontier.request import render_for_terminal
    from app.library.ingest import ingest_paths
    from tests.frontier_notes import ANSWER_PASSAGE, NOTES, OTHER_PASSAGES, PLANTED, SUBJECT_NOTE
    from tests.frontier_notes import QUESTION as ABOUT_ONE

    policy_file = tmp_path / "policy.json"
    _write_policy(policy_file, proxy.base_url)
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy_file))
    enclave = Enclave(embedder=real_embedder)
    record_egress(enclave.ledger)
    enclave.keys.keep_for_session("gateway", API_KEY)
    ws = enclave.workspaces.create(WORKSPACE)
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    events = list(ingest_paths(enclave.index(ws), [folder], limits=enclave.parse_limits))
    assert events[-1].counts == {"indexed": 3}  # type: ignore[union-attr]
    # The other two notes really are found for this question (so leaving them out is a choice).
    found = {h.document_name for h in enclave.chat.relevant_sources(ws, ABOUT_ONE, 10)}
    assert found == set(NOTES), found

    prepared = enclave.frontier.prepare(ws, ABOUT_ONE)
    request = prepared.request
    others = sorted(set(NOTES) - {SUBJECT_NOTE})
    assert {(i.document, i.reason) for i in request.left_out} == {
        (name, "names another patient") for name in others
    }
    shown = render_for_terminal(request)
    for name in others:
        assert f"left out: {name}, names another patient" in shown
    assert [h.document_name for h in prepared.sources] == [SUBJECT_NOTE]

    answer = list(enclave.frontier.send(prepared, consent=True))[-1]
    assert isinstance(answer, ChatAnswer) and answer.route.tier == "frontier", answer.notices
    assert len(proxy.exchanges) == 1 and proxy.exchanges[0].body == request.body
    sent = proxy.all_bytes_sent()
    body = json.loads(proxy.exchanges[0].body)
    outgoing = "\n".join(m["content"] for m in body["messages"]).lower()
    assert ANSWER_PASSAGE in outgoing  # the answer's passage did leave, so the checks can fail
    for note, planted in PLANTED.items():
        for value in planted:
            assert value.lower() not in outgoing, f"{value!r} of {note} left the machine"
            assert value.encode() not in sent, f"{value!r} of {note} left the machine"
    for passage in OTHER_PASSAGES:
        assert passage.lower() not in outgoing, f"another patient's {passage!r} left"
    for name in NOTES:  # file names never leave either
        assert name.encode() not in sent
    assert "[PERSON_" not in answer.answer
    enclave.close()


@pytest.mark.parametrize(
    ("draft", "shown", "hidden"),
    [
        ("Her daughter is Karen Ellison-Moss [Source {n}].", "Karen Ellison-Moss", None),
        ("Her daughter is Laura Bennett [Source {n}].", None, "Laura Bennett"),
        ("Her daughter can be reached at (617) 555-0199 [Source {n}].", None, "555-0199"),
    ],
)
def test_a_frontier_answer_is_fact_checked_like_a_local_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    real_embedder: Any,
    draft: str,
    shown: str | None,
    hidden: str | None,
) -> None:
    """Answers written by hand as a remote model would write them: a sentence whose name or
    number the cited passage does not state is never shown; the evidence stays."""
    import time

    from app.frontier.gateway import FrontierOutcome

    enclave, ws = _enclave_with_documents(
        tmp_path, monkeypatch, "http://127.0.0.1:9/v1", real_embedder
    )
    prepared = enclave.frontier.prepare(ws, QUESTION)
    n = next(i for i, h in enumerate(prepared.sources, 1) if "daughter" in h.chunk.text)
    outcome = FrontierOutcome("answered", draft.format(n=n))
    answer = enclave.frontier._store_frontier_answer(prepared, outcome, time.perf_counter())
    text = answer.answer
    if shown is not None:
        assert shown in text and not answer.evidence_only, text
    if hidden is not None:
        assert hidden not in text, text
        assert any(hidden in notice for notice in answer.notices), answer.notices
    # Whatever is shown cites the documents' own words.
    assert answer.citations and all(c.supported for c in answer.citations)
    for c in answer.citations:
        assert any(c.quote in doc for doc in DOCUMENTS), c.quote
    assert "daughter" in " ".join(q.quote for q in answer.evidence)
    enclave.close()
