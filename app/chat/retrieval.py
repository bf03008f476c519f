"""What the chat looks up for a question before any model runs: the sources (limited to the
documents asked about), the documents' opening passages for questions about a document itself,
the evidence that answers it (rag.evidence), the line of each quote in a text file, and whether
several documents give different answers.

Runs on the caller's thread; the index may live in another process (the desktop's worker).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.chat.errors import ChatError
from rag.evidence import (
    KIND_WORDS,
    NOT_FOUND_BELOW,
    Evidence,
    answer_type,
    answers,
    asks_about_document,
    best_per_document,
    pick,
    score_candidates,
    typed_facts,
)
from rag.injection import instruction_spans

if TYPE_CHECKING:
    from rag.index_types import DocumentIndex
    from rag.types import Hit

__all__ = ["Lookup", "look_up", "resolve_documents"]

_KIND_WORDS = KIND_WORDS

Embed = Callable[[Sequence[str]], list[list[float]]]
EVIDENCE_DEPTH = 10  # passages searched for the evidence (the model reads the first k)
_LINE_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text", ".csv", ".log", ""})


@dataclass
class Lookup:
    question: str
    sources: list[Hit]  # numbered for the prompt: "Source N" = sources[N-1]
    evidence: list[Evidence]  # best first; empty when nothing answers
    lines: list[int | None]  # the line of each evidence quote (text files), else None
    several: list[tuple[Evidence, int | None]] = field(default_factory=list)  # differing docs

    def why_not_found(self) -> str:
        """Why the documents are taken not to answer, in one sentence."""
        wanted = answer_type(self.question)
        if self.evidence and self.score >= NOT_FOUND_BELOW and wanted != "any":
            return (
                f"The closest passage (match {self.score:.2f}) does not state "
                f"{_KIND_WORDS[wanted]}, which the question asks for."
            )
        if self.evidence and self.score >= NOT_FOUND_BELOW and self.evidence[0].absent:
            named = " or ".join(f"'{w}'" for w in self.evidence[0].absent[:3])
            return (
                f"No passage found for this question mentions {named} or an equivalent "
                "wording, so your documents do not appear to say."
            )
        return (
            "No passage of your documents answers this question closely enough "
            f"(best match {self.score:.2f}; needs {NOT_FOUND_BELOW:.2f})."
        )

    def instruction_notices(self) -> list[str]:
        """One notice per document whose retrieved text addresses an AI assistant."""
        names = sorted({h.document_name for h in self.sources if instruction_spans(h.chunk.text)})
        return [
            f"A passage of {name} contains instructions to an AI; they were not followed and "
            "are not quoted."
            for name in names
        ]

    @property
    def found(self) -> bool:
        """Whether the documents answer the question (rag.evidence.answers)."""
        return answers(self.evidence, self.question)

    @property
    def score(self) -> float:
        return self.evidence[0].score if self.evidence else 0.0


def resolve_documents(index: DocumentIndex, names: Sequence[str]) -> list[str]:
    """Document ids for the names (or ids, or paths) a person gave; a name that matches no
    document is a ChatError naming the documents there are."""
    docs = index.documents()
    ids: list[str] = []
    for name in names:
        wanted = name.strip().lower()
        match = [
            d
            for d in docs
            if wanted in (d.id.lower(), d.name.lower(), d.path.lower(), Path(d.name).stem.lower())
        ]
        if not match:
            known = ", ".join(sorted(d.name for d in docs)[:10]) or "none yet"
            raise ChatError(
                f"There is no document {name!r} in this workspace (documents: {known})."
            )
        ids.extend(d.id for d in match if d.id not in ids)
    return ids


def look_up(
    index: DocumentIndex,
    question: str,
    k: int,
    embed: Embed | None,
    *,
    documents: Sequence[str] | None = None,
    keep: Callable[[Hit], bool] = lambda _hit: True,
) -> Lookup:
    """Search (within `documents`, ids, when given), choose the evidence, find its lines.

    The evidence is chosen from a deeper search (EVIDENCE_DEPTH passages, or 2 k) than the `k`
    sources the model reads: more candidates find the answering sentence more often
    (bench/RESULTS.md, "Answers": k=10 against k=5), at the cost of embedding their sentences.
    """
    found = index.search(question, k=max(k, EVIDENCE_DEPTH), documents=documents)
    hits = [h for h in found[:k] if keep(h)]
    openings = index.openings(documents) if asks_about_document(question) else []
    scored = score_candidates(question, found, embed, openings=openings)
    evidence = pick(scored)
    sources = list(hits)
    for ev in evidence:  # an opening passage chosen as evidence becomes a source too
        if all(ev.hit.chunk.id != h.chunk.id for h in sources):
            sources.append(ev.hit)
    lookup = Lookup(question, sources, evidence, [_line(index, ev) for ev in evidence])
    lookup.several = _differing(index, question, scored) if lookup.found else []
    return lookup


def _line(index: DocumentIndex, ev: Evidence) -> int | None:
    if Path(ev.hit.path).suffix.lower() not in _LINE_SUFFIXES or ev.hit.chunk.page != 1:
        return None
    try:
        return index.line_of(ev.hit.chunk.document_id, ev.hit.chunk.start + ev.start)
    except KeyError:
        return None


def _differing(
    index: DocumentIndex, question: str, scored: Sequence[Evidence]
) -> list[tuple[Evidence, int | None]]:
    """Each document's best evidence, when two or more documents answer well and state
    different facts of the kind asked for (four agreements, four governing laws)."""
    wanted = answer_type(question)
    if wanted == "any":
        return []
    per_doc = [
        ev
        for ev in best_per_document(scored).values()
        if ev.score >= NOT_FOUND_BELOW and ev.type_match
    ]
    facts = {typed_facts(ev.quote, wanted) for ev in per_doc}
    if len(per_doc) < 2 or len(facts) < 2:
        return []
    return [(ev, _line(index, ev)) for ev in per_doc]
