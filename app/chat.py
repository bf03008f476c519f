"""The chat use-case: retrieve, prompt with numbered sources, stream, cite, persist.

`ChatService.ask` is a generator run on the caller's thread (a CLI main thread or a UI worker
thread); tokens come from the model's own inference thread through the engine's queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from app.prompting import NOT_FOUND_TEXT, build_messages, user_turn
from models.types import CancelToken, GenerationOptions, GenerationStats, Message
from rag.citations import build_citations
from rag.types import Citation, Hit

if TYPE_CHECKING:
    from rag.index import WorkspaceIndex

    from app.engines import EngineManager
    from app.history import HistoryStore
    from app.settings import Settings
    from app.workspaces import Workspace


class ChatError(ValueError):
    """The question could not be asked; the message says why."""


@dataclass(frozen=True)
class Route:
    """Which model answered and why. Grows with the router (domain scores, tiers, escalation)."""

    model_id: str
    domain: str = "general"
    tier: str = "direct"
    samples: int = 1
    escalate: bool = False
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        return data


@dataclass(frozen=True)
class SourcesFound:
    sources: list[Hit]


@dataclass(frozen=True)
class Token:
    text: str


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


ChatEvent = SourcesFound | Token | ChatAnswer
IndexProvider = Callable[["Workspace"], "WorkspaceIndex"]


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        history: HistoryStore,
        engines: EngineManager,
        index_for: IndexProvider,
    ) -> None:
        self._settings = settings
        self._history = history
        self._engines = engines
        self._index_for = index_for

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
        *,
        conversation_id: str | None = None,
        model_id: str | None = None,
        cancel: CancelToken | None = None,
        k: int | None = None,
    ) -> Iterator[ChatEvent]:
        question = question.strip()
        if not question:
            raise ChatError("The question is empty.")
        started = time.perf_counter()
        settings = self._settings
        model_id = model_id or settings.default_model
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
        route = Route(model_id=model_id, reasons=(f"{len(sources)} relevant sources",))
        self._history.add_message(
            conv.id, "user", question, meta={"sent": user_turn(question, sources)}
        )

        if not sources and settings.answer_only_from_documents:
            yield self._finish(
                conv.id, question, NOT_FOUND_TEXT, [], route, "none", None, started, not_found=True
            )
            return

        engine = self._engines.get(model_id)
        messages = build_messages(question, sources, earlier)
        options = GenerationOptions(
            max_tokens=settings.max_answer_tokens, temperature=settings.temperature
        )
        pieces: list[str] = []
        stats: GenerationStats | None = None
        for event in engine.generate(messages, options, cancel):
            if event.text:
                pieces.append(event.text)
                yield Token(event.text)
            if event.stats is not None:
                stats = event.stats
        answer = "".join(pieces).strip()
        cancelled = stats is not None and stats.finish_reason == "cancelled"
        not_found = NOT_FOUND_TEXT.lower().rstrip(".") in answer.lower()
        citations = [] if not_found else build_citations(answer, sources)
        yield self._finish(
            conv.id,
            question,
            answer,
            citations,
            route,
            engine.device,
            stats,
            started,
            not_found=not_found,
            cancelled=cancelled,
            sources=sources,
        )

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

    def _finish(
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
    ) -> ChatAnswer:
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
        )
