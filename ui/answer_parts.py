"""What one answer shows, the same for a live answer and for one read back from history:
the evidence (the documents' own words, verbatim), the answer text with its [n] markers, the
notices, the sources, the meta line and, after Regenerate, which version this is.

Pure functions and a dataclass (no widgets), so both paths build the same `AnswerParts`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.desktop.facade import (
    ChatAnswer,
    Citation,
    EvidenceQuote,
    StoredMessage,
)
from ui.answer_line import answer_meta, stored_meta

__all__ = [
    "AnswerParts",
    "evidence_citation",
    "from_answer",
    "from_stored",
    "token_limit_notice",
]

TOKEN_LIMIT = (
    "The answer stopped at the token limit ({tokens} tokens), so it may be cut short: "
    "ask a narrower question, or Regenerate."
)


@dataclass(frozen=True)
class AnswerParts:
    key: str  # the stored message's id ("" for an answer that was not stored)
    text: str
    citations: tuple[Citation, ...] = ()
    evidence: tuple[EvidenceQuote, ...] = ()
    evidence_only: bool = False
    notices: tuple[str, ...] = ()
    meta: str = ""
    version: int = 1  # 1-based: which of `versions` answers to the question is shown
    versions: int = 1

    @property
    def shows_text(self) -> bool:
        """Whether the answer text is shown (not for evidence-only answers: the evidence block
        already holds those quotes, and they are not repeated)."""
        return not (self.evidence_only and self.evidence)

    def with_version(self, version: int, versions: int) -> AnswerParts:
        return replace(self, version=version, versions=versions)


def token_limit_notice(finish_reason: str | None, tokens: int | None) -> str:
    """The notice for an answer that stopped at the model's token limit ("" otherwise)."""
    if finish_reason != "length":
        return ""
    return TOKEN_LIMIT.format(tokens=tokens if tokens is not None else "the")


def _notices(*groups: Any) -> tuple[str, ...]:
    seen: list[str] = []
    for group in groups:
        for notice in group:
            text = str(notice).strip()
            if text and text not in seen:
                seen.append(text)
    return tuple(seen)


def from_answer(answer: ChatAnswer) -> AnswerParts:
    """The parts of a live answer (ChatService.ask's last event)."""
    status: list[str] = []
    if answer.cancelled:
        status.append("Stopped before the end.")
    elif answer.not_found and not answer.sources:
        status.append("No passage in this workspace matches the question closely enough.")
    stats = answer.stats
    if stats is not None and not answer.cancelled:
        status.append(token_limit_notice(stats.finish_reason, stats.completion_tokens))
    return AnswerParts(
        answer.message_id,
        answer.answer,
        tuple(answer.citations),
        tuple(answer.evidence),
        bool(answer.evidence_only),
        _notices(status, answer.notices),
        answer_meta(answer),
    )


def from_stored(message: StoredMessage) -> AnswerParts:
    """The parts of an answer read back from history (its `meta` holds evidence and notices,
    and it knows which of its turn's versions it is)."""
    meta = message.meta
    evidence = []
    for item in meta.get("evidence") or []:
        try:
            evidence.append(EvidenceQuote.from_json(item))
        except (KeyError, TypeError, ValueError):
            continue  # an entry this version cannot read is left out, not guessed
    status = ["Stopped before the end."] if meta.get("cancelled") else []
    if not meta.get("cancelled"):  # stored by a version that records why generation ended
        tokens = meta.get("tokens") if isinstance(meta.get("tokens"), int) else None
        status.append(token_limit_notice(meta.get("finish_reason"), tokens))
    return AnswerParts(
        message.id,
        message.content,
        tuple(message.citations),
        tuple(evidence),
        bool(meta.get("evidence_only")),
        _notices(status, meta.get("notices") or []),
        stored_meta(meta),
        version=message.version,
        versions=message.versions,
    )


def evidence_citation(quote: EvidenceQuote) -> Citation:
    """The citation that opens the citation panel at an evidence quote's passage."""
    return Citation(
        n=quote.n, document=quote.document, path=quote.path, page=quote.page,
        quote=quote.quote, start=quote.start, end=quote.end, chunk_id=quote.chunk_id,
        verified=True, supported=True, ocr=quote.ocr,
    )  # fmt: skip
