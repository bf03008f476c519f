"""A question sent to the approved frontier model, end to end: retrieve, redact, review, send,
restore, cite and store; the local answer, with a notice, whenever the frontier one is not had.
Only the passages that answer, from the documents about the question's subject, are sent
(app.frontier.minimum); the review lists what was left out and why.

Nothing is sent on the router's say-so: the router only *offers* the frontier route
(Route.frontier_offered, shown as a notice). The user takes the offer (`enclave ask --frontier`,
or the window's "Ask frontier…"), sees the exact outgoing text with its redactions (`prepare`),
and approves it; only then does `send` open a connection, through FrontierGateway (policy,
egress guard, ledger).

    prepared = frontier.prepare(workspace, question)      # FrontierRefused: nothing to review
    approved = show(prepared.request)                      # the person decides
    for event in frontier.send(prepared, approved): ...   # Token pieces, then a ChatAnswer
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.chat.answer import compose, evidence_only
from app.chat.prompting import NOT_FOUND_TEXT, user_turn
from app.chat.service import (
    AskOptions,
    ChatAnswer,
    ChatEvent,
    ChatService,
    EvidenceFound,
    SourcesFound,
    Token,
)
from app.frontier.minimum import choose_passages
from app.frontier.subject import SubjectCheckFailed
from app.routing.router import Route
from rag.evidence import calibrated

if TYPE_CHECKING:
    from app.frontier.gateway import FrontierGateway, FrontierOutcome
    from app.frontier.request import FrontierRequest
    from app.library.history import HistoryStore
    from app.library.workspaces import Workspace
    from models.types import CancelToken
    from rag.evidence import Evidence
    from rag.index_types import DocumentIndex
    from rag.types import Hit

__all__ = ["FrontierRoute", "PreparedQuestion", "frontier_markers_to_local"]

_SOURCE_MARKER = re.compile(r"\[\s*Source\s+(\d+)\s*\]", re.IGNORECASE)


def frontier_markers_to_local(answer: str) -> str:
    """The frontier is asked to cite "[Source N]"; the app's citations read "[N]"."""
    return _SOURCE_MARKER.sub(lambda m: f"[{m.group(1)}]", answer)


@dataclass(frozen=True)
class PreparedQuestion:
    """A question ready for review: the exact outgoing request and the sources it carries."""

    workspace: Workspace
    question: str
    request: FrontierRequest
    sources: list[Hit] = field(repr=False)  # the retrieved sources, "Source N" = sources[N-1]
    conversation_id: str | None = None
    # The evidence in the sources (best first) with its lines: the answer is checked against it.
    evidence: list[tuple[Evidence, int | None]] = field(default_factory=list, repr=False)


class FrontierRoute:
    def __init__(
        self,
        chat: ChatService,
        frontier: Callable[[], FrontierGateway],
        history: HistoryStore,
        top_k: int,
        index_for: Callable[[Workspace], DocumentIndex],
    ) -> None:
        self._chat = chat
        self._frontier = frontier  # built on first use: the policy file is read then
        self._history = history
        self._top_k = top_k
        self._index_for = index_for  # documents are read whole to see whom they are about

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
        documents: Sequence[str] = (),
    ) -> PreparedQuestion:
        """Choose the passages (app.frontier.minimum: only those that answer, only from the
        documents about the question's subject) and redact; sends nothing. Raises
        FrontierRefused (with a notice) when the policy forbids the route or redaction cannot
        run. `documents`: ask only about these (names or ids, as `--document`)."""
        question = question.strip()
        gateway = self._frontier()
        gateway.check(workspace.id)  # refused before anything is looked up
        index = self._index_for(workspace)
        try:
            chosen = choose_passages(
                self._chat, index, workspace, question, k or self._top_k, documents
            )
        except SubjectCheckFailed as exc:
            raise gateway.refused(workspace.id, "redaction_failed", str(exc)) from None
        request = gateway.prepare(question, chosen.sources, workspace.id, left_out=chosen.left_out)
        return PreparedQuestion(
            workspace, question, request, chosen.sources, conversation_id, chosen.evidence
        )

    def send(
        self,
        prepared: PreparedQuestion,
        consent: bool,
        *,
        cancel: CancelToken | None = None,
    ) -> Iterator[ChatEvent]:
        """Send the reviewed request if `consent`; events as ChatService.ask: SourcesFound,
        EvidenceFound, Token pieces of the remote draft (placeholders already restored), and
        last a stored ChatAnswer holding only what passed the fact check. When the remote
        answer is not had (no consent, 401, 429, timeout, no network, blocked), the local
        model answers instead and the answer's first notice says why."""
        started = time.perf_counter()
        frontier = self._frontier()
        arrived: queue.SimpleQueue[Token | FrontierOutcome | BaseException] = queue.SimpleQueue()

        def call() -> None:  # the request runs here; its pieces reach the caller as they arrive
            try:
                arrived.put(frontier.send(
                    prepared.request, consent, cancel=cancel,
                    on_text=lambda text: arrived.put(Token(text)),
                ))  # fmt: skip
            except BaseException as exc:  # re-raised on the caller's thread
                arrived.put(exc)

        worker = threading.Thread(target=call, name="enclave-frontier-call", daemon=True)
        worker.start()
        yield SourcesFound(prepared.sources)
        if prepared.evidence:  # the documents' own words, before the remote model's
            yield EvidenceFound(
                evidence_only(
                    [ev for ev, _ in prepared.evidence], [line for _, line in prepared.evidence]
                ).evidence
            )
        while isinstance(item := arrived.get(), Token):
            yield item
        worker.join()
        if isinstance(item, BaseException):
            raise item
        if not item.ok:
            yield from self._local(prepared, item.notice, cancel)
            return
        yield self._store_frontier_answer(prepared, item, started)

    def _local(
        self, prepared: PreparedQuestion, notice: str, cancel: CancelToken | None
    ) -> Iterator[ChatEvent]:
        events = self._chat.ask(
            prepared.workspace,
            prepared.question,
            AskOptions(conversation_id=prepared.conversation_id),
            cancel=cancel,
        )
        for event in events:
            if isinstance(event, ChatAnswer) and notice:
                event.notices.insert(0, notice)
            yield event

    def _store_frontier_answer(
        self, prepared: PreparedQuestion, outcome: FrontierOutcome, started: float
    ) -> ChatAnswer:
        request = prepared.request
        sent = prepared.sources[: request.chunks_sent]
        draft = frontier_markers_to_local(outcome.answer).strip()
        # The same check as a local answer: evidence first, then only the sentences whose facts
        # the cited passage states; nothing supported and no evidence: "not found".
        sent_ids = {h.chunk.id for h in sent}
        evidence = [(ev, line) for ev, line in prepared.evidence if ev.hit.chunk.id in sent_ids]
        composed = compose(
            draft, sent, [ev for ev, _ in evidence], [ln for _, ln in evidence], prepared.question
        )
        not_found = not composed.answer.strip()
        parts = [calibrated(evidence[0][0].score)] if evidence else []
        if composed.claim_support is not None and not composed.evidence_only:
            parts.append(composed.claim_support)
        confidence = None if not_found else round(min(parts), 2) if parts else None
        redactions = sum(request.redaction_counts.values())
        route = Route(
            request.endpoint.model,
            tier="frontier",
            reasons=(
                f"sent with your approval to {request.destination}",
                f"{redactions} identifier(s) redacted, {request.chunks_sent} source(s) sent",
            ),
            confidence=confidence,
            abstained=not_found,
        )
        notices = [
            f"Answered by the approved frontier model at {request.destination}; "
            f"the request is in the audit ledger ({request.request_sha256[:12]}…).",
            *composed.notices,
        ]
        if composed.evidence_only and composed.answer:
            notices.append(
                "The frontier model's own words did not pass the fact check, so only the "
                "passage from your documents is shown."
            )
        if not_found:
            notices.append(
                "Nothing the frontier model wrote is stated by the passages sent, so it is "
                "not shown."
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
        answer = self._chat.record_answer(
            conversation_id, prepared.question,
            NOT_FOUND_TEXT if not_found else composed.answer,
            [] if not_found else composed.citations, route,
            f"frontier ({request.destination})", None, started,
            not_found=not_found, sources=sent, notices=notices,
            evidence=composed.evidence, evidence_only=composed.evidence_only,
        )  # fmt: skip
        answer.draft = draft
        return answer
