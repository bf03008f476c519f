"""Test-time reasoning: the tiers the router chooses, run against one local engine.

- `run_tier()` runs direct / reasoning / self-consistency / verify and returns a `TierResult`.
  Self-consistency draws N samples of the same prompt one after the other on the same engine:
  LlamaEngine keeps the longest common token prefix in its KV cache, so samples 2..N evaluate
  one prompt token each and N samples cost about one prompt plus N decodes.
- `consensus()` chooses the answer by agreement: a majority vote when the answers carry a
  decision (yes / no / maybe / not found), else the medoid of the answers by word overlap.
- `verify_claims()` checks each sentence and quote of an answer against the cited sources.

`run_tier()` is a generator run on the caller's thread; it yields `Token` text for tiers that
stream (direct, reasoning) and `SampleDone` progress for the sampling tiers (the caller shows
their chosen answer once it is final).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from app.chat.prompting import NOT_FOUND_TEXT
from models.types import CancelToken, GenerationOptions, GenerationStats, Message
from rag.citations import cited_numbers, words

if TYPE_CHECKING:
    from app.routing.router import Tier
    from models.engine import ChatEngine
    from rag.types import Hit

REASONING_INSTRUCTION = (
    "\n\nThink step by step before answering, in at most {words} words, on lines starting "
    "with 'Reasoning:'. Then write 'Answer:' followed by the answer with its source numbers."
)
_ANSWER_RE = re.compile(r"(?:^|\n)\s*\**(?:final\s+)?answer\**\s*:\s*", re.I)
_REASONING_PREFIX_RE = re.compile(r"^\s*\**reasoning\**\s*:\s*", re.I)
_LABEL_RE = re.compile(r"^\W*(?:the answer is\W*)?(yes|no|maybe)\b", re.I)
_ANY_LABEL_RE = re.compile(r"\b(yes|no|maybe)\b", re.I)
LENIENT_WINDOW = 160  # characters searched for a decision in a yes/no question's answer
_QUOTED_RE = re.compile(r"[\"“]([^\"”]{12,400})[\"”]")
_SENTENCE_RE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
# words about the answer itself, not claims about the world: they never count as support
_META_WORDS = frozenset(
    "answer answers source sources page pages document documents question txt pdf docx based "
    "provided according information text study".split()
)
SUPPORTED_SHARE = 0.5  # share of a sentence's content words found in its source
AGREE_SIMILARITY = 0.5  # word-overlap F1 at which two free-text answers agree


@dataclass(frozen=True)
class Token:
    """A piece of answer text (the same event class app.chat.service streams)."""

    text: str


@dataclass(frozen=True)
class SampleDone:
    """Self-consistency progress: sample `n` of `of` is written (caller's thread)."""

    n: int
    of: int


@dataclass(frozen=True)
class Sample:
    text: str
    answer: str  # the text after 'Answer:' for the reasoning prompt, else the text
    stats: GenerationStats | None


@dataclass
class TierResult:
    answer: str
    samples: list[Sample]
    chosen: int
    agreement: float | None
    stats: GenerationStats | None  # totals over all samples
    cancelled: bool
    reasoning: str = ""
    removed_claims: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verification:
    supported: int
    total: int
    kept: str  # the answer without unsupported sentences ("" if none survives)
    unsupported: tuple[str, ...]

    @property
    def share(self) -> float | None:
        return None if self.total == 0 else self.supported / self.total


# -- prompts and parsing ------------------------------------------------------------------
def reasoning_messages(messages: Sequence[Message], budget_words: int) -> list[Message]:
    """The same conversation with the reasoning instruction appended to the last user turn,
    so the prompt shares its whole prefix (sources and question) with the direct prompt."""
    out = list(messages)
    last = out[-1]
    out[-1] = Message(last.role, last.content + REASONING_INSTRUCTION.format(words=budget_words))
    return out


def split_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, answer). Without an 'Answer:' line the whole text is the answer."""
    matches = list(_ANSWER_RE.finditer(text))
    if not matches:
        return "", _REASONING_PREFIX_RE.sub("", text).strip()
    last = matches[-1]
    reasoning = _REASONING_PREFIX_RE.sub("", text[: last.start()]).strip()
    answer = text[last.end() :].strip()
    return (reasoning, answer) if answer else ("", text.strip())


def is_not_found(answer: str) -> bool:
    return NOT_FOUND_TEXT.lower().rstrip(".") in answer.lower()


def decision_label(answer: str, lenient: bool = False) -> str | None:
    """'yes', 'no', 'maybe' when the answer opens with one, 'not_found', or None.

    `lenient` (for yes/no questions): the first yes / no / maybe in the answer's opening
    characters counts too ("The answer is: No, ..."; "1. Yes, ...").
    """
    if is_not_found(answer):
        return "not_found"
    m = _LABEL_RE.match(answer)
    if m is None and lenient:
        m = _ANY_LABEL_RE.search(answer[:LENIENT_WINDOW])
    return m.group(1).lower() if m else None


# -- agreement ----------------------------------------------------------------------------
def word_f1(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    if not wa and not wb:
        return 1.0
    common = len(wa & wb)
    if common == 0:
        return 0.0
    p, r = common / len(wa), common / len(wb)
    return 2 * p * r / (p + r)


def consensus(answers: Sequence[str], lenient: bool = False) -> tuple[int, float | None]:
    """(index of the chosen answer, agreement in [0, 1]); agreement is None for one answer.

    When at least half the answers open with a decision, the majority decision wins (ties go to
    the decision of the earliest answer) and agreement is its share. Otherwise the medoid by word
    overlap is chosen and agreement is the share of answers similar to it.
    """
    n = len(answers)
    if n == 0:
        return 0, None
    if n == 1:
        return 0, None
    labels = [decision_label(a, lenient) for a in answers]
    labelled = [lab for lab in labels if lab is not None]
    if len(labelled) * 2 >= n:
        counts = Counter(labelled)
        top = max(counts.values())
        winner = next(lab for lab in labelled if counts[lab] == top)
        return labels.index(winner), counts[winner] / n
    sims = [
        [word_f1(a, b) if i != j else 1.0 for j, b in enumerate(answers)]
        for i, a in enumerate(answers)
    ]
    means = [sum(row) / n for row in sims]
    chosen = max(range(n), key=lambda i: (means[i], -i))
    agree = sum(1 for j in range(n) if sims[chosen][j] >= AGREE_SIMILARITY)
    return chosen, agree / n


# -- verification -------------------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.findall(text) if len(s.strip()) >= 8]


def verify_claims(answer: str, sources: Sequence[Hit]) -> Verification:
    """Check each sentence (a claim) against its cited sources, or all sources when it cites
    none: a claim is supported when half its content words occur in one source and every quote
    in it appears verbatim there. A "not found" answer has no claims."""
    if not answer.strip() or is_not_found(answer) or not sources:
        return Verification(0, 0, answer, ())
    kept: list[str] = []
    bad: list[str] = []
    total = 0
    for sentence in _sentences(answer):
        claim_words = words(re.sub(r"\[\d{1,2}(?:\s*,\s*\d{1,2})*\]", " ", sentence))
        claim_words -= _META_WORDS
        if len(claim_words) < 2:
            kept.append(sentence)  # "Yes [1]." carries no checkable words of its own
            continue
        total += 1
        cited = cited_numbers(sentence, len(sources))
        pool = [sources[n - 1] for n in cited] if cited else list(sources)
        if any(_supports(sentence, claim_words, hit.chunk.text) for hit in pool):
            kept.append(sentence)
        else:
            bad.append(sentence)
    supported = total - len(bad)
    return Verification(supported, total, " ".join(kept) if supported else "", tuple(bad))


def _supports(sentence: str, claim_words: set[str], source: str) -> bool:
    for m in _QUOTED_RE.finditer(sentence):
        if m.group(1).strip() not in source:
            return False
    found = claim_words & words(source)
    return len(found) >= max(2.0, SUPPORTED_SHARE * len(claim_words))


# -- running a tier -----------------------------------------------------------------------
def _generate(
    engine: ChatEngine,
    messages: Sequence[Message],
    options: GenerationOptions,
    cancel: CancelToken | None,
) -> tuple[str, GenerationStats | None]:
    pieces: list[str] = []
    stats: GenerationStats | None = None
    for event in engine.generate(messages, options, cancel):
        if event.restart:  # e.g. a server died mid-answer and the local model starts over
            pieces.clear()
        if event.text:
            pieces.append(event.text)
        if event.stats is not None:
            stats = event.stats
    return "".join(pieces).strip(), stats


def total_stats(samples: Sequence[Sample], started: float) -> GenerationStats | None:
    """One stats record for all samples: tokens summed, the first sample's first-token time."""
    stats = [s.stats for s in samples if s.stats is not None]
    if not stats:
        return None
    finish = (
        "cancelled"
        if any(s.finish_reason == "cancelled" for s in stats)
        else stats[-1].finish_reason
    )
    return GenerationStats(
        prompt_tokens=sum(s.prompt_tokens for s in stats),
        completion_tokens=sum(s.completion_tokens for s in stats),
        reused_prompt_tokens=sum(s.reused_prompt_tokens for s in stats),
        seconds_to_first_token=stats[0].seconds_to_first_token,
        seconds_total=time.perf_counter() - started,
        finish_reason=finish,
        trimmed_messages=max(s.trimmed_messages for s in stats),
        error=next((s.error for s in stats if s.error), ""),
        notice=next((s.notice for s in stats if s.notice), ""),
    )


def run_tier(
    engine: ChatEngine,
    messages: Sequence[Message],
    *,
    tier: Tier,
    samples: int,
    options: GenerationOptions,
    sample_temperature: float = 0.8,
    adaptive_first_pass: int = 0,
    yes_no: bool = False,
    cancel: CancelToken | None = None,
) -> Iterator[Token | SampleDone | TierResult]:
    """Run one tier; the last item yielded is the TierResult.

    `options` are those of the first (or only) sample; later samples use `sample_temperature`
    and seeds 1, 2, ... so a run is reproducible. `adaptive_first_pass` > 1: stop after that
    many samples when they all agree (the cheap first pass of an automatic self-consistency).
    `yes_no`: the question asks for a decision, so answers are compared by the first yes / no /
    maybe they contain.
    """
    started = time.perf_counter()
    if tier in ("direct", "reasoning"):
        prompt = (
            reasoning_messages(messages, max(20, options.max_tokens // 3))
            if tier == "reasoning"
            else list(messages)
        )
        text, stats = yield from _stream_one(engine, prompt, options, cancel)
        reasoning, answer = split_reasoning(text) if tier == "reasoning" else ("", text)
        cancelled = stats is not None and stats.finish_reason == "cancelled"
        one = Sample(text, answer, stats)
        yield TierResult(answer, [one], 0, None, total_stats([one], started), cancelled, reasoning)
        return
    n = max(1, samples)
    done: list[Sample] = []
    for i in range(n):
        opts = options if i == 0 else replace(options, temperature=sample_temperature, seed=i)
        text, stats = _generate(engine, messages, opts, cancel)
        done.append(Sample(text, text, stats))
        yield SampleDone(i + 1, n)
        if stats is not None and stats.finish_reason in ("cancelled", "error"):
            break
        if adaptive_first_pass > 1 and i + 1 == adaptive_first_pass and i + 1 < n:
            _, agree = consensus([s.answer for s in done], yes_no)
            if agree is not None and agree >= 1.0:
                break
    chosen, agreement = consensus([s.answer for s in done], yes_no)
    stats_all = total_stats(done, started)
    cancelled = stats_all is not None and stats_all.finish_reason == "cancelled"
    answer = done[chosen].answer
    yield TierResult(answer, done, chosen, agreement, stats_all, cancelled)


def _stream_one(
    engine: ChatEngine,
    messages: Sequence[Message],
    options: GenerationOptions,
    cancel: CancelToken | None,
) -> Generator[Token, None, tuple[str, GenerationStats | None]]:
    """Yield Token events while generating; return (text, stats)."""
    pieces: list[str] = []
    stats: GenerationStats | None = None
    for event in engine.generate(messages, options, cancel):
        if event.restart:  # the streamed draft is void (it is never shown as the answer)
            pieces.clear()
        if event.text:
            pieces.append(event.text)
            yield Token(event.text)
        if event.stats is not None:
            stats = event.stats
    return "".join(pieces).strip(), stats
