"""The privacy promise over whole sessions, proven from outside the process.

A network namespace plays a host that is off this machine: a veth pair links it (10.231.N.2) to
this one (10.231.N.1), and `python -m llama_cpp.server` serves the embedded SmolLM2 there over
HTTPS, with a throwaway CA that the policy names (`ca_file`), as an organisation's own gateway.
Every `enclave` command of a session runs under `strace -f -e trace=connect`:

- frontier disabled (no policy file): ingest, ask, think harder, export and an
  `ask --frontier` (refused: no route) make no connection that leaves loopback;
- frontier enabled (a policy approving https://10.231.N.2:8443/v1 for this workspace): the same
  commands make none either, and the one question the user sends with
  `--frontier --show-request --yes` connects to the approved host and port and nowhere else;
  the frontier answer comes back, and the audit ledger records the call (and verifies).

That connection is made inside `egress.allow()` only, which tests/unit and
test_frontier_guard.py prove in-process. Needs root (ip netns), strace and openssl: skipped with
the reason otherwise. The bytes on the wire are TLS here; that no identifier is in them is
proven on plaintext by test_frontier_llama_server.py's recording proxy.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.privacy.egress import GUARD
from app.privacy.strace import ip_connects
from tests.integration.cli_helpers import enclave
from tests.integration.netns_helpers import namespace_host, require_netns, run
from tests.llama_server import llama_server

pytestmark = [pytest.mark.slow, pytest.mark.strace]

PORT = 8443
WORKSPACE = "ward-7"
NOTE = (
    "DISCHARGE SUMMARY\n\nPatient: Margaret Ellison. MRN: 00482913. DOB: 03/14/1952.\n\n"
    "Margaret Ellison was admitted with community-acquired pneumonia and treated with "
    "ceftriaxone 1 g daily for five days. She was discharged home on oral amoxicillin. "
    "Her daughter Karen Ellison-Moss can be reached at (617) 555-0143.\n"
)
QUESTION = "Which antibiotic was Margaret Ellison treated with?"


@dataclass(frozen=True)
class RemoteHost:
    address: str
    port: int
    ca_file: Path

    @property
    def base_url(self) -> str:
        return f"https://{self.address}:{self.port}/v1"


def _certificates(folder: Path, address: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for `address` signed by it."""
    names = ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem")
    ca_key, ca, key, csr, cert = (folder / n for n in names)
    ext = folder / "ext.cnf"
    ext.write_text(
        f"subjectAltName=IP:{address}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    steps = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca), "-days", "2", "-subj", "/CN=Enclave test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={address}"],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext)],
    ]  # fmt: skip
    for step in steps:
        done = run(*step)
        assert done.returncode == 0, done.stderr
    return ca, key, cert


def _probe(host: RemoteHost) -> Callable[[], bool]:
    context = ssl.create_default_context(cafile=str(host.ca_file))

    def ready() -> bool:
        with GUARD.allow(host.address, host.port):  # the test itself, not the app
            conn = http.client.HTTPSConnection(host.address, host.port, timeout=2, context=context)
            conn.request("GET", "/v1/models")
            return conn.getresponse().status == 200

    return ready


@pytest.fixture(scope="module")
def remote_host(
    tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path
) -> Iterator[RemoteHost]:
    require_netns()
    with namespace_host("enclave-t", "ven", "10.231") as ns:
        ca, key, cert = _certificates(tmp_path_factory.mktemp("tls"), ns.there)
        host = RemoteHost(ns.there, PORT, ca)
        tls = ("--ssl_keyfile", str(key), "--ssl_certfile", str(cert))
        with llama_server(smollm2_path, ns.there, PORT, _probe(host), prefix=ns.prefix, extra=tls):
            yield host


class Session:
    """`enclave` commands with one ENCLAVE_HOME, each under strace; the traces are kept."""

    def __init__(self, folder: Path, policy: Path | None) -> None:
        self.home = folder / "home"
        self.folder = folder
        self.policy = policy
        self.traces: dict[str, str] = {}

    def run(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        trace = self.folder / f"{name}.trace"
        prefix = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
        if self.policy is not None:  # else no policy file at all: the default, no route
            prefix = ["env", f"ENCLAVE_POLICY={self.policy}", *prefix]
        proc = enclave(self.home, *args, prefix=prefix, timeout=600)
        self.traces[name] = trace.read_text()
        return proc

    def local_steps(self, note: Path) -> None:
        """Ingest, ask, think harder, export: a working session on the local model."""
        self.run("ingest", "ingest", str(note), "--workspace", WORKSPACE, "--create", "--json")
        answer = json.loads(self.run("ask", "ask", QUESTION, "-w", WORKSPACE, "--json").stdout)
        self.run("think-harder", "ask", QUESTION, "-w", WORKSPACE, "--think-harder",
                 "--samples", "2", "--json")  # fmt: skip
        listed = self.run("list", "conversations", "list", "-w", WORKSPACE).stdout
        conversation = listed.split()[0]
        self.run("export", "conversations", "export", conversation, "-o",
                 str(self.folder / "export.html"))  # fmt: skip
        assert answer["answer"] and (self.folder / "export.html").stat().st_size > 0

    def off_machine(self, name: str) -> list[tuple[str, int]]:
        return [(c.address, c.port) for c in ip_connects(self.traces[name]) if not c.loopback]


@pytest.fixture
def note(tmp_path: Path) -> Path:
    path = tmp_path / "discharge-summary.txt"
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_a_whole_session_with_the_frontier_disabled_never_leaves_loopback(
    tmp_path: Path, note: Path, remote_host: RemoteHost
) -> None:
    session = Session(tmp_path, policy=None)
    session.local_steps(note)
    sent = session.run("frontier", "ask", QUESTION, "-w", WORKSPACE, "--frontier",
                       "--show-request", "--yes", "--json")  # fmt: skip
    assert "Not sent" in sent.stderr  # no policy: no route, the local model answered
    assert json.loads(sent.stdout)["route"]["tier"] != "frontier"
    for name in session.traces:
        assert session.off_machine(name) == [], f"{name} connected off this machine"


def test_with_the_frontier_enabled_only_the_approved_call_reaches_the_approved_host(
    tmp_path: Path, note: Path, remote_host: RemoteHost
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True,
        "endpoints": [{"id": "gateway", "base_url": remote_host.base_url, "model": "smollm2",
                       "requires_key": False, "ca_file": str(remote_host.ca_file)}],
        "workspaces": [WORKSPACE], "review_required": True, "max_chunks": 2, "timeout_s": 300,
    }}))  # fmt: skip
    session = Session(tmp_path, policy=policy)
    session.local_steps(note)
    sent = session.run("frontier", "ask", QUESTION, "-w", WORKSPACE, "--frontier",
                       "--show-request", "--yes", "--json")  # fmt: skip
    answer = json.loads(sent.stdout)
    assert answer["route"]["tier"] == "frontier", sent.stderr
    assert answer["answer"].strip()
    assert "Exact outgoing text" in sent.stderr and "Margaret Ellison" not in sent.stderr
    for name in ("ingest", "ask", "think-harder", "list", "export"):
        assert session.off_machine(name) == [], f"{name} connected off this machine"
    reached = session.off_machine("frontier")
    assert reached and set(reached) == {(remote_host.address, remote_host.port)}
    audit = json.loads(enclave(session.home, "audit", "--verify", "--json", "--limit", "0").stdout)
    assert audit["verify"]["ok"]
    calls = [e for e in audit["entries"] if e.get("kind") == "frontier_call" and e.get("allowed")]
    assert len(calls) == 1 and remote_host.address in str(calls[0].get("destination"))
    assert audit["summary"]["refused"] == 0
