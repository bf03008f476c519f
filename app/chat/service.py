"""The chat use-case: retrieve, route, prompt with numbered sources, generate, cite, persist.

`ChatService.ask` is a generator run on the caller's thread (a CLI main thread or a UI worker
thread); tokens come from the model's own inference thread through the engine's queue.
The router (app.routing.router) picks the specialist model and the compute tier before
generation, and decides afterwards whether the answer is confident enough to give or must abstain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from app.chat.prompting import NOT_FOUND_TEXT, build_messages, user_turn
from app.chat.reasoning import SampleDone, TierResult, Token, is_not_found, run_tier, verify_claims
from app.errors import EnclaveError
from app.routing.router import (
    AnsweredBy,
    Choice,
    Overrides,
    PassOutcome,
    Route,
    Router,
    Tier,
    reassess,
)
from models.types import CancelToken, GenerationOptions, GenerationStats, Message
from rag.citations import build_citations
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
    "Route",
    "RouteDecided",
    "SampleDone",
    "SourcesFound",
    "Token",
]


class ChatError(EnclaveError):
    """The question could not be asked; the message says why."""


@dataclass(frozen=True)
class AskOptions:
    """One question's choices, from the CLI's flags or the window's buttons. None everywhere
    means: the settings and the router decide."""

    conversation_id: str | None = None  # continue this conversation (else a new one)
    k: int | None = None  # sources to retrieve (default: settings.top_k_sources)
    choice: Choice = "auto"  # "quick", "think_harder"
    domain: str | None = None
    tier: Tier | None = None
    samples: int | None = None
    model_id: str | None = None

    def overrides(self) -> Overrides:
        return Overrides(self.choice, self.domain, self.tier, self.model_id, self.samples)


@dataclass(frozen=True)
class SourcesFound:
    sources: list[Hit]


@dataclass(frozen=True)
class RouteDecided:
    """The router's decision, before generation starts (for a status line)."""

    route: Route


@dataclass
class ChatAnswer:
    conversation_id: str
    message_id: str
    question: str
    answer: str
    citations: list[Citation]
    sources: list[Hit]
    route: Route
    device: str
    stats: GenerationStats | None
    not_found: bool
    cancelled: bool
    seconds: float
    notices: list[str] = field(default_factory=list)
    draft: str = ""  # the model's answer before verification or abstention (not in the JSON)

    def to_json(self) -> dict[str, Any]:
        """The `enclave ask --json` contract."""
        return {
            "answer": self.answer,
            "citations": [
                {
                    "n": c.n,
                    "document": c.document,
                    "path": c.path,
                    "page": c.page,
                    "quote": c.quote,
                    "start": c.start,
                    "end": c.end,
                }
                for c in self.citations
            ],
            "route": self.route.to_dict(),
            "conversation_id": self.conversation_id,
            "not_found": self.not_found,
            "cancelled": self.cancelled,
            "model": self.route.model_id,
            "device": self.device,
            "tokens": None if self.stats is None else self.stats.completion_tokens,
            "seconds": round(self.seconds, 3),
            "notices": self.notices,
        }


ChatEvent = SourcesFound | RouteDecided | Token | SampleDone | ChatAnswer
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
    ) -> None:
        """`router`: the app's router (classifier, model portfolio, policy). Without one every
        question goes to the default model, domain "general", and the tier rules still apply."""
        self._settings = settings
        self._history = history
        self._engines = engines
        self._index_for = index_for
        self.router = router or Router()

    def relevant_sources(self, workspace: Workspace, question: str, k: int) -> list[Hit]:
        """Retrieve, then keep only hits similar enough to be worth citing."""
        hits = self._index_for(workspace).search(question, k=k)
        floor = self._settings.min_source_similarity
        return [
            h
            for h in hits
            if (h.dense_similarity is not None and h.dense_similarity >= floor)
            or (h.lexical_rank is not None and (h.dense_similarity or 0.0) >= floor / 2)
        ]

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
        sources = self.relevant_sources(workspace, question, k or settings.top_k_sources)
        yield SourcesFound(sources)
        overrides = options.overrides()
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

        if not sources and settings.answer_only_from_documents:
            route = replace(route, samples=0, abstained=True, confidence=0.0)
            yield self.record_answer(
                conv.id, question, NOT_FOUND_TEXT, [], route, "none", None, started,
                not_found=True, notices=_offers(route),
            )  # fmt: skip
            return

        engine = self._engines.get(route.model_id)
        load_notices = self._engines.take_notices()
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
        final = self._conclude(
            conv.id, question, result, route, sources, engine.device, started, load_notices
        )
        if len(result.samples) > 1 and not final.route.abstained and final.answer:
            yield Token(final.answer)  # sampled answers are not streamed: show the chosen one
        yield final

    def _conclude(
        self,
        conversation_id: str,
        question: str,
        result: TierResult,
        route: Route,
        sources: list[Hit],
        device: str,
        started: float,
        load_notices: list[str],
    ) -> ChatAnswer:
        """Verify, score confidence, abstain or answer, cite, and store."""
        answer = draft = result.answer
        notices: list[str] = list(load_notices)
        not_found = is_not_found(answer)
        check = verify_claims(answer, sources)
        if route.tier == "verify" and check.unsupported and not result.cancelled:
            answer = check.kept
            n = len(check.unsupported)
            notices.append(
                f"{n} sentence{'s' if n != 1 else ''} not supported by the sources "
                f"{'were' if n != 1 else 'was'} removed."
            )
        outcome = PassOutcome(
            samples=len(result.samples),
            agreement=result.agreement,
            claim_support=check.share,
            model_abstained=not_found or not answer.strip(),
        )
        route = reassess(route, outcome, self.router.config)
        if route.abstained and not result.cancelled:
            if not not_found:
                notices.append(
                    f"The documents do not clearly support an answer (confidence "
                    f"{route.confidence or 0.0:.2f}), so Enclave does not guess."
                )
            answer, not_found = NOT_FOUND_TEXT, True
            notices += _offers(route)
        citations = [] if not_found else build_citations(answer, sources, question)
        final = self.record_answer(
            conversation_id, question, answer, citations, route, device, result.stats, started,
            not_found=not_found, cancelled=result.cancelled, sources=sources, notices=notices,
        )  # fmt: skip
        final.draft = draft
        return final

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
        )


def _support(sources: list[Hit]) -> float | None:
    """The best dense similarity among the relevant sources (None when there are none)."""
    sims = [h.dense_similarity for h in sources if h.dense_similarity is not None]
    if sims:
        return max(sims)
    return 0.0 if sources else None


def _local_tier(tier: AnsweredBy) -> Tier:
    """The router's tier for a local answer (it never chooses the frontier route itself)."""
    if tier == "frontier":
        raise ChatError("The frontier route is taken through app.frontier, not ChatService.ask.")
    return tier


def _offers(route: Route) -> list[str]:
    """What the user can do about an abstention: think harder, or the frontier route."""
    offers = []
    if route.tier != "verify" and route.samples != 0:
        offers.append('Ask again with "Think harder" to let the model try several answers.')
    if route.frontier_offered:
        offers.append(
            "Your administrator allows a larger frontier model for this workspace: you can send "
            'this question to it with "Ask frontier…" (or `enclave ask --frontier`); you will see '
            "exactly what is sent, redacted, first."
        )
    return offers
