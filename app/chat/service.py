"""The chat use-case: retrieve, choose the evidence, route, generate, check, cite, persist.

Every answer is either the documents' own words that answer the question (the evidence, chosen
by app.chat.retrieval before any model runs) followed by the model's sentences that pass the
fact check (app.chat.answer), or "Not found in your documents." when no passage answers it well
enough; then the model is not even asked.

`ChatService.ask` is a generator run on the caller's thread (a CLI main thread or a UI worker
thread); tokens come from the model's own inference thread through the engine's queue.
The router (app.routing.router) picks the specialist model and the compute tier before
generation, and decides afterwards whether the answer is confident enough to give or must abstain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from app.chat.answer import Composed, EvidenceQuote, compose, evidence_only, several_answers
from app.chat.errors import ChatError
from app.chat.prompting import NOT_FOUND_TEXT, build_messages, user_turn
from app.chat.reasoning import SampleDone, TierResult, Token, is_not_found, run_tier
from app.chat.retrieval import Embed, Lookup, look_up, resolve_documents
from app.chat.types import (
    AskOptions,
    ChatAnswer,
    ChatEvent,
    EvidenceFound,
    RouteDecided,
    SourcesFound,
)
from app.routing.router import (
    AnsweredBy,
    Overrides,
    PassOutcome,
    Route,
    Router,
    Tier,
    reassess,
)
from models.types import CancelToken, GenerationOptions, GenerationStats, Message
from rag.evidence import calibrated
from rag.types import Citation, Hit

if TYPE_CHECKING:
    from app.chat.engines import EngineManager
    from app.library.history import HistoryStore
    from app.library.workspaces import Workspace
    from app.settings import Settings
    from rag.index import DocumentIndex

__all__ = [
    "AskOptions",
    "ChatAnswer",
    "ChatError",
    "ChatEvent",
    "ChatService",
    "EvidenceFound",
    "Route",
    "RouteDecided",
    "SampleDone",
    "SourcesFound",
    "Token",
]

IndexProvider = Callable[["Workspace"], "DocumentIndex"]


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        history: HistoryStore,
        engines: EngineManager,
        index_for: IndexProvider,
        router: Router | None = None,
        embed: Embed | None = None,
    ) -> None:
        """`router`: the app's router (classifier, model portfolio, policy). Without one every
        question goes to the default model, domain "general", and the tier rules still apply.
        `embed`: the search model's embed function, for choosing the evidence by meaning."""
        self._settings = settings
        self._history = history
        self._engines = engines
        self._index_for = index_for
        self._embed = embed
        self.router = router or Router()

    def _relevant(self, hit: Hit) -> bool:
        floor = self._settings.min_source_similarity
        return (hit.dense_similarity is not None and hit.dense_similarity >= floor) or (
            hit.lexical_rank is not None and (hit.dense_similarity or 0.0) >= floor / 2
        )

    def relevant_sources(
        self, workspace: Workspace, question: str, k: int, documents: tuple[str, ...] = ()
    ) -> list[Hit]:
        """Retrieve (within the named documents, if any), then keep only hits similar enough
        to be worth citing. No evidence is chosen: nothing is embedded beyond the question."""
        index = self._index_for(workspace)
        ids = resolve_documents(index, documents) if documents else None
        return [h for h in index.search(question, k=k, documents=ids) if self._relevant(h)]

    def look_up(
        self, workspace: Workspace, question: str, k: int, documents: tuple[str, ...] = ()
    ) -> Lookup:
        """Sources and evidence for `question` (app.chat.retrieval)."""
        index = self._index_for(workspace)
        ids = resolve_documents(index, documents) if documents else None
        return look_up(index, question, k, self._embed, documents=ids, keep=self._relevant)

    def ask(
        self,
        workspace: Workspace,
        question: str,
        options: AskOptions | None = None,
        *,
        cancel: CancelToken | None = None,
    ) -> Iterator[ChatEvent]:
        """Answer `question` from the workspace's documents.

        Events: SourcesFound, RouteDecided, then Token pieces (streamed for the direct and
        reasoning tiers; the final answer at once for the sampling tiers), SampleDone progress,
        and last the ChatAnswer. `options` (AskOptions) continue a conversation and override
        the router for this question.
        """
        options = options or AskOptions()
        conversation_id, k = options.conversation_id, options.k
        question = question.strip()
        if not question:
            raise ChatError("The question is empty.")
        started = time.perf_counter()
        settings = self._settings
        conv = (
            self._history.conversation(conversation_id)
            if conversation_id
            else self._history.create_conversation(workspace.id, question)
        )
        if conv.workspace_id != workspace.id:
            raise ChatError("That conversation belongs to another workspace.")
        earlier = self._earlier_turns(conv.id)
        depth = k or settings.top_k_sources
        if options.choice == "think_harder":  # deeper retrieval: more passages for the evidence
            depth *= 2
        overrides = options.overrides()
        self._preload(question, workspace, overrides)
        lookup = self.look_up(workspace, question, depth, options.documents)
        sources = lookup.sources
        flagged = lookup.instruction_notices()
        yield SourcesFound(sources)
        first: Composed | None = None
        if lookup.found:  # documents that answer differently: each one's quote is shown first
            first = (
                several_answers(lookup.several)
                if lookup.several
                else evidence_only(lookup.evidence, lookup.lines)
            )
        yield EvidenceFound(first.evidence if first else [])
        route = self.router.route(
            question,
            workspace_id=workspace.id,
            support=_support(sources),
            n_sources=len(sources),
            default_model=settings.default_model,
            overrides=overrides,
        )
        route = replace(route, reasons=(f"{len(sources)} relevant sources", *route.reasons))
        yield RouteDecided(route)
        self._history.add_message(
            conv.id, "user", question, meta={"sent": user_turn(question, sources)}
        )

        if (not sources or not lookup.found) and settings.answer_only_from_documents:
            # No passage answers it well enough: the model is not asked to guess.
            route = replace(route, samples=0, abstained=True, confidence=None)
            notices = [] if not sources else [lookup.why_not_found()]
            yield self.record_answer(
                conv.id, question, NOT_FOUND_TEXT, [], route, "none", None, started,
                not_found=True, notices=notices + flagged + _offers(route),
            )  # fmt: skip
            return
        if lookup.several and first is not None:  # each document's own words, shown above
            composed = first
            composed.notices += flagged
            route = replace(route, samples=0, confidence=_confidence(route, composed, lookup))
            yield Token(composed.answer)
            yield self._record(conv.id, question, composed, route, "none", None, started, sources)
            return

        engine = self._engines.get(route.model_id)
        load_notices = self._engines.take_notices() + flagged
        messages = build_messages(question, sources, earlier)
        budget = route.token_budget or settings.max_answer_tokens
        generation = GenerationOptions(max_tokens=budget, temperature=settings.temperature)
        result: TierResult | None = None
        adaptive = self.router.config.first_pass_samples if route.choice == "auto" else 0
        for event in run_tier(
            engine,
            messages,
            tier=_local_tier(route.tier),
            samples=route.samples,
            options=generation,
            sample_temperature=self.router.config.sample_temperature,
            adaptive_first_pass=0 if "samples" in route.overrides else adaptive,
            yes_no=route.question_type == "yes_no",
            cancel=cancel,
        ):
            if isinstance(event, TierResult):
                result = event
            else:
                yield event
        assert result is not None
        if result.stats is not None and result.stats.notice:  # e.g. a server fell back
            load_notices.append(result.stats.notice)
        final = self._conclude(
            conv.id, question, result, route, lookup, engine.device, started, load_notices
        )
        if len(result.samples) > 1 and not final.route.abstained and final.answer:
            yield Token(final.answer)  # sampled answers are not streamed: show the chosen one
        yield final

    def _preload(self, question: str, workspace: Workspace, overrides: Overrides) -> None:
        """Start loading the model the question will most likely go to, so the load overlaps
        retrieval (a cold `enclave ask` waits for both otherwise). The route is decided again
        once the sources are known; a different model is then loaded as before."""
        likely = self.router.route(
            question,
            workspace_id=workspace.id,
            support=None,
            n_sources=0,
            default_model=self._settings.default_model,
            overrides=overrides,
        )
        self._engines.preload(likely.model_id)

    def _conclude(
        self,
        conversation_id: str,
        question: str,
        result: TierResult,
        route: Route,
        lookup: Lookup,
        device: str,
        started: float,
        load_notices: list[str],
    ) -> ChatAnswer:
        """Check the draft against the sources, put the evidence first, score, and store."""
        draft = result.answer
        model_abstained = is_not_found(draft) or not draft.strip()
        composed = (
            evidence_only(lookup.evidence, lookup.lines)
            if model_abstained
            else compose(draft, lookup.sources, lookup.evidence, lookup.lines, question)
        )
        outcome = PassOutcome(  # an evidence-only answer owes nothing to the model's samples
            samples=len(result.samples),
            agreement=None if composed.evidence_only else result.agreement,
            claim_support=None if composed.evidence_only else composed.claim_support,
            model_abstained=False,  # the evidence answers it (lookup.found): it is shown
        )
        route = reassess(route, outcome, self.router.config)
        notices = [*load_notices, *composed.notices]
        if result.cancelled:  # an unfinished draft is not checked, so it is not shown
            stopped = evidence_only(
                lookup.evidence, lookup.lines,
                [*load_notices, "Stopped before the model finished; only the passage from your "
                 "documents is shown."],
            )  # fmt: skip
            final = self._record(
                conversation_id, question, stopped, route, device, result.stats, started,
                lookup.sources, cancelled=True,
            )  # fmt: skip
        else:
            # The evidence answers the question (lookup.found): it is shown even when the
            # model abstained or wrote nothing that passed the check.
            route = replace(route, abstained=False, confidence=_confidence(route, composed, lookup))
            if composed.evidence_only and not model_abstained:
                notices.append(
                    "The model's own words did not pass the fact check, so only the passage "
                    "from your documents is shown."
                )
            composed.notices = notices
            final = self._record(
                conversation_id, question, composed, route, device, result.stats, started,
                lookup.sources,
            )  # fmt: skip
        final.draft = draft
        return final

    def _record(
        self,
        conversation_id: str,
        question: str,
        composed: Composed,
        route: Route,
        device: str,
        stats: GenerationStats | None,
        started: float,
        sources: list[Hit],
        *,
        cancelled: bool = False,
    ) -> ChatAnswer:
        answer = self.record_answer(
            conversation_id, question, composed.answer, composed.citations, route, device,
            stats, started, not_found=False, cancelled=cancelled, sources=sources,
            notices=composed.notices, evidence=composed.evidence,
            evidence_only=composed.evidence_only,
        )  # fmt: skip
        return answer

    def _earlier_turns(self, conversation_id: str) -> list[Message]:
        """Earlier question/answer pairs exactly as they were sent (stopped answers left out)."""
        turns: list[Message] = []
        pending: Message | None = None
        for msg in self._history.messages(conversation_id):
            if msg.role == "user":
                pending = Message("user", str(msg.meta.get("sent", msg.content)))
            elif msg.role == "assistant" and pending is not None:
                if not msg.meta.get("cancelled"):
                    turns += [pending, Message("assistant", msg.content)]
                pending = None
        return turns[-8:]

    def record_answer(
        self,
        conversation_id: str,
        question: str,
        answer: str,
        citations: list[Citation],
        route: Route,
        device: str,
        stats: GenerationStats | None,
        started: float,
        *,
        not_found: bool,
        cancelled: bool = False,
        sources: list[Hit] | None = None,
        notices: list[str] | None = None,
        evidence: list[EvidenceQuote] | None = None,
        evidence_only: bool = False,
    ) -> ChatAnswer:
        """Store an answer to `question` (already stored) in the conversation; return it."""
        seconds = time.perf_counter() - started
        meta = {
            "route": route.to_dict(),
            "device": device,
            "not_found": not_found,
            "cancelled": cancelled,
            "seconds": round(seconds, 3),
            "tokens": None if stats is None else stats.completion_tokens,
            "sources": len(sources or []),
            "evidence": [
                {**q.to_json(), "chunk_id": q.chunk_id, "score": q.score} for q in evidence or []
            ],
            "notices": list(notices or []),
            "evidence_only": evidence_only,
            "finish_reason": None if stats is None else stats.finish_reason,
        }
        stored = self._history.add_message(
            conversation_id, "assistant", answer, meta=meta, citations=citations
        )
        return ChatAnswer(
            conversation_id,
            stored.id,
            question,
            answer,
            citations,
            list(sources or []),
            route,
            device,
            stats,
            not_found,
            cancelled,
            seconds,
            list(notices or []),
            evidence=list(evidence or []),
            evidence_only=evidence_only,
        )


def _support(sources: list[Hit]) -> float | None:
    """The best dense similarity among the relevant sources (None when there are none)."""
    sims = [h.dense_similarity for h in sources if h.dense_similarity is not None]
    if sims:
        return max(sims)
    return 0.0 if sources else None


def _confidence(route: Route, composed: Composed, lookup: Lookup) -> float:
    """How often answers with evidence this good were right on the development sets
    (rag.evidence.calibrated), and no higher than the share of the model's checked sentences
    that passed."""
    parts = [calibrated(lookup.score)]
    if composed.claim_support is not None and not composed.evidence_only:
        parts.append(composed.claim_support)
    return round(max(0.0, min(parts)), 2)


def _local_tier(tier: AnsweredBy) -> Tier:
    """The router's tier for a local answer (it never chooses the frontier route itself)."""
    if tier == "frontier":
        raise ChatError("The frontier route is taken through app.frontier, not ChatService.ask.")
    return tier


def _offers(route: Route) -> list[str]:
    """What the user can do about an abstention: think harder, or the frontier route."""
    offers = []
    if route.tier != "verify" and route.choice != "think_harder":
        offers.append(
            'Ask again with "Think harder" to search deeper and let the model try several answers.'
        )
    if route.frontier_offered:
        offers.append(
            "Your administrator allows a larger frontier model for this workspace: you can send "
            'this question to it with "Ask frontier…" (or `enclave ask --frontier`); you will see '
            "exactly what is sent, redacted, first."
        )
    return offers
