"""The evaluation harness's arithmetic and report, on synthetic records (the real runs are
bench/bench_eval.py and `enclave eval`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.checks import evaluation
from app.cli.eval import render_markdown
from app.errors import EnclaveError


def test_wilson_interval() -> None:
    low, high = evaluation.wilson(30, 60)
    assert low < 0.5 < high and high - low == pytest.approx(0.25, abs=0.02)
    assert evaluation.wilson(0, 0) == [0.0, 0.0]
    assert evaluation.wilson(10, 10)[1] == 1.0


def test_seeded_sample_is_reproducible() -> None:
    items = list(range(100))
    a = evaluation.seeded_sample(items, 10, seed=0)
    assert a == evaluation.seeded_sample(items, 10, seed=0) and len(set(a)) == 10
    assert evaluation.seeded_sample(items, 10, seed=1) != a
    assert evaluation.seeded_sample(items, None, seed=0) == items


@pytest.mark.parametrize(
    ("start", "end", "spans", "expected"),
    [(0, 10, [(5, 20)], True), (0, 5, [(5, 20)], False), (30, 40, [(5, 20), (35, 36)], True),
     (0, 10, [], False)],
)  # fmt: skip
def test_overlaps(start: int, end: int, spans: list[tuple[int, int]], expected: bool) -> None:
    assert evaluation.overlaps(start, end, spans) is expected


def record(gold: str, draft: str | None, label: str | None, abstained: bool) -> dict[str, object]:
    return {"gold": gold, "draft_label": draft, "label": label, "abstained": abstained,
            "agreement": 0.8, "retrieved_gold": True, "domain": "clinical", "seconds": 2.0,
            "seconds_standalone": 3.0, "generated": 10, "prompt_tokens": 500,
            "prompt_evaluated": 400}  # fmt: skip


def test_pubmedqa_summary_counts_drafts_and_selective_accuracy() -> None:
    rs = [
        record("yes", "yes", "yes", False),
        record("no", "yes", "yes", False),
        record("no", "no", "not_found", True),
        record("maybe", None, None, False),
    ]
    s = evaluation.pubmedqa_summary(rs)  # type: ignore[arg-type]
    assert s["accuracy"] == 0.5 and s["parsed"] == 0.75 and s["abstained"] == 0.25
    assert s["selective_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["seconds_per_q"] == 2.0 and s["prompt_evaluated_per_q"] == 400


def test_cuad_summaries() -> None:
    retrieval = [
        {"impossible": True, "abstain": True, "support": 0.2, "gold_in_top_k": False},
        {"impossible": True, "abstain": False, "support": 0.4, "gold_in_top_k": False},
        {"impossible": False, "abstain": False, "support": 0.5, "gold_in_top_k": True},
    ]
    ro = evaluation.cuad_retrieval_summary(retrieval)
    assert ro["abstained_on_unanswerable"] == 0.5 and ro["gold_span_in_top_k"] == 1.0
    generated = [
        {"impossible": True, "not_found": False, "abstained_by_router": False, "tier": "direct",
         "domain": "legal", "citations": [{"overlaps_gold": False, "verified": True}],
         "seconds": 1.0, "generated": 5, "prompt_tokens": 9, "prompt_evaluated": 9},
        {"impossible": False, "not_found": False, "abstained_by_router": False, "tier": "direct",
         "domain": "legal", "citations": [{"overlaps_gold": True, "verified": True},
                                          {"overlaps_gold": False, "verified": False}],
         "seconds": 1.0, "generated": 5, "prompt_tokens": 9, "prompt_evaluated": 9},
    ]  # fmt: skip
    g = evaluation.cuad_generation_summary(generated)
    assert g["unanswerable_answered_with_a_citation"] == 1
    assert g["citation_precision"] == 0.5 and g["verified_quotes"] == 0.5


def test_report_renders_every_section(tmp_path: Path) -> None:
    tiers = {"direct": evaluation.pubmedqa_summary([record("yes", "yes", "yes", False)])}  # type: ignore[list-item]
    pubmedqa = {"questions": 1, "seed": 0, "majority_baseline": 1.0,
                "gold_distribution": {"yes": 1}, "tiers": tiers}  # fmt: skip
    routing = {"questions": 3, "accuracy": 1.0, "accuracy_ci95": [0.4, 1.0],
               "latency_ms_p50": 9.0, "latency_ms_p95": 12.0, "confusion": {}}  # fmt: skip
    text = render_markdown({"pubmedqa": pubmedqa, "routing": routing})
    assert "### PubMedQA" in text and "| direct | 1 | 1 |" in text and "### Routing" in text


def test_unreadable_data_is_reported_in_words(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    with pytest.raises(EnclaveError, match="not JSON lines"):
        evaluation.read_jsonl(bad)
    with pytest.raises(EnclaveError, match="cannot be read"):
        evaluation.read_jsonl(tmp_path / "missing.jsonl")
