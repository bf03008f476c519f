"""`enclave eval qa`: the answers a person would see, measured on a labelled question set.

Each question belongs to one document and is asked of that document alone (the answer the
window and `enclave ask --document` give), through the whole pipeline: retrieval, evidence, the
model, the fact check. Two formats (../shared/eval/README.md):
- clinical: `{"qid","note","q","must","answerable"}`; right when the evidence or a citation's
  quote holds the verbatim `must` string;
- CUAD short: `{"qid","contract_id","q","gold_spans","answerable","topic_in_text"}`; right when
  the evidence or a cited quote overlaps a gold span. Unanswerable questions count only where
  `topic_in_text` is false (the strict "not found" check).
Reported: evidence holds the gold, abstention on unanswerable, false abstention, answers that
show a fact their quotes do not hold, quotes verbatim, a reliability table (shown confidence vs
the share right), seconds per question. Numbers only: no document text and no answer is written.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.chat.types import AskOptions, ChatAnswer
from app.errors import EnclaveError
from rag.facts import missing_atoms

if TYPE_CHECKING:
    from app.container import Enclave
    from app.routing.router import Tier

__all__ = ["QaItem", "eval_qa", "read_qa"]

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


@dataclass(frozen=True)
class QaItem:
    qid: str
    document: Path
    question: str
    answerable: bool
    must: str | None
    spans: tuple[tuple[int, int], ...]


def read_qa(data: Path, docs: Path) -> list[QaItem]:
    """The questions that count (see the module docstring), with their document files."""
    items = []
    try:
        lines = data.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EnclaveError(f"The question file {data} cannot be read ({exc.strerror}).") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            if "note" in q:
                items.append(QaItem(q["qid"], docs / q["note"], q["q"], bool(q["answerable"]),
                                    q.get("must"), ()))  # fmt: skip
            elif q.get("answerable") or q.get("topic_in_text") is False:
                spans = tuple((int(s), int(e)) for s, e in q.get("gold_spans") or [])
                items.append(QaItem(q["qid"], docs / f"{q['contract_id']}.txt", q["q"],
                                    bool(q["answerable"]), None, spans))  # fmt: skip
        except (KeyError, TypeError, ValueError, json.JSONDecodeError):
            raise EnclaveError(f"Line {n} of {data} is not a question of a known format.") from None
    missing = sorted({str(i.document) for i in items if not i.document.is_file()})
    if missing:
        raise EnclaveError(f"The documents of {data} are not in {docs} (first: {missing[0]}).")
    return items


def _quotes(answer: ChatAnswer) -> list[tuple[str, int, int]]:
    return [(q.quote, q.start, q.end) for q in answer.evidence] + [
        (c.quote, c.start, c.end) for c in answer.citations if c.quote
    ]


def _right(item: QaItem, answer: ChatAnswer) -> bool:
    if not item.answerable:
        return answer.not_found
    if answer.not_found:
        return False
    for quote, start, end in _quotes(answer):
        if item.must is not None and item.must in quote:
            return True
        if any(start < e and s < end for s, e in item.spans):
            return True
    return False


def _unsupported_fact(answer: ChatAnswer) -> bool:
    """The answer shows a fact that none of its quotes states."""
    if answer.not_found or answer.evidence_only:
        return False
    quotes = " \n".join(q for q, _, _ in _quotes(answer))
    return bool(missing_atoms(answer.answer, quotes))


def _verbatim(answer: ChatAnswer, texts: dict[str, str]) -> bool:
    return all(texts.get(q.path, "")[q.start : q.end] == q.quote for q in answer.evidence) and all(
        texts.get(c.path, "")[c.start : c.end] == c.quote for c in answer.citations if c.quote
    )


def eval_qa(
    enclave: Enclave,
    data: Path,
    docs: Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    tier: Tier | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Ask every question (a seeded sample of `limit`) and measure (see the module docstring)."""
    items = read_qa(data, docs)
    if limit and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    ws = enclave.workspaces.get_or_create(f"eval-qa-{data.stem}")
    index = enclave.index(ws)
    known = {d.path for d in index.documents()}
    for path in sorted({i.document.resolve() for i in items}):
        if str(path) not in known:
            index.ingest_file(path)
    texts = {
        str(p): p.read_text(encoding="utf-8")
        for p in {i.document.resolve() for i in items}
    }  # fmt: skip
    rows = []
    for n, item in enumerate(items, start=1):
        started = time.perf_counter()
        answer = None
        options = AskOptions(documents=(str(item.document.resolve()),), tier=tier)
        for event in enclave.chat.ask(ws, item.question, options):
            if isinstance(event, ChatAnswer):
                answer = event
        assert answer is not None
        rows.append({
            "qid": item.qid, "answerable": item.answerable, "right": _right(item, answer),
            "not_found": answer.not_found, "confidence": answer.route.confidence,
            "evidence_only": answer.evidence_only, "unsupported_fact": _unsupported_fact(answer),
            "verbatim": _verbatim(answer, texts), "tier": answer.route.tier,
            "seconds": round(time.perf_counter() - started, 2),
        })  # fmt: skip
        if n % 10 == 0:
            progress(f"  {n}/{len(items)} questions")
    return summarise(rows) | {"data": data.name, "questions": len(rows), "rows": rows}


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["not_found"]]
    table = []
    for lo, hi in itertools.pairwise(BINS):
        inside = [r for r in answered if r["confidence"] is not None and lo <= r["confidence"] < hi]
        table.append({"bin": f"{lo:.1f}-{min(hi, 1.0):.1f}", "n": len(inside),
                      "right": _share([r["right"] for r in inside])})  # fmt: skip
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "evidence_holds_gold": _share([r["right"] for r in ans]),
        "not_found_on_unanswerable": _share([r["not_found"] for r in una]),
        "false_abstention": _share([r["not_found"] for r in ans]),
        "answers_with_unsupported_fact": _share([r["unsupported_fact"] for r in answered]),
        "quotes_verbatim": _share([r["verbatim"] for r in answered]),
        "evidence_only": _share([r["evidence_only"] for r in answered]),
        "seconds_per_question": round(sum(r["seconds"] for r in rows) / max(1, len(rows)), 2),
        "reliability": table,
    }


def render(result: dict[str, Any]) -> str:
    """The Markdown summary of one run."""
    r = result
    lines = [
        f"### {r['data']}: {r['questions']} questions ({r['answerable']} answerable, "
        f"{r['unanswerable']} not)",
        "",
        "| evidence holds the gold | not found when unanswerable | false abstention | "
        "answers with a fact not in their quotes | quotes verbatim | evidence-only answers | "
        "s/question |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {r['evidence_holds_gold']} | {r['not_found_on_unanswerable']} | "
        f"{r['false_abstention']} | {r['answers_with_unsupported_fact']} | "
        f"{r['quotes_verbatim']} | {r['evidence_only']} | {r['seconds_per_question']} |",
        "",
        "Reliability (answers given, by shown confidence):",
        "",
        "| confidence | answers | share right |",
        "| --- | ---: | ---: |",
        *(f"| {b['bin']} | {b['n']} | {b['right']} |" for b in r["reliability"]),
        "",
    ]
    return "\n".join(lines)
