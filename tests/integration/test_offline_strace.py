"""Offline by construction, proven from outside the process: a whole ingest + ask session run
under `strace -f -e trace=connect` makes no connection that leaves loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.privacy.strace import ip_connects, non_loopback_connects
from tests.integration.cli_helpers import enclave, json_lines

pytestmark = [pytest.mark.slow, pytest.mark.strace]


def test_parser_recognises_bad_lines() -> None:
    sample = (
        "123 connect(3, {sa_family=AF_INET, sin_port=htons(443), "
        'sin_addr=inet_addr("140.82.112.3")}, 16) = -1 ECONNREFUSED\n'
        "123 connect(3, {sa_family=AF_INET, sin_port=htons(80), "
        'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '124 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1\n'
        "125 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n'
    )
    assert len(non_loopback_connects(sample)) == 2
    assert [(c.address, c.port, c.loopback) for c in ip_connects(sample)] == [
        ("140.82.112.3", 443, False), ("127.0.0.1", 80, True), ("2606:4700::1", 443, False),
    ]  # fmt: skip


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (apt: strace)")
def test_ingest_and_ask_make_no_non_loopback_connection(tmp_path: Path, eval_dir: Path) -> None:
    home = tmp_path / "home"
    trace = tmp_path / "trace.txt"
    prefix = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
    src = eval_dir / "cuad" / "contracts"
    contract = next(iter(sorted(src.glob("ADUROBIOTECH*.txt"))))
    proc = enclave(
        home, "ingest", str(contract), "--workspace", "m", "--create", "--json", prefix=prefix
    )
    assert json_lines(proc.stdout)[0]["outcome"] == "indexed"
    first = trace.read_text()
    enclave(
        home,
        "ask",
        "Who are the parties to this consulting agreement?",
        "--workspace",
        "m",
        "--json",
        prefix=prefix,
    )
    second = trace.read_text()
    assert non_loopback_connects(first) == []
    assert non_loopback_connects(second) == []
