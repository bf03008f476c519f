"""The chat's value types: a question's options, the events `ChatService.ask` yields, and the
answer with its evidence and citations (the `enclave ask --json` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.chat.answer import EvidenceQuote
from app.chat.reasoning import SampleDone, Token
from app.routing.router import Choice, Overrides, Route, Tier
from models.types import GenerationStats
from rag.types import Citation, Hit

__all__ = [
    "AskOptions",
    "ChatAnswer",
    "ChatEvent",
    "EvidenceFound",
    "RouteDecided",
    "SourcesFound",
]


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
    documents: tuple[str, ...] = ()  # only these documents (names or ids); () = all

    def overrides(self) -> Overrides:
        return Overrides(self.choice, self.domain, self.tier, self.model_id, self.samples)


@dataclass(frozen=True)
class SourcesFound:
    sources: list[Hit]


@dataclass(frozen=True)
class EvidenceFound:
    """The documents' own words that answer the question, chosen before any model runs (an
    empty list: nothing answers it)."""

    evidence: list[EvidenceQuote]


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
    evidence: list[EvidenceQuote] = field(default_factory=list)  # shown first
    evidence_only: bool = False  # the answer is the evidence quotes alone (no model sentence)

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
                    "supported": c.supported,
                }
                for c in self.citations
            ],
            "evidence": [q.to_json() for q in self.evidence],
            "evidence_only": self.evidence_only,
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


ChatEvent = SourcesFound | EvidenceFound | RouteDecided | Token | SampleDone | ChatAnswer
