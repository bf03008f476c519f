"""The audit ledger's head record: cutting lines off the end, or deleting the file, is reported by
`enclave audit --verify`; an approved call that could not connect is "attempted, 0 bytes".

Real files on disk throughout, and a real frontier call through the real gateway and HTTP client
to a loopback port nobody listens on.
"""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest

from app.cli import audit
from app.frontier.gateway import FrontierGateway
from app.frontier.keys import KeyStore
from app.paths import Paths
from app.privacy.ledger import AuditLedger, LedgerError
from app.privacy.policy import parse_policy


@pytest.fixture()
def ledger() -> AuditLedger:
    return AuditLedger.for_paths(Paths.from_env())


def _fill(ledger: AuditLedger, n: int) -> None:
    for i in range(n):
        ledger.record(kind="egress", destination="203.0.113.10:443", allowed=False, bytes_out=i)


def _lines(ledger: AuditLedger) -> list[str]:
    return ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _audit(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="enclave")
    audit.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["audit", *argv])


def _verify_cli(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = _audit("--verify")
    code = args.func(args, None)
    return code, capsys.readouterr().out


def test_the_head_record_sits_beside_the_ledger_and_names_the_last_entry(
    ledger: AuditLedger,
) -> None:
    _fill(ledger, 3)
    assert ledger.head_path == ledger.path.parent / "ledger.head.json"
    head = json.loads(ledger.head_path.read_text(encoding="utf-8"))
    last = json.loads(_lines(ledger)[-1])
    assert (head["seq"], head["hash"]) == (3, last["hash"])
    names = sorted(p.name for p in ledger.path.parent.iterdir())
    assert names == ["ledger.head.json", "ledger.jsonl"]  # no temporary file left behind
    assert ledger.verify().ok


@pytest.mark.parametrize("removed", [1, 2, 5])
def test_deleting_the_last_lines_is_reported_not_intact(
    ledger: AuditLedger, removed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(ledger, 5)
    ledger.path.write_text("".join(_lines(ledger)[: 5 - removed]), encoding="utf-8")
    result = ledger.verify()
    assert not result.ok and result.first_bad_line is None
    assert f"the last {removed} entr" in result.message() and "removed" in result.message()
    code, out = _verify_cli(capsys)
    assert code == 1 and "intact" not in out and "not complete" in out


def test_deleting_the_ledger_file_is_reported(
    ledger: AuditLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(ledger, 3)
    ledger.path.unlink()
    result = ledger.verify()
    assert not result.ok and "deleted" in result.message() and "3 entries" in result.message()
    code, out = _verify_cli(capsys)
    assert code == 1 and "intact" not in out


def test_after_a_deletion_the_ledger_refuses_to_start_a_fresh_chain(ledger: AuditLedger) -> None:
    _fill(ledger, 3)
    ledger.path.unlink()
    with pytest.raises(LedgerError, match="head record says 3 entries"):
        ledger.record(kind="egress", destination="203.0.113.10:443", allowed=False)
    with pytest.raises(LedgerError):  # a second instance (another process) sees the same head
        AuditLedger(ledger.path).record(kind="egress", allowed=False)
    assert not ledger.verify().ok  # still reported, not covered up by a new chain


def test_after_truncation_appends_are_refused(ledger: AuditLedger) -> None:
    _fill(ledger, 4)
    ledger.path.write_text("".join(_lines(ledger)[:2]), encoding="utf-8")
    with pytest.raises(LedgerError, match="removed or rewritten"):
        ledger.record(kind="egress", allowed=False)
    assert len(_lines(ledger)) == 2


def test_a_rewritten_end_of_the_same_length_is_reported(tmp_path: Path) -> None:
    real = AuditLedger(tmp_path / "a" / "ledger.jsonl")
    forged = AuditLedger(tmp_path / "b" / "ledger.jsonl")
    _fill(real, 3)
    for n in (0, 1, 99):  # a different third entry, chained correctly
        forged.record(kind="egress", destination="203.0.113.10:443", allowed=False, bytes_out=n)
    real.path.write_text("".join(_lines(forged)), encoding="utf-8")  # a valid chain, 3 long
    result = real.verify()
    assert not result.ok and "rewritten" in result.message()


def test_an_interrupted_head_update_is_not_tampering(ledger: AuditLedger) -> None:
    _fill(ledger, 2)
    old_head = ledger.head_path.read_bytes()
    _fill(ledger, 1)
    ledger.head_path.write_bytes(old_head)  # as if the process died between the two writes
    assert ledger.verify().ok
    ledger.record(kind="egress", allowed=False)  # accepted, and the head catches up
    assert json.loads(ledger.head_path.read_text(encoding="utf-8"))["seq"] == 4
    assert ledger.verify().ok


def test_a_deleted_head_is_reported_and_the_gap_stays_in_the_chain(
    ledger: AuditLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(ledger, 4)
    ledger.path.write_text("".join(_lines(ledger)[:2]), encoding="utf-8")
    ledger.head_path.unlink()  # truncated, and the head removed to hide it
    result = ledger.verify()
    assert not result.ok and "head record ledger.head.json is missing" in result.message()
    entry = ledger.record(kind="egress", allowed=False)  # appends still work (nothing blocks)
    assert entry["seq"] == 3 and entry["head_missing"] is True
    result = ledger.verify()
    assert not result.ok and "missing when entry 3 was written" in result.message()
    code, out = _verify_cli(capsys)
    assert code == 1 and "intact" not in out


def test_deleting_both_files_leaves_an_empty_ledger(ledger: AuditLedger) -> None:
    """The documented limit: with both files gone there is nothing left to compare against."""
    _fill(ledger, 2)
    ledger.path.unlink()
    ledger.head_path.unlink()
    result = ledger.verify()
    assert result.ok and result.lines == 0


def test_a_damaged_head_record_is_reported(ledger: AuditLedger) -> None:
    _fill(ledger, 2)
    ledger.head_path.write_text("{not json", encoding="utf-8")
    assert "head record cannot be read" in ledger.verify().message()
    with pytest.raises(LedgerError, match="damaged"):
        ledger.record(kind="egress", allowed=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_endpoint_is_attempted_with_0_bytes_not_sent(
    ledger: AuditLedger, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = parse_policy(
        {"frontier": {"enabled": True, "workspaces": ["w"], "timeout_s": 5, "endpoints": [
            {"id": "gw", "base_url": f"http://127.0.0.1:{_closed_port()}/v1", "model": "m",
             "requires_key": False}]}}
    )  # fmt: skip
    gateway = FrontierGateway(policy, KeyStore(backend=object()), ledger)
    request = gateway.prepare("What is the term?", ["The term is 5 years."], "w")
    outcome = gateway.send(request, consent=True)
    assert outcome.status == "unreachable" and outcome.bytes_out == 0
    (call,) = list(ledger.entries())
    assert (call["allowed"], call["outcome"], call["bytes_out"]) == (True, "unreachable", 0)
    summary = ledger.summary()
    assert (summary.frontier_calls, summary.frontier_attempts) == (0, 1)
    assert not summary.anything_left and summary.last_outbound is None
    args = _audit()
    assert args.func(args, None) == 0
    out = capsys.readouterr().out
    assert "0 frontier calls sent, 1 attempted (0 bytes sent)" in out and "ATTEMPTED" in out
    args = _audit("--json")
    args.func(args, None)
    report = json.loads(capsys.readouterr().out)["summary"]
    assert (report["frontier_calls"], report["frontier_attempts"]) == (0, 1)


def test_the_connections_of_an_unreachable_call_are_not_outbound_traffic(
    ledger: AuditLedger,
) -> None:
    """What the guard records for a call whose host never answers: its DNS and connect lines
    are allowed, then the call's line says 0 bytes. None of it counts as having left."""
    for connection in ("dns", "connect"):
        ledger.record(
            kind="egress", workspace="w", destination="llm.example.org:443",
            connection=connection, allowed=True,
        )  # fmt: skip
    ledger.record(
        kind="frontier_call", workspace="w", destination="llm.example.org:443", allowed=True,
        outcome="unreachable", bytes_out=0, bytes_in=0,
    )  # fmt: skip
    summary = ledger.summary()
    assert (summary.allowed_outbound, summary.frontier_calls, summary.frontier_attempts) == (
        0, 0, 1
    )  # fmt: skip
    assert summary.connections_allowed == 2 and not summary.anything_left
    ledger.record(
        kind="frontier_call",
        workspace="w",
        destination="llm.example.org:443",
        allowed=True,
        outcome="timed_out",
        bytes_out=812,
        bytes_in=0,
    )  # fmt: skip  (a timeout after the request went out: sent)
    summary = ledger.summary()
    assert (summary.frontier_calls, summary.frontier_attempts) == (1, 1) and summary.anything_left
