"""Turn an answer and its numbered sources into citations with verified verbatim quotes.

A quote is only ever shown when it is an exact substring of the cited chunk (and so of the
document's extracted text at `start:end`). Quotes are chosen in two ways:
1. The answer itself quotes ("...") text that appears verbatim in the cited source.
2. Otherwise, the sentence of the cited chunk that shares the most words with the answer's
   sentence carrying the marker.
If the model used no [n] markers at all, the sources that share enough words with the answer
are cited, best first. A source that supports nothing is not cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.types import Citation, Hit

_MARKER_RE = re.compile(r"\[(\d{1,2})(?:\s*,\s*(\d{1,2}))*\]")
_MARKER_NUM_RE = re.compile(r"\d{1,2}")
_QUOTED_RE = re.compile(r"[\"“]([^\"”]{12,400})[\"”]")
_SENTENCE_RE = re.compile(r"[^.!?;\n]+(?:[.!?;]+|$)")
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")
_STOP = frozenset(
    "a an the of to in on for and or but is are was were be been by with as at from that this "
    "these those it its not no shall will may any all such which who whom what when where how "
    "under into than then there their they he she his her we our you your i".split()
)
MIN_SHARED_WORDS = 2
MAX_QUOTE_CHARS = 300


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD_RE.findall(text) if w.lower() not in _STOP}


def cited_numbers(answer: str, n_sources: int) -> list[int]:
    """The source numbers the answer cites, in order of first use, within 1..n_sources."""
    seen: list[int] = []
    for match in _MARKER_RE.finditer(answer):
        for num in _MARKER_NUM_RE.findall(match.group(0)):
            n = int(num)
            if 1 <= n <= n_sources and n not in seen:
                seen.append(n)
    return seen


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 8:
            spans.append((start, end))
    return spans


def _claim_for(answer: str, n: int) -> str:
    """The sentences of the answer that carry the marker [n] (the whole answer if none)."""
    claims = [
        answer[s:e] for s, e in _sentence_spans(answer) if n in cited_numbers(answer[s:e], 99)
    ]
    return " ".join(claims) if claims else answer


def best_quote(chunk_text: str, claim: str) -> tuple[int, int, int]:
    """(start, end, shared_words) of the chunk sentence that best supports `claim`."""
    claim_words = words(claim)
    best = (0, 0, 0)
    for start, end in _sentence_spans(chunk_text):
        if end - start > MAX_QUOTE_CHARS:
            end = start + MAX_QUOTE_CHARS
            cut = chunk_text.rfind(" ", start, end)
            end = cut if cut > start + 40 else end
        shared = len(claim_words & words(chunk_text[start:end]))
        if shared > best[2]:
            best = (start, end, shared)
    return best


def _explicit_quote(answer: str, chunk_text: str) -> tuple[int, int] | None:
    for m in _QUOTED_RE.finditer(answer):
        quoted = m.group(1).strip()
        at = chunk_text.find(quoted)
        if at >= 0:
            return at, at + len(quoted)
    return None


def _citation(n: int, hit: Hit, start: int, end: int) -> Citation:
    text = hit.chunk.text
    quote = text[start:end]
    verified = bool(quote) and text[start:end] == quote and quote in text
    return Citation(
        n=n,
        document=hit.document_name,
        path=hit.path,
        page=hit.chunk.page,
        quote=quote if verified else "",
        start=hit.chunk.start + start if verified else hit.chunk.start,
        end=hit.chunk.start + end if verified else hit.chunk.end,
        chunk_id=hit.chunk.id,
        verified=verified,
    )


def build_citations(answer: str, sources: Sequence[Hit], question: str = "") -> list[Citation]:
    """Citations for `answer`, numbered as the sources were numbered in the prompt (1-based).

    The question's words count with the answer's when choosing the supporting sentence: a
    source sentence that answers the question is the one a reader wants to check.
    """
    numbers = cited_numbers(answer, len(sources))
    citations: list[Citation] = []
    if numbers:
        for n in numbers:
            hit = sources[n - 1]
            explicit = _explicit_quote(answer, hit.chunk.text)
            if explicit is not None:
                citations.append(_citation(n, hit, *explicit))
                continue
            start, end, shared = best_quote(hit.chunk.text, f"{question} {_claim_for(answer, n)}")
            if shared >= 1:
                citations.append(_citation(n, hit, start, end))
            else:  # the model cited it, but no sentence supports the claim: no quote
                citations.append(
                    Citation(
                        n,
                        hit.document_name,
                        hit.path,
                        hit.chunk.page,
                        "",
                        hit.chunk.start,
                        hit.chunk.end,
                        hit.chunk.id,
                        False,
                    )
                )
        return citations
    scored = []
    for n, hit in enumerate(sources, start=1):
        start, end, shared = best_quote(hit.chunk.text, f"{question} {answer}")
        if shared >= MIN_SHARED_WORDS:
            scored.append((shared, n, hit, start, end))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [_citation(n, hit, start, end) for _, n, hit, start, end in scored[:3]]


def verify_quote(document_text: str, citation: Citation) -> bool:
    """True when the citation's quote is exactly the document text at start:end."""
    return bool(citation.quote) and document_text[citation.start : citation.end] == citation.quote
