"""RemoteEngine: a chat model on an OpenAI-compatible server (the organisation's vLLM or
llama.cpp server) behind the same ChatEngine interface as a local GGUF.

It speaks HTTP only through `models.openai_client` (the one client). One long-lived thread per
engine sends the requests, one at a time, in order (as LlamaEngine's inference thread does);
`generate()` queues a request there and the caller's thread iterates the pieces as they arrive.

What it does not do, on purpose: decide whether the server may be used or open the egress guard
(the app passes `around_call`, a context manager entered around each HTTP call: it allows
exactly this host:port while the call is in flight), nor write the audit ledger (the app's
`on_call` gets a `CallRecord` after every call: outcome and byte counts, never content).

Failures: `generate()` raises `RemoteEngineError` (with `kind`, and `partial` when some of the
answer had already streamed) so the caller can fall back to a local model. Cancelling stops
the stream between two pieces; the caller's iteration ends at once even while the server is
silent, and the request is abandoned (its connection closes when the next piece arrives or the
read timeout passes).
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from models.errors import EngineClosedError, ModelError
from models.types import (
    CancelToken,
    FinishReason,
    GenerationOptions,
    GenerationStats,
    Message,
    StreamEvent,
)

if TYPE_CHECKING:
    from models.openai_client import OpenAICompatibleClient

_POLL_S = 0.02  # how often a waiting caller looks at its cancel token
_CHARS_PER_TOKEN = 4  # the server's tokenizer is not here: an estimate for budgets


class RemoteEngineError(ModelError):
    """The server gave no (complete) answer. `kind`: unreachable, timed_out, unauthorized,
    rate_limited, server_error, bad_response, blocked or error. `partial`: pieces had streamed."""

    def __init__(self, message: str, kind: str, *, partial: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.partial = partial


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call, for the audit ledger (no content)."""

    outcome: str  # "answered", "cancelled" or a RemoteEngineError kind
    bytes_out: int
    bytes_in: int
    request_sha256: str


CallHook = Callable[[CallRecord], None]
AroundCall = Callable[[], AbstractContextManager[object]]


class _JobCancel(CancelToken):
    """Cancelled when the caller's token is, or when the caller stopped listening."""

    def __init__(self, caller: CancelToken | None) -> None:
        super().__init__()
        self._caller = caller

    @property
    def cancelled(self) -> bool:
        return super().cancelled or (self._caller is not None and self._caller.cancelled)


@dataclass
class _Job:
    messages: Sequence[Message]
    options: GenerationOptions
    cancel: _JobCancel
    submitted: float = field(default_factory=time.perf_counter)
    out: queue.SimpleQueue[StreamEvent | BaseException] = field(default_factory=queue.SimpleQueue)


class RemoteEngine:
    """A model served over HTTP. Thread-safe to call; requests run on the engine's thread."""

    def __init__(
        self,
        client: OpenAICompatibleClient,
        *,
        label: str,
        n_ctx: int = 8192,
        around_call: AroundCall | None = None,
        on_call: CallHook | None = None,
    ) -> None:
        """`label`: how the answer's device reads (e.g. "inference server llm.example:8000")."""
        self._client = client
        self._label = label
        self._n_ctx = n_ctx
        self._around_call = around_call or nullcontext
        self._on_call = on_call
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(
            target=self._main, name=f"enclave-remote-{client.base.host}", daemon=True
        )
        self._thread.start()

    @property
    def device(self) -> str:
        return self._label

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token): the server's tokenizer is not here."""
        return max(1, -(-len(text) // _CHARS_PER_TOKEN)) if text else 0

    def close(self, wait_s: float = 3.0) -> None:
        """End the thread, waiting up to `wait_s` for a cancelled call to finish and be
        recorded (a server that stays silent longer is abandoned). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=wait_s)

    def generate(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]:
        """Pieces of the answer as they arrive, then the stats (caller's thread). Raises
        RemoteEngineError when the server gives no complete answer."""
        if self._closed:
            raise EngineClosedError(f"the engine for {self._label} was closed")
        job = _Job(list(messages), options, _JobCancel(cancel))
        self._jobs.put(job)
        pieces = 0
        finished = False
        try:
            while True:
                try:
                    item = job.out.get(timeout=_POLL_S)
                except queue.Empty:
                    if job.cancel.cancelled:  # the server may be silent: do not wait for it
                        finished = True
                        yield StreamEvent(stats=self._stats(job, pieces, 0.0, "cancelled"))
                        return
                    continue
                if isinstance(item, BaseException):
                    finished = True
                    if isinstance(item, RemoteEngineError):
                        item.partial = pieces > 0
                    raise item
                if item.text:
                    pieces += 1
                finished = item.done
                yield item
                if finished:
                    return
        finally:
            if not finished:
                job.cancel.cancel()

    # -- the engine's thread -----------------------------------------------------------------
    def _main(self) -> None:
        while (job := self._jobs.get()) is not None:
            if job.cancel.cancelled:
                continue
            try:
                self._run(job)
            except BaseException as exc:  # never let one request kill the thread
                job.out.put(RemoteEngineError(f"The server call failed: {exc}", "error"))

    def _run(self, job: _Job) -> None:
        from models.openai_client import FrontierError

        body = self._client.build_body(job.messages, job.options, stream=True)
        digest = hashlib.sha256(body).hexdigest()
        pieces = 0
        first = 0.0

        def on_text(text: str) -> None:
            nonlocal pieces, first
            if not pieces:
                first = time.perf_counter() - job.submitted
            pieces += 1
            job.out.put(StreamEvent(text=text))

        try:
            with self._around_call():
                completion = self._client.send(body, on_text=on_text, cancel=job.cancel)
        except FrontierError as exc:
            if exc.kind == "cancelled":
                self._record("cancelled", len(body), 0, digest)
                job.out.put(StreamEvent(stats=self._stats(job, pieces, first, "cancelled")))
                return
            # "unreachable" before any piece: no connection, nothing sent; after one, it was
            sent = len(body) if pieces or exc.kind != "unreachable" else 0
            self._record(exc.kind, sent, 0, digest)
            job.out.put(RemoteEngineError(str(exc), exc.kind))
            return
        except OSError as exc:  # the egress guard refused, or the name did not resolve
            kind = "blocked" if isinstance(exc, ConnectionRefusedError) else "unreachable"
            self._record(kind, 0, 0, digest)
            job.out.put(RemoteEngineError(str(exc) or exc.__class__.__name__, kind))
            return
        self._record("answered", completion.bytes_out, completion.bytes_in, digest)
        reason: FinishReason = "length" if completion.finish_reason == "length" else "stop"
        job.out.put(StreamEvent(stats=self._stats(job, pieces, first, reason)))

    def _record(self, outcome: str, bytes_out: int, bytes_in: int, digest: str) -> None:
        if self._on_call is not None:
            self._on_call(CallRecord(outcome, bytes_out, bytes_in, digest))

    def _stats(self, job: _Job, pieces: int, first: float, finish: FinishReason) -> GenerationStats:
        return GenerationStats(
            prompt_tokens=sum(self.count_tokens(m.content) for m in job.messages),
            completion_tokens=pieces,  # OpenAI-style servers stream about one token a piece
            reused_prompt_tokens=0,
            seconds_to_first_token=first,
            seconds_total=time.perf_counter() - job.submitted,
            finish_reason=finish,
        )
