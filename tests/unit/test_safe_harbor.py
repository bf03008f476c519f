"""Safe Harbor redaction (issue 16): every identifier kind, one placeholder per entity across
the texts of a request, names at all their mentions, and a survive check that looks inside
tokens. These run the real detector (rules and installed gazetteers), no fakes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.privacy import redaction as redaction_module
from app.privacy.redaction import RedactionError, RedactionSession, redact

DATA = Path(__file__).resolve().parents[1] / "data" / "safe_harbor_eval.jsonl"

# (text, the identifier in it) per kind; each text is new (not in the labelled set).
CASES: dict[str, list[tuple[str, str]]] = {
    "PERSON": [
        ("Spoke with rosa delgado about her inhaler.", "rosa delgado"),
        ("District nurse Will Treharne will call on Monday.", "Will Treharne"),
        ("Seen with her sister Hope Castillo today.", "Hope Castillo"),
        ("Referred by Dr. Joaquín de la Cruz Morales.", "Joaquín de la Cruz Morales"),
        ("Patient: LaToya Jefferson-Reyes", "LaToya Jefferson-Reyes"),
        ("Very truly yours,\n\n/s/ Kwabena Asante-Darko\n", "Kwabena Asante-Darko"),
        ('Her grandson, known as "Tiny", visits weekly.', "Tiny"),
        ("Attending: Hiroshi van der Berg, MD", "Hiroshi van der Berg"),
    ],
    "ADDRESS": [
        ("Lives at 3 Mill Cottages, Ferry Lane, Penzance.", "3 Mill Cottages, Ferry Lane"),
        ("She moved to Harrogate last spring.", "Harrogate"),
        ("Postcode on file: LS6 2PL.", "LS6 2PL"),
        ("Born and raised in Maricopa County.", "Maricopa County"),
        ("Domicilio: 42 Calle de Alcalá, Madrid.", "42 Calle de Alcalá"),
        ("Adresse: Hauptstraße 17, 69117 Heidelberg", "Hauptstraße 17"),
    ],
    "DATE": [
        ("DOB 1944/08/30.", "1944/08/30"),
        ("Geboren 30.08.1944 in Köln.", "30.08.1944"),
        ("Admitted on August 30th after a fall.", "August 30th"),
    ],
    "AGE": [
        ("A 93-year-old man with dementia.", "93"),
        ("Age: 97", "97"),
        ("The testator, aged 101, signed.", "101"),
    ],
    "PHONE": [("Call back on (412) 555-0188.", "(412) 555-0188")],
    "FAX": [("Fax: 0161 496 0021", "0161 496 0021")],
    "EMAIL": [("Write to t.okafor@mail.example.com.", "t.okafor@mail.example.com")],
    "SSN": [("SSN 219-09-9999 on the claim form.", "219-09-9999")],
    "NATIONAL_ID": [("NHS number 943 476 5919 confirmed.", "943 476 5919")],
    "MRN": [
        ("Hosp No: K4471923", "K4471923"),
        ("Unit No 00731842, ward 4.", "00731842"),
        ("Medical Record Number: 55-301-22", "55-301-22"),
    ],
    "HEALTH_PLAN": [("Member ID: QZX448120931", "QZX448120931")],
    "ACCOUNT": [
        ("IBAN GB29 NWBK 6016 1331 9268 19 for the deposit.", "GB29 NWBK 6016 1331 9268 19"),
        ("Acct #4471-220938", "4471-220938"),
    ],
    "LICENSE": [
        ("State Bar No. 284913", "284913"),
        ("DEA AB1234563", "AB1234563"),
        ("medical licence no. MD448120", "MD448120"),
    ],
    "VEHICLE": [
        ("VIN 1HGCM82633A004352 was recovered.", "1HGCM82633A004352"),
        ("registration plate AB12 CDE", "AB12 CDE"),
    ],
    "DEVICE": [
        ("Pacemaker serial number PJN448120Q checked.", "PJN448120Q"),
        ("Router MAC 3C:22:FB:91:0A:7E logged.", "3C:22:FB:91:0A:7E"),
    ],
    "URL": [("Posted at https://social.example.com/u/rdelgado88 twice.", "https://social.example.com/u/rdelgado88")],
    "IP": [
        ("Login from 203.0.113.77 at 02:14.", "203.0.113.77"),
        ("and from 2001:db8:4f::17 later.", "2001:db8:4f::17"),
    ],
    "BIOMETRIC": [("fingerprint template ID FP-44812093 on file.", "FP-44812093")],
    "PHOTO": [("Wound image patient_photo_K4471923.png attached.", "patient_photo_K4471923.png")],
    "ID": [("Portal username rdelgado4471 was locked.", "rdelgado4471")],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [(kind, text, value) for kind, cases in CASES.items() for text, value in cases],
)
def test_every_safe_harbor_kind_is_replaced(kind: str, text: str, value: str) -> None:
    result, _ = redact(text)
    assert value not in result.text, (kind, result.text)
    for ch_index in range(text.index(value), text.index(value) + len(value)):
        if text[ch_index].isalnum():
            assert any(s.original_start <= ch_index < s.original_end for s in result.spans), kind


DISTRACTORS = (
    "Metformin 500 mg twice daily; HbA1c 7.8%; creatinine 1.4 mg/dL; eGFR 48; BP 142/88.",
    "The claim arises under 42 U.S.C. § 1983 and Section 12.3 of the Agreement, Clause 7.2(b).",
    "Damages of $48,250.00 and a fee of £12,500 were sought (Fed. R. Civ. P. 56).",
    "Diagnoses: ICD-10 E11.65 and I50.9; CPT 99214 billed.",
    "She moved from Florida to Georgia; the Georgia Department of Labor wrote.",
    "Admitted to St Mary's General Hospital; follow up in General Medicine.",
    'The Indemnifying Party shall notify the Indemnified Party; monthly invoices ("Invoices").',
    'This Agreement is between Newegg Inc. ("Newegg") and the Escrow Agent.',
    "The patient has never smoked and was brought in by ambulance; vital signs stable.",
)


@pytest.mark.parametrize("text", DISTRACTORS)
def test_doses_labs_statutes_money_codes_and_states_are_left_alone(text: str) -> None:
    result, _ = redact(text)
    assert result.text == text, [text[s.original_start : s.original_end] for s in result.spans]


def test_one_entity_keeps_one_placeholder_across_question_and_sources() -> None:
    session = RedactionSession()
    question, source, other = session.redact_all(
        [
            "What did the scan for MRN K4471923 show?",
            "Hosp No: K4471923. Photo patient_photo_K4471923.png. Patient Hope Castillo.",
            "Ms Castillo (hospital number K4471923) was reviewed.",
        ]
    )
    number = [s.placeholder for s in question.spans]
    assert len(number) == 1
    assert number[0] in source.text and number[0] in other.text
    assert all("K4471923" not in r.text for r in (question, source, other))
    people = {s.placeholder for r in (source, other) for s in r.spans if s.kind == "PERSON"}
    assert len(people) == 1, people  # "Hope Castillo" and "Ms Castillo": one person


def test_every_mention_of_a_detected_name_is_replaced() -> None:
    session = RedactionSession()
    results = session.redact_all(
        [
            "Why did delgado stop the inhaler?",
            "Spoke with rosa delgado. Delgado says ROSA DELGADO moved; file delgado_notes.txt",
        ]
    )
    for result in results:
        assert "delgado" not in result.text.lower(), result.text


def test_the_survive_check_sees_values_inside_other_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = RedactionSession()
    session.placeholder_for("MRN", "K4471923")  # as if found in the question
    monkeypatch.setattr(redaction_module, "detect", lambda text: [])
    monkeypatch.setattr(redaction_module, "_spread_matches", lambda text, values: [])
    for leaked in (
        "see patient_photo_K4471923.png",
        "https://portal.example.org/records/k4471923/summary",
        "C:/scans/K4471923_front.tif",
    ):
        with pytest.raises(RedactionError, match="nothing was sent"):
            session.redact_all([leaked])


def test_the_survive_check_sees_a_grouped_number_written_without_its_spaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = RedactionSession()
    session.placeholder_for("ACCOUNT", "GB29 NWBK 6016 1331 9268 19")
    monkeypatch.setattr(redaction_module, "detect", lambda text: [])
    with pytest.raises(RedactionError):
        session.redact_all(["paid from GB29NWBK60161331926819 yesterday"])


def test_a_name_inside_a_longer_word_is_not_a_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    session = RedactionSession()
    session.placeholder_for("PERSON", "Rosa")
    monkeypatch.setattr(redaction_module, "detect", lambda text: [])
    session.redact_all(["Rosalind reviewed the chart."])  # no error: "Rosa" is not there


def test_the_safe_harbor_set_is_large_labelled_and_covers_every_kind() -> None:
    docs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    spans = [s for d in docs for s in d["spans"]]
    assert len(spans) >= 1000
    per_kind = Counter(s["type"] for s in spans)
    assert set(CASES) <= set(per_kind)
    assert min(per_kind.values()) >= 30, per_kind
    assert {d["domain"] for d in docs} == {"clinical", "legal"}
    assert {d["split"] for d in docs} == {"dev", "heldout", "heldout2", "heldout3"}
    for doc in docs:
        for span in doc["spans"]:
            assert doc["text"][span["start"] : span["end"]] == span["text"]


def test_recall_on_the_safe_harbor_set_does_not_regress() -> None:
    """A floor, not the measurement (bench/bench_redaction.py reports the figures)."""
    docs = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    leaked = total = 0
    for doc in docs:
        result = RedactionSession().redact_all([doc["text"]])[0]
        covered = [(s.original_start, s.original_end) for s in result.spans]
        for gold in doc["spans"]:
            total += 1
            if any(
                doc["text"][i].isalnum() and not any(a <= i < b for a, b in covered)
                for i in range(gold["start"], gold["end"])
            ):
                leaked += 1
    assert 1 - leaked / total >= 0.95


def test_a_name_that_is_an_everyday_word_does_not_block_its_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = RedactionSession()
    session.placeholder_for("PERSON", "Will")
    monkeypatch.setattr(redaction_module, "detect", lambda text: [])
    session.redact_all(["The nurse will call tomorrow."])  # "will" the verb is not the name
    with pytest.raises(RedactionError):
        session.redact_all(["Ask Will about it."])


def test_the_issue_16_request_carries_none_of_its_identifiers() -> None:
    """The leaks the issue found in one request, all in one place."""
    question = "What did the wound photo for MRN K4471923 show?"
    note = (
        "Home visit. Hosp No: K4471923. Age: 93. Mrs Penrose, a 93-year-old widow, lives at "
        "3 Mill Cottages, Ferry Lane, St Just. District nurse Will Treharne reviewed the leg "
        "ulcer; photo saved as patient_photo_K4471923.png. Phone call: spoke with rosa delgado "
        "(daughter). Referred to Dr. Joaquín de la Cruz Morales and LaToya Jefferson-Reyes. "
        "IBAN GB29 NWBK 6016 1331 9268 19.\n/s/ Kwabena Asante-Darko"
    )
    session = RedactionSession()
    asked, source = session.redact_all([question, note])
    for value in (
        "K4471923", "93", "Penrose", "Mill Cottages", "Ferry Lane", "Will", "Treharne", "rosa",
        "delgado", "Joaquín", "Cruz", "Morales", "LaToya", "Toya", "Jefferson", "Reyes", "GB29",
        "NWBK", "9268", "Kwabena", "Asante", "Darko",
    ):  # fmt: skip
        assert value not in source.text and value not in asked.text, value
    assert asked.spans[0].placeholder in source.text  # one number, one placeholder
    assert "leg ulcer" in source.text and "reviewed" in source.text  # the prose stays
