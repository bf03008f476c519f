"""The organisation's inference server as a model of the portfolio, with real components.

`python -m llama_cpp.server` serves the embedded SmolLM2 GGUF on loopback with an API key; a
small streaming proxy (tests/streaming_proxy.py) in front of it records every request body and
the answer it streamed back, and can kill the server (SIGKILL) in the middle of an answer. The
server is named in a real policy file; the real embedder, real chromadb on disk, the real
local model through llama.cpp (the fallback), the real ledger on disk and the real egress
guard (installed by tests/conftest.py) are used throughout.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.chat.service import AskOptions, ChatAnswer, Token
from app.container import Enclave
from app.frontier.keys import KeyStore
from app.paths import Paths
from app.privacy.egress import GUARD
from app.privacy.policy import PolicyRefusal
from app.settings import Settings
from models.types import CancelToken
from rag.types import Page, ParsedDocument
from tests.integration.cli_helpers import enclave as run_enclave
from tests.integration.cli_helpers import json_lines
from tests.llama_server import llama_server
from tests.streaming_proxy import (
    API_KEY,
    StreamingProxy,
    free_port,
    handler,
    make_ca,
    ready,
    served,
    server_tls,
    start_proxy,
)

pytestmark = pytest.mark.slow

NOTE = (
    "Discharge summary. The patient was admitted with a deep vein thrombosis of the left leg. "
    "Enoxaparin 80 mg was given subcutaneously every 12 hours, then warfarin was started with a "
    "target INR of 2 to 3. The patient has a documented allergy to penicillin. Follow-up in the "
    "anticoagulation clinic is arranged in one week."
)
QUESTION = "What dose of enoxaparin was given to the patient?"


def _server_entry(server_id: str, base_url: str, **extra: Any) -> dict[str, Any]:
    return {"id": server_id, "base_url": base_url, "model": "smollm2", "requires_key": True,
            "connect_timeout_s": 3, "read_timeout_s": 30, "timeout_s": 120, **extra}  # fmt: skip


@dataclass
class Setup:
    enclave: Enclave
    team: StreamingProxy
    dying_port: int  # the proxy the "dying" server entry points at
    down_port: int  # nothing listens there
    home: Path
    slow: StreamingProxy  # the same server, slowly, holding the key itself
    tls: StreamingProxy  # the same server over TLS, its certificate from an internal CA


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path, real_embedder: Any
) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("team-server-home")
    with served(smollm2_path) as team:
        slow = StreamingProxy(upstream=team.upstream, delay_s=0.25, add_key=True)
        slow_server = start_proxy(slow)
        certs = tmp_path_factory.mktemp("certs")
        hospital_ca, other_ca = make_ca(certs, "hospital-ca"), make_ca(certs, "other-ca")
        tls = StreamingProxy(upstream=team.upstream, add_key=True)
        tls_server = start_proxy(tls, server_tls(certs, hospital_ca))
        tls_url = f"https://127.0.0.1:{tls.port}/v1"
        dying_port, down_port = free_port(), free_port()
        policy = home / "policy.json"
        policy.write_text(json.dumps({"version": 1, "inference_servers": [
            _server_entry("team", team.base_url, domains=["clinical"], label="Team server"),
            _server_entry("dying", f"http://127.0.0.1:{dying_port}/v1"),
            _server_entry("down", f"http://127.0.0.1:{down_port}/v1"),
            _server_entry("slow", slow.base_url, requires_key=False),
            _server_entry("tls", tls_url, requires_key=False, ca_file=str(hospital_ca[0])),
            _server_entry("tls-wrong-ca", tls_url, requires_key=False,
                          ca_file=str(other_ca[0])),
            _server_entry("tls-no-check", tls_url, requires_key=False, verify_tls=False),
            _server_entry("tls-system-ca", tls_url, requires_key=False),
        ]}))  # fmt: skip
        mp = pytest.MonkeyPatch()
        mp.setenv("ENCLAVE_POLICY", str(policy))
        paths = Paths.from_env({"ENCLAVE_HOME": str(home)})
        settings = Settings(n_threads=1, max_answer_tokens=24, n_ctx=2048)
        enc = Enclave(paths, settings, embedder=real_embedder)
        assert enc.policy.problem is None, enc.policy.problem
        keys = KeyStore()
        if keys.status().secure:  # a developer's desktop: keep the test off the real keyring
            keys = KeyStore(backend=object())
        for server_id in ("team", "dying", "down"):
            keys.keep_for_session(server_id, API_KEY)
        enc.keys = keys
        ws = enc.workspaces.create("Ward 7")
        report = enc.index(ws).ingest_parsed(
            ws.folder / "discharge.txt", ParsedDocument(NOTE, [Page(1, 0, len(NOTE))])
        )
        assert report.outcome == "indexed", report
        try:
            yield Setup(enc, team, dying_port, down_port, home, slow, tls)
        finally:
            enc.close()
            mp.undo()
            for proxy_server in (slow_server, tls_server):
                proxy_server.shutdown()
                proxy_server.server_close()


def _ask(setup: Setup, **options: Any) -> tuple[list[Any], ChatAnswer]:
    ws = setup.enclave.workspaces.get("Ward 7")
    cancel = options.pop("cancel", None)
    events = list(setup.enclave.chat.ask(ws, QUESTION, AskOptions(**options), cancel=cancel))
    assert isinstance(events[-1], ChatAnswer)
    return events, events[-1]


def _calls(setup: Setup, server_id: str) -> list[dict[str, Any]]:
    return [
        e for e in setup.enclave.ledger.entries()
        if e.get("kind") == "inference_call" and e.get("endpoint") == server_id
    ]  # fmt: skip


# -- the tests --------------------------------------------------------------------------------
def test_a_clinical_question_is_routed_to_the_team_server_and_answered_there(
    setup: Setup,
) -> None:
    team = setup.team
    before = len(team.bodies)
    events, answer = _ask(setup, choice="quick")
    host = f"127.0.0.1:{team.port}"

    # routed there by the domain classifier, and answered there
    assert answer.route.domain == "clinical"
    assert answer.route.model_id == "team" and answer.route.server == host
    assert any("team's inference server" in r for r in answer.route.reasons)
    assert answer.device == f"inference server {host}"
    assert len(team.bodies) == before + 1
    sent = json.loads(team.bodies[-1])
    assert sent["model"] == "smollm2" and sent["stream"] is True
    assert QUESTION in sent["messages"][-1]["content"]
    assert "Enoxaparin 80 mg" in sent["messages"][-1]["content"]  # the sources went with it
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert streamed.strip() and streamed == team.answer_text()  # the server's own words
    assert answer.draft.strip() == team.answer_text().strip()
    assert not any("did not answer" in n or "stopped" in n for n in answer.notices)
    # the pipeline above the engine is unchanged: evidence first, checked, cited
    assert answer.evidence and "Enoxaparin 80 mg" in answer.evidence[0].quote
    assert answer.citations and answer.evidence[0].document == "discharge.txt"
    # the egress guard allowed the host while the call was in flight, and only then
    assert team.allowances[-1] >= 1 and GUARD.open_allowances == 0
    # the ledger has the call with its host, its bytes and the body's hash
    call = _calls(setup, "team")[-1]
    assert call["destination"] == host and call["allowed"] is True
    assert call["outcome"] == "answered" and call["model"] == "smollm2"
    assert call["bytes_out"] == len(team.bodies[-1]) and call["bytes_in"] > 0
    assert setup.enclave.ledger.verify().ok


def test_the_server_killed_mid_answer_falls_back_to_the_local_model(
    setup: Setup, smollm2_path: Path
) -> None:
    port = free_port()
    with llama_server(
        smollm2_path, "127.0.0.1", port, lambda: ready(port), extra=("--api_key", API_KEY)
    ) as process:
        dying = StreamingProxy(upstream=port, process=process, kill_after=4)
        proxy = ThreadingHTTPServer(("127.0.0.1", setup.dying_port), handler(dying))
        dying.port = setup.dying_port
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            events, answer = _ask(setup, choice="quick", model_id="dying")
        finally:
            proxy.shutdown()
            proxy.server_close()
    assert dying.killed and process.poll() is not None  # it really died, mid-answer
    partial = dying.answer_text()
    streamed = "".join(e.text for e in events if isinstance(e, Token))
    assert partial and streamed.startswith(partial)  # the server had begun to answer
    notice = (
        "The team's inference server at 127.0.0.1 did not answer; answered by the local model "
        "(it stopped in the middle of its answer"
    )
    assert any(n.startswith(notice) for n in answer.notices), answer.notices
    assert answer.device == "CPU"  # the local model answered
    assert answer.route.model_id == "dying"
    assert answer.evidence and "Enoxaparin 80 mg" in answer.evidence[0].quote
    assert not answer.cancelled and answer.stats is not None
    assert answer.stats.completion_tokens > 0
    call = _calls(setup, "dying")[-1]
    assert call["destination"] == f"127.0.0.1:{setup.dying_port}"
    assert call["outcome"] != "answered" and call["bytes_out"] == len(dying.bodies[-1])
    assert GUARD.open_allowances == 0


def test_a_server_that_is_down_falls_back_with_the_notice(setup: Setup) -> None:
    _, answer = _ask(setup, choice="quick", model_id="down")
    notice = "The team's inference server at 127.0.0.1 did not answer; answered by the local model"
    assert any(n.startswith(notice) for n in answer.notices), answer.notices
    assert answer.device == "CPU" and answer.evidence
    call = _calls(setup, "down")[-1]
    assert call["destination"] == f"127.0.0.1:{setup.down_port}"
    assert call["outcome"] == "unreachable" and call["bytes_out"] == 0


def test_stop_cancels_the_server_answer_without_falling_back(setup: Setup) -> None:
    ws = setup.enclave.workspaces.get("Ward 7")
    cancel = CancelToken()
    events = []
    for event in setup.enclave.chat.ask(ws, QUESTION, AskOptions(choice="quick"), cancel=cancel):
        events.append(event)
        if isinstance(event, Token):
            cancel.cancel()  # the window's Stop, or Ctrl-C in the terminal
    answer = events[-1]
    assert isinstance(answer, ChatAnswer) and answer.cancelled
    assert answer.route.model_id == "team"
    assert not any("local model" in n for n in answer.notices)
    assert _calls(setup, "team")[-1]["outcome"] in ("cancelled", "answered")
    assert GUARD.open_allowances == 0 or _wait_closed()


def _wait_closed() -> bool:
    import time

    deadline = time.monotonic() + 10
    while GUARD.open_allowances and time.monotonic() < deadline:
        time.sleep(0.05)
    return GUARD.open_allowances == 0


def test_a_url_not_in_the_policy_is_refused_in_one_sentence(setup: Setup) -> None:
    with pytest.raises(PolicyRefusal) as caught:
        setup.enclave.servers.engine_for_url("http://127.0.0.1:9/v1", lambda: None)  # type: ignore[arg-type, return-value]
    message = str(caught.value)
    assert message == (
        "http://127.0.0.1:9/v1 is not an approved inference server, so Enclave sends nothing to "
        "it; only your administrator's policy can approve one."
    )
    refused = [e for e in setup.enclave.ledger.entries() if e.get("outcome") == "refused_by_policy"]
    assert refused[-1]["destination"] == "127.0.0.1:9" and refused[-1]["allowed"] is False


def test_the_cli_lists_the_server_with_its_host_probes_it_and_refuses_others(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_home = setup.home
    monkeypatch.setenv("ENCLAVE_POLICY", str(env_home / "policy.json"))
    listed = run_enclave(env_home, "models", "list").stdout
    host = f"127.0.0.1:{setup.team.port}"
    line = next(line for line in listed.splitlines() if line.startswith("team "))
    assert f"inference server at {host}" in line and "clinical" in line
    rows = json_lines(run_enclave(env_home, "models", "list", "--json").stdout)
    team = next(r for r in rows if r["id"] == "team")
    assert team["kind"] == "inference_server" and team["host"] == host

    refused = run_enclave(env_home, "models", "probe", "http://10.20.30.40:8000/v1", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "enclave: http://10.20.30.40:8000/v1 is not an approved inference server, so Enclave "
        "sends nothing to it; only your administrator's policy can approve one."
    )
    assert "Traceback" not in refused.stderr and refused.stdout == ""

    # a server that needs a key, in a process with none stored: one line, exit 1, nothing sent
    sent_before = len(setup.team.bodies)
    no_key = run_enclave(env_home, "models", "probe", "team", check=False)
    assert no_key.returncode == 1 and "Traceback" not in no_key.stderr
    assert no_key.stdout.strip() == f"FAILED  team at {host}: No API key is stored for team."
    assert len(setup.team.bodies) == sent_before


@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="needs apt packages gnome-keyring and dbus-x11 (dbus-run-session)",
)
def test_the_key_from_the_os_keyring_lets_a_probe_through(setup: Setup, tmp_path: Path) -> None:
    """`enclave models key` stores the key in a real Secret Service (GNOME Keyring); a second
    process, `enclave models probe`, reads it from there and the server answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "KEYRING"))}
    (tmp_path / "runtime").mkdir(mode=0o700)
    env.update(
        HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path / "runtime"),
        ENCLAVE_HOME=str(setup.home), ENCLAVE_POLICY=str(setup.home / "policy.json"),
        PYTHONUNBUFFERED="1",
    )  # fmt: skip
    py = f"{shlex.quote(sys.executable)} -m app"
    script = (
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 && "
        f"printf '%s\\n' {shlex.quote(API_KEY)} | {py} models key team && {py} models probe team"
    )
    before = len(setup.team.bodies)
    run = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        env=env, capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    stored, probed = run.stdout.strip().splitlines()[-2:]
    assert stored == "The API key for team is stored in the OS keyring."
    assert probed.startswith(f"    ok  team at 127.0.0.1:{setup.team.port} answered in")
    assert len(setup.team.bodies) == before + 1  # the probe reached the real server
    assert API_KEY.encode() not in b"".join(p.read_bytes() for p in setup.home.rglob("*.json*"))


def test_ctrl_c_stops_the_server_answer_in_the_terminal(setup: Setup) -> None:
    """A real SIGINT to `enclave ask` while the server streams (slowly): exit 130, "Stopped.",
    no traceback; the connection is dropped and the ledger records the call as cancelled."""
    env = dict(
        os.environ, ENCLAVE_HOME=str(setup.home), ENCLAVE_POLICY=str(setup.home / "policy.json"),
        PYTHONUNBUFFERED="1", ENCLAVE_MAX_ANSWER_TOKENS="400",
    )  # fmt: skip
    child = subprocess.Popen(
        [sys.executable, "-m", "app", "ask", QUESTION, "-w", "Ward 7", "--quick",
         "--model", "slow"],
        env=env, cwd=Path(__file__).parents[2], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stderr is not None
    err: list[str] = []
    for line in child.stderr:  # the model has started writing when this line comes
        err.append(line)
        if "Checking the answer" in line:
            break
    assert setup.slow.bodies, "".join(err)
    child.send_signal(signal.SIGINT)
    out, rest = child.communicate(timeout=60)
    stderr = "".join(err) + rest
    assert child.returncode == 130, (child.returncode, out, stderr)
    assert "Stopped." in stderr and "Traceback" not in stderr
    assert _calls(setup, "slow")[-1]["outcome"] == "cancelled"
    deadline = time.monotonic() + 10
    while not setup.slow.client_gone and time.monotonic() < deadline:
        time.sleep(0.1)
    assert setup.slow.client_gone  # the answer stopped streaming to this computer


@pytest.mark.parametrize(
    ("server_id", "answered_there"),
    [("tls", True), ("tls-no-check", True), ("tls-wrong-ca", False), ("tls-system-ca", False)],
)
def test_tls_trusts_the_policys_ca_file_only(
    setup: Setup, server_id: str, answered_there: bool
) -> None:
    """The internal CA named in ca_file is trusted; another CA, or the system's (which never
    signed it), is not, and the local model answers; verify_tls false skips the check."""
    before = len(setup.tls.bodies)
    _, answer = _ask(setup, choice="quick", model_id=server_id)
    call = _calls(setup, server_id)[-1]
    assert call["destination"] == f"127.0.0.1:{setup.tls.port}"
    if answered_there:
        assert answer.device == f"inference server 127.0.0.1:{setup.tls.port}"
        assert call["outcome"] == "answered" and len(setup.tls.bodies) == before + 1
        assert not any("did not answer" in n for n in answer.notices)
    else:
        assert answer.device == "CPU" and len(setup.tls.bodies) == before  # nothing got through
        assert call["outcome"] == "unreachable"
        assert any(
            n.startswith("The team's inference server at 127.0.0.1 did not answer")
            for n in answer.notices
        ), answer.notices
    assert answer.evidence and "Enoxaparin 80 mg" in answer.evidence[0].quote
