"""The frontier route and the real egress guard: the allowance covers exactly the approved
endpoint for exactly the call, and anything else is refused before a packet and recorded.

No model server here (see test_frontier_llama_server.py); 203.0.113.10 is TEST-NET-3, never
routable, and the guard refuses it before any packet is sent.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.frontier.gateway import FrontierGateway, FrontierRefused, egress_recorder
from app.frontier.keys import KeyStore
from app.paths import Paths
from app.privacy import redaction as redaction_module
from app.privacy.egress import GUARD, EgressRefused
from app.privacy.ledger import AuditLedger
from app.privacy.policy import Endpoint, parse_policy
from models.openai_client import Completion, OpenAICompatibleClient, Unreachable
from models.types import CancelToken, GenerationOptions, Message

WORKSPACE = "litigation"
KEY = "sk-guard-test-1234"
QUESTION = "Summarise the letter from Eleanor Whitfield about Sandra Pruitt."
CHUNKS = ["Dear Mr. Doyle: This firm represents Sandra Pruitt (SSN 219-09-9999)."]


def _policy(port: int, requires_key: bool = True) -> Any:
    return parse_policy(
        {"frontier": {"enabled": True, "workspaces": [WORKSPACE], "endpoints": [
            {"id": "gw", "base_url": f"http://127.0.0.1:{port}/v1", "model": "m",
             "requires_key": requires_key}]}}
    )  # fmt: skip


@pytest.fixture()
def ledger() -> Iterator[AuditLedger]:
    ledger = AuditLedger.for_paths(Paths.from_env())
    previous = GUARD.recorder
    GUARD.recorder = egress_recorder(ledger)
    yield ledger
    GUARD.recorder = previous


class ProbeClient:
    """Builds bodies like the real client; `send` runs a probe instead of HTTP."""

    def __init__(self, endpoint: Endpoint, key: str | None, probe: Callable[[], str]) -> None:
        self.real = OpenAICompatibleClient(endpoint.base_url, endpoint.model, key)
        self.key = key
        self.probe = probe

    def build_body(
        self, messages: Sequence[Message], options: GenerationOptions | None = None, *,
        stream: bool = True,
    ) -> bytes:  # fmt: skip
        return self.real.build_body(messages, options, stream=stream)

    def send(
        self, body: bytes, *, on_text: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:  # fmt: skip
        text = self.probe()
        if on_text:
            on_text(text)
        return Completion(text, "stop", len(body), len(text), 200)


def _service(
    ledger: AuditLedger, port: int, probe: Callable[[], str], *, key: str | None = KEY
) -> tuple[FrontierGateway, list[str | None]]:
    keys_seen: list[str | None] = []

    def factory(endpoint: Endpoint, api_key: str | None, timeout_s: float) -> ProbeClient:
        keys_seen.append(api_key)
        return ProbeClient(endpoint, api_key, probe)

    secrets = KeyStore(backend=object())
    if key:
        secrets.keep_for_session("gw", key)
    return FrontierGateway(_policy(port), secrets, ledger, factory), keys_seen


def test_the_allowance_covers_only_the_approved_endpoint_during_the_call(
    ledger: AuditLedger,
) -> None:
    seen: dict[str, Any] = {}

    def probe() -> str:
        seen["open"] = GUARD.open_allowances
        with socket.socket() as sock, pytest.raises(EgressRefused):
            sock.connect(("203.0.113.10", 443))  # still refused while the call is in flight
        return "Summary for [PERSON_2]."

    service, keys = _service(ledger, 18099, probe)
    request = service.prepare(QUESTION, CHUNKS, WORKSPACE)
    assert GUARD.open_allowances == 0
    outcome = service.send(request, consent=True)
    assert outcome.ok and seen["open"] == 1
    assert GUARD.open_allowances == 0  # closed again after the call
    assert keys == [None, KEY]  # no key while preparing; the key only for the send
    assert "[PERSON_" not in outcome.answer
    refused = [e for e in ledger.entries() if e["kind"] == "egress"]
    assert refused and refused[0]["destination"] == "203.0.113.10:443"
    assert refused[0]["workspace"] == WORKSPACE  # the guard knew which call it was


def test_no_consent_means_no_client_call(ledger: AuditLedger) -> None:
    calls: list[str] = []
    service, keys = _service(ledger, 18099, lambda: calls.append("sent") or "x")
    request = service.prepare(QUESTION, CHUNKS, WORKSPACE)
    assert service.send(request, consent=False).status == "no_consent"
    assert calls == [] and keys == [None]


def test_a_client_that_goes_elsewhere_is_blocked_and_recorded(ledger: AuditLedger) -> None:
    """Even inside an approved call, a connection to another host never opens."""

    def factory(endpoint: Endpoint, api_key: str | None, timeout_s: float) -> Any:
        return OpenAICompatibleClient("http://203.0.113.10:8080/v1", endpoint.model, api_key,
                                      timeout_s=5)  # fmt: skip

    secrets = KeyStore(backend=object())
    secrets.keep_for_session("gw", KEY)
    service = FrontierGateway(_policy(18099), secrets, ledger, factory)
    request = service.prepare(QUESTION, CHUNKS, WORKSPACE)
    outcome = service.send(request, consent=True)
    assert outcome.status == "blocked" and outcome.bytes_out == 0
    assert "nothing left this computer" in outcome.notice
    egress = [e for e in ledger.entries() if e["kind"] == "egress"]
    assert egress and all(not e["allowed"] for e in egress)
    assert egress[0]["destination"].startswith("203.0.113.10")
    call = [e for e in ledger.entries() if e["kind"] == "frontier_call"][-1]
    assert call["outcome"] == "blocked"


def test_an_unwritable_ledger_means_nothing_is_sent(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    broken = AuditLedger(blocker / "ledger.jsonl")

    def factory(endpoint: Endpoint, api_key: str | None, timeout_s: float) -> Any:
        return OpenAICompatibleClient("http://203.0.113.10:8080/v1", endpoint.model, api_key)

    secrets = KeyStore(backend=object())
    secrets.keep_for_session("gw", KEY)
    service = FrontierGateway(_policy(18099), secrets, broken, factory)
    previous = GUARD.recorder
    GUARD.recorder = egress_recorder(broken)
    try:
        outcome = service.send(service.prepare(QUESTION, CHUNKS, WORKSPACE), consent=True)
    finally:
        GUARD.recorder = previous
    assert outcome.status == "blocked"
    assert "could not record" in outcome.notice


def test_the_real_client_without_an_allowance_is_refused(ledger: AuditLedger) -> None:
    client = OpenAICompatibleClient("https://203.0.113.10/v1", "m", KEY, timeout_s=5)
    body = client.build_body([Message("user", "hello")])
    with pytest.raises(Unreachable) as error:
        client.send(body)
    chain: list[BaseException] = []
    current: BaseException | None = error.value
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    assert any(isinstance(e, EgressRefused) for e in chain)
    assert KEY not in str(error.value) and KEY not in repr(client)


def test_missing_key_sends_nothing(ledger: AuditLedger) -> None:
    calls: list[str] = []
    service, _ = _service(ledger, 18099, lambda: calls.append("sent") or "x", key=None)
    outcome = service.send(service.prepare(QUESTION, CHUNKS, WORKSPACE), consent=True)
    assert outcome.status == "no_key" and "No API key" in outcome.notice and calls == []


def test_redaction_failure_sends_nothing(
    ledger: AuditLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str) -> list[object]:
        raise RuntimeError("rule bug")

    monkeypatch.setattr(redaction_module, "detect", broken)
    service, keys = _service(ledger, 18099, lambda: "x")
    with pytest.raises(FrontierRefused) as refused:
        service.prepare(QUESTION, CHUNKS, WORKSPACE)
    assert refused.value.status == "redaction_failed" and keys == []
    assert [e["outcome"] for e in ledger.entries()] == ["redaction_failed"]


def test_a_request_changed_after_review_is_not_sent(ledger: AuditLedger) -> None:
    calls: list[str] = []
    service, _ = _service(ledger, 18099, lambda: calls.append("sent") or "x")
    request = service.prepare(QUESTION, CHUNKS, WORKSPACE)
    tampered = dataclasses.replace(request, body=request.body.replace(b"[PERSON_1]", b"Pruitt"))
    assert service.send(tampered, consent=True).status == "changed_after_review"
    assert calls == []


def test_only_the_chunks_the_policy_allows_go_out_as_redacted_text(ledger: AuditLedger) -> None:
    service, _ = _service(ledger, 18099, lambda: "x")
    chunks = [f"Note {n}: Margaret Ellison, MRN 0048291{n}." for n in range(9)]
    request = service.prepare(QUESTION, chunks, WORKSPACE, max_chunks=2)
    assert request.chunks_sent == 2
    assert "[Source 2]" in request.display_text and "[Source 3]" not in request.display_text
    assert "Ellison" not in request.display_text and "00482910" not in request.display_text
    for span in request.spans:  # the desktop marks these
        assert request.display_text[span.display_start : span.display_end] == span.placeholder
        message = request.messages[span.message_index].content
        assert message[span.start : span.end] == span.placeholder
    assert request.messages[1].content.count("[MRN_") == 2
    assert "⟦[MRN_1]⟧" in request.marked_text()


def test_prepare_keeps_file_names_out(ledger: AuditLedger, tmp_path: Path) -> None:
    from rag.types import Chunk, Hit

    hit = Hit(Chunk("c1", "d1", 3, 0, 40, "Plan: follow up in 2 weeks."),
              "Ellison_Margaret_discharge.pdf", str(tmp_path / "Ellison.pdf"), 0.9)  # fmt: skip
    service, _ = _service(ledger, 18099, lambda: "x")
    request = service.prepare("What is the plan?", [hit], WORKSPACE)
    assert "follow up in 2 weeks" in request.display_text
    assert b"Ellison" not in request.body and b".pdf" not in request.body
