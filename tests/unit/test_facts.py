"""The fact normaliser and matcher (rag.facts), table-driven: what counts as the same fact."""

from __future__ import annotations

import pytest

from rag.facts import Atom, atoms, is_negated, missing_atoms, negated_words, number_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("60", 60), ("1,000", 1000), ("2.38", 2.38), ("sixty", 60), ("thirty-five", 35),
        ("one hundred and twenty", 120), ("two million", 2_000_000), ("twelve", 12),
        ("banana", None), ("", None),
    ],
)  # fmt: skip
def test_numbers_in_digits_and_words(text: str, value: float | None) -> None:
    assert number_value(text) == value


SAME = [
    ("sixty (60) days", "60 days"),
    ("sixty days", "60 days"),
    ("ten (10) business days", "10 business days"),
    ("Metoprolol 100 mg b.i.d.", "metoprolol 100 mg twice daily"),
    ("100 mg BID", "100 mg b.i.d."),
    ("$1,000,000", "USD 1 million"),
    ("$1,000,000", "one million dollars"),
    ("on 03/20/08", "on March 20, 2008"),
    ("2008-03-20", "20 March 2008"),
    ("seventy percent", "70%"),
    ("the laws of the State of New York", "New York law"),
    ("three times a day", "t.i.d."),
    ("every 6 hours", "q6h"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_fact_written_two_ways(a: str, b: str) -> None:
    assert missing_atoms(b, a) == [] and missing_atoms(a, b) == []


DIFFERENT = [
    ("10 days", "ten (10) business days", Atom("duration", "10 day")),
    ("10 days", "sixty (60) days", Atom("duration", "10 day")),
    ("50 mg", "500 mg", Atom("dose", "50 mg")),
    ("5 mg twice daily", "5 mg once daily", Atom("frequency", "2/day")),
    ("Florida law", "the laws of the State of Delaware", Atom("place", "florida")),
    ("on March 21, 2008", "on 03/20/08", Atom("date", "2008-03-21")),
    ("$100,000", "$1,000,000", Atom("money", "100000 usd")),
    ("thirty (3) days", "ten (10) business days", Atom("duration", "30 day")),
    ("signed by Kwabena Asante", "signed by John Smith", Atom("name", "asante")),
]


@pytest.mark.parametrize(("claim", "source", "absent"), DIFFERENT)
def test_a_different_fact_is_missing(claim: str, source: str, absent: Atom) -> None:
    assert absent in missing_atoms(claim, source)


def test_citation_markers_and_sentence_capitals_are_not_facts() -> None:
    assert atoms("Take the tablets [1].") == frozenset()
    assert missing_atoms("The notice period is 60 days [1].", "upon sixty (60) days' notice") == []


def test_section_numbers_and_dates_are_not_amounts() -> None:
    found = atoms("See Section 2.4 of the agreement dated 03/20/08.")
    assert Atom("date", "2008-03-20") in found
    assert Atom("number", "20") not in found and Atom("number", "8") not in found


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("The patient denies chest pain.", True),
        ("Neither party may assign this Agreement.", True),
        ("including without limitation the fees", False),
        ("no later than thirty days", False),
        ("The patient reports chest pain.", False),
    ],
)
def test_negation(text: str, negated: bool) -> None:
    assert is_negated(text) is negated


def test_negated_words_follow_the_cue() -> None:
    assert {"chest", "pain"} <= negated_words("The patient denies chest pain.")
    assert negated_words("including without limitation the fees") == set()


@pytest.mark.parametrize(
    ("claim", "source", "missing"),
    [
        # a phone number's last group, a record number, a case number, a section
        ("Call (617) 555-0199.", "Call (617) 555-0143.", ["code:555-0199"]),
        ("Call (617) 555-0143.", "Reach her at (617) 555-0143.", []),
        ("The MRN is K4471923.", "MRN K4471932 on file.", ["code:k4471923"]),
        ("See case 1:23-cv-04417.", "Case 1:23-cv-04471.", ["code:1:23-cv-04417", "number:4417"]),
        ("Notice is under Section 2.4.1.", "Section 2.4.2 covers notice.", ["code:2.4.1"]),
        ("Notice is under Section 2.4.1.", "Section 2.4.1 covers notice.", []),
        ("The form 10-K was filed.", "It filed its annual report on form 10-K.", []),
    ],
)
def test_identifiers_are_checked_whole(claim: str, source: str, missing: list[str]) -> None:
    assert [str(a) for a in missing_atoms(claim, source)] == missing


@pytest.mark.parametrize(
    "text",
    [
        "NOW, THEREFORE, in consideration of the mutual covenants herein, the parties agree as "
        "follows:",
        "IN WITNESS WHEREOF, the parties hereto have executed this Agreement.",
        "WITNESSETH: WHEREAS the parties wish to set out their understanding.",
    ],
)
def test_a_contracts_recital_words_are_not_names(text: str) -> None:
    """All-caps recital words are drafting, not a party: "who are the parties" must not take
    "NOW THEREFORE ... the parties agree as follows" for an answer naming them."""
    from rag.evidence import type_matches

    assert not [a for a in atoms(text) if a.kind == "name"]
    assert not type_matches(text, "party")
    assert type_matches("This Agreement is made between Adams Golf, Ltd. and Pinnacle.", "party")
