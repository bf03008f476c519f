"""Whom a question is about, and whose record a document is: the frontier's minimum necessary.

A question names its subject by a name, a record number or another identifier the user typed
("What dose is Maria Lopez on?", "MRN 00482913"), or by the documents picked (`--document`).
A document's people are the patients or clients it is the record of: the names after a field
label or a role word ("Patient: ...", "Name: ...", "Client: ...", "patient rosa delgado", "Re:
..."), a name followed by a date of birth or a record number, or "<name> is a 67-year-old";
and its patient record numbers (MRN, hospital, unit or NHS numbers, SSNs, national ids).
Clinicians, relatives and other people a note mentions are not its people.

Detection of identifiers is app.privacy.identifiers' (only its public `detect`); this module
adds the roles. Pure functions, no I/O; safe on any thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import EnclaveError
from app.privacy.identifiers import Detection, detect

__all__ = [
    "People",
    "SubjectCheckFailed",
    "document_people",
    "mentions",
    "names_of",
    "question_subject",
    "same_person",
]

RECORD_KINDS = frozenset({"MRN", "SSN", "NATIONAL_ID", "ID"})  # ID: only after a record cue
_NOT_SUBJECT_KINDS = frozenset({"PERSON", "DATE", "ADDRESS", "PHONE", "FAX", "EMAIL"})
_TITLES = frozenset(
    "mr mrs ms miss mx dr doctor prof professor sir dame nurse sister rev fr".split()
)  # fmt: skip
# Words a detector may take into a name at the start of a question ("Does John Smith ...").
_QUESTION_WORDS = frozenset(
    "does do did is was are were has have had could should would what who whom when "
    "where which why how tell show list give summarise summarize".split()
)
_PARTICLES = frozenset("de del della der di da dos das du van von la le bin ibn al el".split())
_LABEL = (
    r"patient(?:'s)?(?:[ \t]+(?:full[ \t]+)?name)?|pt(?:[ \t]+name)?|full[ \t]+name|name|"
    r"client(?:[ \t]+name)?|our[ \t]+client|resident|claimant|service[ \t]+user|re"
)
_CLIENT_WORDS = re.compile(r"(?i)client|claimant")
# "Patient: Maria Lopez", "Name: rosa delgado", "Re: Kwabena Asante-Darko" (a line's field).
_LABELLED = re.compile(
    rf"(?im)(?:^|[;|]|[ \t]{{2,}})[ \t]*(?P<label>{_LABEL})[ \t]*[:\-–][ \t]*"
    r"(?P<name>[^\W\d_][^\n\d,;|()\[\]:/]{0,60}?)"
    r"(?=[ \t]*(?:$|[,;|(\[/]|[ \t]{2,}|\b(?:MRN|DOB|D\.O\.B|Age|Sex|Gender|NHS|SSN|Hosp|"
    r"Unit|Date|Ward|Room|Bed|ID|No)\b))"
)
# What may stand right before a detected name that makes it the document's person.
_ROLE_BEFORE = re.compile(
    rf"(?i)(?:^|\b)(?P<label>{_LABEL})[ \t]*[:\-–]?[ \t]*$"
)  # fmt: skip
_AFTER_SUBJECT = re.compile(
    r"(?i)^(?:'s)?[ \t]*(?:\([ \t]*|,[ \t]*)(?:DOB|D\.O\.B\.?|date of birth|born|MRN|NHS|"
    r"hospital|unit|SSN|age[ \t]*\d)|^,?[ \t]+(?:is|was)[ \t]+an?[ \t]+\d{1,3}[- ]?(?:year|yo\b)"
)
_CREDENTIAL_AFTER = re.compile(r"^,?[ \t]*(?:MD|DO|RN|NP|PA|MBBS|FRCP|PhD|Esq)\b")
_RECORD_CUE = re.compile(
    r"(?i)(?:\bMRN|\bMR|medical[ \t]+record|\brecord|\bhosp(?:ital)?|\bunit|\bchart|patient|"
    r"client|\bNHS|\bCHI|\bSSN|SS#|social[ \t]+security|national[ \t]+insurance|\bNINO|"
    r"\bmedicare|health[ \t]+card)\b[^\n]{0,14}$"
)
_SIGNATURE_BLOCK = re.compile(r"(?i)\b(?:title|by|signature|signed|its)[ \t]*:")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


class SubjectCheckFailed(EnclaveError):
    """Whom a text is about could not be checked (a detector failed): nothing may be sent."""


def _detect(text: str) -> list[Detection]:
    try:
        return detect(text)
    except Exception as exc:  # a bug in a rule: fail closed, as redaction does
        raise SubjectCheckFailed(
            f"The documents could not be checked for other people's identifiers "
            f"({type(exc).__name__}); nothing was sent."
        ) from exc


def names_of(value: str) -> frozenset[str]:
    """A name as the set of its lowercased parts (titles, particles and initials left out)."""
    parts = []
    for token in _WORD.findall(value):
        for part in re.split(r"[-'’]", token) if "-" in token else (token,):
            word = part.lower().strip("'’")
            if len(word) >= 2 and word not in _TITLES | _PARTICLES | _QUESTION_WORDS:
                parts.append(word)
    return frozenset(parts)


def same_person(a: frozenset[str], b: frozenset[str]) -> bool:
    """'Maria Lopez' and 'Ms Lopez' may be one person; 'Maria Lopez' and 'Carlos Lopez' not."""
    return bool(a) and bool(b) and (a <= b or b <= a)


@dataclass(frozen=True)
class People:
    """The patients or clients a question is about, or a document is the record of."""

    names: tuple[frozenset[str], ...] = ()
    records: frozenset[str] = frozenset()
    role: str = "patient"  # how to call them: "patient" or "client"

    def __bool__(self) -> bool:
        return bool(self.names or self.records)

    def knows(self, name: frozenset[str]) -> bool:
        return any(same_person(name, n) for n in self.names)

    def one_person(self) -> bool:
        return all(same_person(a, b) for a in self.names for b in self.names)

    def joined(self, other: People) -> People:
        names = self.names + tuple(n for n in other.names if n not in self.names)
        role = self.role if self.role == "client" else other.role
        return People(names, self.records | other.records, role)


def _record_value(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value).upper()


def question_subject(question: str) -> People:
    """Whom the question names: its people, and every record-like number typed in it."""
    names: list[frozenset[str]] = []
    records: set[str] = set()
    for d in _detect(question):
        value = question[d.start : d.end]
        if d.kind == "PERSON":
            name = names_of(value)
            if name and name not in names:
                names.append(name)
        elif d.kind not in _NOT_SUBJECT_KINDS and len(_record_value(value)) >= 4:
            records.add(_record_value(value))
    role = "client" if _CLIENT_WORDS.search(question) else "patient"
    return People(_widest(names), frozenset(records), role)


def document_people(text: str) -> People:
    """The patients or clients `text` is the record of (see the module docstring)."""
    names: list[frozenset[str]] = []
    client = False
    for m in _LABELLED.finditer(text):
        value = m.group("name").strip()
        first = value.split()[0].lower().strip(".") if value.split() else ""
        if first in _TITLES - {"mr", "mrs", "ms", "miss", "mx"}:
            continue  # "Name: Dr Okafor" is the clinician's signature block
        if m.group("label").lower() == "re" and not all(w[0].isupper() for w in value.split()):
            continue  # "Re: follow-up appointment"
        if _CREDENTIAL_AFTER.match(text[m.end("name") :]):
            continue
        if m.group("label").lower() == "name" and _signatory(text, m.start(), m.end()):
            continue  # "By: ____ Name: John Smith Title: CEO": a signatory, not a client
        name = names_of(value)
        if name and 1 <= len(name) <= 5:
            names.append(name)
            client = client or bool(_CLIENT_WORDS.search(m.group("label")))
    records: set[str] = set()
    for d in _detect(text):
        line_start = text.rfind("\n", 0, d.start) + 1
        before = text[max(line_start, d.start - 40) : d.start]
        if d.kind == "PERSON":
            role = _ROLE_BEFORE.search(before)
            after = text[d.end : d.end + 40]
            if role is None and not _AFTER_SUBJECT.search(after):
                continue
            if re.search(r"(?i)\b(?:dr|doctor|prof|nurse)\.?[ \t]*$", before):
                continue
            if _CREDENTIAL_AFTER.match(after):
                continue
            if role and role.group("label").lower() == "name" and _signatory(text, d.start, d.end):
                continue
            name = names_of(text[d.start : d.end])
            if name:
                names.append(name)
                client = client or bool(role and _CLIENT_WORDS.search(role.group("label")))
        elif d.kind in RECORD_KINDS and _RECORD_CUE.search(before):
            value = _record_value(text[d.start : d.end])
            if len(value) >= 4:
                records.add(value)
    return People(_widest(names), frozenset(records), "client" if client else "patient")


def _signatory(text: str, start: int, end: int) -> bool:
    """A "Name:" field in a signature block ("By:", "Title:" around it)."""
    return bool(_SIGNATURE_BLOCK.search(text[max(0, start - 80) : end + 80]))


def _widest(names: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """Distinct names, a name's shorter forms folded into its fullest ('Lopez' into 'Maria
    Lopez') when only one fuller form holds it."""
    distinct = sorted(set(names), key=lambda n: (-len(n), sorted(n)))
    out: list[frozenset[str]] = []
    for name in distinct:
        wider = [n for n in out if name <= n]
        if len(wider) == 1:
            continue
        out.append(name)
    return tuple(out)


def mentions(text: str, people: People) -> bool:
    """Whether `text` names one of `people`: every part of a name as a word (any case), or a
    record number (separators ignored)."""
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    if any(name <= words for name in people.names):
        return True
    if people.records:
        flat = _record_value(text)
        return any(r in flat for r in people.records)
    return False
