"""Answer types: what kind of fact a question asks for ("how much notice" wants a duration,
"which law" a jurisdiction, "what dose" a dose with its unit, "when" a date), and whether a
sentence states one (rag.facts finds the facts). Used by rag.evidence to score and to decide
"not found". Pure Python.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.facts import atoms

__all__ = [
    "KIND_WORDS",
    "TYPE_NAMES",
    "AnswerType",
    "answer_type",
    "asks_about_document",
    "type_matches",
    "typed_facts",
]

AnswerType = Literal[
    "duration", "date", "when", "money", "percent", "dose", "place", "party", "title", "number",
    "any",
]  # fmt: skip

# What each kind of fact is called in a sentence a person reads.
KIND_WORDS: dict[str, str] = {
    "duration": "a period of time", "date": "a date", "when": "a date or a period",
    "money": "an amount of money", "percent": "a percentage", "dose": "a dose with its unit",
    "place": "a jurisdiction or place", "party": "a name",
    "title": "the document's title", "number": "a number", "any": "it",
}  # fmt: skip

# Question words that name the kind of answer wanted: a sentence stating a fact of that kind
# says it ("who are the *parties*" is answered by "between Acme Inc. and Beta LLC", which
# never writes "parties"; "NOW THEREFORE, the parties agree as follows" writes it and names none).
TYPE_NAMES: dict[str, frozenset[str]] = {
    "party": frozenset({"party"}),
}  # not "dose" nor "date": a dose of another drug does not answer "what dose of metformin",
# nor the term's start date "what is the client's date of birth"

_TYPE_RULES: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("duration", re.compile(
        r"\bhow long\b|\bhow (?:much|many days|many months|many years|soon)\b.*\b(?:notice|"
        r"days?|months?|years?|period|term|advance)\b|\bnotice period\b|\bhow much notice\b|"
        r"\bwhat is the (?:duration|notice period|cure period)\b|"
        r"\bhow many (?:days|months|years|weeks|hours)\b|\bwithin how\b|\bfor how long\b")),
    ("date", re.compile(
        r"\bwhat date\b|\bwhich date\b|\b(?:effective|start|expiration|termination|"
        r"agreement|signing|admission|discharge|surgery|procedure) date\b|\bdate of\b|"
        r"\bbirthday\b|\bborn\b")),
    ("when", re.compile(
        r"^\s*when\b|\bwhen (?:is|was|does|did|will|should|can)\b|\bwhat is the (?:term|"
        r"initial term|renewal term)\b|\bhow long (?:does|will|is) (?:this|the) (?:agreement|"
        r"contract|term)\b")),
    ("dose", re.compile(
        r"\bwhat (?:dose|dosage|strength)\b|\bdose of\b|\bdosage\b|\bhow much\b.*\b(?:mg|"
        r"taking|take|given|receive|prescribed|on)\b|\bwhat (?:dose|amount) of\b")),
    ("place", re.compile(
        r"\bwhich (?:state|country|jurisdiction|law|laws|court|courts|venue|forum)\b|"
        r"\b(?:what|which) (?:state|country)'?s? laws?\b|\bgoverning law\b|\bwhat law\b|"
        r"\blaws? of (?:what|which)\b|\bgoverns?\b|\bjurisdiction\b|\bwhere\b.*\b(?:court|"
        r"venue|arbitration|disputes?)\b")),
    ("money", re.compile(
        r"\bwhat (?:is|was|are) the (?:fee|fees|price|cost|payment|compensation|salary|rent|"
        r"royalty|purchase price|license fee)\b|\bhow much (?:does|do|will|is|are) [a-z ]*"
        r"(?:pay|paid|cost|charge|owe|earn|receive)\b")),
    ("percent", re.compile(r"\bwhat percent|\bpercentage\b|\bwhat (?:share|proportion)\b")),
    ("title", re.compile(
        r"\b(?:name|title)\s+of\s+(?:this|the)\s+(?:agreement|contract|document|amendment|lease|"
        r"licen[cs]e|plan|report|letter|note)\b|\bwhat (?:kind|type|sort) of (?:agreement|contract|"
        r"document) is (?:this|it)\b|\bwhat is this (?:agreement|contract|document)\b|"
        r"\bwhat is (?:this|the) (?:agreement|contract|document) called\b")),
    ("party", re.compile(
        r"^\s*who\b|\bwhich part(?:y|ies)\b|\bwho (?:are|is|were|was)\b|\bparties\b|"
        r"\bname of the (?:company|licensee|licensor|distributor|supplier|customer|party)\b")),
    ("number", re.compile(r"\bhow (?:many|much|large|big|high|low|long)\b|\bwhat (?:was|is) "
                          r"(?:the|his|her|their) [a-z ]*(?:level|count|score|rate|pressure|"
                          r"weight|value|number|size)\b")),
]  # fmt: skip
_TYPE_KINDS: dict[AnswerType, tuple[str, ...]] = {
    "duration": ("duration",),
    "date": ("date",),
    "when": ("date", "duration"),  # "when should he come back?": "in 3 months"
    "money": ("money",),
    "percent": ("percent",),
    "dose": ("dose",),
    "place": ("place",),
    "party": ("name",),
    "title": (),  # a title is not a fact rag.facts finds: _TITLE_RE
    "number": ("number", "percent", "dose", "duration", "money"),
    "any": (),
}


def answer_type(question: str) -> AnswerType:
    """What kind of fact the question asks for ("any" when it does not say)."""
    q = " ".join(question.lower().split())
    for kind, pattern in _TYPE_RULES:
        if pattern.search(q):
            return kind
    return "any"


_DOCUMENT_LEVEL_RE = re.compile(
    r"\b(?:name|title|parties|party|dated?|effective|signed|entered|executed|made)\b.*"
    r"\b(?:this|the) (?:agreement|contract|document|amendment|lease|license|note|letter|report)\b"
    r"|\bwho are the parties\b|\bwhat is the name of\b|\bwhat is this (?:agreement|contract|"
    r"document)\b|\bwhen (?:was|is|does) (?:this|the) (?:agreement|contract)\b.*\b(?:signed|"
    r"dated|entered|executed|effective|made|start|begin)",
    re.IGNORECASE,
)


def asks_about_document(question: str) -> bool:
    """Questions about the document itself (its name, parties, date), answered in its opening
    passage, which a search for the question's words often misses."""
    return bool(_DOCUMENT_LEVEL_RE.search(question))


def typed_facts(text: str, wanted: AnswerType) -> frozenset[str]:
    """The facts of the wanted kind that `text` states ("60 day", "delaware"), for comparing
    what two documents say."""
    kinds = _TYPE_KINDS[wanted]
    return frozenset(a.value for a in atoms(text) if a.kind in kinds)


# A contract's answer to "when" that is not itself a date: it points at one ("effective as of
# the date first written above", "upon execution"), or a template leaves the day blank ("this
# ___ day of ______, 2004").
_DATE_REFERENCE_RE = re.compile(
    r"\bthe date first (?:above )?(?:written|set forth|stated|mentioned|shown)\b"
    r"|\b(?:upon|on) (?:the )?(?:its )?(?:full )?(?:execution|signing|signature)\b",
    re.IGNORECASE,
)
_BLANK_DATE_RE = re.compile(r"\bday of\s*_{2,}|_{2,}\s*,?\s*(?:19|20)\d\d\b", re.IGNORECASE)


# A document's title: capitalised words ending in what kind of document it is ("MASTER
# SERVICES AGREEMENT", "Amendment No. 1 to the Supply Agreement", "Discharge Summary").
_TITLE_RE = re.compile(
    r"((?:\b[A-Z][\w&/.'’-]*[ \t]+(?:(?:of|and|for|to|the|on|in|&)[ \t]+)*){1,8})"
    r"(?:AGREEMENT|Agreement|CONTRACT|Contract|AMENDMENT|Amendment|ADDENDUM|Addendum|LEASE|"
    r"Lease|LICEN[CS]E|Licen[cs]e|PLAN|Plan|MEMORANDUM|Memorandum|INDENTURE|Indenture|DEED|"
    r"Deed|TERMS|Terms|SUMMARY|Summary|REPORT|Report|LETTER|Letter|NOTE|Note)\b"
)
# Capitalised words that start a sentence about the document rather than name it.
_NOT_TITLE_WORDS = frozenset("this the such each said any in of under our your its".split())


def states_title(text: str) -> bool:
    """Whether `text` names a document: a title, not just "This Agreement"."""
    for match in _TITLE_RE.finditer(text):
        words = [w for w in match.group(1).split() if w.lower() not in _NOT_TITLE_WORDS]
        if any(w[0].isupper() for w in words):
            return True
    return False


def type_matches(text: str, wanted: AnswerType) -> bool:
    """Whether `text` states a fact of the wanted kind (always true for "any")."""
    if wanted == "title":
        return states_title(text)
    kinds = _TYPE_KINDS[wanted]
    if not kinds:
        return True
    if wanted in ("date", "when") and _BLANK_DATE_RE.search(text):
        return True
    if wanted == "when" and _DATE_REFERENCE_RE.search(text):  # "what date?" wants the date
        return True
    found = atoms(text)
    if wanted == "party":
        return any(a.kind == "name" for a in found) or bool(
            re.search(r"\b(?:Inc|LLC|Ltd|Corp|Corporation|Company|L\.L\.C|plc|GmbH|S\.A)\b", text)
        )
    return any(a.kind in kinds for a in found)
