"""Redaction: consistent placeholders, spans for display, restoration, and fail-closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.privacy import redaction as redaction_module
from app.privacy.redaction import RedactionError, RedactionSession, StreamRestorer, redact

DATA = Path(__file__).resolve().parents[1] / "data" / "redaction_eval.jsonl"

NOTE = (
    "Patient: Margaret Ellison   MRN: 00482913   DOB: 03/14/1952\n"
    "Ms. Ellison lives at 88 Pinecrest Lane, Asheville, NC 28803. Phone (828) 555-0110, "
    "fax (828) 555-0111, email m.ellison@example.org. SSN 078-05-1120. NPI 1457389204.\n"
    "Member ID: XGH448120931. Case No. 1:23-cv-04417-JPO. Our ref: AOC/0923/PI.\n"
    "Her daughter Karen Ellison-Moss visited on March 3, 2024."
)
IDENTIFIERS = {
    "Margaret Ellison": "PERSON", "Ellison": "PERSON", "00482913": "MRN", "03/14/1952": "DATE",
    "88 Pinecrest Lane, Asheville, NC 28803": "ADDRESS", "(828) 555-0110": "PHONE",
    "(828) 555-0111": "FAX", "m.ellison@example.org": "EMAIL", "078-05-1120": "SSN",
    "1457389204": "NPI", "XGH448120931": "ACCOUNT", "1:23-cv-04417-JPO": "CASE",
    "AOC/0923/PI": "MATTER", "Karen Ellison-Moss": "PERSON", "March 3, 2024": "DATE",
}  # fmt: skip


def test_every_identifier_is_replaced_by_a_typed_placeholder() -> None:
    result, session = redact(NOTE)
    for value in IDENTIFIERS:
        assert value not in result.text, value
    kinds = {span.kind for span in result.spans}
    assert set(IDENTIFIERS.values()) <= kinds
    for span in result.spans:  # spans locate the placeholders and the originals exactly
        assert result.text[span.start : span.end] == span.placeholder
        assert session.mapping[span.placeholder]
    by_original = {NOTE[s.original_start : s.original_end]: s.kind for s in result.spans}
    for value, kind in IDENTIFIERS.items():
        if value in by_original:
            assert by_original[value] == kind, value
    assert "lives at" in result.text and "visited on" in result.text  # the prose stays readable


def test_placeholders_are_consistent_across_the_texts_of_one_request() -> None:
    session = RedactionSession()
    question, chunk = session.redact_all(
        ["What did Ms. Ellison's MRN 00482913 show?", "Patient: Margaret Ellison, MRN 00482913."]
    )
    person = {s.placeholder for s in question.spans if s.kind == "PERSON"}
    assert person == {s.placeholder for s in chunk.spans if s.kind == "PERSON"}
    assert "[MRN_1]" in question.text and "[MRN_1]" in chunk.text
    assert session.counts["MRN"] == 2


def test_a_name_detected_once_is_replaced_everywhere() -> None:
    session = RedactionSession()
    results = session.redact_all(
        ["Why was Okonkwo readmitted?", "Patient: Chidi Okonkwo\nOkonkwo was seen by the team."]
    )
    assert all("Okonkwo" not in r.text for r in results)


def test_restore_puts_the_originals_back() -> None:
    _, session = redact("Patient: Margaret Ellison, DOB 03/14/1952.")
    reply = "[PERSON_1] was born on [DATE_1]. Contact person_1 or [person 1]; [PERSON_9] unknown."
    restored = session.restore(reply)
    assert restored.startswith("Margaret Ellison was born on 03/14/1952.")
    assert "[PERSON_9]" in restored  # placeholders it never made are left as they are
    assert "person_1" not in restored and "[person 1]" not in restored


def test_stream_restorer_handles_placeholders_split_across_pieces() -> None:
    _, session = redact("Patient: Margaret Ellison, DOB 03/14/1952.")
    restorer = StreamRestorer(session)
    pieces = ["Hello [PER", "SON", "_1], born ", "[DATE", "_1", "]. Bye PERS", "ON_1"]
    out = "".join(restorer.feed(p) for p in pieces) + restorer.flush()
    assert out == "Hello Margaret Ellison, born 03/14/1952. Bye Margaret Ellison"


def test_redaction_that_cannot_run_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> list[object]:
        raise RuntimeError("a rule crashed")

    monkeypatch.setattr(redaction_module, "detect", broken)
    with pytest.raises(RedactionError, match="nothing was sent"):
        RedactionSession().redact_all(["Patient: Margaret Ellison"])


def test_a_surviving_original_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    session = RedactionSession()
    session.placeholder_for("MRN", "00482913")  # as if a rule had found it elsewhere
    monkeypatch.setattr(redaction_module, "detect", lambda text: [])
    with pytest.raises(RedactionError, match="left an identifier"):
        session.redact_all(["record 00482913"])


def test_plain_clinical_text_is_left_alone() -> None:
    text = (
        "Assessment: community-acquired pneumonia, improving. Plan: continue ceftriaxone 1 g IV "
        "daily for 5 days, recheck BMP in the morning. BP 132/78, HR 84, SpO2 95% on room air."
    )
    result, _ = redact(text)
    assert result.text == text and not result.spans


def test_the_labelled_set_is_large_consistent_and_split() -> None:
    docs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    spans = [s for d in docs for s in d["spans"]]
    assert len(spans) >= 300
    assert {d["domain"] for d in docs} == {"clinical", "legal"}
    assert {"dev", "heldout"} <= {d["split"] for d in docs}
    for doc in docs:
        for span in doc["spans"]:
            assert doc["text"][span["start"] : span["end"]] == span["text"]


def test_recall_on_the_labelled_set_does_not_regress() -> None:
    """A floor, not the measurement (bench/bench_redaction.py reports the figures)."""
    docs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    leaked = total = 0
    for doc in docs:
        result = RedactionSession().redact_all([doc["text"]])[0]
        covered = [(s.original_start, s.original_end) for s in result.spans]
        for gold in doc["spans"]:
            if gold["type"] == "DATE":
                continue
            total += 1
            chars = range(gold["start"], gold["end"])
            if any(
                doc["text"][i].isalnum() and not any(a <= i < b for a, b in covered) for i in chars
            ):
                leaked += 1
    assert total >= 250
    assert 1 - leaked / total >= 0.95
