"""The privacy promise over a whole session with team servers, proven from outside the process.

A network namespace plays the organisation's server room, off this machine: a veth pair links
it (10.232.N.2) to this one (10.232.N.1). In it run PostgreSQL from the OS packages (ssl=on, a
certificate from a throwaway CA that the policy names) and `python -m llama_cpp.server` with the
embedded SmolLM2 over HTTPS; the Chroma server (`chroma run`, no TLS of its own) runs on this
machine's loopback, as the policy allows. Every `enclave` command of the session runs under
`strace -f -e trace=connect`: sharing a workspace onto the team servers, ingesting into it,
searching it, and a question routed to the inference server. Each command connects off this
machine only to the approved database and inference server (host and port), and each such
connection is in the audit ledger (`enclave audit`), which verifies.

Needs root (ip netns), strace, openssl and PostgreSQL: skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import team_servers
from tests.integration.cli_helpers import enclave
from tests.integration.netns_helpers import namespace_host, require_netns
from tests.integration.test_privacy_sessions import (
    NOTE,
    RemoteHost,
    Session,
    _certificates,
    _probe,
)
from tests.llama_server import llama_server

pytestmark = [pytest.mark.slow, pytest.mark.strace]

LLM_PORT = 8443
WORKSPACE = "ward-9"
QUESTION = "What was the patient treated with for community-acquired pneumonia?"


@dataclass(frozen=True)
class ServerRoom:
    address: str
    pg: team_servers.Postgres
    pg_ca: Path
    chroma_port: int
    llm: RemoteHost


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Iterator[ServerRoom]:
    require_netns()
    why = team_servers.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the team-session privacy test: {why}")
        pytest.skip(why)
    with namespace_host("enclave-r", "vrn", "10.232") as ns:
        here, there = ns.here, ns.there
        folder = tmp_path_factory.mktemp("room")
        pg_certs = team_servers.make_certificates(folder / "pg", hosts=(there,))
        ca, key, cert = _certificates(tmp_path_factory.mktemp("llm-tls"), there)
        llm = RemoteHost(there, LLM_PORT, ca)
        tls = ("--ssl_keyfile", str(key), "--ssl_certfile", str(cert))
        with (
            team_servers.postgres(
                trusted=("nurse",), tls=pg_certs, host=there, clients=f"{here}/32",
                prefix=ns.prefix,
            ) as pg,
            team_servers.chroma() as ch,
            llama_server(smollm2_path, there, LLM_PORT, _probe(llm), prefix=ns.prefix,
                         extra=tls),
        ):  # fmt: skip
            pg.add_user("nurse")
            yield ServerRoom(there, pg, pg_certs.ca, ch.port, llm)


def _policy(path: Path, room: ServerRoom) -> Path:
    path.write_text(json.dumps({"version": 1,
        "team": {
            "postgres": {"host": room.address, "port": room.pg.port, "sslmode": "verify-full",
                         "ca_file": str(room.pg_ca)},
            "chroma": {"host": "127.0.0.1", "port": room.chroma_port, "ssl": False},
        },
        "inference_servers": [{
            "id": "ward-llm", "base_url": room.llm.base_url, "model": "smollm2",
            "requires_key": False, "ca_file": str(room.llm.ca_file), "label": "Ward server",
            "connect_timeout_s": 10, "read_timeout_s": 300, "timeout_s": 600,
        }],
    }))  # fmt: skip
    return path


def _approved(room: ServerRoom) -> set[tuple[str, int]]:
    return {(room.address, room.pg.port), (room.address, room.llm.port)}


def _ledger_destinations(home: Path) -> tuple[set[str], dict[str, Any]]:
    audit = json.loads(enclave(home, "audit", "--verify", "--json", "--limit", "0").stdout)
    found = {
        str(e.get("destination"))
        for e in audit["entries"]
        if e.get("allowed") and e.get("kind") in ("egress", "inference_call")
    }
    return found, audit


def test_a_session_with_team_servers_reaches_only_the_approved_hosts_each_one_in_the_ledger(
    tmp_path: Path, room: ServerRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCLAVE_TEAM_USER", "nurse")  # a trusted login: no keyring here
    note = tmp_path / "discharge-summary.txt"
    note.write_text(NOTE, encoding="utf-8")
    session = Session(tmp_path, policy=_policy(tmp_path / "policy.json", room))
    session.run("create", "workspaces", "create", WORKSPACE)
    shared = session.run("share", "workspaces", "share", WORKSPACE)
    assert "verified" in shared.stdout, shared.stderr
    ingested = session.run("ingest", "ingest", str(note), "--workspace", WORKSPACE, "--json")
    assert '"indexed"' in ingested.stdout, (ingested.stdout, ingested.stderr)
    found = session.run("search", "search", "ceftriaxone", "-w", WORKSPACE, "--json")
    assert "ceftriaxone" in found.stdout.lower(), (found.stdout, found.stderr)
    asked = session.run("ask", "ask", QUESTION, "-w", WORKSPACE, "--model", "ward-llm", "--json")
    answer = json.loads(asked.stdout)
    assert answer["evidence"] and answer["answer"].strip(), asked.stdout  # the model was asked
    assert "ward-llm" in json.dumps(answer["route"]), answer["route"]

    approved = _approved(room)
    reached: set[tuple[str, int]] = set()
    for name in session.traces:
        off = set(session.off_machine(name))
        assert off <= approved, f"{name} connected to {sorted(off - approved)}"
        reached |= off
    assert (room.address, room.pg.port) in reached  # the database was used, off this machine
    assert (room.address, room.llm.port) in reached  # and so was the inference server
    destinations, audit = _ledger_destinations(session.home)
    assert audit["verify"]["ok"]
    for host, port in reached:
        assert any(f"{host}:{port}" in d or (port == room.llm.port and host in d)
                   for d in destinations), f"{host}:{port} is not in the ledger"  # fmt: skip
