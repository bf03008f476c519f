"""app.privacy.risk: text that looks like an identifier but was not replaced is marked for the
reviewer; placeholders, source labels, headings and ordinary clinical numbers are not."""

from __future__ import annotations

import itertools

import pytest

from app.frontier.request import RISK_CLOSE, RISK_OPEN, render_for_terminal
from app.privacy.risk import find_risks
from tests.frontier_notes import review_request


def _marked(text: str) -> list[tuple[str, str]]:
    return [(r.reason, text[r.start : r.end]) for r in find_risks(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen with the district nurse Will Treharne today.", ("name", "Will Treharne")),
        ("When Hope Castillo called, she was upset.", ("name", "Hope Castillo")),
        ("Spoke to patient rosa delgado by phone.", ("cue", "rosa delgado")),
        ("Patient name: hope castillo   DOB: [DATE_1]", ("cue", "hope castillo")),
        ("Reviewed by Dr Okafor this morning.", ("name", "Dr Okafor")),
        ("The plaintiff Kwabena moved out in May.", ("cue", "Kwabena")),
        ("Photo saved as patient_photo_K4471923.png", ("number", "4471923")),
        ("Call back on 555 0143 after five.", ("number", "555 0143")),
        ("Born 03/14/1952 in the county.", ("number", "03/14/1952")),
        ("Write to j.doe@example.org please.", ("contact", "j.doe@example.org")),
        ("Results at https://portal.example.org/r/88.", ("contact", "https://portal.example.org/r/88")),
        ("Pt name: [PERSON_3] Washington\nDOB: [DATE_1]", ("beside", "Washington")),
        ("NOK granddaughter [PERSON_3] achebe [PHONE_1].", ("beside", "achebe")),
        ("Vehicle [ACCOUNT_2] passes to von [PERSON_1].", ("beside", "von")),
        ("1. I am [PERSON_2] of [ADDRESS_1] Lower, [ADDRESS_2].", ("beside", "Lower")),
        ("Very truly yours,\n\n/s/ April O'Sullivan\n", ("name", "April O'Sullivan")),
        ("NOK granddaughter liesel kovač [PHONE_1].", ("cue", "liesel kovač")),
    ],
)  # fmt: skip
def test_what_looks_like_an_identifier_is_marked(text: str, expected: tuple[str, str]) -> None:
    assert expected in _marked(text)


@pytest.mark.parametrize(
    "text",
    [
        "Patient: [PERSON_1]   MRN: [MRN_1]   DOB: [DATE_1]",
        "[Source 2]\nQuestion: What dose of metformin is [PERSON_2] taking?",
        "Past Medical History: diabetes. Discharge Medications: none.",
        "She takes metformin 500 mg twice daily; HbA1c 7.9 percent; BP 142/88.",
        "The patient reports pain and the patient was seen again in 2019.",
        "Dr [PERSON_3] reviewed the client [PERSON_1] file.",
        "Section 4.2 of the Agreement; clause 12(b); $12,500 due.",
        "[PERSON_1] ran the light and [PERSON_2] reports pain; [PERSON_1] LETTER.",
        "Claim No. [ACCOUNT_1]; Civil Action No. [CASE_1]; Verified Patient ID: [MRN_1].",
    ],
)
def test_placeholders_headings_and_clinical_numbers_are_not_marked(text: str) -> None:
    assert _marked(text) == []


def test_a_name_marked_once_is_marked_at_its_other_mentions() -> None:
    text = "Name: hope castillo\nhope castillo called about her metformin."
    assert _marked(text) == [("cue", "hope castillo"), ("cue", "hope castillo")]


def test_marks_never_overlap_and_are_in_order() -> None:
    text = "Dr Will Treharne, MRN 44719230, saw patient rosa delgado; Mrs Blake 555 0143."
    risks = find_risks(text)
    assert len(risks) >= 4
    for a, b in itertools.pairwise(risks):
        assert a.end <= b.start


def test_the_review_marks_risks_apart_from_placeholders_and_says_what_was_left_out() -> None:
    request = review_request("[Source 1]\nPatient: [PERSON_1]. Seen by the nurse Will Treharne.")
    risky = [request.display_text[r.display_start : r.display_end] for r in request.risks]
    assert risky == ["Will Treharne"]
    plain = render_for_terminal(request)
    assert "left out: note_b.txt, names another patient" in plain
    assert "Check: 1 place that looks like an identifier but was not replaced" in plain
    assert (
        f"Patient: ⟦[PERSON_1]⟧. Seen by the nurse {RISK_OPEN}Will Treharne{RISK_CLOSE}." in plain
    )
    assert "\x1b[" not in plain


def test_on_a_terminal_placeholders_and_risks_are_coloured_differently() -> None:
    request = review_request("Photo: scan_K4471923.png of [PERSON_1].")
    coloured = render_for_terminal(request, colour=True)
    assert "\x1b[1;32m[PERSON_1]\x1b[0m" in coloured and "⟦" not in coloured
    assert f"\x1b[1;97;41m{RISK_OPEN}4471923{RISK_CLOSE}\x1b[0m" in coloured
    assert "highlighted in red" in coloured


def test_a_contracts_defined_terms_and_organisations_are_not_names() -> None:
    text = (
        "DISTRIBUTOR AGREEMENT. The Company's Obligations and the Distributor's Terms; the "
        "Minimum Expectations for each Product Year; Five Hundred Thousand Dollars; "
        "Electric City Corp shall deliver."
    )
    assert _marked(text) == []
