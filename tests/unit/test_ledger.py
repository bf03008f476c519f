"""The audit ledger: hash-chained lines, tamper detection, no content, and `enclave audit`."""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import audit
from app.paths import Paths
from app.privacy.egress import GUARD, EgressRefused
from app.privacy.ledger import AuditLedger, LedgerError, ledger_recorder


@pytest.fixture()
def ledger() -> AuditLedger:
    return AuditLedger.for_paths(Paths.from_env())


def _fill(ledger: AuditLedger, n: int = 4) -> None:
    for i in range(n):
        ledger.record(
            kind="frontier_call", workspace="w", destination="llm.example.org:443",
            allowed=i % 2 == 0, outcome="answered", bytes_out=100 + i, bytes_in=50,
            redactions={"PERSON": 2}, request_sha256="ab" * 32,
        )  # fmt: skip


def test_entries_are_chained_and_verify(ledger: AuditLedger) -> None:
    _fill(ledger)
    entries = list(ledger.entries())
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev"] == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"]
    result = ledger.verify()
    assert result.ok and result.lines == 4
    assert "intact" in result.message()
    assert ledger.path == Paths.from_env().data / "audit" / "ledger.jsonl"


@pytest.mark.parametrize(
    ("tamper", "bad_line"),
    [
        (lambda lines: lines.__setitem__(1, lines[1].replace(":101", ":1")), 2),
        (lambda lines: lines.pop(1), 2),
        (lambda lines: lines.insert(2, lines[0]), 3),
        (lambda lines: lines.__setitem__(3, lines[3][:-5]), 4),
        (lambda lines: lines.__setitem__(0, "not json"), 1),
    ],
)  # fmt: skip
def test_a_tampered_line_is_detected(ledger: AuditLedger, tamper: object, bad_line: int) -> None:
    _fill(ledger)
    lines = ledger.path.read_text(encoding="utf-8").splitlines()
    tamper(lines)  # type: ignore[operator]
    ledger.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ledger.verify()
    assert not result.ok
    assert result.first_bad_line == bad_line
    assert f"line {bad_line}" in result.message()


def test_an_unterminated_last_line_is_detected(ledger: AuditLedger) -> None:
    _fill(ledger, 2)
    ledger.path.write_bytes(ledger.path.read_bytes().rstrip(b"\n"))
    assert ledger.verify().first_bad_line == 2


def test_content_fields_are_refused(ledger: AuditLedger) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        ledger.record(kind="frontier_call", prompt="Patient Margaret Ellison")
    assert not ledger.path.exists()


def test_a_damaged_tail_stops_appends(ledger: AuditLedger) -> None:
    _fill(ledger, 1)
    with open(ledger.path, "ab") as handle:
        handle.write(b'{"half a line\n')
    with pytest.raises(LedgerError, match="damaged"):
        ledger.record(kind="egress", allowed=False)


def test_concurrent_appends_keep_the_chain(ledger: AuditLedger) -> None:
    def work() -> None:
        for _ in range(25):
            ledger.record(kind="egress", destination="203.0.113.10:443", allowed=False)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = ledger.verify()
    assert result.ok and result.lines == 100


def test_summary_counts_for_the_privacy_indicator(ledger: AuditLedger) -> None:
    # The allowed connection is the frontier call's own (it precedes the call's line in the
    # same workspace), so it is not counted a second time as outbound traffic.
    ledger.record(kind="egress", destination="203.0.113.10:443", allowed=False)
    ledger.record(kind="egress", destination="llm.example.org:443", allowed=True)
    ledger.record(kind="frontier_call", destination="llm.example.org:443", allowed=True)
    ledger.record(kind="frontier_call", destination="llm.example.org:443", allowed=False)
    summary = ledger.summary()
    assert (summary.entries, summary.allowed_outbound, summary.refused, summary.frontier_calls) == (
        4, 0, 2, 1
    )  # fmt: skip
    assert summary.connections_allowed == 1 and summary.frontier_attempts == 0
    assert summary.last_outbound is not None and summary.last_outbound["kind"] == "frontier_call"
    assert summary.anything_left


def test_a_connection_no_call_accounts_for_counts_as_outbound(ledger: AuditLedger) -> None:
    ledger.record(kind="egress", workspace="w", destination="198.51.100.7:443", allowed=True)
    summary = ledger.summary()
    assert (summary.allowed_outbound, summary.frontier_calls) == (1, 0)
    assert summary.anything_left and summary.last_outbound is not None


@pytest.fixture()
def guard_to_ledger(ledger: AuditLedger) -> Iterator[AuditLedger]:
    previous = GUARD.recorder
    GUARD.recorder = ledger_recorder(ledger, lambda: "ws-7")
    yield ledger
    GUARD.recorder = previous


def test_the_real_guard_records_refused_attempts(guard_to_ledger: AuditLedger) -> None:
    assert GUARD.installed
    with socket.socket() as sock, pytest.raises(EgressRefused):
        sock.connect(("203.0.113.10", 443))  # TEST-NET-3: refused before any packet
    with pytest.raises(EgressRefused):
        socket.getaddrinfo("api.example.com", 443)
    entries = list(guard_to_ledger.entries())
    assert [(e["destination"], e["connection"], e["allowed"], e["workspace"]) for e in entries] == [
        ("203.0.113.10:443", "connect", False, "ws-7"),
        ("api.example.com:443", "dns", False, "ws-7"),
    ]
    assert guard_to_ledger.verify().ok


def test_an_unwritable_ledger_blocks_the_connection(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    broken = AuditLedger(blocker / "ledger.jsonl")
    previous = GUARD.recorder
    GUARD.recorder = ledger_recorder(broken, lambda: None)
    try:
        with socket.socket() as sock, pytest.raises(LedgerError):
            sock.connect(("203.0.113.10", 443))
    finally:
        GUARD.recorder = previous


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="enclave")
    audit.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["audit", *argv])


def test_audit_command_lists_and_verifies(
    ledger: AuditLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _cli()
    assert args.func(args, None) == 0
    assert "nothing has tried to leave" in capsys.readouterr().out
    _fill(ledger, 3)
    args = _cli("--verify")
    assert args.func(args, None) == 0
    out = capsys.readouterr().out
    assert "hash chain verified" in out and "llm.example.org:443" in out
    args = _cli("--verify", "--json", "--limit", "2")
    assert args.func(args, None) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verify"]["ok"] and len(report["entries"]) == 2
    assert report["summary"]["entries"] == 3

    text = ledger.path.read_text(encoding="utf-8").replace('"bytes_out":101', '"bytes_out":9')
    ledger.path.write_text(text, encoding="utf-8")
    args = _cli("--verify")
    assert args.func(args, None) == 1
    assert "line 2" in capsys.readouterr().out
