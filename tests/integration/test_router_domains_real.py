"""The domain classifier with the real all-MiniLM-L6-v2 embedder on the labelled routing set
(every third question, to keep the test short; bench/bench_router.py measures all of them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.routing.domains import DomainClassifier

pytestmark = pytest.mark.slow

ROUTING_SET = Path(__file__).resolve().parents[1] / "data" / "routing_questions.jsonl"


def test_routing_set_is_labelled_and_large_enough() -> None:
    rows = [json.loads(line) for line in ROUTING_SET.read_text().splitlines()]
    by_domain = {d: sum(r["domain"] == d for r in rows) for d in ("clinical", "legal", "general")}
    assert sum(by_domain.values()) == len(rows) >= 150
    assert min(by_domain.values()) >= 50


def test_real_classifier_routes_held_out_questions(real_embedder: Any, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in ROUTING_SET.read_text().splitlines()][::3]
    clf = DomainClassifier(real_embedder, cache_dir=tmp_path)
    wrong = [
        (r["domain"], p.domain, r["question"])
        for r in rows
        if (p := clf.classify(r["question"])).domain != r["domain"]
    ]
    assert len(wrong) <= 0.1 * len(rows), wrong
    # a question's words, not a document's, decide: the same topic asked two ways
    assert clf.classify("What dose of enoxaparin was given?").domain == "clinical"
    assert clf.classify("Can the distributor assign the agreement?").domain == "legal"
