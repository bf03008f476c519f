"""Sentence spans of a passage, for quotes and evidence: a quote never ends inside a number
("Section 2.4."), a section reference, a dose ("b.i.d.") or an abbreviation ("Dr.", "U.S.").

Lines are boundaries too: clinical notes and contracts put headings, list items and table rows
on lines of their own ("ESTIMATED BLOOD LOSS: 150 cc."). A line that is a heading alone
("PLAN:", "12. GOVERNING LAW.") is joined to the sentence after it, so a quote carries its
heading. Pure functions, no state: safe on any thread.
"""

from __future__ import annotations

import re

__all__ = ["MAX_SENTENCE_CHARS", "sentence_spans"]

MAX_SENTENCE_CHARS = 400  # a longer run is cut at a clause boundary (;, :, or a comma)
_MIN_CHARS = 3

# A full stop ends a sentence unless it belongs to one of these (compared lower-case, without
# the stop): titles, Latin and legal abbreviations, dosing abbreviations, company suffixes.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr no nos vs etc inc ltd llc corp co sec secs art arts fig para
    paras approx dept est ch cf al ibid op pp vol e.g i.e u.s u.k u.s.a n.a p.c l.l.c l.p
    b.i.d t.i.d q.i.d q.d q.h.s p.r.n p.o i.v i.m s.c q.o.d h.s a.m p.m b.i.d. mg mcg ml
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
_END_RE = re.compile(r"[.!?](?=[\"'”’)\]]*(?:\s|$))")
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_HEADING_RE = re.compile(
    r"^\s*(?:(?:\d+(?:\.\d+)*\.?|[A-Z]\.|\([a-z0-9]+\)|[IVX]+\.)\s*)?"
    r"[A-Z][A-Za-z0-9 ,&/'’()\-]{0,60}:?\s*$"
)


def _is_boundary(text: str, pos: int) -> bool:
    """Whether the mark at `pos` ends a sentence."""
    mark = text[pos]
    if mark in "!?":
        return True
    before = text[:pos]
    if pos > 0 and text[pos - 1].isdigit():
        # "2.4." ends a sentence only when the next thing starts one; "No. 5" and "1." as a
        # list number inside a line do not.
        nxt = text[pos + 1 : pos + 3]
        return bool(re.match(r"\s+[A-Z(\"“]", nxt + " ")) or pos + 1 >= len(text)
    m = _WORD_BEFORE_RE.search(before)
    if m:
        word = m.group(1).lower().rstrip(".")
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        if re.fullmatch(r"(?:[a-z]\.){1,3}[a-z]", word):  # b.i.d, p.r.n, u.s.a
            return False
    return True


def _split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _END_RE.finditer(text, start, end):
        if _is_boundary(text, m.start()):
            spans.append((cursor, m.end()))
            cursor = m.end()
    if cursor < end:
        spans.append((cursor, end))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= _MIN_CHARS:
            out.extend(_cap(text, s, e))
    return out


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a run longer than MAX_SENTENCE_CHARS at clause boundaries (never inside a word)."""
    out: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE_CHARS:
        window = text[start : start + MAX_SENTENCE_CHARS]
        cut = max(window.rfind("; "), window.rfind(": "), window.rfind(", "))
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            break
        out.append((start, start + cut + 1))
        start += cut + 1
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, in order, trimmed of spaces; a heading line
    alone is joined to the sentence that follows it."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        spans.extend(_split_line(text, line.start(), line.end()))
    joined: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for s, e in spans:
        if pending is not None:
            if e - pending[0] <= MAX_SENTENCE_CHARS:
                s = pending[0]
            else:
                joined.append(pending)
            pending = None
        if _HEADING_RE.match(text[s:e]) and len(text[s:e]) <= 64 and not text[s:e].endswith("."):
            pending = (s, e)
            continue
        joined.append((s, e))
    if pending is not None:
        joined.append(pending)
    return joined
