"""The frontier route: an approved, consented, redacted call to a remote OpenAI-compatible model.

Two steps, so a person sees exactly what would leave before anything does:

1. `prepare(question, chunks, workspace_id)` asks the administrator's policy, redacts the question
   and the retrieved chunks (only redacted text, only the `max_chunks` the caller ranked first,
   sources labelled "Source N", never by file name), and builds the exact request body. It
   returns an `FrontierRequest` (app.frontier.request): the messages, the exact text to show
   (`display_text`) with every redaction's span, and the body's sha256. It raises
   `FrontierRefused` when the policy forbids the route or redaction cannot run; nothing has
   been sent.
2. `send(request, consent)` sends that body, and only that body, if `consent` is true: inside
   `app.privacy.egress.allow(host, port)` for the approved endpoint alone, with the key from the
   OS keyring (or this session's memory). It never raises for network trouble: the
   `FrontierOutcome` has the answer with placeholders restored, or a status and a notice for the
   user (who then gets the local answer: see `answer_with_fallback`). Every call, sent or refused,
   is one line in the audit ledger (no content).

`send()` runs on the caller's thread; `on_text` is called on that thread for each restored piece
of a streamed answer. The redaction mapping stays inside the FrontierRequest, in memory only.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from app.errors import EnclaveError
from app.frontier.keys import KeyStoreError
from app.frontier.request import FrontierRequest, LeftOut, display, join_parts, risk_spans
from app.privacy.egress import EgressRefused, allow
from app.privacy.ledger import LedgerError, ledger_recorder
from app.privacy.policy import PolicyRefusal
from app.privacy.redaction import RedactionError, RedactionSession, StreamRestorer
from models.openai_client import FrontierError, OpenAICompatibleClient
from models.types import Message

if TYPE_CHECKING:
    from app.frontier.keys import KeyStore
    from app.privacy.egress import EgressEvent
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import Endpoint, Policy
    from models.openai_client import Completion
    from models.types import CancelToken, GenerationOptions

Status = Literal[
    "answered",
    "no_consent",
    "refused_by_policy",
    "redaction_failed",
    "no_key",
    "unauthorized",
    "rate_limited",
    "timed_out",
    "unreachable",
    "blocked",
    "server_error",
    "bad_response",
    "cancelled",
    "changed_after_review",
]

SYSTEM_PROMPT = (
    "You are assisting a clinician or a lawyer. Personal identifiers in the text were replaced "
    "by placeholders such as [PERSON_1], [DATE_2] or [MRN_1]. Keep every placeholder exactly as "
    "written when you refer to it, and do not guess what it stands for. Answer from the sources "
    "given; cite them as [Source N]. If they do not contain the answer, say so."
)
_WORKSPACE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "enclave_frontier_workspace", default=None
)


def current_workspace() -> str | None:
    """The workspace whose frontier call is in flight on this thread (for the ledger recorder)."""
    return _WORKSPACE.get()


def egress_recorder(ledger: AuditLedger) -> Callable[[EgressEvent], None]:
    """The recorder to pass to `install_egress_guard()`: every attempt goes to the ledger."""
    return ledger_recorder(ledger, current_workspace)


class FrontierClient(Protocol):
    def build_body(
        self,
        messages: Sequence[Message],
        options: GenerationOptions | None = None,
        *,
        stream: bool = True,
    ) -> bytes: ...

    def send(
        self,
        body: bytes,
        *,
        on_text: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion: ...


ClientFactory = Callable[["Endpoint", "str | None", float], FrontierClient]


def default_client_factory(endpoint: Endpoint, api_key: str | None, timeout_s: float) -> Any:
    return OpenAICompatibleClient(
        endpoint.base_url,
        endpoint.model,
        api_key,
        api=endpoint.api,
        api_version=endpoint.api_version,
        timeout_s=timeout_s,
        connect_timeout_s=min(10.0, timeout_s),
        ca_file=endpoint.ca_file,
    )


class FrontierRefused(EnclaveError):
    """`prepare()` will not build a request. Nothing was sent; `notice` is for the user."""

    def __init__(self, status: Status, notice: str) -> None:
        super().__init__(notice)
        self.status = status
        self.notice = notice


@dataclass(frozen=True)
class FrontierOutcome:
    status: Status
    answer: str = ""  # placeholders restored; empty unless status == "answered"
    notice: str = ""  # for the user whenever the frontier answer is not shown
    bytes_out: int = 0
    bytes_in: int = 0
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == "answered"


@dataclass(frozen=True)
class FinalAnswer:
    text: str
    source: Literal["frontier", "local"]
    notice: str = ""


def answer_with_fallback(outcome: FrontierOutcome, local_answer: Callable[[], str]) -> FinalAnswer:
    """The frontier answer when there is one, else the local model's answer with the notice."""
    if outcome.ok:
        return FinalAnswer(outcome.answer, "frontier", outcome.notice)
    return FinalAnswer(local_answer(), "local", outcome.notice)


def _chunk_text(chunk: Any) -> str:
    if isinstance(chunk, str):
        return chunk
    inner = getattr(chunk, "chunk", chunk)  # rag.types.Hit -> Chunk
    text = getattr(inner, "text", None)
    if not isinstance(text, str):
        raise TypeError(f"cannot send a {type(chunk).__name__} as a source")
    return text


def _chunk_name(chunk: Any) -> str:
    return str(getattr(chunk, "document_name", "") or "a passage")


def _distinct(items: Sequence[LeftOut]) -> list[LeftOut]:
    return list(dict.fromkeys(items))


_NOTICES: dict[str, str] = {
    "no_consent": "Nothing was sent: the outgoing text was not approved. This is the local answer.",
    "unauthorized": "The frontier model refused the API key, so this is the local answer. Check "
    "the key for this endpoint in Settings.",
    "rate_limited": "The frontier model is rate limiting requests, so this is the local answer. "
    "Try again later.",
    "timed_out": "The frontier model did not answer in time, so this is the local answer.",
    "unreachable": "The frontier model could not be reached (no network, or the server is down), "
    "so this is the local answer.",
    "blocked": "The egress guard blocked the connection, so nothing left this computer. This is "
    "the local answer.",
    "server_error": "The frontier model returned an error, so this is the local answer.",
    "bad_response": "The frontier model's reply could not be read, so this is the local answer.",
    "cancelled": "The frontier answer was cancelled.",
    "changed_after_review": "The request changed after it was reviewed, so nothing was sent.",
    "unrecorded": "The audit ledger could not record the connection, so nothing was sent. This "
    "is the local answer.",
}


class FrontierGateway:
    """Prepare, review, send. Safe to share between threads (it keeps no per-call state)."""

    def __init__(
        self,
        policy: Policy,
        keys: KeyStore,
        ledger: AuditLedger,
        client_factory: ClientFactory = default_client_factory,
    ) -> None:
        self.policy = policy
        self.keys = keys
        self.ledger = ledger
        self.client_factory = client_factory

    # -- step 1 ----------------------------------------------------------------------------
    def check(self, workspace_id: str, endpoint_id: str | None = None) -> Endpoint:
        """The approved endpoint for this workspace; FrontierRefused (recorded in the ledger)
        when the policy forbids the route. Cheap: call it before retrieving anything."""
        try:
            return self.policy.check(workspace_id, endpoint_id)
        except PolicyRefusal as exc:
            self._record(workspace_id, None, "refused_by_policy", allowed=False)
            raise FrontierRefused("refused_by_policy", exc.reason) from None

    def refused(self, workspace_id: str, status: Status, notice: str) -> FrontierRefused:
        """A refusal found before `prepare` (the passages could not be chosen safely), recorded
        in the ledger like prepare's own; raise what it returns."""
        self._record(workspace_id, None, status, allowed=False)
        return FrontierRefused(status, notice)

    def prepare(
        self,
        question: str,
        chunks: Sequence[Any],
        workspace_id: str,
        *,
        endpoint_id: str | None = None,
        options: GenerationOptions | None = None,
        max_chunks: int | None = None,
        left_out: Sequence[LeftOut] = (),
    ) -> FrontierRequest:
        """Build the redacted request for review. Raises FrontierRefused; sends nothing.
        `left_out`: what the caller chose not to send and why, shown in the review; chunks past
        the policy's `max_chunks` are added to it."""
        endpoint = self.check(workspace_id, endpoint_id)
        limit = (
            self.policy.max_chunks
            if max_chunks is None
            else min(max_chunks, self.policy.max_chunks)
        )
        kept = [(c, t) for c, t in ((c, _chunk_text(c).strip()) for c in chunks) if t]
        texts = [t for _, t in kept[:limit]]
        limit_words = f"over the policy's limit of {limit} passage{'s' if limit != 1 else ''}"
        over = [LeftOut(_chunk_name(c), limit_words) for c, _ in kept[limit:]]
        session = RedactionSession()
        try:
            redacted = session.redact_all([question, *texts])
        except RedactionError as exc:
            self._record(workspace_id, endpoint, "redaction_failed", allowed=False)
            raise FrontierRefused("redaction_failed", str(exc)) from None
        # Assemble the user message from redacted parts, keeping every span's position.
        parts: list[tuple[str, Sequence[Any]]] = []
        if texts:
            parts.append(("Sources:\n", ()))
            for n, result in enumerate(redacted[1:], start=1):
                parts += [(f"\n[Source {n}]\n", ()), (result.text, result.spans), ("\n", ())]
            parts.append(("\nQuestion: ", ()))
        parts.append((redacted[0].text, redacted[0].spans))
        user_text, user_spans = join_parts(parts)
        messages = (Message("system", SYSTEM_PROMPT), Message("user", user_text))
        client = self.client_factory(endpoint, None, self.policy.timeout_s)
        body = client.build_body(messages, options, stream=True)
        display_text, spans = display(messages, {1: user_spans})
        risks = risk_spans(messages, display_text)
        return FrontierRequest(
            id=uuid.uuid4().hex,
            workspace_id=workspace_id,
            endpoint=endpoint,
            messages=messages,
            body=body,
            request_sha256=hashlib.sha256(body).hexdigest(),
            display_text=display_text,
            spans=spans,
            redaction_counts=dict(session.counts),
            review_required=self.policy.review_required,
            chunks_sent=len(texts),
            session=session,
            risks=risks,
            left_out=(*left_out, *_distinct(over)),
        )

    # -- step 2 ----------------------------------------------------------------------------
    def send(
        self,
        request: FrontierRequest,
        consent: bool,
        *,
        on_text: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> FrontierOutcome:
        """Send the reviewed request if `consent`. Never raises for network trouble."""
        refusal, key = self._gate(request, consent)
        if refusal is not None:
            return self._finish(request, refusal, allowed=False)
        return self._finish(request, self._call(request, key, on_text, cancel), allowed=True)

    def _gate(
        self, request: FrontierRequest, consent: bool
    ) -> tuple[FrontierOutcome | None, str | None]:
        """(a refusal, None) or (None, the API key or None when the endpoint needs none)."""
        endpoint = request.endpoint
        if not consent:
            return FrontierOutcome("no_consent", notice=_NOTICES["no_consent"]), None
        try:
            approved = self.policy.check(request.workspace_id, endpoint.id)
        except PolicyRefusal as exc:
            return FrontierOutcome("refused_by_policy", notice=exc.reason), None
        digest = hashlib.sha256(request.body).hexdigest()
        if approved != endpoint or digest != request.request_sha256:
            return FrontierOutcome(
                "changed_after_review", notice=_NOTICES["changed_after_review"]
            ), None
        if not endpoint.requires_key:
            return None, None
        try:
            stored = self.keys.get_api_key(endpoint.id)
        except KeyStoreError as exc:
            return FrontierOutcome("no_key", notice=str(exc)), None
        if stored is None:
            notice = (
                f"No API key is stored for {endpoint.label or endpoint.id}, so nothing was sent. "
                "Add it in Settings. This is the local answer."
            )
            return FrontierOutcome("no_key", notice=notice), None
        return None, stored.reveal()

    def _call(
        self,
        request: FrontierRequest,
        key: str | None,
        on_text: Callable[[str], None] | None,
        cancel: CancelToken | None,
    ) -> FrontierOutcome:
        endpoint = request.endpoint
        restorer = StreamRestorer(request.session)

        def deliver(piece: str) -> None:
            restored = restorer.feed(piece)
            if restored and on_text is not None:
                on_text(restored)

        client = self.client_factory(endpoint, key, self.policy.timeout_s)
        token = _WORKSPACE.set(request.workspace_id)
        try:
            with allow(endpoint.host, endpoint.port):
                completion = client.send(request.body, on_text=deliver, cancel=cancel)
        except FrontierError as exc:
            status: Status = "blocked" if _blocked(exc) else exc.kind  # type: ignore[assignment]
            sent = 0 if status in ("blocked", "unreachable") else len(request.body)
            notice = _NOTICES.get(status, str(exc))
            if status == "timed_out":
                notice = notice.replace("in time", f"within {self.policy.timeout_s:g} s")
            return FrontierOutcome(
                status,
                notice=notice,
                bytes_out=sent,
                retry_after_s=getattr(exc, "retry_after_s", None),
            )
        except EgressRefused:
            return FrontierOutcome("blocked", notice=_NOTICES["blocked"])
        except LedgerError:  # the guard could not record the attempt, so it refused it
            return FrontierOutcome("blocked", notice=_NOTICES["unrecorded"])
        except OSError:  # the approved host's name did not resolve
            return FrontierOutcome("unreachable", notice=_NOTICES["unreachable"])
        finally:
            _WORKSPACE.reset(token)
        tail = restorer.flush()
        if tail and on_text is not None:
            on_text(tail)
        return FrontierOutcome(
            "answered",
            answer=request.session.restore(completion.text),
            bytes_out=completion.bytes_out,
            bytes_in=completion.bytes_in,
        )

    # -- ledger ----------------------------------------------------------------------------
    def _finish(
        self, request: FrontierRequest, outcome: FrontierOutcome, *, allowed: bool
    ) -> FrontierOutcome:
        try:
            self.ledger.record(
                kind="frontier_call",
                workspace=request.workspace_id,
                destination=request.destination,
                endpoint=request.endpoint.id,
                model=request.endpoint.model,
                allowed=allowed,
                outcome=outcome.status,
                bytes_out=outcome.bytes_out,
                bytes_in=outcome.bytes_in,
                redactions=dict(request.redaction_counts),
                request_sha256=request.request_sha256,
            )
        except LedgerError as exc:
            note = f"{outcome.notice} (The audit ledger could not record this call: {exc})"
            return FrontierOutcome(
                outcome.status,
                outcome.answer,
                note.strip(),
                outcome.bytes_out,
                outcome.bytes_in,
                outcome.retry_after_s,
            )
        return outcome

    def _record(
        self, workspace_id: str, endpoint: Endpoint | None, status: Status, *, allowed: bool
    ) -> None:
        with contextlib.suppress(LedgerError):  # nothing was sent; the refusal is shown anyway
            self.ledger.record(
                kind="frontier_call",
                workspace=workspace_id,
                destination=endpoint.destination if endpoint else None,
                endpoint=endpoint.id if endpoint else None,
                allowed=allowed,
                outcome=status,
                bytes_out=0,
                bytes_in=0,
            )


def _blocked(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, EgressRefused):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
