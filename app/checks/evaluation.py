"""The evaluation harness behind `enclave eval`: lets a hospital or a firm measure its own
specialist models on labelled data before trusting them.

- `eval_pubmedqa`: PubMedQA-style 3-way questions (yes / no / maybe) with retrieval over the pooled
  contexts, per compute tier: accuracy, abstention, tokens and seconds per question.
- `eval_cuad`: CUAD-style clause questions per contract: abstention on unanswerable questions
  (retrieval-only for all, with generation on a seeded sample) and citation precision (a cited
  passage overlaps a gold span).
- `eval_routing`: routing accuracy on labelled questions.

Everything runs through the app's real services (index, router, ChatService) on the caller's
thread. Question samples are drawn with a fixed seed, so two runs compare the same questions.
Results hold ids, labels and numbers only: no document text and no answers.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.chat.reasoning import decision_label
from app.chat.service import AskOptions, ChatAnswer
from app.errors import EnclaveError
from app.routing.router import Tier, confidence
from rag.types import Page, ParsedDocument

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace

Progress = Callable[[str], None]
LABELS = ("yes", "no", "maybe")


def wilson(k: int, n: int, z: float = 1.96) -> list[float]:
    """The 95% Wilson score interval of k successes in n."""
    if n == 0:
        return [0.0, 0.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return [round(max(0.0, c - h), 3), round(min(1.0, c + h), 3)]


def seeded_sample(items: Sequence[Any], limit: int | None, seed: int) -> list[Any]:
    if limit is None or limit >= len(items):
        return list(items)
    return random.Random(seed).sample(list(items), limit)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EnclaveError(f"The evaluation file {path} cannot be read: {exc}") from exc
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise EnclaveError(f"{path} is not JSON lines: {exc}") from exc


def _ingest_texts(
    enclave: Enclave, ws: Workspace, docs: Iterable[tuple[str, str]], progress: Progress
) -> int:
    """Index (name, text) pairs that are not indexed yet; returns how many were added."""
    index = enclave.workspaces.index(ws, enclave.embedder)  # maintenance methods: in-process
    known = {d.name for d in index.documents() if d.status in ("indexed", "indexed_with_warnings")}
    added = 0
    for name, text in docs:
        if name in known:
            continue
        parsed = ParsedDocument(text, [Page(1, 0, len(text))])
        index.ingest_parsed(Path(ws.folder) / "eval-sources" / name, parsed)
        added += 1
        if added % 50 == 0:
            progress(f"  indexed {added} documents")
    return added


def _ask(
    enclave: Enclave, ws: Workspace, question: str, tier: Tier | None, samples: int | None
) -> ChatAnswer:
    result: ChatAnswer | None = None
    for event in enclave.chat.ask(ws, question, AskOptions(tier=tier, samples=samples)):
        if isinstance(event, ChatAnswer):
            result = event
    assert result is not None
    return result


def _cost(answer: ChatAnswer) -> dict[str, Any]:
    st = answer.stats
    return {
        "seconds": round(answer.seconds, 3),
        "ttft": None if st is None else round(st.seconds_to_first_token, 3),
        "prompt_tokens": 0 if st is None else st.prompt_tokens,
        "prompt_evaluated": 0 if st is None else st.prompt_tokens - st.reused_prompt_tokens,
        "generated": 0 if st is None else st.completion_tokens,
    }


# -- PubMedQA -----------------------------------------------------------------------------
def eval_pubmedqa(
    enclave: Enclave,
    data: Path,
    *,
    tiers: Sequence[Tier],
    limit: int | None,
    samples: int,
    seed: int = 0,
    progress: Progress = print,
) -> dict[str, Any]:
    rows = read_jsonl(data)
    ws = enclave.workspaces.get_or_create("eval-pubmedqa")
    t = time.perf_counter()
    added = _ingest_texts(
        enclave, ws, ((f"{r['id']}.txt", "\n\n".join(r["contexts"])) for r in rows), progress
    )
    ingest_s = time.perf_counter() - t
    chosen = seeded_sample(rows, limit, seed)
    records: list[dict[str, Any]] = []
    for i, row in enumerate(chosen, 1):
        question = row["question"].strip()  # as a clinician would ask it, no format hint
        gold = row["final_decision"]
        direct_ttft = 0.0
        for tier in tiers:
            answer = _ask(enclave, ws, question, tier, samples if tier != "direct" else None)
            cost = _cost(answer)
            if tier == tiers[0]:
                direct_ttft = cost["ttft"] or 0.0
            # later tiers reuse the first tier's prompt evaluation (same prefix): add it back
            reused = cost["prompt_tokens"] - cost["prompt_evaluated"]
            cost["seconds_standalone"] = round(
                cost["seconds"] + (direct_ttft if tier != tiers[0] and reused > 0 else 0.0), 3
            )
            draft_label = decision_label(answer.draft or answer.answer, lenient=True)
            label = decision_label(answer.answer, lenient=True)
            records.append(
                {
                    "id": row["id"],
                    "tier": tier,
                    "gold": gold,
                    "label": label,
                    "draft_label": draft_label,
                    "abstained": answer.route.abstained,
                    "agreement": answer.route.agreement,
                    "confidence": answer.route.confidence,
                    "samples": answer.route.samples,
                    "domain": answer.route.domain,
                    "model": answer.route.model_id,
                    "retrieved_gold": any(
                        Path(h.path).name == f"{row['id']}.txt" for h in answer.sources
                    ),
                    **cost,
                }
            )
        done = [r for r in records if r["tier"] == tiers[-1]]
        spent = sum(r["seconds"] for r in done)
        progress(f"  pubmedqa {i}/{len(chosen)} ({spent:.0f} s in tier {tiers[-1]})")
    gold_counts = Counter(r["final_decision"] for r in chosen)
    return {
        "data": str(data),
        "questions": len(chosen),
        "seed": seed,
        "samples": samples,
        "indexed_now": added,
        "ingest_seconds": round(ingest_s, 1),
        "majority_baseline": round(max(gold_counts.values()) / max(1, len(chosen)), 4),
        "gold_distribution": dict(gold_counts),
        "tiers": {
            tier: pubmedqa_summary([r for r in records if r["tier"] == tier]) for tier in tiers
        },
        "records": records,
    }


def pubmedqa_summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rs)
    correct_draft = sum(r["draft_label"] == r["gold"] for r in rs)
    answered = [r for r in rs if not r["abstained"]]
    correct_answered = sum(r["label"] == r["gold"] for r in answered)
    agreements = [r["agreement"] for r in rs if r["agreement"] is not None]
    return {
        "n": n,
        "accuracy": round(correct_draft / max(1, n), 4),
        "accuracy_ci95": wilson(correct_draft, n),
        "parsed": round(sum(r["draft_label"] in LABELS for r in rs) / max(1, n), 4),
        "abstained": round(1 - len(answered) / max(1, n), 4),
        "selective_accuracy": round(correct_answered / max(1, len(answered)), 4),
        "labels": dict(Counter(str(r["draft_label"]) for r in rs)),
        "mean_agreement": round(statistics.mean(agreements), 4) if agreements else None,
        "retrieval_recall": round(sum(r["retrieved_gold"] for r in rs) / max(1, n), 4),
        "routed": dict(Counter(r["domain"] for r in rs)),
        **_cost_summary(rs),
    }


def _cost_summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
    if not rs:
        return {}

    def mean(key: str) -> float:
        return round(statistics.mean(float(r[key] or 0.0) for r in rs), 3)

    return {
        "seconds_per_q": mean("seconds"),
        "seconds_standalone_per_q": mean("seconds_standalone")
        if "seconds_standalone" in rs[0]
        else None,
        "generated_per_q": mean("generated"),
        "prompt_tokens_per_q": mean("prompt_tokens"),
        "prompt_evaluated_per_q": mean("prompt_evaluated"),
    }


# -- CUAD ---------------------------------------------------------------------------------
def overlaps(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def eval_cuad(
    enclave: Enclave,
    data: Path,
    *,
    gen_limit: int,
    tier: Tier | None,
    k: int,
    seed: int = 0,
    progress: Progress = print,
) -> dict[str, Any]:
    contracts = read_jsonl(data)
    questions: list[dict[str, Any]] = []
    t = time.perf_counter()
    added = 0
    for n, contract in enumerate(contracts):
        ws = enclave.workspaces.get_or_create(f"eval-cuad-{n:02d}")
        added += _ingest_texts(enclave, ws, [("contract.txt", contract["context"])], progress)
        for qa in contract["qas"]:
            spans = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]]
            questions.append({"ws": ws, "id": qa["id"], "q": qa["question"],
                              "impossible": bool(qa["is_impossible"]), "spans": spans})  # fmt: skip
    ingest_s = time.perf_counter() - t
    progress(f"  cuad: {len(contracts)} contracts ready ({added} indexed now, {ingest_s:.0f} s)")
    # 1. retrieval-only decisions on every question (no generation)
    cfg = enclave.router.config
    retrieval: list[dict[str, Any]] = []
    for q in questions:
        sources = enclave.chat.relevant_sources(q["ws"], q["q"], k)
        sims = [h.dense_similarity for h in sources if h.dense_similarity is not None]
        support = max(sims) if sims else (0.0 if sources else None)
        conf = confidence(support, None, None, cfg)
        hit = any(overlaps(h.chunk.start, h.chunk.end, q["spans"]) for h in sources)
        retrieval.append({"id": q["id"], "impossible": q["impossible"], "support": support,
                          "abstain": support is None or conf < cfg.min_confidence,
                          "no_sources": not sources, "gold_in_top_k": hit})  # fmt: skip
    # 2. generation on a seeded sample of each kind
    unanswerable = seeded_sample([q for q in questions if q["impossible"]], gen_limit, seed)
    answerable = seeded_sample([q for q in questions if not q["impossible"]], gen_limit, seed)
    generated: list[dict[str, Any]] = []
    for i, q in enumerate([*unanswerable, *answerable], 1):
        answer = _ask(enclave, q["ws"], q["q"], tier, None)
        cites = [
            {"overlaps_gold": overlaps(c.start, c.end, q["spans"]), "verified": c.verified}
            for c in answer.citations
        ]
        generated.append(
            {
                "id": q["id"],
                "impossible": q["impossible"],
                "not_found": answer.not_found,
                "abstained_by_router": answer.route.abstained and not is_model_nf(answer),
                "citations": cites,
                "tier": answer.route.tier,
                "domain": answer.route.domain,
                "confidence": answer.route.confidence,
                **_cost(answer),
            }
        )
        progress(f"  cuad generation {i}/{len(unanswerable) + len(answerable)}")
    return {
        "data": str(data),
        "contracts": len(contracts),
        "questions": len(questions),
        "unanswerable": sum(q["impossible"] for q in questions),
        "k": k,
        "seed": seed,
        "ingest_seconds": round(ingest_s, 1),
        "retrieval_only": cuad_retrieval_summary(retrieval),
        "generation": cuad_generation_summary(generated),
        "records": {"retrieval": retrieval, "generation": generated},
    }


def is_model_nf(answer: ChatAnswer) -> bool:
    return decision_label(answer.draft) == "not_found"


def cuad_retrieval_summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
    un = [r for r in rs if r["impossible"]]
    an = [r for r in rs if not r["impossible"]]
    abst_un = sum(r["abstain"] for r in un)
    abst_an = sum(r["abstain"] for r in an)
    hits = sum(r["gold_in_top_k"] for r in an)

    def mean_support(group: list[dict[str, Any]]) -> float | None:
        vals = [r["support"] for r in group if r["support"] is not None]
        return round(statistics.mean(vals), 4) if vals else None

    return {
        "unanswerable": len(un),
        "abstained_on_unanswerable": round(abst_un / max(1, len(un)), 4),
        "abstained_on_unanswerable_ci95": wilson(abst_un, len(un)),
        "answerable": len(an),
        "abstained_on_answerable": round(abst_an / max(1, len(an)), 4),
        "gold_span_in_top_k": round(hits / max(1, len(an)), 4),
        "gold_span_in_top_k_ci95": wilson(hits, len(an)),
        "mean_support_unanswerable": mean_support(un),
        "mean_support_answerable": mean_support(an),
    }


def cuad_generation_summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
    un = [r for r in rs if r["impossible"]]
    an = [r for r in rs if not r["impossible"]]
    nf_un = sum(r["not_found"] for r in un)
    nf_an = sum(r["not_found"] for r in an)
    cites = [c for r in an for c in r["citations"]]
    good = sum(c["overlaps_gold"] for c in cites)
    invented = sum(1 for r in un if not r["not_found"] and r["citations"])
    return {
        "unanswerable": len(un),
        "said_not_found_on_unanswerable": round(nf_un / max(1, len(un)), 4),
        "said_not_found_on_unanswerable_ci95": wilson(nf_un, len(un)),
        "unanswerable_answered_with_a_citation": invented,
        "router_abstentions": sum(r["abstained_by_router"] for r in rs),
        "answerable": len(an),
        "said_not_found_on_answerable": round(nf_an / max(1, len(an)), 4),
        "citations_on_answerable": len(cites),
        "citation_precision": round(good / len(cites), 4) if cites else None,
        "citation_precision_ci95": wilson(good, len(cites)),
        "verified_quotes": round(sum(c["verified"] for c in cites) / len(cites), 4)
        if cites
        else None,
        "tiers": dict(Counter(r["tier"] for r in rs)),
        "routed": dict(Counter(r["domain"] for r in rs)),
        **_cost_summary(rs),
    }


# -- routing ------------------------------------------------------------------------------
def eval_routing(enclave: Enclave, data: Path) -> dict[str, Any]:
    rows = read_jsonl(data)
    router = enclave.router
    clf = router.classifier()
    if clf is None:
        raise EnclaveError("No domain classifier is available.")
    confusion: dict[str, Counter[str]] = {}
    latencies: list[float] = []
    for row in rows:
        t = time.perf_counter()
        pred = clf.classify(str(row["question"]))
        latencies.append((time.perf_counter() - t) * 1000)
        confusion.setdefault(str(row["domain"]), Counter())[pred.domain] += 1
    correct = sum(c[d] for d, c in confusion.items())
    latencies.sort()
    return {
        "data": str(data),
        "questions": len(rows),
        "accuracy": round(correct / max(1, len(rows)), 4),
        "accuracy_ci95": wilson(correct, len(rows)),
        "confusion": {d: dict(c) for d, c in confusion.items()},
        "latency_ms_p50": round(latencies[len(latencies) // 2], 2) if latencies else None,
        "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2)
        if latencies
        else None,
    }
