"""A question sent to the approved frontier model, end to end: retrieve, redact, review, send,
restore, cite and store; the local answer, with a notice, whenever the remote one is not had.

Nothing is sent on the router's say-so: the router only *offers* the frontier route (Route.escalate,
shown as a notice). The user takes the offer (`enclave ask --frontier`, or the window's "Ask the
remote model…"), sees the exact outgoing text with its redactions (`prepare`), and approves it;
only then does `send` open a connection, through FrontierService (policy, egress guard, ledger).

    prepared = escalation.prepare(workspace, question)      # FrontierRefused: nothing to review
    approved = show(prepared.outgoing)                      # the person decides
    for event in escalation.send(prepared, approved): ...   # Token pieces, then a ChatAnswer
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.chat import ChatAnswer, ChatEvent, ChatService, SourcesFound, Token
from app.prompting import user_turn
from app.router import Route
from rag.citations import build_citations

if TYPE_CHECKING:
    from app.frontier import FrontierOutcome, FrontierService
    from app.history import HistoryStore
    from app.outgoing import OutgoingRequest
    from app.workspaces import Workspace
    from models.types import CancelToken
    from rag.types import Hit

__all__ = ["EscalationService", "PreparedQuestion", "remote_markers_to_local"]

_SOURCE_MARKER = re.compile(r"\[\s*Source\s+(\d+)\s*\]", re.IGNORECASE)


def remote_markers_to_local(answer: str) -> str:
    """The frontier is asked to cite "[Source N]"; the app's citations read "[N]"."""
    return _SOURCE_MARKER.sub(lambda m: f"[{m.group(1)}]", answer)


@dataclass(frozen=True)
class PreparedQuestion:
    """A question ready for review: the exact outgoing request and the sources it carries."""

    workspace: Workspace
    question: str
    outgoing: OutgoingRequest
    sources: list[Hit] = field(repr=False)  # the retrieved sources, "Source N" = sources[N-1]
    conversation_id: str | None = None


class EscalationService:
    def __init__(
        self,
        chat: ChatService,
        frontier: Callable[[], FrontierService],
        history: HistoryStore,
        top_k: int,
    ) -> None:
        self._chat = chat
        self._frontier = frontier  # built on first use: the policy file is read then
        self._history = history
        self._top_k = top_k

    def available(self, workspace: Workspace) -> bool:
        """Whether the administrator's policy offers a frontier route for this workspace."""
        return self._frontier().policy.is_allowed(workspace.id)

    def prepare(
        self,
        workspace: Workspace,
        question: str,
        *,
        conversation_id: str | None = None,
        k: int | None = None,
    ) -> PreparedQuestion:
        """Retrieve and redact; sends nothing. Raises FrontierRefused (with a notice) when the
        policy forbids the route or redaction cannot run."""
        question = question.strip()
        sources = self._chat.relevant_sources(workspace, question, k or self._top_k)
        outgoing = self._frontier().prepare(question, sources, workspace.id)
        return PreparedQuestion(workspace, question, outgoing, sources, conversation_id)

    def send(
        self,
        prepared: PreparedQuestion,
        consent: bool,
        *,
        cancel: CancelToken | None = None,
    ) -> Iterator[ChatEvent]:
        """Send the reviewed request if `consent`; events as ChatService.ask: SourcesFound, Token
        pieces (placeholders already restored), and last a stored ChatAnswer. When the remote
        answer is not had (no consent, 401, 429, timeout, no network, blocked), the local
        model answers instead and the answer's first notice says why."""
        started = time.perf_counter()
        frontier = self._frontier()
        arrived: queue.SimpleQueue[Token | FrontierOutcome | BaseException] = queue.SimpleQueue()

        def call() -> None:  # the request runs here; its pieces reach the caller as they arrive
            try:
                arrived.put(frontier.send(
                    prepared.outgoing, consent, cancel=cancel,
                    on_text=lambda text: arrived.put(Token(text)),
                ))  # fmt: skip
            except BaseException as exc:  # re-raised on the caller's thread
                arrived.put(exc)

        worker = threading.Thread(target=call, name="enclave-frontier-call", daemon=True)
        worker.start()
        yield SourcesFound(prepared.sources)
        while isinstance(item := arrived.get(), Token):
            yield item
        worker.join()
        if isinstance(item, BaseException):
            raise item
        if not item.ok:
            yield from self._local(prepared, item.notice, cancel)
            return
        yield self._store_remote(prepared, item, started)

    def _local(
        self, prepared: PreparedQuestion, notice: str, cancel: CancelToken | None
    ) -> Iterator[ChatEvent]:
        events = self._chat.ask(
            prepared.workspace,
            prepared.question,
            conversation_id=prepared.conversation_id,
            cancel=cancel,
        )
        for event in events:
            if isinstance(event, ChatAnswer) and notice:
                event.notices.insert(0, notice)
            yield event

    def _store_remote(
        self, prepared: PreparedQuestion, outcome: FrontierOutcome, started: float
    ) -> ChatAnswer:
        outgoing = prepared.outgoing
        sent = prepared.sources[: outgoing.chunks_sent]
        answer = remote_markers_to_local(outcome.answer).strip()
        citations = build_citations(answer, sent, prepared.question)
        redactions = sum(outgoing.redaction_counts.values())
        route = Route(
            outgoing.endpoint.model,
            tier="frontier",
            reasons=(
                f"sent with your approval to {outgoing.destination}",
                f"{redactions} identifier(s) redacted, {outgoing.chunks_sent} source(s) sent",
            ),
        )
        conversation_id = prepared.conversation_id
        if conversation_id is None:
            conversation_id = self._history.create_conversation(
                prepared.workspace.id, prepared.question
            ).id
        self._history.add_message(
            conversation_id, "user", prepared.question,
            meta={"sent": user_turn(prepared.question, sent)},
        )  # fmt: skip
        return self._chat.record_answer(
            conversation_id, prepared.question, answer, citations, route,
            f"remote ({outgoing.destination})", None, started,
            not_found=False, sources=sent,
            notices=[f"Answered by the approved remote model at {outgoing.destination}; "
                     f"the request is in the audit ledger ({outgoing.request_sha256[:12]}…)."],
        )  # fmt: skip
