"""What a person is shown: the documents' own words first, then the model's checked sentences.

`compose()` takes the evidence Enclave chose (rag.evidence), the model's draft and the numbered
sources, and returns the answer to show:
- the evidence quotes, numbered [1], [2] ... in the order shown;
- the model's sentences that pass the fact check (app.chat.grounding), their markers renumbered
  so that the numbers shown run 1, 2, 3 without gaps and point at the same passages;
- when no sentence of the model passes (or it wrote none), the evidence quote itself is the
  answer, in quotation marks, so the answer is always the documents' own words;
- a notice for every sentence left out, saying which fact the passage does not state.
Unsupported sentences are left out, never shown as the answer (README, "How answers are
checked").

`several_answers()` gives each document's evidence when the documents answer differently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.chat.grounding import CheckedSentence, check_answer
from rag.evidence import (
    KIND_WORDS,
    AnswerType,
    Evidence,
    answer_type,
    topic_terms,
    type_matches,
)
from rag.types import Citation, Hit

__all__ = ["Composed", "EvidenceQuote", "compose", "evidence_only", "several_answers"]

_MARKER_RE = re.compile(r"\[\s*(\d{1,2}(?:\s*,\s*\d{1,2})*)\s*\]")


@dataclass(frozen=True)
class EvidenceQuote:
    """A quote shown as evidence: verbatim `document_text[start:end]`, with where it stands."""

    n: int
    document: str
    path: str
    page: int
    line: int | None  # for text files (one page): the line the quote starts on
    quote: str
    start: int
    end: int
    chunk_id: str
    score: float
    ocr: bool = False  # the page was read by OCR
    cut_before: bool = False  # the quote opens mid-sentence (where its passage opens)
    cut_after: bool = False  # the quote stops mid-sentence (where its passage ends)

    @property
    def shown(self) -> str:
        """The quote on one line as a person reads it: an ellipsis where it opens or stops in
        the middle of a sentence, so a fragment does not read as the whole sentence."""
        return "\u2026" * self.cut_before + _flat(self.quote) + "\u2026" * self.cut_after

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n, "document": self.document, "path": self.path, "page": self.page,
            "line": self.line, "quote": self.quote, "start": self.start, "end": self.end,
            **({"ocr": True} if self.ocr else {}),
            **({"cut_before": True} if self.cut_before else {}),
            **({"cut_after": True} if self.cut_after else {}),
        }  # fmt: skip

    @staticmethod
    def from_json(data: dict[str, Any]) -> EvidenceQuote:
        return EvidenceQuote(
            int(data["n"]), str(data["document"]), str(data["path"]), int(data["page"]),
            data.get("line"), str(data["quote"]), int(data["start"]), int(data["end"]),
            str(data.get("chunk_id", "")), float(data.get("score", 0.0)),
            bool(data.get("ocr", False)), bool(data.get("cut_before", False)),
            bool(data.get("cut_after", False)),
        )  # fmt: skip

    def where(self) -> str:
        """ "page 3" ("page 3, read by OCR" for a scanned page), or "line 12" for a text file."""
        if self.line is not None:
            return f"line {self.line}"
        return f"page {self.page}, read by OCR" if self.ocr else f"page {self.page}"


@dataclass
class Composed:
    answer: str
    citations: list[Citation]
    evidence: list[EvidenceQuote]
    notices: list[str] = field(default_factory=list)
    checked: list[CheckedSentence] = field(default_factory=list)
    evidence_only: bool = False  # no sentence of the model was shown

    @property
    def claim_support(self) -> float | None:
        """Share of the model's checkable sentences that passed (None: nothing to check)."""
        checkable = [c for c in self.checked if c.checkable]
        if not checkable:
            return None
        return sum(c.supported for c in checkable) / len(checkable)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _evidence_quotes(
    evidence: Sequence[Evidence], lines: Sequence[int | None]
) -> list[EvidenceQuote]:
    out = []
    for n, (ev, line) in enumerate(zip(evidence, lines, strict=True), start=1):
        chunk = ev.hit.chunk
        out.append(
            EvidenceQuote(
                n,
                ev.hit.document_name,
                ev.hit.path,
                chunk.page,
                line,
                ev.quote,
                chunk.start + ev.start,
                chunk.start + ev.end,
                chunk.id,
                round(ev.score, 3),
                chunk.ocr,
                ev.cut_before,
                ev.cut_after,
            )
        )
    return out


def _citation(n: int, hit: Hit, start: int, end: int, supported: bool) -> Citation:
    chunk = hit.chunk
    return Citation(
        n, hit.document_name, hit.path, chunk.page, chunk.text[start:end],
        chunk.start + start, chunk.start + end, chunk.id, True, supported, chunk.ocr,
    )  # fmt: skip


def evidence_only(
    evidence: Sequence[Evidence], lines: Sequence[int | None], notices: Sequence[str] = ()
) -> Composed:
    """The answer when only the documents' words are shown: each quote, cited."""
    quotes = _evidence_quotes(evidence, lines)
    answer = " ".join(f"\u201c{q.shown}\u201d [{q.n}]" for q in quotes)
    citations = [
        _citation(q.n, ev.hit, ev.start, ev.end, True)
        for q, ev in zip(quotes, evidence, strict=True)
    ]
    return Composed(answer, citations, quotes, list(notices), [], True)


MAX_LEFT_OUT_SHOWN = 2  # a small model can write ten unsupported sentences: name two


def _left_out(dropped: Sequence[CheckedSentence]) -> list[str]:
    """One notice per sentence left out, the first MAX_LEFT_OUT_SHOWN of them, then a count."""
    notices = [
        f"Left out of the answer: \u201c{_flat(_MARKER_RE.sub('', c.text)).strip()}\u201d "
        f"({c.reason})."
        for c in dropped[:MAX_LEFT_OUT_SHOWN]
    ]
    more = len(dropped) - MAX_LEFT_OUT_SHOWN
    if more > 0:
        notices.append(
            f"{more} more sentence{'s' if more > 1 else ''} of the model's answer "
            f"{'were' if more > 1 else 'was'} left out: the cited passages do not support them."
        )
    return notices


def compose(
    draft: str,
    sources: Sequence[Hit],
    evidence: Sequence[Evidence],
    lines: Sequence[int | None],
    question: str = "",
) -> Composed:
    """Evidence first, then the model's supported sentences with renumbered markers. When the
    `question` asks for a kind of fact (a law, a date, a dose), a sentence that states none is
    not an answer to it, however true: it is left out like an unsupported one."""
    checked = [
        _answers_kind(c, answer_type(question)) for c in check_answer(draft, sources, question)
    ]
    if question:
        checked = _on_the_question(checked, question, sources, evidence)
    kept = [c for c in checked if c.supported and c.checkable]
    notices = _left_out([c for c in checked if not c.supported])
    if not kept:
        composed = evidence_only(evidence, lines, notices)
        composed.checked = checked
        return composed
    quotes = _evidence_quotes(evidence, lines)
    citations = [
        _citation(q.n, ev.hit, ev.start, ev.end, True)
        for q, ev in zip(quotes, evidence, strict=True)
    ]
    shown: list[str] = []
    for sentence in kept:
        assert sentence.support is not None and sentence.window is not None
        hit = sources[sentence.support - 1]
        start, end = sentence.window
        # The number of the quote that holds the sentence's facts: an evidence quote that
        # contains its supporting sentence, or a new citation quoting that sentence.
        n = next(
            (
                c.n
                for c in citations
                if c.chunk_id == hit.chunk.id
                and c.start <= hit.chunk.start + start
                and hit.chunk.start + end <= c.end
            ),
            None,
        )
        if n is None:
            n = max((c.n for c in citations), default=0) + 1
            citations.append(_citation(n, hit, start, end, True))
        text = _MARKER_RE.sub("", sentence.text).rstrip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        text = f"{text[:-1]} [{n}]{text[-1]}" if text and text[-1] in ".!?" else f"{text} [{n}]"
        shown.append(text)
    return Composed(" ".join(shown), citations, quotes, notices, checked, False)


def _on_the_question(
    checked: list[CheckedSentence],
    question: str,
    sources: Sequence[Hit],
    evidence: Sequence[Evidence],
) -> list[CheckedSentence]:
    """Supported sentences that do not answer the question are padding, however true: a
    sentence stays when the passage sentence holding it is (or overlaps) the evidence, or when
    it is about what the question asks (shares a word of its topic). A sentence said twice is
    shown once."""
    topic = topic_terms(question)
    seen: set[str] = set()
    out = []
    for c in checked:
        if not (c.supported and c.checkable) or c.support is None or c.window is None:
            out.append(c)
            continue
        key = " ".join(_MARKER_RE.sub(" ", c.text).lower().split())
        if key in seen:
            continue  # the same sentence again: dropped without a notice
        seen.add(key)
        hit = sources[c.support - 1]
        start, end = c.window
        on_evidence = any(
            ev.hit.chunk.id == hit.chunk.id and ev.start < end and start < ev.end for ev in evidence
        )
        if on_evidence or topic & topic_terms(_MARKER_RE.sub(" ", c.text)):
            out.append(c)
        else:
            out.append(
                replace(c, supported=False, support=None, window=None,
                        reason="it does not answer the question")
            )  # fmt: skip
    return out


def _answers_kind(sentence: CheckedSentence, wanted: AnswerType) -> CheckedSentence:
    if wanted == "any" or not sentence.supported or not sentence.checkable:
        return sentence
    if type_matches(_MARKER_RE.sub(" ", sentence.text), wanted):
        return sentence
    return replace(
        sentence, supported=False, support=None, window=None,
        reason=f"it does not state {KIND_WORDS[wanted]}, which the question asks for",
    )  # fmt: skip


def several_answers(
    per_document: Sequence[tuple[Evidence, int | None]],
) -> Composed:
    """When documents answer differently: each document's own evidence, one line each."""
    evidence = [ev for ev, _ in per_document]
    quotes = _evidence_quotes(evidence, [line for _, line in per_document])
    lines = [f"- {q.document}: \u201c{q.shown}\u201d [{q.n}]" for q in quotes]
    answer = "Your documents answer this differently:\n" + "\n".join(lines)
    citations = [
        _citation(q.n, ev.hit, ev.start, ev.end, True)
        for q, ev in zip(quotes, evidence, strict=True)
    ]
    notice = f"{len(quotes)} documents give different answers; each is shown with its own words."
    return Composed(answer, citations, quotes, [notice], [], True)
