"""The organisation's inference servers as models of the portfolio, with the local model as
their fallback.

The administrator's policy names them (`inference_servers` in app.privacy.policy). Each one is
a `ServerEngine`: a `models.remote_engine.RemoteEngine` (the one HTTP client) whose every call
runs inside `app.privacy.egress.allow(host, port)` (exactly that host:port, only while the call
is in flight) and ends in one `inference_call` line of the audit ledger (host:port, model,
outcome, byte counts, the request's sha256; never content). When the server is down, times
out or dies mid-answer, the local model answers instead and the answer's notices say so: "The
team's inference server at HOST did not answer; answered by the local model (why)." The
answer pipeline above (evidence, fact check, citations) is the same as for a local model.

Redaction applies only when the policy says `"redaction": true` for that server: identifiers are
replaced by placeholders before sending and restored in the reply as it streams.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from app.privacy.egress import allow
from models.remote_engine import RemoteEngineError
from models.types import Message, StreamEvent

if TYPE_CHECKING:
    from app.frontier.keys import KeyStore
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import InferenceServer, Policy
    from app.routing.router import ModelChoice
    from models.engine import ChatEngine
    from models.remote_engine import CallRecord
    from models.types import CancelToken, GenerationOptions

DOWN_FOR_S = 30.0  # after a failure, questions go straight to the local model for this long

_WHY: dict[str, str] = {
    "unreachable": "no connection could be made",
    "timed_out": "it did not answer in time",
    "unauthorized": "it refused the API key",
    "rate_limited": "it is rate limiting requests",
    "server_error": "it returned an error",
    "bad_response": "its reply could not be read",
    "blocked": "the egress guard blocked the connection",
    "no_key": "no API key is stored for it",
    "redaction_failed": "redaction could not run, so nothing was sent",
}


def fallback_notice(host: str, why: str, *, partial: bool = False) -> str:
    """The notice in an answer the local model gave instead of the server."""
    if partial:
        why = f"it stopped in the middle of its answer: {why}"
    return (
        f"The team's inference server at {host} did not answer; answered by the local model "
        f"({why})."
    )


class ServerEngine:
    """A ChatEngine for one inference server that falls back to the local model.

    `remote` is built on first use (`remote_factory`, which reads the API key); `fallback` gives
    the local engine (loaded on first need). Runs on the caller's thread, like any engine.
    """

    def __init__(
        self,
        server: InferenceServer,
        remote_factory: Callable[[], ChatEngine],
        fallback: Callable[[], ChatEngine],
    ) -> None:
        self.server = server
        self._remote_factory = remote_factory
        self._remote: ChatEngine | None = None
        self._fallback = fallback
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down_why = ""
        self._answered = threading.local()  # who answered this thread's last question

    @property
    def device(self) -> str:
        """The server, or after a fallback on this thread, the local model's device."""
        label = f"inference server {self.server.destination}"
        return str(getattr(self._answered, "device", label))

    @property
    def n_ctx(self) -> int:
        return self.server.context_length

    def count_tokens(self, text: str) -> int:
        return max(1, -(-len(text) // 4)) if text else 0

    def close(self) -> None:
        with self._lock:
            remote, self._remote = self._remote, None
        if remote is not None:
            remote.close()

    def generate(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]:
        """The server's answer, streamed; or, when it fails, the local model's with a notice
        on the final stats (a `restart` event first when the server had begun to answer)."""
        with self._lock:
            down = time.monotonic() < self._down_until
            why = self._down_why
        self._answered.device = f"inference server {self.server.destination}"
        partial = False
        if not down:
            try:
                yield from self._from_server(messages, options, cancel)
                return
            except RemoteEngineError as exc:
                partial = exc.partial
                why = _WHY.get(exc.kind, str(exc))
                with self._lock:
                    self._down_until = time.monotonic() + DOWN_FOR_S
                    self._down_why = why
        if partial:
            yield StreamEvent(restart=True)
        notice = fallback_notice(self.server.host, why, partial=partial)
        local = self._fallback()
        self._answered.device = local.device
        for event in local.generate(messages, options, cancel):
            if event.stats is not None:
                yield StreamEvent(stats=replace(event.stats, notice=notice))
            else:
                yield event

    def _from_server(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None,
    ) -> Iterator[StreamEvent]:
        remote = self._remote_engine()
        if not self.server.redaction:
            yield from remote.generate(messages, options, cancel)
            return
        from app.privacy.redaction import RedactionError, RedactionSession, StreamRestorer

        session = RedactionSession()
        try:
            redacted = session.redact_all([m.content for m in messages])
        except RedactionError as exc:
            raise RemoteEngineError(str(exc), "redaction_failed") from None
        outgoing = [Message(m.role, r.text) for m, r in zip(messages, redacted, strict=True)]
        restorer = StreamRestorer(session)
        for event in remote.generate(outgoing, options, cancel):
            if event.stats is not None:
                if tail := restorer.flush():
                    yield StreamEvent(text=tail)
                yield event
            elif text := restorer.feed(event.text):
                yield StreamEvent(text=text)

    def _remote_engine(self) -> ChatEngine:
        with self._lock:
            if self._remote is None:
                self._remote = self._remote_factory()
            return self._remote


class InferenceServers:
    """The policy's inference servers: their router entries and their engines."""

    def __init__(
        self,
        policy: Callable[[], Policy],
        keys: Callable[[], KeyStore],
        ledger: Callable[[], AuditLedger],
    ) -> None:
        self._policy = policy
        self._keys = keys
        self._ledger = ledger

    def servers(self) -> tuple[InferenceServer, ...]:
        return self._policy().inference_servers

    def ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.servers())

    def choices(self) -> list[ModelChoice]:
        """The router's view: each server with its domains, tiers and host."""
        from app.routing.router import ModelChoice

        return [
            ModelChoice(s.id, s.domains, tiers=s.tiers, host=s.destination) for s in self.servers()
        ]

    def engine(self, server_id: str, fallback: Callable[[], ChatEngine]) -> ServerEngine:
        """The engine for an approved server (PolicyRefusal for any other id)."""
        server = self._policy().inference_server(server_id)
        return ServerEngine(server, lambda: self.remote(server), fallback)

    def engine_for_url(self, base_url: str, fallback: Callable[[], ChatEngine]) -> ServerEngine:
        """The engine for an approved server's base URL; PolicyRefusal (one sentence) for a
        URL the policy does not name: nothing is sent to it."""
        from app.privacy.policy import PolicyRefusal

        try:
            server = self._policy().check_server_url(base_url)
        except PolicyRefusal:
            self._refused(base_url)
            raise
        return ServerEngine(server, lambda: self.remote(server), fallback)

    def _refused(self, base_url: str) -> None:
        import contextlib

        from app.privacy.ledger import LedgerError
        from models.openai_client import parse_base_url

        try:
            base = parse_base_url(base_url)
            destination: str | None = f"{base.host}:{base.port}"
        except ValueError:
            destination = None
        with contextlib.suppress(LedgerError):  # nothing was sent; the refusal is shown anyway
            self._ledger().record(
                kind="inference_call", destination=destination, allowed=False,
                outcome="refused_by_policy", bytes_out=0, bytes_in=0,
            )  # fmt: skip

    def remote(self, server: InferenceServer) -> ChatEngine:
        """The server's RemoteEngine: key from the OS keyring, calls through the egress guard,
        each recorded in the ledger. RemoteEngineError (kind "no_key") when a key is needed and
        none is stored."""
        from models.openai_client import OpenAICompatibleClient
        from models.remote_engine import RemoteEngine

        key = self._key(server)
        client = OpenAICompatibleClient(
            server.base_url,
            server.model,
            key,
            timeout_s=server.timeout_s,
            connect_timeout_s=server.connect_timeout_s,
            read_timeout_s=server.read_timeout_s,
            ca_file=server.ca_file,
            verify=server.verify_tls,
        )
        return RemoteEngine(
            client,
            label=f"inference server {server.destination}",
            n_ctx=server.context_length,
            around_call=lambda: allow(server.host, server.port),
            on_call=lambda call: self._record(server, call),
        )

    def _key(self, server: InferenceServer) -> str | None:
        if not server.requires_key:
            return None
        from app.frontier.keys import KeyStoreError

        try:
            stored = self._keys().get_api_key(server.id)
        except KeyStoreError as exc:
            raise RemoteEngineError(str(exc), "no_key") from None
        if stored is None:
            raise RemoteEngineError(f"No API key is stored for {server.id}.", "no_key")
        return stored.reveal()

    def _record(self, server: InferenceServer, call: CallRecord) -> None:
        self._ledger().record(
            kind="inference_call",
            destination=server.destination,
            endpoint=server.id,
            model=server.model,
            allowed=True,
            outcome=call.outcome,
            bytes_out=call.bytes_out,
            bytes_in=call.bytes_in,
            request_sha256=call.request_sha256,
        )
