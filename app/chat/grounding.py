"""Grounding an answer: check every sentence the model wrote against the passage it cites.

A sentence is *supported* when one sentence (or a heading with its lines) of a passage it cites
holds every checkable fact it states (rag.facts: numbers, durations, amounts, dates, doses,
frequencies, names, places), says yes where the passage says yes and no where it says no, and
quotes only words that stand verbatim in that passage. Its words must be there too: half of
all its content words, and in each clause no more than one word in three missing (its facts
and the question's words, which an answer repeats, aside), so a true clause does not carry an
invented one. A sentence that fails is never shown as the answer: `check_answer` returns it as
unsupported and the chat service leaves it out (README,
"How answers are checked").

Pure functions over the retrieved hits; no model, no index.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.citations import cited_numbers, words
from rag.evidence import SHORT_SENTENCE_CHARS
from rag.facts import Atom, atoms, missing_atoms, negated_words, without_facts
from rag.injection import instruction_spans, overlaps_instruction
from rag.sentences import sentence_spans
from rag.types import Hit

__all__ = ["CheckedSentence", "check_answer", "check_sentence", "check_windows", "split_answer"]

SUPPORTED_SHARE = 0.5  # a sentence without checkable facts: this share of its words in the source
CLAUSE_SHARE = 2 / 3  # each clause: this share of its own words (not the question's) in it
_CLAUSE_RE = re.compile(
    r";|,\s+(?:and|but|while|whereas|although|though|so)\s+|\s+(?:but|whereas)\s+", re.I
)
_MARKER_RE = re.compile(r"\[\s*\d{1,2}(?:\s*,\s*\d{1,2})*\s*\]")
_QUOTED_RE = re.compile(r"[\"“]([^\"”]{3,400})[\"”]")
_LIST_LINE_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_META = frozenset(
    "source sources document documents passage passages according states stated says said "
    "mentions mentioned shows show answer question based provided text".split()
)


@dataclass(frozen=True)
class CheckedSentence:
    text: str  # as the model wrote it, markers included
    supported: bool
    checkable: bool  # it states something to check (facts, or at least two content words)
    cited: tuple[int, ...]  # the source numbers it cites (1-based), as written
    support: int | None  # the source (1-based) that holds it, when supported
    missing: tuple[Atom, ...] = ()  # the facts no cited passage holds
    reason: str = ""  # why it is not supported, in words
    window: tuple[int, int] | None = None  # where in the supporting passage it stands


def split_answer(answer: str) -> list[str]:
    """The answer's sentences (list items and lines count as sentences), markers kept with the
    sentence they follow."""
    out: list[str] = []
    for line in answer.splitlines():
        line = _LIST_LINE_RE.sub("", line).strip()
        for s, e in sentence_spans(line):
            if out and _MARKER_RE.fullmatch(line[s:e].rstrip(".")):
                out[-1] += " " + line[s:e]  # "... daily. [2]": the marker belongs to it
            else:
                out.append(line[s:e])
    return out


def _content(text: str) -> set[str]:
    return words(_MARKER_RE.sub(" ", text)) - _META


def _stems(ws: set[str]) -> set[str]:
    return {w[:6] for w in ws}


def _polarity_clash(claim: str, source: str) -> bool:
    """The claim affirms what the source denies, or denies what it affirms, about a word
    both share."""
    claim_words = _stems(_content(claim))
    source_words = _stems(words(source))
    shared = claim_words & source_words
    denied_claim = _stems(negated_words(_MARKER_RE.sub(" ", claim))) & shared
    denied_source = _stems(negated_words(source)) & shared
    return denied_claim != denied_source


def _quotes_verbatim(claim: str, window: str) -> bool:
    """Every quotation in the claim stands verbatim in the window; an opening quotation mark
    that is never closed quotes the rest of the sentence."""
    if not all(m.group(1).strip() in window for m in _QUOTED_RE.finditer(claim)):
        return False
    rest = _QUOTED_RE.sub(" ", claim)
    opened = re.search(r"[\"“]([^\"”]{3,})$", rest.strip())
    if opened:
        tail = re.sub(r"[\s.,;:!?)\]]+$", "", opened.group(1)).strip()
        return " ".join(tail.split()) in " ".join(window.split())
    return True


def check_windows(text: str) -> list[tuple[int, int]]:
    """Where a claim's facts must stand together: one sentence, or a short sentence (a clause
    title) with the next one on the same line; never two list items or two lines."""
    fenced = instruction_spans(text)  # text addressed to an AI supports nothing
    spans = [(s, e) for s, e in sentence_spans(text) if not overlaps_instruction(fenced, s, e)]
    out = list(spans)
    for (s1, e1), (s2, e2) in itertools.pairwise(spans):
        if e1 - s1 <= SHORT_SENTENCE_CHARS and "\n" not in text[e1:s2]:
            out.append((s1, e2))
    return out


def _unheld_clause(claim: str, window: str, asked: set[str]) -> bool:
    """Whether a clause of the claim says what the window does not: two or more of its content
    words (less its facts, checked as facts, and the question's words, which an answer
    repeats) are not in the window, and they are over a third of the clause's words. "He was
    given antibiotics for infection, and he is to continue the Colace": the second clause is
    held, the first is not, and half of all the words would pass the sentence. One word not
    there ("He *takes* metoprolol") is phrasing."""
    held = _stems(words(window))
    for part in _CLAUSE_RE.split(claim):
        said = _stems(_content(without_facts(part))) - asked
        novel = said - held
        if len(novel) >= 2 and len(novel) > (1 - CLAUSE_SHARE) * len(said):
            return True
    return False


def check_sentence(sentence: str, sources: Sequence[Hit], question: str = "") -> CheckedSentence:
    """Check one sentence against the sources it cites (all sources when it cites none): find
    the passage sentence that holds all its facts and shares most of its words, make sure each
    of its clauses says what that sentence says (the `question`'s words, which an answer
    repeats, do not count), and that it does not say the opposite."""
    cited = tuple(cited_numbers(sentence, len(sources)))
    bare = _MARKER_RE.sub(" ", sentence)
    claim_atoms = atoms(bare)
    content = _content(sentence)
    checkable = bool(claim_atoms) or len(content) >= 2
    if not checkable:
        return CheckedSentence(sentence, True, False, cited, cited[0] if cited else None)
    pool = list(cited) if cited else list(range(1, len(sources) + 1))
    fewest: list[Atom] | None = None
    best: tuple[int, int, str, tuple[int, int]] | None = None  # overlap, source, text, span
    for n in pool:
        text = sources[n - 1].chunk.text
        for start, end in check_windows(text):
            window = text[start:end]
            if not _quotes_verbatim(bare, window):
                continue
            missing = missing_atoms(bare, window) if claim_atoms else []
            if missing:
                if fewest is None or len(missing) < len(fewest):
                    fewest = missing
                continue
            overlap = len(_stems(content) & _stems(words(window)))
            if best is None or overlap > best[0]:
                best = (overlap, n, window, (start, end))
    if best is None:
        facts = ", ".join(a.value for a in fewest or [])
        reason = (
            f"the cited passage does not state {facts}"
            if facts
            else ("the cited passage does not hold its quotation")
        )
        return CheckedSentence(sentence, False, True, cited, None, tuple(fewest or ()), reason)
    overlap, n, window, span = best
    # Facts alone are not enough: a sentence that names "Gleason" and then says what the passage
    # does not is unsupported. Half its content words must be in the passage sentence too.
    if content and overlap < max(1.0 if claim_atoms else 2.0, SUPPORTED_SHARE * len(content)):
        return CheckedSentence(
            sentence, False, True, cited, None, (), "the cited passage does not say this"
        )
    if _unheld_clause(bare, window, _stems(_content(question))):
        return CheckedSentence(
            sentence, False, True, cited, None, (), "the cited passage does not say this"
        )
    if _polarity_clash(bare, window):
        return CheckedSentence(
            sentence, False, True, cited, None, (), "the cited passage says the opposite"
        )
    return CheckedSentence(sentence, True, True, cited, n, window=span)


def check_answer(answer: str, sources: Sequence[Hit], question: str = "") -> list[CheckedSentence]:
    """Every sentence of `answer`, checked (see the module docstring)."""
    return [check_sentence(s, sources, question) for s in split_answer(answer)]
