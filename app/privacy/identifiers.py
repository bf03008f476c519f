"""Deterministic detection of personal identifiers in clinical and legal text.

Rules and gazetteers, not a model: regular expressions for formatted identifiers (email, phone,
SSN, dates, addresses, case numbers), context cues for record numbers ("MRN", "Hosp No",
"Policy No.", "Matter"), the other HIPAA Safe Harbor kinds in `app.privacy.safe_harbor`, and
names in `app.privacy.people`. `app.privacy.redaction` turns detections into placeholders and
spreads every detected value and name to its other mentions. Recall and precision are measured
by bench/bench_redaction.py on tests/data/redaction_eval.jsonl and safe_harbor_eval.jsonl.

Pure functions, no state, no I/O; safe on any thread.
"""

from __future__ import annotations

import re

from app.privacy import name_words, safe_harbor
from app.privacy.detection import Detection, Lazy
from app.privacy.name_words import NOT_NAMES
from app.privacy.people import detect_people, extend_name_left, first_names

__all__ = ["KINDS", "NOT_NAMES", "Detection", "detect", "detect_people", "extend_name_left",
           "first_names"]  # fmt: skip

KINDS = (
    "PERSON", "DATE", "AGE", "MRN", "NPI", "PHONE", "FAX", "EMAIL", "ADDRESS", "SSN",
    "NATIONAL_ID", "HEALTH_PLAN", "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "URL", "IP",
    "BIOMETRIC", "PHOTO", "CASE", "MATTER", "ID",
)  # fmt: skip
# ID: a record-number-shaped token with no cue that says which kind it is.


# The word lists (app.privacy.name_words), under the names the patterns below use.
_MONTHS = name_words.MONTHS
_STREET = name_words.STREET
_US_STATES = name_words.US_STATES
_WEEKDAYS = name_words.WEEKDAYS
_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"
_LO = "a-zß-öø-ÿĀ-ſ"


_Lazy = Lazy


def _lazy(pattern: str, flags: int = 0) -> Lazy:
    return Lazy(pattern, flags)


# --------------------------------------------------------------------------------------------
# Formatted identifiers
_VALUE = (
    r"(?P<value>(?:[A-Z]{1,4}[ ](?=\d))?(?=[A-Za-z0-9/-]*\d)"
    r"[A-Za-z0-9](?:[A-Za-z0-9/.-]*[A-Za-z0-9])?"
    r"(?:[ ](?:[A-Z](?=[ ]\d)|(?=[A-Z]*\d)[A-Z0-9]{1,10})(?![a-z]))*(?:[ ]\([A-Z]{2,5}\))?)"
)
_CUE_SEP = (
    r"[ \t]*(?:(?i:#|No\.?|Nos?\.|Number|num\.?|ID|ref\.?|reference)|:|-|\.|\(|"
    r"[ \t]\([^)\n]{1,20}\))*[ \t]*"
    r"(?:#|:|is|are|was|as)?[ \t]*"
)
_CUES: tuple[tuple[str, str], ...] = (
    ("SSN", r"SSN|SS#|Social Security(?: Number| No\.?)?(?: are| is)?"),
    (
        "NPI",
        r"NPI|Provider No\.?|Provider number|Billing NPI|Rendering NPI|DEA|GMC|NMC|"
        r"licen[cs]e(?: number| no\.?)?",
    ),
    (
        "NATIONAL_ID",
        r"NHS|National Insurance|NI number|NINO|PPSN?|Medicare|Medicaid|MBI|CHI|"
        r"Health and Care number|PHN|OHIP|Health card|passport|DNI|NIE|SIN|TFN|"
        r"Driver'?s licen[cs]e|Aadhaar|BSN|national id(?:entity)?(?: card)?",
    ),
    (
        "MRN",
        r"MRN|MR|Medical Record|Record|Hospital|Chart|Patient ID|Accession|Agency ID|"
        r"Encounter|Unit|Case note|Episode|Visit|Specimen|Lab(?:oratory)? (?:ID|number)|"
        r"Health record|Clinic number|Patient number|Client number",
    ),
    (
        "ACCOUNT",
        r"Acct|Account|Member|member number|Subscriber|Group|Policy|Claim|IBAN|"
        r"Sort code|Payer ID|DPS|reference|account ending|ledger|Guarantor acct|"
        r"card ending|employee ID|staff ID|badge|payroll|Title|Invoice|Certificate|"
        r"Plan ID|Beneficiary ID|Routing|Loan",
    ),
    (
        "CASE",
        r"Case|Docket|Index|Civil Action|Cause|Charge|case number|prior case,|Claim No\.|"
        r"Petition|Complaint|Appeal|Probate reference|Court reference|Tribunal",
    ),
    ("MATTER", r"Matter|Client|Our (?:File|ref|reference)|File|Your ref|Ref|Client-Matter"),
)
_CUE_RES = [(kind, _lazy(rf"\b(?i:{cue})" + _CUE_SEP + _VALUE)) for kind, cue in _CUES]
_CAPTION_NO_RE = _lazy(r"(?m)^[ \t]*No\.[ \t]+" + _VALUE)

_PATTERNS: tuple[tuple[str, int, str], ...] = (
    ("EMAIL", 5, r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    (
        "SSN",
        7,
        r"\b\d{3}-\d{2}-\d{4}\b|\b[xX*]{3}-[xX*]{2}-\d{4}\b"
        r"|(?<!\d)(?<!\d )\d{3} \d{2} \d{4}(?! ?\d)",  # 219 09 9999, not inside a longer run
    ),
    ("CASE", 4, r"\b\d{1,2}:\d{2}-[a-z]{2,3}-\d{3,6}(?:-[A-Z]{2,4})*\b|\b\d{2}[A-Z]{2,3}\d{5,7}\b"),
    (
        "NATIONAL_ID",
        3,
        r"\b[A-Z]{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}[ ]?[A-D]\b|"
        r"\b\d[A-Z][A-Z0-9]\d-?[A-Z][A-Z0-9]\d-?[A-Z]{2}\d{2}\b|\b\d{8}[A-Z]\b|\b\d{7}[A-W][A-IW]?\b",
    ),
    ("PHONE", 2, r"(?<![\w/-])(?:\+?1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}\b"),
    ("PHONE", 2, r"(?<![\w/])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\b"),
    ("PHONE", 2, r"(?<![\w/])0\d{2,4}[ ]?\d{3,4}[ ]?\d{3,4}\b"),
    # Record-number shapes with no cue: letters and digits, or digit groups, 4+ digits in all.
    (
        "ID",
        1,
        r"\b(?=[A-Z0-9./-]*\d)(?=(?:[^\d\s]*\d){4})[A-Z]{1,5}[-/.]?\d[A-Z0-9]*(?:[-/.][A-Z0-9]+)*\b",
    ),
    ("ID", 1, r"\b(?=(?:[^\d\s]*\d){5})\d+-[A-Z0-9]+(?:-[A-Z0-9]+)+\b"),
    ("ID", 1, r"\b[A-Z]{2,4}[ ]\d{5,}\b"),
    ("ID", 1, r"(?<![\d,.$£€])\b\d{6,}\b(?![,.]\d)"),
)
_PATTERN_RES = [(kind, prio, _lazy(p)) for kind, prio, p in _PATTERNS]

_FAX_CUE = _lazy(r"(?i)\b(fax|facsimile|f)\b\W*$|\bfax\b[^\n]{0,25}$")
_PHONE_CUE = _lazy(r"(?i)\b(tel|phone|ph|cell|mobile|call|callback|line|number|t)\b[^\n]*$")


def _phone_or_fax(text: str, start: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 40) : start]
    fax = _FAX_CUE.search(before)
    if fax is None:
        return "PHONE"
    phone = _PHONE_CUE.search(before)
    if phone is not None and phone.start() > fax.start():
        return "PHONE"
    return "FAX"


# --------------------------------------------------------------------------------------------
# Dates
_D = r"(?:the[ ]+)?(?:(?:" + _WEEKDAYS + r"),?[ ]+)?"
_DATE_PATTERNS = (
    r"\b\d{4}-\d{2}-\d{2}\b",
    r"\b(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])\b",
    r"\b(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}\b",
    r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b(?![/.-]\d)",
    rf"\b{_D}\d{{1,2}}(?:st|nd|rd|th)?(?:[ ]+day)?(?:[ ]+of)?[ ]+(?:{_MONTHS})\.?,?[ ]+\d{{4}}\b",
    rf"\b{_D}(?:{_MONTHS})\.?[ ]+\d{{1,2}}(?:st|nd|rd|th)?,?[ ]+\d{{4}}\b",
    rf"(?i)\b\d{{1,2}}-(?:{_MONTHS})-\d{{2,4}}\b",
    rf"\b(?:{_MONTHS})\.?,?[ ]+\d{{4}}\b",
    rf"\b{_D}(?:{_MONTHS})\.?[ ]+\d{{1,2}}(?:st|nd|rd|th)?\b(?![:.]\d)",
    rf"\b{_D}\d{{1,2}}(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?(?:{_MONTHS})\b",
)
_DATE_RES = [_lazy(p) for p in _DATE_PATTERNS]


def _plausible_numeric_date(value: str) -> bool:
    parts = re.split(r"[/.-]", value)
    if len(parts) != 3:
        return True
    try:
        a, b, c = (int(p) for p in parts)
    except ValueError:
        return True
    if len(parts[0]) == 4:
        return 1 <= b <= 12 and 1 <= c <= 31
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


# --------------------------------------------------------------------------------------------
# Addresses
_CAP = rf"[{_UP}][{_LO}A-Z'’.-]*"
_UNIT = (
    r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Lot|Room|Rm|Bldg|Building|#)\.?[ ]?#?"
    r"[A-Za-z0-9-]+"
)
_CITY_STATE_ZIP = rf"{_CAP}(?:[ ]{_CAP}){{0,3}},?[ ]+(?:{_US_STATES})[ ]+\d{{4,5}}(?:-\d{{4}})?\b"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}\b"
_EIRCODE = r"[A-Z]\d{2}[ ]?[A-Z0-9]{4}\b"
_STREET_LINE = (
    rf"(?:(?:{_UNIT}),[ ]+)?(?:{_CAP}[ ](?:House|Court|Building|Tower|Mansions|Lodge),[ ]+)?"
    rf"\b\d{{1,6}}[A-Z]?[ ]+(?:[NSEW]\.?[ ]+)?(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th))[ ]+){{0,4}}"
    rf"(?:{_STREET})\b\.?"
    rf"(?:,?[ ]+{_UNIT}|,[ ]+\d{{1,3}}(?:st|nd|rd|th)[ ]+Floor|[ ]+#\d+)*"
    rf"(?:,[ ]+{_CAP}[ ]\d{{1,2}}\b(?!,?[ ]*\d))?"
    rf"(?:,[ ]+{_CITY_STATE_ZIP}|,[ ]+{_CAP}(?:[ ]{_CAP})?,?[ ]+(?:{_UK_POSTCODE})"
    rf"|,[ ]+{_CAP}(?:[ ]{_CAP})?[ ]+(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)[ ]+\d{{4}})?"
)
_ADDRESS_PATTERNS = (
    _STREET_LINE,
    rf"(?:{_UNIT}),[ ]+(?:{_CAP}(?:[ ]{_CAP})?[ ]+(?:{_STREET}|House|Building|Tower|Mansions|"
    rf"Lodge)\b,?[ ]*)+",
    rf"(?<![\w-]){_CITY_STATE_ZIP}",
    rf"\b{_CAP}(?:[ ]{_CAP})?[ ]+{_UK_POSTCODE}",
    rf"\b{_CAP}(?:[ ]+\d{{1,2}},)?[ ]+(?=[A-Z0-9]{{3}}[ ]?[A-Z0-9]*\d){_EIRCODE}",
    r"\bP\.?[ ]?O\.?[ ]+Box[ ]+\d+",
    rf"\b(?:Calle|Avenida|Paseo|Plaza|Rue|Via|Viale|Corso|Rua)[ ]+(?:{_CAP}[ ]+){{0,3}}\d+[A-Za-z]?"
    rf"(?:,[ ]*[\w\dº]+)?(?:,[ ]*\d{{4,5}}[ ]+{_CAP})?",
    rf"\b{_CAP}(?:straße|strasse|weg|platz|gasse|allee)[ ]+\d+[a-z]?",
)
_ADDRESS_RES = [_lazy(p) for p in _ADDRESS_PATTERNS]


_CODE_BEFORE = _lazy(r"(?i)\b(?:ICD(?:-?1[01])?(?:-CM)?|CPT|HCPCS|DRG|LOINC|SNOMED|NDC)[ \t:#]*$")


def detect(text: str) -> list[Detection]:
    """Every identifier found in `text`, overlapping candidates included (the caller resolves)."""
    found: list[Detection] = []
    for kind, prio, regex in _PATTERN_RES:
        for m in regex.finditer(text):
            if kind == "ID" and (
                re.fullmatch(r"[A-Z]\d{2}\.\d{1,4}|(?:CPT|ICD|NDC|DRG)[ ]\d+", m.group())
                or _CODE_BEFORE.search(text, max(0, m.start() - 12), m.start())
            ):
                continue  # a diagnosis or procedure code, not an identifier
            if kind == "PHONE":
                kind_here = _phone_or_fax(text, m.start())
                found.append(Detection(m.start(), m.end(), kind_here, prio))
            else:
                found.append(Detection(m.start(), m.end(), kind, prio))
    for kind, regex in _CUE_RES:
        for m in regex.finditer(text):
            value = m.group("value")
            if kind in ("MRN", "MATTER", "CASE", "ACCOUNT") and re.fullmatch(r"\d{1,2}", value):
                continue  # "Unit 4", "Group 2": too short to be a record number
            found.append(Detection(m.start("value"), m.end("value"), kind, 6))
    for m in _CAPTION_NO_RE.finditer(text):
        found.append(Detection(m.start("value"), m.end("value"), "CASE", 6))
    for regex in _DATE_RES:
        for m in regex.finditer(text):
            if _plausible_numeric_date(m.group()):
                found.append(Detection(m.start(), m.end(), "DATE", 3))
    for regex in _ADDRESS_RES:
        for m in regex.finditer(text):
            found.append(Detection(m.start(), m.end(), "ADDRESS", 5))
    found.extend(safe_harbor.detect_more(text))
    found.extend(safe_harbor.localities_after(text, [d for d in found if d.kind == "ADDRESS"]))
    found.extend(detect_people(text))
    return found
