"""The inference server as an engine, on fakes (fast): routing by domain and tier, the local
fallback with its notice, the draft started again after a mid-answer failure, cancel, the
egress allowance for exactly host:port during a call, the ledger hook, a stream cut short.
The real-server versions are in tests/integration/test_inference_server.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from app.chat.engines import EngineManager
from app.chat.servers import ServerEngine, fallback_notice
from app.chat.service import AskOptions, ChatAnswer, ChatService
from app.library.history import HistoryStore
from app.library.workspaces import Workspace
from app.privacy.egress import GUARD, allow
from app.privacy.policy import InferenceServer
from app.routing.domains import DomainPrediction
from app.routing.router import ModelChoice, Overrides, Router, Signals, decide
from app.settings import Settings
from models.fake import ScriptedEngine
from models.openai_client import Completion, TimedOut, parse_base_url
from models.remote_engine import CallRecord, RemoteEngine, RemoteEngineError
from models.types import CancelToken, GenerationOptions, GenerationStats, Message, StreamEvent
from rag.types import Chunk, Hit

SERVER = InferenceServer("team", "https://10.9.8.7:8000/v1", "big-model", domains=("clinical",))
OPTIONS = GenerationOptions(max_tokens=32)
MESSAGES = [Message("user", "What dose of heparin was given?")]


def pred(domain: str) -> DomainPrediction:
    return DomainPrediction(domain, 0.7, 0.3, {domain: 0.7})


LOCAL = [ModelChoice("general-m", ("general",)), ModelChoice("clinic-m", ("clinical",))]
TEAM = ModelChoice("team", ("clinical",), host="10.9.8.7:8000")
TIER_SERVER = ModelChoice("deep", (), tiers=("verify",), host="10.9.8.8:8000")


# -- routing ------------------------------------------------------------------------------------
def test_a_domain_registered_to_the_server_goes_there_ahead_of_a_local_specialist() -> None:
    route = decide(Signals("What dose?", pred("clinical"), 0.7, 3), [*LOCAL, TEAM], "general-m")
    assert route.model_id == "team" and route.server == "10.9.8.7:8000"
    assert any("the team's inference server at 10.9.8.7:8000" in r for r in route.reasons)
    general = decide(Signals("Summarise", pred("general"), 0.7, 3), [*LOCAL, TEAM], "general-m")
    assert general.model_id == "general-m" and general.server is None


def test_a_tier_registered_to_the_server_goes_there_for_any_domain_it_allows() -> None:
    models = [*LOCAL, TIER_SERVER]
    harder = Overrides(choice="think_harder")
    route = decide(Signals("What dose?", pred("clinical"), 0.7, 3), models, "general-m", harder)
    assert (route.tier, route.model_id, route.server) == ("verify", "deep", "10.9.8.8:8000")
    quick = decide(Signals("What dose?", pred("clinical"), 0.7, 3), models, "general-m")
    assert quick.model_id == "clinic-m"  # the direct tier stays local


def test_the_users_model_choice_wins_over_the_server() -> None:
    chosen = Overrides(model_id="clinic-m", choice="think_harder")
    route = decide(
        Signals("What dose?", pred("clinical"), 0.7, 3), [*LOCAL, TEAM, TIER_SERVER],
        "general-m", chosen,
    )  # fmt: skip
    assert route.model_id == "clinic-m" and route.server is None


# -- the fallback -------------------------------------------------------------------------------
class FakeRemote:
    """Streams `pieces`, then fails with `fail` (a RemoteEngineError kind) if given."""

    def __init__(self, pieces: Sequence[str], fail: str | None = None) -> None:
        self.pieces, self.fail, self.calls = list(pieces), fail, 0

    device = "inference server 10.9.8.7:8000"
    n_ctx = 8192

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass

    def generate(
        self, messages: Sequence[Message], options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]:  # fmt: skip
        self.calls += 1
        sent = 0
        for piece in self.pieces:
            if cancel is not None and cancel.cancelled:
                yield StreamEvent(stats=_stats("cancelled"))
                return
            sent += 1
            yield StreamEvent(text=piece)
        if self.fail:
            raise RemoteEngineError("gone", self.fail, partial=sent > 0)
        yield StreamEvent(stats=_stats("stop"))


def _stats(finish: Any) -> GenerationStats:
    return GenerationStats(1, 1, 0, 0.0, 0.0, finish)


def _run(engine: ServerEngine, cancel: CancelToken | None = None) -> list[StreamEvent]:
    return list(engine.generate(MESSAGES, OPTIONS, cancel))


def test_the_servers_answer_streams_with_no_notice() -> None:
    remote = FakeRemote(["Heparin ", "5000 units."])
    events = _run(ServerEngine(SERVER, lambda: remote, lambda: ScriptedEngine(["local"])))
    assert "".join(e.text for e in events) == "Heparin 5000 units."
    assert events[-1].stats is not None and events[-1].stats.notice == ""


def test_a_server_that_does_not_answer_gives_the_local_answer_with_the_notice() -> None:
    remote = FakeRemote([], fail="unreachable")
    local = ScriptedEngine(["Local answer."], device="CPU")
    engine = ServerEngine(SERVER, lambda: remote, lambda: local)
    events = _run(engine)
    assert "".join(e.text for e in events) == "Local answer."
    assert not any(e.restart for e in events)
    assert events[-1].stats is not None
    assert events[-1].stats.notice == (
        "The team's inference server at 10.9.8.7 did not answer; answered by the local model "
        "(no connection could be made)."
    )
    assert engine.device == "CPU"
    # for a while after a failure the local model answers at once (no connect timeout each time)
    again = _run(engine)
    assert remote.calls == 1 and again[-1].stats is not None and again[-1].stats.notice


def test_a_server_dying_mid_answer_voids_its_draft_and_the_local_model_starts_again() -> None:
    remote = FakeRemote(["Heparin ", "50"], fail="server_error")
    engine = ServerEngine(SERVER, lambda: remote, lambda: ScriptedEngine(["Local answer."]))
    events = _run(engine)
    restart = next(i for i, e in enumerate(events) if e.restart)
    assert "".join(e.text for e in events[:restart]) == "Heparin 50"
    assert "".join(e.text for e in events[restart:]) == "Local answer."
    assert events[-1].stats is not None
    assert events[-1].stats.notice == fallback_notice(
        "10.9.8.7", "it returned an error", partial=True
    )
    assert "stopped in the middle of its answer" in events[-1].stats.notice


def test_cancel_stops_the_server_answer_and_never_falls_back() -> None:
    cancel = CancelToken()
    cancel.cancel()
    local = ScriptedEngine(["Local answer."])
    events = _run(ServerEngine(SERVER, lambda: FakeRemote(["a", "b"]), lambda: local), cancel)
    assert events[-1].stats is not None and events[-1].stats.finish_reason == "cancelled"
    assert events[-1].stats.notice == "" and not local.calls


def test_redaction_when_the_policy_asks_for_it_sends_placeholders_and_restores_them() -> None:
    seen: list[list[Message]] = []

    class Echo(FakeRemote):
        def generate(self, messages: Sequence[Message], options: GenerationOptions,
                     cancel: CancelToken | None = None) -> Iterator[StreamEvent]:  # fmt: skip
            seen.append(list(messages))
            placeholder = next(w for w in messages[0].content.split() if w.startswith("[PERSON"))
            yield StreamEvent(text=f"{placeholder[:4]}")
            yield StreamEvent(text=f"{placeholder[4:]} is the patient.")
            yield StreamEvent(stats=_stats("stop"))

    redacting = InferenceServer("team", SERVER.base_url, "m", redaction=True)
    question = [Message("user", "Is Margaret Ellison (MRN 00482913) the patient?")]
    engine = ServerEngine(redacting, lambda: Echo([]), lambda: ScriptedEngine())
    text = "".join(e.text for e in engine.generate(question, OPTIONS))
    assert "Ellison" not in seen[0][0].content and "00482913" not in seen[0][0].content
    assert "[PERSON" not in text and text.endswith("Margaret Ellison is the patient.")


# -- through ChatService: the notice is in the answer, the draft is the local one ---------------
class NoCatalog:
    def list(self) -> list[Any]:
        return []


class FakeServers:
    def __init__(self, remote: FakeRemote) -> None:
        self.remote = remote

    def ids(self) -> frozenset[str]:
        return frozenset({"team"})

    def engine(self, server_id: str, fallback: Callable[[], Any]) -> ServerEngine:
        return ServerEngine(SERVER, lambda: self.remote, fallback)


class FakeIndex:
    def __init__(self, text: str) -> None:
        self.hits = [Hit(Chunk("c0", "d", 1, 0, len(text), text), "notes.txt", "/n.txt", 1.0, 0.7)]

    def search(self, query: str, k: int = 5, documents: object = None) -> list[Hit]:
        return self.hits

    def openings(self, documents: object = None) -> list[Hit]:
        return []

    def line_of(self, doc_id: str, offset: int) -> int:
        return 1


def test_chat_answer_from_a_fallback_carries_the_notice_and_only_the_local_draft(
    tmp_path: Path,
) -> None:
    note = "Heparin 5000 units were given subcutaneously twice daily."
    local = ScriptedEngine(["Heparin 5000 units were given twice daily [1]."])
    engines = EngineManager(
        NoCatalog(), n_ctx=2048, n_threads=1, n_gpu_layers=0,  # type: ignore[arg-type]
        factory=lambda model_id: local, servers=FakeServers(  # type: ignore[arg-type]
            FakeRemote(["Warfarin ", "was "], fail="timed_out")
        ), fallback_model="general-m",
    )  # fmt: skip
    chat = ChatService(
        settings=Settings(default_model="general-m"),
        history=HistoryStore(tmp_path / "history.sqlite3"),
        engines=engines,
        index_for=lambda ws: FakeIndex(note),  # type: ignore[arg-type,return-value]
        router=Router(models=lambda: [ModelChoice("general-m", ("general",)), TEAM]),
    )
    ws = Workspace("ws", "WS", "now", tmp_path)
    events = list(chat.ask(ws, "What dose of heparin?", AskOptions(domain="clinical")))
    answer = events[-1]
    assert isinstance(answer, ChatAnswer)
    assert answer.route.model_id == "team" and answer.route.server == "10.9.8.7:8000"
    assert answer.draft == "Heparin 5000 units were given twice daily [1]."  # no "Warfarin"
    assert "Warfarin" not in answer.answer
    assert answer.notices[0].startswith(
        "The team's inference server at 10.9.8.7 did not answer; answered by the local model"
    )
    assert answer.device == "CPU" and answer.evidence


# -- RemoteEngine: the egress allowance, the ledger hook, cancel -------------------------------
class FakeClient:
    """Stands in for OpenAICompatibleClient; checks the egress guard from inside the call."""

    def __init__(self, pieces: Sequence[str] = ("Hi", " there"), error: Exception | None = None):
        self.base = parse_base_url("https://10.9.8.7:8000/v1")
        self.pieces, self.error = pieces, error
        self.allowed_inside: list[tuple[bool, bool, bool]] = []
        self.release = threading.Event()
        self.release.set()

    def build_body(self, messages: Any, options: Any = None, *, stream: bool = True) -> bytes:
        return b'{"messages": "..."}'

    def send(self, body: bytes, *, on_text: Any = None, cancel: Any = None) -> Completion:
        self.allowed_inside.append((
            GUARD._host_allowed("10.9.8.7", 8000),
            GUARD._host_allowed("10.9.8.7", 8001),
            GUARD._host_allowed("10.9.8.6", 8000),
        ))  # fmt: skip
        self.release.wait(5)
        if self.error is not None:
            raise self.error
        for piece in self.pieces:
            on_text(piece)
        return Completion("".join(self.pieces), "stop", len(body), 42, 200)


def _remote(client: FakeClient, records: list[CallRecord], around: Any = None) -> RemoteEngine:
    guard: Callable[[], AbstractContextManager[object]] = around or (
        lambda: allow("10.9.8.7", 8000)
    )
    return RemoteEngine(
        client, label="inference server 10.9.8.7:8000",  # type: ignore[arg-type]
        around_call=guard, on_call=records.append,
    )  # fmt: skip


def test_the_guard_allows_exactly_that_host_and_port_while_the_call_is_in_flight() -> None:
    assert GUARD.installed  # tests/conftest.py installs the real guard
    client, records = FakeClient(), []
    engine = _remote(client, records)
    try:
        events = list(engine.generate(MESSAGES, OPTIONS))
    finally:
        engine.close()
    assert client.allowed_inside == [(True, False, False)]
    assert not GUARD._host_allowed("10.9.8.7", 8000) and GUARD.open_allowances == 0
    assert "".join(e.text for e in events) == "Hi there"
    assert records == [CallRecord("answered", 19, 42, records[0].request_sha256)]
    assert events[-1].stats is not None and events[-1].stats.completion_tokens == 2


def test_a_failed_call_is_recorded_and_raised_for_the_fallback() -> None:
    records: list[CallRecord] = []
    engine = _remote(FakeClient(error=TimedOut("slow")), records)
    try:
        with pytest.raises(RemoteEngineError) as caught:
            list(engine.generate(MESSAGES, OPTIONS))
    finally:
        engine.close()
    assert caught.value.kind == "timed_out" and not caught.value.partial
    assert [r.outcome for r in records] == ["timed_out"]
    assert GUARD.open_allowances == 0


def test_cancel_returns_at_once_while_the_server_is_silent() -> None:
    client, records = FakeClient(), []
    client.release.clear()  # the server says nothing yet (a long prompt, say)
    engine = _remote(client, records)
    cancel = CancelToken()
    timer = threading.Timer(0.2, cancel.cancel)
    timer.start()
    try:
        events = list(engine.generate(MESSAGES, OPTIONS, cancel))
    finally:
        client.release.set()
        engine.close()
    assert events[-1].stats is not None and events[-1].stats.finish_reason == "cancelled"


def test_without_the_allowance_the_guard_refuses_the_host_in_one_sentence() -> None:
    from contextlib import nullcontext

    from models.openai_client import OpenAICompatibleClient

    client = OpenAICompatibleClient("https://10.9.8.7:8000/v1", "m", connect_timeout_s=2)
    records: list[CallRecord] = []
    engine = RemoteEngine(client, label="x", around_call=nullcontext, on_call=records.append)
    try:
        with pytest.raises(RemoteEngineError) as caught:
            list(engine.generate(MESSAGES, OPTIONS))
    finally:
        engine.close()
    assert caught.value.kind == "unreachable" and records[0].bytes_out == 0
    assert str(caught.value) == "Could not connect to 10.9.8.7:8000."


def test_a_stream_that_ends_without_its_end_is_not_taken_for_a_whole_answer() -> None:
    """A real loopback HTTP server sends two SSE pieces, then ends the body cleanly, with no
    finish reason and no [DONE]: the client says the answer stopped (the fallback's cue)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from models.openai_client import OpenAICompatibleClient, ServerError

    class Cut(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = b"".join(
                b'data: {"choices":[{"delta":{"content":"%s"}}]}\n\n' % w for w in (b"Hep", b"ar")
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = OpenAICompatibleClient(f"http://127.0.0.1:{server.server_address[1]}/v1", "m")
        pieces: list[str] = []
        with pytest.raises(ServerError, match="stopped before its end"):
            client.send(client.build_body(MESSAGES, OPTIONS), on_text=pieces.append)
        assert pieces == ["Hep", "ar"]
    finally:
        server.shutdown()
        server.server_close()
