"""Evidence: the sentences of the retrieved passages that answer the question, chosen by Enclave
itself and scored, before any model writes a word.

Each sentence of each retrieved passage is scored against the question on three signals:
- meaning: cosine similarity of the sentence's and the question's embeddings;
- words: the question's content words found in the sentence (rare words count more, word
  stems match: "terminate" finds "termination"), plus the passage's own lexical rank;
- answer type: "how much notice" wants a duration, "which law" a jurisdiction, "what dose" a
  dose with its unit, "when" a date, "how much" an amount (rag.answer_types).
The best sentences are the evidence; their score decides "not found" (see `NOT_FOUND_BELOW`,
tuned on the development sets by `enclave eval qa`). Pure Python plus the embedder it is given.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer_types import (
    KIND_WORDS,
    TYPE_NAMES,
    AnswerType,
    answer_type,
    asks_about_document,
    type_matches,
    typed_facts,
)
from rag.concepts import cue_endings, cue_phrases, cue_stems, other_senses
from rag.injection import instruction_spans, overlaps_instruction
from rag.sentences import sentence_spans
from rag.types import Hit

__all__ = [
    "KIND_WORDS",
    "NOT_FOUND_BELOW",
    "AnswerType",
    "Evidence",
    "answer_type",
    "answers",
    "asks_about_document",
    "best_per_document",
    "calibrated",
    "choose_evidence",
    "pick",
    "score_candidates",
    "topic_terms",
    "type_matches",
    "typed_facts",
]

Embed = Callable[[Sequence[str]], list[list[float]]]

# Below this evidence score the documents are taken not to answer the question.
NOT_FOUND_BELOW = 0.32  # bench/bench_evidence.py sweep, with cues counted per sentence
MAX_EVIDENCE = 2  # quotes shown; a second one only when it scores close to the first
SECOND_WITHIN = 0.9
CUE_WEIGHT = 0.5  # a question word said in other words (rag.concepts) counts this much
_STOP = frozenset(
    """a an the of to in on for and or but is are was were be been being by with as at from
    that this these those it its not no shall will may any all such which who whom what when
    where how under into than then there their they he she his her we our you your i me my do
    does did has have had can could would should there is any agreement contract patient
    document documents please tell give list say says said about either neither both""".split()
)
_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


# How often the best evidence held the gold answer, by its score, on the development sets
# (bench/bench_evidence.py --k 10: 75 clinical and 737 CUAD questions, the 466 answers given;
# bench/RESULTS.md, "Answers").
CALIBRATION = ((0.35, 0.20), (0.45, 0.34), (0.55, 0.37), (0.65, 0.71), (0.75, 0.76), (0.9, 0.96))


def calibrated(score: float) -> float:
    """The share of answers with this evidence score that were right on the development sets
    (linear between the measured points): the confidence a person is shown."""
    points = CALIBRATION
    if score <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if score <= x1:
            return round(y0 + (y1 - y0) * (score - x0) / (x1 - x0), 3)
    return points[-1][1]


def answers(evidence: Sequence[Evidence], question: str, *, below: float = NOT_FOUND_BELOW) -> bool:
    """Whether the best evidence answers the question: it scores at least `below`; when the
    question asks for a kind of fact (a date, a law, a dose), it states one; and when it does
    not ("Is there a non-compete?"), the passages name what it is about, in its words or in
    the words rag.concepts knows for it: a contract without the clause still has a sentence
    that scores like an answer, but none that says "compete"."""
    if not evidence or evidence[0].score < below:
        return False
    if answer_type(question) != "any":
        return evidence[0].type_match
    return not evidence[0].absent


_OPENS_MID = ",;:)]-\u2013\u2014"  # a passage opening with one of these opens mid-sentence
_ENDS_MID = ",;-\u2013\u2014"  # and one ending with one of these ends mid-sentence


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved passage that answers the question. `start`/`end` are offsets
    into `hit.chunk.text`; the quote is `hit.chunk.text[start:end]`, verbatim."""

    hit: Hit
    start: int
    end: int
    score: float  # 0..1: how well it answers the question (see the module docstring)
    dense: float
    lexical: float
    type_match: bool
    key: bool = False  # holds the question's rarest word
    absent: tuple[str, ...] = ()  # words of the question's topic that no passage has

    @property
    def quote(self) -> str:
        return self.hit.chunk.text[self.start : self.end]

    @property
    def cut_before(self) -> bool:
        """The quote opens where its passage does, in the middle of a sentence: the chunker
        starts a passage at a sentence where the overlap holds one, else at a word, and a
        sentence does not go on in lower case or after a comma."""
        text = self.hit.chunk.text
        return self.start == 0 and bool(text) and (text[0].islower() or text[0] in _OPENS_MID)

    @property
    def cut_after(self) -> bool:
        """The quote ends where its passage does, before its sentence ends: on a word in lower
        case or a comma (a passage ending on a capital or a digit may be a heading or the
        document's last line, so it is not marked)."""
        last = self.hit.chunk.text.rstrip()[-1:]
        return not self.hit.chunk.text[self.end :].strip() and (
            last.islower() or (last != "" and last in _ENDS_MID)
        )


def _stem(word: str) -> str:
    return _root(word)[:6]


def _root(word: str) -> str:
    """The word less its plural or -ing/-ed/-ation ending, in lower case (not cut short)."""
    w = word.lower().strip("'’-")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            # "parties", "applied": the word is "party", "apply" ("parties" is not "part")
            w = w[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            if suffix in ("ings", "ing", "ed") and len(w) > 3 and w[-1] == w[-2] not in "lsz":
                w = w[:-1]  # "planned", "admitted": "plan", "admit" (not "call", "pass")
            break
    return w


# Question words that say what kind of answer is wanted, not what it is about (stems).
_GENERIC = frozenset(
    _stem(word)
    for word in """mention mentio state stated says show shown found given take taking
    name called number amount total much many long often kind type there exist exists happen
    happened happens describe during since until currently current recent latest clause
    clauses provision provisions restriction restrictions right rights must exist detail
    details detailed explain summarize summarise summary overview every each""".split()
)

_EFFECT_RE = re.compile(r"\beffective\b|\btakes? effect\b|\bcome into (?:force|effect)\b", re.I)
_EFFECT_CLAUSE_RE = re.compile(
    r"\b(?:this|the)\s+(?:agreement|contract|amendment)\s+(?:shall|will|is to)?\s*(?:be(?:come)?"
    r"\s+effective|take\s+effect|enter\s+into\s+(?:force|effect)|come\s+into\s+(?:force|effect)|"
    r"commences?|shall\s+commence)\b",
    re.I,
)


def _terms(text: str) -> list[str]:
    out = []
    for word in _WORD_RE.findall(text):
        word = re.sub(r"['’]s$", "", word)  # "patient's" is "patient"
        for part in word.split("-") if "-" in word else (word,):
            if part and part.lower() not in _STOP:
                out.append(_stem(part))
    return out


def _near(stem: str, term_sets: Sequence[set[str]]) -> bool:
    """Whether a passage has a word of the same family ("changed" and "change": the stems
    differ, their first five letters do not)."""
    head = stem[:5]
    return any(t[:5] == head for terms in term_sets for t in terms)


def _cued(stem: str, texts: Sequence[str]) -> bool:
    """Whether a passage says what `stem` names in other words (rag.concepts)."""
    # a one-word cue starts a word of the same family, compared whole: "hydrocort" is
    # hydrocortisone, not hydrocodone; "transfus" a transfusion, not a transfer (a 6-letter
    # stem would take them for the same)
    starts = tuple(_root(c) for c in cue_stems(stem))
    phrases = cue_phrases(stem)
    endings = cue_endings(stem)
    for text in texts:
        plain = _plain(text)
        words = _WORD_RE.findall(plain)
        if starts and any(_root(w).startswith(starts) for w in words):
            return True
        if phrases and any(p in plain for p in phrases):
            return True
        if endings and any(w.endswith(endings) for w in words):
            return True
    return False


def _plain(text: str) -> str:
    """Lower case, runs of spaces made one: how cue and other-sense phrases are matched."""
    return " ".join(text.lower().split())


def _without_other_senses(stem: str, text: str) -> str:
    """`text` (plain) less the phrases where `stem`'s word means something else
    (rag.concepts.OTHER_SENSES): "exclusive jurisdiction", "expiration or termination"."""
    rest = _plain(text)
    for phrase in other_senses(stem):
        rest = rest.replace(phrase, " ")
    return rest


_OR_RE = re.compile(r"([\w'’-]+)\s+or\s+([\w'’-]+)", re.IGNORECASE)


def _without_named_alternatives(question: str, absent: Sequence[str]) -> list[str]:
    """`absent` less each word asked as one of two alternatives ("revenue or profit sharing",
    "non-compete or exclusivity") whose other alternative a passage names: the question asks
    about either."""
    missing = set(absent)
    named: set[str] = set()
    for m in _OR_RE.finditer(question):
        left, right = _terms(m.group(1)), _terms(m.group(2))
        if not left or not right:
            continue
        a, b = left[-1], right[0]
        if a in missing and b not in missing:
            named.add(a)
        if b in missing and a not in missing:
            named.add(b)
    return [t for t in absent if t not in named]


def _in_its_sense(stems: set[str], text: str) -> set[str]:
    """`stems` less those the text uses only in another sense (rag.concepts.OTHER_SENSES):
    "exclusive jurisdiction" does not say "exclusivity"."""
    return {s for s in stems if not other_senses(s) or s in _terms(_without_other_senses(s, text))}


def _cued_here(stems: set[str], text: str) -> set[str]:
    """The question words of `stems` that this one candidate says in other words
    (rag.concepts): "books and records" counts as "audit" in the sentence that says it."""
    return {s for s in stems if _cued(s, [_without_other_senses(s, text)])}


def _words_of(text: str, stems: Sequence[str]) -> tuple[str, ...]:
    """The words of `text` whose stems are `stems`, as written ("refusal" for "refusa")."""
    wanted = set(stems)
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        for part in re.sub(r"['’]s$", "", word).split("-"):
            if part and _stem(part) in wanted and part.lower() not in out:
                out.append(part.lower())
    return tuple(out)


def topic_terms(text: str) -> set[str]:
    """The word stems of `text` that say what it is about (not "what", "the", "mention")."""
    return {t for t in _terms(text) if t not in _GENERIC}


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def choose_evidence(
    question: str,
    hits: Sequence[Hit],
    embed: Embed | None,
    *,
    limit: int = MAX_EVIDENCE,
    openings: Sequence[Hit] = (),
) -> list[Evidence]:
    """The best-scoring sentences of `hits` for `question`, best first (at most `limit`, the
    second only when it scores within SECOND_WITHIN of the first). Empty when `hits` is.
    `embed` is the search model's embed function; without one, meaning is left out.
    `openings`: the documents' first passages, weighed up for questions about the document
    itself (its name, parties, date)."""
    return pick(score_candidates(question, hits, embed, openings=openings), limit)


def pick(scored: Sequence[Evidence], limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """The best of `scored` (best first): the first, and the next ones that score within
    SECOND_WITHIN of it and do not overlap a quote already taken."""
    best = list(scored[:1])
    for ev in scored[1:]:
        if len(best) >= limit or ev.score < SECOND_WITHIN * best[0].score:
            break
        if any(ev.hit.chunk.id == b.hit.chunk.id and _overlap(ev, b) for b in best):
            continue
        best.append(ev)
    return best


def best_per_document(scored: Sequence[Evidence]) -> dict[str, Evidence]:
    """The best-scoring candidate of each document, from `score_candidates`'s list."""
    out: dict[str, Evidence] = {}
    for ev in scored:
        out.setdefault(ev.hit.chunk.document_id, ev)
    return out


def score_candidates(
    question: str,
    hits: Sequence[Hit],
    embed: Embed | None,
    *,
    openings: Sequence[Hit] = (),
) -> list[Evidence]:
    """Every candidate quote of `hits` for `question`, scored, best first (see
    choose_evidence)."""
    about_document = asks_about_document(question)
    wanted = answer_type(question)
    pool = list(hits)
    opening_ids = {h.chunk.id for h in openings}
    if about_document and openings:
        # A document names itself, its parties and its date in its opening passage: look
        # there first, and elsewhere only if the opening holds no fact of the wanted kind.
        opening_spans = [(h, s, e) for h in openings for s, e in candidate_spans(h.chunk.text)]
        if any(type_matches(h.chunk.text[s:e], wanted) for h, s, e in opening_spans):
            pool = list(openings)
            if _EFFECT_RE.search(question):
                # When it takes effect may be a clause of its own, tied to an event ("This
                # Agreement shall be effective as of the date the Site becomes operational"),
                # which the opening's date is not: such passages stay candidates.
                pool += [h for h in hits if h.chunk.id not in opening_ids
                         and _EFFECT_CLAUSE_RE.search(h.chunk.text)]  # fmt: skip
        else:
            seen = {h.chunk.id for h in pool}
            pool += [h for h in openings if h.chunk.id not in seen]
    candidates = [
        (hit, start, end, rank)
        for rank, hit in enumerate(pool)
        for start, end in candidate_spans(hit.chunk.text)
    ]
    if not candidates:
        return []
    texts = [hit.chunk.text[s:e] for hit, s, e, _ in candidates]
    q_terms = set(_terms(question))
    term_sets = [set(_terms(t)) for t in texts]
    df: dict[str, int] = {}
    for terms in term_sets:
        for t in terms & q_terms:
            df[t] = df.get(t, 0) + 1
    n = len(texts)

    def weight(t: str, count: int) -> float:
        # rarer words count more; a word that says what kind of answer is wanted ("rights",
        # "clause") counts half
        return math.log((n + 1) / (count + 0.5)) * (0.5 if t in _GENERIC else 1.0)

    idf = {t: weight(t, df.get(t, 0)) for t in q_terms}
    total_idf = sum(idf.values()) or 1.0
    # which question words each candidate says in other words (rag.concepts)
    cued_in = [_cued_here(q_terms, text) for text in texts]
    # The rarest question word the passages say, in its words or, when none writes it, in
    # other words ("for convenience" said as "without cause"), rare by how many say it so.
    said_so = {t: df.get(t) or sum(t in c for c in cued_in) for t in q_terms}
    key = max(q_terms, key=lambda t: (weight(t, said_so[t]) if said_so[t] else -1.0, t), default="")
    # A word of the question that no passage has at all ("date of *birth*", "heart *rate*"):
    # the documents are probably not about what is asked.
    unmatched = [t for t in q_terms if not df.get(t) and len(t) >= 4 and t not in _GENERIC]
    # ... unless a passage says it in other words: then the question may still be answered,
    # but it is not "not found" for want of the word (rag.evidence.answers).
    absent = [t for t in unmatched if not _near(t, term_sets) and not _cued(t, texts)]
    absent = _without_named_alternatives(question, absent)
    dense = [0.0] * n
    if embed is not None:
        vectors = embed([question, *texts])
        qv = vectors[0]
        dense = [max(0.0, _cosine(qv, v)) for v in vectors[1:]]
    type_names = TYPE_NAMES.get(wanted, frozenset()) & q_terms
    scored: list[Evidence] = []
    for i, (hit, start, end, rank) in enumerate(candidates):
        typed = type_matches(texts[i], wanted)
        said = _in_its_sense(term_sets[i] & q_terms, texts[i]) | (type_names if typed else set())
        cued = cued_in[i] - said
        named = said | cued
        signals = _Signals(
            dense=dense[i],
            lexical=(sum(idf[t] for t in said) + CUE_WEIGHT * sum(idf[t] for t in cued))
            / total_idf,
            key=bool(key) and key in named,
            typed=typed,
            wants_type=wanted != "any",
            prior=1.0 / (1.0 + rank),
            novel=len(term_sets[i] - q_terms),
            length=end - start,
            opening=about_document and hit.chunk.id in opening_ids,
            heading=_heading_share(texts[i], q_terms),
            absent=len(unmatched),
            title_only=wanted != "title" and is_title_line(texts[i]),
        )
        score = signals.score(has_dense=embed is not None)
        scored.append(
            Evidence(
                hit,
                start,
                end,
                score,
                dense[i],
                signals.lexical,
                signals.typed,
                signals.key,
                _words_of(question, absent),
            )
        )
    scored.sort(key=lambda e: -e.score)
    return scored


@dataclass(frozen=True)
class _Signals:
    dense: float  # cosine similarity with the question
    lexical: float  # share of the question's word weight (idf) found
    key: bool  # holds the question's rarest word that occurs in the passages
    typed: bool  # states a fact of the wanted kind
    wants_type: bool
    prior: float  # the retriever's order, 1 for the first hit
    novel: int  # content words beyond the question's own
    length: int
    opening: bool  # the document's opening passage, for a question about the document
    heading: float  # share of the question's words in the candidate's heading ("PLAN:")
    absent: int = 0  # words of the question found in no passage at all
    title_only: bool = False  # a clause or section title alone ("LIMITATION OF LIABILITY.")

    def score(self, *, has_dense: bool) -> float:
        """One score in 0..1. Weights chosen on the development sets (bench/bench_evidence.py,
        results in bench/RESULTS.md); they weigh kinds of signal, not particular files."""
        dense = self.dense if has_dense else self.lexical
        if self.wants_type:
            base = (
                0.30 * dense + 0.25 * self.lexical + 0.10 * self.key
                + 0.25 * self.typed + 0.10 * self.prior
            )  # fmt: skip
        else:
            base = 0.45 * dense + 0.30 * self.lexical + 0.15 * self.key + 0.10 * self.prior
        if self.absent:
            base *= 0.8**self.absent
        if self.wants_type and not self.typed:
            base *= 0.75  # "what dose": a sentence without a dose answers it less
        # A heading or a fragment that only repeats the question is not an answer.
        base *= 0.55 + 0.45 * min(1.0, self.novel / 6)
        if self.length < 25:
            base *= 0.8
        if self.title_only:  # a title names the clause; the sentences under it answer
            base *= 0.6
        if self.opening:
            base += 0.15
        if self.heading >= 0.5:  # "What procedure was performed?" -> "PROCEDURE PERFORMED:"
            base += 0.15 * self.heading
        return min(1.0, base)


def _heading_share(text: str, q_terms: set[str]) -> float:
    """How much of the question the candidate's heading line says ("PROCEDURE PERFORMED:")."""
    m = re.match(r"\s*([^\n:]{2,60}):", text)
    if not m or not q_terms:
        return 0.0
    heading = set(_terms(m.group(1)))
    return len(heading & q_terms) / len(q_terms)


_VERB_RE = re.compile(
    r"\b(?:shall|will|may|must|is|are|was|were|be|been|has|have|had|does|do|not|agrees?)\b",
    re.IGNORECASE,
)
MAX_TITLE_WORDS = 14


def is_title_line(text: str) -> bool:
    """A clause or section title, not a statement: mostly capital letters, a few words, no verb
    ("MINIMUM NUMBER OF TOURNAMENTS", "c. LIMITATIONS ON LIABILITY/NO INJUNCTIVE RELIEF.").
    A capitalised line with content after a colon ("DIAGNOSIS: BPH.") is not a title."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 6 or re.search(r":\s*\S", text):
        return False
    upper = sum(c.isupper() for c in letters) / len(letters)
    words = text.split()
    return upper >= 0.8 and 2 <= len(words) <= MAX_TITLE_WORDS and not _VERB_RE.search(text)


_HEADING_LINE_RE = re.compile(
    r"^[ \t]*(?:(?:\d+(?:\.\d+)*\.?|[A-Za-z]\.|\([a-z0-9]+\)|[IVX]+\.)[ \t]*)?"
    r"[A-Z][A-Za-z0-9 ,&/'’()\-]{1,60}:[ \t]*$",
    re.MULTILINE,
)
MAX_BLOCK_CHARS = 400
SHORT_SENTENCE_CHARS = 60


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """What may be quoted as evidence: each sentence; a short sentence (a clause title such
    as "1.4 Intellectual Property.") together with the sentence after it; and a heading line
    ("PROCEDURES PERFORMED:") with the lines under it, up to the next blank line or heading."""
    fenced = instruction_spans(text)  # text addressed to an AI is never evidence
    spans = [(s, e) for s, e in sentence_spans(text) if not overlaps_instruction(fenced, s, e)]
    out = list(spans)
    for (s1, e1), (s2, e2) in itertools.pairwise(spans):
        title = is_title_line(text[s1:e1])  # a clause title and its first sentence, whatever
        same_paragraph = title or not re.search(r"\n[ \t]*\n", text[e1:s2])  # the layout
        short = e1 - s1 <= SHORT_SENTENCE_CHARS or title
        if same_paragraph and short and e2 - s1 <= MAX_BLOCK_CHARS:
            out.append((s1, e2))
    for m in _HEADING_LINE_RE.finditer(text):
        end = m.end()
        for line in re.finditer(r"\n([^\n]*)", text[m.end() :]):
            body = line.group(1)
            if not body.strip() or _HEADING_LINE_RE.match(body):
                break
            if m.end() + line.end() - m.start() > MAX_BLOCK_CHARS:
                break
            end = m.end() + line.end()
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        while end > start and text[end - 1].isspace():
            end -= 1
        new = end > m.end() and (start, end) not in out
        if new and not overlaps_instruction(fenced, start, end):
            out.append((start, end))
    return out


def _overlap(a: Evidence, b: Evidence) -> bool:
    return a.start < b.end and b.start < a.end
