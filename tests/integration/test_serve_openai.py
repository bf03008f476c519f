"""`enclave serve` as a real subprocess, driven by the official `openai` Python client.

A real workspace (a small contract ingested with the embedded embedder into chromadb on disk),
the real SmolLM2 GGUF through llama.cpp, a real server on a free loopback port. The API key is
made by `enclave serve --new-key` into a real Secret Service (GNOME Keyring under
dbus-run-session) and read back by the `enclave serve` process that follows; where those apt
packages are missing, `--session-key` is used and the keyring test says why it skipped.
Answers are kept short (ENCLAVE_MAX_ANSWER_TOKENS) so that 8 concurrent clients finish on two
shared cores.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_helpers import REPO, enclave

openai = pytest.importorskip("openai")

# Answers queue on one inference thread: on two shared, busy cores 8 of them take minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

CONTRACT = """MASTER SERVICES AGREEMENT

This Master Services Agreement is made between Acme Logistics LLC and Borealis Software Inc.

1. Term. This Agreement begins on March 1, 2024 and continues for three (3) years.

2. Fees. Acme Logistics LLC shall pay Borealis Software Inc. a fee of $12,500 per month.

3. Termination. Either party may terminate this Agreement for convenience by giving sixty (60) \
days written notice to the other party.

4. Governing Law. This Agreement is governed by the laws of the State of Delaware.

5. Confidentiality. Each party shall keep the other party's confidential information secret \
for five (5) years after termination.
"""
# question -> the words its evidence must hold (and no other question's answer may)
QUESTIONS = {
    "What is the governing law of this agreement?": "laws of the State of Delaware",
    "What is the monthly fee?": "$12,500 per month",
    "How much notice is needed to terminate for convenience?": "sixty (60) days written notice",
}
HAS_KEYRING = bool(shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"))


@dataclass
class Served:
    url: str
    key: str
    home: Path
    proc: subprocess.Popen[str]
    user_home: Path
    lines: list[str] = field(default_factory=list)  # everything it printed (stdout and stderr)

    def client(self, key: str | None = None) -> Any:
        return openai.OpenAI(
            base_url=self.url, api_key=key or self.key, max_retries=0, timeout=1500
        )


def _reader(stream: Any, sink: list[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        sink.append(line)
        lines.put(line)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-home")
    docs = tmp_path_factory.mktemp("serve-docs")
    (docs / "msa.txt").write_text(CONTRACT, encoding="utf-8")
    enclave(home, "ingest", str(docs / "msa.txt"), "--workspace", "acme", "--create")
    enclave(home, "workspaces", "create", "other")

    user_home = tmp_path_factory.mktemp("user-home")
    runtime = tmp_path_factory.mktemp("runtime")
    runtime.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "KEYRING"))}
    env.update(
        HOME=str(user_home), XDG_RUNTIME_DIR=str(runtime), ENCLAVE_HOME=str(home),
        PYTHONUNBUFFERED="1", ENCLAVE_MAX_ANSWER_TOKENS="48",
    )  # fmt: skip
    serve = f"{sys.executable} -m app serve --port 0"
    if HAS_KEYRING:
        script = (
            "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
            f"{sys.executable} -m app serve --new-key && exec {serve}"
        )
        cmd = ["dbus-run-session", "--", "sh", "-c", script]
    else:
        cmd = [*serve.split(), "--session-key"]
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    printed: list[str] = []
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, printed, lines), daemon=True).start()
    key, url = "", ""
    deadline = time.monotonic() + 400
    while not url:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise AssertionError("enclave serve did not start:\n" + "".join(printed)) from None
        if re.fullmatch(r"enclave-[A-Za-z0-9_-]{40,}\n", line):
            key = line.strip()
        if match := re.search(r"Enclave API on (http://127\.0\.0\.1:\d+/v1)", line):
            url = match.group(1)
    assert key, "".join(printed)
    result = Served(url, key, home, proc, user_home, printed)
    yield result
    if proc.poll() is None:
        _stop(result, signal.SIGINT)


def _stop(served: Served, sig: int) -> int:
    """Send `sig` to the `enclave serve` process (inside dbus-run-session, if any); its exit
    code (dbus-run-session passes it on)."""
    import psutil

    outer = psutil.Process(served.proc.pid)
    inner = [p for p in outer.children(recursive=True) if "serve" in " ".join(p.cmdline())]
    (inner[0] if inner else outer).send_signal(sig)
    try:
        return served.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(served.proc.pid, signal.SIGKILL)
        raise


def _stream(served: Served, question: str, **extra: Any) -> tuple[str, dict[str, Any], list[Any]]:
    """The streamed content, the last chunk's `enclave` field, and the chunks."""
    chunks = list(
        served.client().chat.completions.create(
            model="enclave:acme",
            messages=[{"role": "user", "content": question}],
            stream=True,
            **extra,
        )
    )
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    return content, dict(last.model_extra["enclave"]), chunks


def _assert_own_answer(question: str, content: str, ext: dict[str, Any]) -> None:
    """The content is this question's answer, whole, and nothing of another's."""
    fact = QUESTIONS[question]
    assert content.startswith('From your documents:\n[1] "'), content
    assert content.count("From your documents:") == 1, content
    assert fact in content, content
    for other, other_fact in QUESTIONS.items():
        if other != question:
            assert other_fact not in content, content
    assert ext["not_found"] is False
    assert ext["workspace"] == "acme"
    assert fact in ext["evidence"][0]["quote"], ext["evidence"]
    assert not ext["cancelled"]


def test_models_list_the_workspaces_times_the_local_models(served: Served) -> None:
    ids = [m.id for m in served.client().models.list()]
    assert "enclave:acme" in ids and "enclave:other" in ids
    assert "enclave:acme:smollm2-135m-instruct" in ids
    assert "enclave:other:smollm2-135m-instruct" in ids
    assert served.client().models.retrieve("enclave:acme").id == "enclave:acme"


def test_a_streamed_answer_carries_its_evidence_and_citations(served: Served) -> None:
    question = "What is the governing law of this agreement?"
    content, ext, chunks = _stream(served, question)
    assert chunks[0].choices[0].delta.role == "assistant"
    evidence_chunk = next(c for c in chunks if c.choices and c.choices[0].delta.content)
    assert evidence_chunk.choices[0].delta.content.startswith("From your documents:")
    _assert_own_answer(question, content, ext)
    quote = ext["evidence"][0]
    assert quote["document"] == "msa.txt" and quote["line"] == 11
    assert CONTRACT[quote["start"] : quote["end"]] == quote["quote"]  # verbatim, with offsets
    assert ext["citations"], ext
    for cite in ext["citations"]:
        assert CONTRACT[cite["start"] : cite["end"]] == cite["quote"]
        assert cite["supported"] is True
    assert ext["route"]["model_id"] == "smollm2-135m-instruct"
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0


def test_a_whole_answer_names_its_model_and_continues_a_conversation(served: Served) -> None:
    client = served.client()
    first = client.chat.completions.create(
        model="enclave:acme:smollm2-135m-instruct",
        messages=[{"role": "user", "content": "What is the monthly fee?"}],
    )
    ext = first.model_extra["enclave"]
    _assert_own_answer("What is the monthly fee?", first.choices[0].message.content, ext)
    assert ext["route"]["model_id"] == "smollm2-135m-instruct"
    assert "model" in ext["route"]["overrides"]
    follow = client.chat.completions.create(
        model="enclave",
        messages=[{"role": "user", "content": "What is the governing law of this agreement?"}],
        extra_body={"workspace": "acme", "conversation_id": ext["conversation_id"]},
    )
    assert follow.model_extra["enclave"]["conversation_id"] == ext["conversation_id"]
    from app.library.history import HistoryStore
    from app.paths import Paths

    history = HistoryStore(Paths.from_env({"ENCLAVE_HOME": str(served.home)}).history_db)
    try:
        roles = [m.role for m in history.messages(ext["conversation_id"])]
    finally:
        history.close()
    assert roles == ["user", "assistant", "user", "assistant"]


def test_a_wrong_or_missing_key_is_refused(served: Served) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        served.client(key="enclave-not-the-key").models.list()
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        served.client(key="enclave-not-the-key").chat.completions.create(
            model="enclave:acme", messages=[{"role": "user", "content": "What is the fee?"}]
        )
    host, port = served.url.removeprefix("http://").removesuffix("/v1").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/v1/models")  # no Authorization header at all
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 401
    assert body["error"]["code"] == "invalid_api_key"
    assert "API key" in body["error"]["message"]


def test_bad_requests_get_one_sentence(served: Served) -> None:
    client = served.client()
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(
            model="enclave:no-such-matter", messages=[{"role": "user", "content": "Fee?"}]
        )
    assert "no workspace 'no-such-matter'" in missing.value.message
    with pytest.raises(openai.BadRequestError) as last:
        client.chat.completions.create(
            model="enclave:acme", messages=[{"role": "assistant", "content": "Hello."}]
        )
    assert "last message must be the user's question" in last.value.message


def test_eight_concurrent_clients_each_get_their_own_complete_answer(served: Served) -> None:
    questions = [list(QUESTIONS)[i % len(QUESTIONS)] for i in range(8)]

    def ask(i: int) -> tuple[str, str, dict[str, Any]]:
        question = questions[i]
        if i % 2 == 0:
            content, ext, _ = _stream(served, question)
            return question, content, ext
        reply = served.client().chat.completions.create(
            model="enclave:acme", messages=[{"role": "user", "content": question}]
        )
        return question, str(reply.choices[0].message.content), reply.model_extra["enclave"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(8)))
    assert len(results) == 8
    for question, content, ext in results:
        _assert_own_answer(question, content, ext)
    assert len({ext["conversation_id"] for _, _, ext in results}) == 8
    assert served.proc.poll() is None  # still serving


def test_a_client_that_disconnects_cancels_its_answer(served: Served) -> None:
    """Two streams wait behind a long answer on the one inference thread; their clients close
    them after the evidence: both answers are stored as stopped, and the server goes on."""
    blocker = ThreadPoolExecutor(max_workers=1).submit(
        _stream, served, "How much notice is needed to terminate for convenience?"
    )
    question = "When does this Agreement begin and how long does it continue?"
    for _ in range(2):
        stream = served.client().chat.completions.create(
            model="enclave:acme", messages=[{"role": "user", "content": question}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break  # the evidence arrived; the model has not answered yet
        stream.close()
    blocker.result(timeout=600)
    from app.library.history import HistoryStore
    from app.paths import Paths

    history = HistoryStore(Paths.from_env({"ENCLAVE_HOME": str(served.home)}).history_db)
    try:
        deadline = time.monotonic() + 120
        while True:
            stopped = [
                m.meta.get("cancelled")
                for c in history.conversations("acme")
                if c.title == question
                for m in history.messages(c.id)
                if m.role == "assistant"
            ]
            if len(stopped) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        history.close()
    assert stopped == [True, True], stopped
    content, ext, _ = _stream(served, "What is the monthly fee?")
    _assert_own_answer("What is the monthly fee?", content, ext)


@pytest.mark.skipif(not HAS_KEYRING, reason="needs apt gnome-keyring and dbus-x11")
def test_the_key_came_from_the_keyring(served: Served) -> None:
    printed = "".join(served.lines)
    assert "kept in the OS keyring" in printed  # --new-key stored it in the Secret Service ...
    assert "kept nowhere" not in printed  # ... and `enclave serve` read it back from there
    assert list(served.user_home.rglob("*.keyring")), "gnome-keyring wrote no keyring file"
    for path in served.home.rglob("*"):  # Enclave wrote the key into none of its own files
        if path.is_file():
            assert served.key.encode() not in path.read_bytes(), path


def test_zz_no_content_in_any_log_and_a_clean_stop(served: Served) -> None:
    assert _stop(served, signal.SIGTERM) == 0  # a service manager's stop: a clean end
    time.sleep(0.2)
    printed = "".join(served.lines)
    assert "Stopped serving." in printed
    assert "Traceback" not in printed
    logs = "".join(p.read_text(errors="replace") for p in served.home.rglob("*.log"))
    words = [*QUESTIONS, *QUESTIONS.values(), "Acme Logistics", "Borealis", "Delaware"]
    for text in (printed, logs):
        for word in words:
            assert word not in text
    assert "POST /v1/chat/completions" not in printed  # no access log
