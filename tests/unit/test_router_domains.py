"""The domain classifier's mechanics with the hash embedder (fast); its accuracy with the real
embedder is measured in tests/integration/test_router_domains_real.py and bench/bench_router.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.routing.domains import DomainClassifier, DomainExamplesError, load_examples
from rag.embedder import HashEmbedder

EXAMPLES = {
    "clinical": ["heparin dose patient", "patient blood pressure dose", "insulin dose patient"],
    "legal": ["governing law clause", "termination clause notice", "indemnity clause party"],
    "general": ["meeting agenda notes", "summary of the notes", "office holiday notes"],
}


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.texts = 0

    def embed(self, texts):  # type: ignore[no-untyped-def]
        self.texts += len(texts)
        return super().embed(texts)


def test_classifies_by_nearest_examples() -> None:
    clf = DomainClassifier(HashEmbedder(256), EXAMPLES, k=2)
    assert clf.classify("what heparin dose did the patient get").domain == "clinical"
    assert clf.classify("which clause covers termination").domain == "legal"
    p = clf.classify("notes from the meeting")
    assert p.domain == "general" and p.confident and p.margin > 0
    assert set(p.scores) == {"clinical", "legal", "general"}


def test_a_tie_falls_back_to_the_generalist() -> None:
    clf = DomainClassifier(HashEmbedder(256), EXAMPLES, k=2, min_margin=0.5)
    p = clf.classify("heparin clause")
    assert p.domain == "general" and not p.confident and p.best in ("clinical", "legal")


def test_example_vectors_are_cached_on_disk(tmp_path: Path) -> None:
    first = CountingEmbedder()
    DomainClassifier(first, EXAMPLES, cache_dir=tmp_path).warm_up()
    assert first.texts == 9 and len(list(tmp_path.glob("domain-examples-*.json"))) == 1
    second = CountingEmbedder()
    clf = DomainClassifier(second, EXAMPLES, cache_dir=tmp_path)
    assert clf.classify("heparin dose").domain == "clinical"
    assert second.texts == 1  # only the question; the examples came from the cache


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    DomainClassifier(HashEmbedder(64), EXAMPLES, cache_dir=tmp_path).warm_up()
    (cache,) = tmp_path.glob("domain-examples-*.json")
    cache.write_text("{not json")
    emb = CountingEmbedder()
    DomainClassifier(emb, EXAMPLES, cache_dir=tmp_path).warm_up()
    assert emb.texts == 9


def test_organisation_examples_are_added(tmp_path: Path) -> None:
    extra = tmp_path / "routing_examples.jsonl"
    extra.write_text('{"domain": "Legal", "question": "What does the escrow clause say?"}\n\n')
    merged = load_examples(extra)
    assert "What does the escrow clause say?" in merged["legal"]
    assert len(merged["clinical"]) > 10
    assert load_examples(tmp_path / "missing.jsonl").keys() == merged.keys()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"domain": "tax", "question": "q"}', "unknown domain"),
        ('{"question": "q"}', "line 1"),
        ("not json", "line 1"),
    ],
)
def test_bad_organisation_examples_are_refused_in_words(
    tmp_path: Path, line: str, message: str
) -> None:
    extra = tmp_path / "routing_examples.jsonl"
    extra.write_text(line + "\n")
    with pytest.raises(DomainExamplesError, match=message):
        load_examples(extra)


def test_the_fast_path_scores_like_the_plain_python_rule() -> None:
    clf = DomainClassifier(HashEmbedder(256), EXAMPLES, k=2)
    for question in ("heparin dose clause", "meeting notes", "termination notice patient"):
        vector = HashEmbedder(256).embed([question])[0]
        plain = clf.classify_vector(vector, clf.example_vectors())
        fast = clf.classify(question)
        assert fast.scores == pytest.approx(plain.scores, abs=1e-3)
        assert (fast.domain, fast.confident) == (plain.domain, plain.confident)
