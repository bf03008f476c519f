"""Three patients' clinical notes for the minimum-necessary tests, each with planted identifiers
(name, MRN, date of birth, address, phone). All three take metformin, so a question about one
of them finds the other two's notes too. The second and third are written the way the issue's
misses were (a common-word first name, "Hosp No", a UK address and phone, a lowercase name):
they must be left out whole, whatever the detectors make of them.
"""

from __future__ import annotations

import re

from app.frontier.request import FrontierRequest, LeftOut, display, risk_spans
from app.privacy.policy import parse_policy
from app.privacy.redaction import RedactedSpan, RedactionSession
from models.types import Message

QUESTION = "What dose of metformin is Maria Lopez taking?"
SUBJECT_NOTE = "lopez_clinic_note.txt"

NOTES = {
    SUBJECT_NOTE: (
        "DIABETES CLINIC NOTE\n"
        "Patient: Maria Lopez   MRN: 00482913   DOB: 03/14/1952\n"
        "Address: 88 Pinecrest Lane, Asheville, NC 28803. Phone: (617) 555-0143.\n"
        "\n"
        "Maria Lopez attends for review of type 2 diabetes. Her HbA1c is 7.9 percent.\n"
        "She takes metformin 500 mg twice daily with meals and tolerates it well.\n"
        "Plan: continue metformin 500 mg twice daily and recheck HbA1c in three months.\n"
    ),
    "treharne_progress_note.txt": (
        "PROGRESS NOTE\n"
        "Name: Will Treharne    Hosp No: K4471923    DOB: 30/08/1944\n"
        "Address: 3 Mill Cottages, Ferry Lane, Penryn TR10 8AB. Tel: 01632 960 123.\n"
        "\n"
        "Mr Treharne, a 93-year-old man, has heart failure and type 2 diabetes.\n"
        "He takes metformin 1000 mg once daily and furosemide 40 mg each morning.\n"
        "Ankle swelling is worse; the district nurse will weigh him daily.\n"
    ),
    "castillo_phone_note.txt": (
        "TELEPHONE NOTE\n"
        "Patient name: hope castillo   DOB: 1961-02-11   MRN: 7719024\n"
        "Address: 14 Orchard Road, Bristol BS8 1TH. Phone: 0117 496 0321.\n"
        "\n"
        "hope castillo called about stomach upset since her metformin was increased.\n"
        "She now takes metformin 850 mg three times daily and asks whether to reduce it.\n"
        "Advised to take it with food; review at the practice next week.\n"
    ),
}

# Every planted identifier of the three patients (and their parts): none may leave.
PLANTED = {
    SUBJECT_NOTE: [
        "Maria Lopez", "Maria", "Lopez", "00482913", "03/14/1952", "1952",
        "88 Pinecrest Lane", "Pinecrest", "Asheville", "28803", "(617) 555-0143", "555-0143",
    ],
    "treharne_progress_note.txt": [
        "Will Treharne", "Treharne", "K4471923", "4471923", "30/08/1944", "1944",
        "3 Mill Cottages", "Mill Cottages", "Ferry Lane", "Penryn", "TR10 8AB", "01632 960 123",
        "960 123",
    ],
    "castillo_phone_note.txt": [
        "hope castillo", "castillo", "Castillo", "1961-02-11", "7719024", "14 Orchard Road",
        "Orchard Road", "BS8 1TH", "0117 496 0321", "496 0321",
    ],
}  # fmt: skip

# A sentence of each other patient's note: no passage of theirs may leave either.
OTHER_PASSAGES = [
    "metformin 1000 mg once daily", "furosemide 40 mg", "Ankle swelling is worse",
    "metformin 850 mg three times daily", "stomach upset", "review at the practice next week",
]  # fmt: skip
ANSWER_PASSAGE = "metformin 500 mg twice daily"  # the subject's own: it is sent


def review_request(user_text: str) -> FrontierRequest:
    """A request as the gateway lays it out, the placeholders given as already replaced."""
    endpoint = parse_policy({"frontier": {"enabled": True, "workspaces": ["w"], "endpoints": [
        {"id": "gw", "base_url": "http://127.0.0.1:9/v1", "model": "m"}]}}).check("w")  # fmt: skip
    messages = (Message("system", "Answer from the sources."), Message("user", user_text))
    placeholders = [
        (m.start(), m.end(), RedactedSpan(m.start(), m.end(), m.group(1), m.group(), 0, 1))
        for m in re.finditer(r"\[([A-Z]+)_\d+\]", user_text)
    ]
    display_text, spans = display(messages, {1: placeholders})
    return FrontierRequest(
        id="r", workspace_id="w", endpoint=endpoint, messages=messages, body=b"{}",
        request_sha256="0" * 64, display_text=display_text, spans=spans,
        redaction_counts={"PERSON": len(spans)}, review_required=True, chunks_sent=1,
        session=RedactionSession(), risks=risk_spans(messages, display_text),
        left_out=(LeftOut("note_b.txt", "names another patient"),),
    )  # fmt: skip
