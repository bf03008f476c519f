"""A clause title names the clause; the sentences under it answer (rag.evidence)."""

from __future__ import annotations

import pytest

from rag.evidence import candidate_spans, choose_evidence, is_title_line
from rag.types import Chunk, Hit


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("MINIMUM NUMBER OF TOURNAMENTS AND POTENTIAL REPAYMENT OF BASE COMPENSATION", True),
        ("c. LIMITATIONS ON LIABILITY/NO INJUNCTIVE RELIEF.", True),
        ("HISTORY OF PRESENT ILLNESS", True),
        ("DIAGNOSIS: BPH.", False),  # content after the colon: the answer itself
        ("IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR CONSEQUENTIAL DAMAGES.", False),
        ("The Distributor shall purchase at least 500 units per quarter.", False),
        ("BPH", False),
    ],
)
def test_is_title_line(text: str, title: bool) -> None:
    assert is_title_line(text) is title


def _hit(text: str) -> Hit:
    return Hit(Chunk("c1", "d1", 1, 0, len(text), text), "supply.txt", "/d/supply.txt", 1.0)


def test_a_long_title_is_joined_with_its_first_sentence() -> None:
    title = "MINIMUM PURCHASE COMMITMENT AND REPAYMENT OF ANY SHORTFALL IN EACH CONTRACT YEAR"
    body = "The Distributor shall purchase at least 500 units in each calendar quarter."
    text = f"{title}\n\n{body}"
    spans = candidate_spans(text)
    assert (0, len(text)) in spans


def test_the_body_under_a_title_is_the_evidence_not_the_title() -> None:
    text = (
        "MINIMUM PURCHASE COMMITMENT\n\n"
        "The Distributor shall purchase at least 500 units in each calendar quarter.\n\n"
        "Notices shall be given in writing to the addresses above."
    )
    evidence = choose_evidence("Is there a minimum purchase commitment?", [_hit(text)], None)
    assert evidence, "expected evidence"
    assert "500 units" in evidence[0].quote
