"""Text that looks like an identifier but was not replaced: where the reviewer should look.

Redaction (app.privacy.redaction) replaces what its detectors find. What they miss is still in
the outgoing text, and a person reading 2,000 characters will not find an unmarked "Will
Treharne" in the middle. `find_risks(text)` marks, in already redacted text:

- "name": two or more capitalised words in a row ("Will Treharne", "Hope Castillo", "New York");
- "number": a run of five or more digits, alone or inside a word or file name ("K4471923",
  "555 0143", "03/14/1952");
- "cue": the words after "Dr", "Mr", "Mrs", "Ms", "/s/", "surname", "patient", "plaintiff",
  "defendant", "client", a relative ("granddaughter liesel kovač") or a "Name:" field (any
  case: "patient rosa delgado"), and every other mention, in any case, of what was marked so;
- "beside": a word left next to a replaced name or address ("[PERSON_3] Washington",
  "von [PERSON_1]", "[ADDRESS_1] Lower");
- "contact": an e-mail address or a web address.

Placeholders ("[PERSON_1]") and source labels ("[Source 2]") are never marked. It errs on the
side of marking: a marked heading costs a glance, an unmarked name is sent. Pure functions, no
state, no I/O; safe on any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["REASON_WORDS", "Risk", "RiskReason", "find_risks"]

RiskReason = Literal["name", "number", "cue", "beside", "contact"]

REASON_WORDS: dict[str, str] = {
    "name": "looks like a name",
    "number": "a long number",
    "cue": "next to a word that introduces a person",
    "beside": "next to a replaced name or address: what is left of it",
    "contact": "an e-mail or web address",
}

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_CAP_WORD = rf"(?:[{_UP}]['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)*(?:[-'’][{_UP}]?[{_LO}]+)*"
_PARTICLE = r"(?:de|del|della|der|di|da|dos|du|van|von|la|le|bin|ibn|al|el|St\.?|y)"
_NAME_RUN = re.compile(
    rf"(?<![\w\[]){_CAP_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_CAP_WORD})+(?![\w\]])"
)
_WORD = re.compile(rf"{_CAP_WORD}")
_DIGITS = re.compile(r"(?<!\d)\d(?:[ ./-]?\d){4,}(?!\d)")
_CONTACT = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\b(?:https?://|www\.)[^\s<>\"')\]]*[^\s<>\"')\].,;:!?]"
)
_CUE = re.compile(
    r"\b(?:(?P<label>(?i:(?:patient|client)(?:'s)?[ \t]+name|full[ \t]+name|name))[ \t]*:"
    r"|(?P<title>Dr|Mr|Mrs|Ms|Miss|Mx|Prof|/s/|(?i:surname|forename|first name|last name|"
    r"maiden name|née|aka|known as))(?:\b\.?|(?<=/))"
    r"|(?P<role>(?i:patient|pt|plaintiff|defendant|client|claimant|granddaughter|grandson|"
    r"daughter|son|wife|husband|mother|father|brother|sister|partner|nok|next of kin|carer|"
    r"spoke with|discussed with|handed over to|seen with))(?:'s|s)?\b)"
    r"[ \t]*[:,-]?[ \t]*"
)
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
_BRACKETED = re.compile(r"\[[^\]\n]{1,40}\]")

# Capitalised words that begin a sentence or a heading, not a name: a run that starts with one
# is looked at from its next word on.
_FUNCTION = frozenset(
    """The A An This That These Those There Then Than Their They He She It Its His Her Hers
    Him We Our Us You Your I My Me In On At To For From With Without By As Of Off Into Over
    Under And Or But Nor So Yet If When While Where Which Who Whom Whose What Why How Is Are
    Was Were Be Been Has Have Had Do Does Did Not No Yes All Any Each Every Some Both Also
    After Before During Since Until Per Please Seen Sources Source Question Answer Dear""".split()
)
# Heading and document words: a capitalised run made only of these is a heading.
_HEADING = frozenset(
    """History Medical Past Present Illness Chief Complaint Plan Assessment Medication
    Medications Discharge Summary Admission Physical Exam Examination Review Systems Social
    Family Allergies Allergy Diagnosis Diagnoses Impression Procedure Procedures Follow Up
    Vital Signs Laboratory Lab Labs Results Result Findings Progress Note Notes Nursing Care
    Agreement Section Article Clause Schedule Exhibit Party Parties Order Motion Statement
    Claim Date Name Patient Client Plaintiff Defendant Claimant Hospital Course Current
    Reason Referral Surgical Surgery Clinical Instructions Condition Status Type Stage
    United States America Court Supreme District Attorney General Table Contents Page
    Effective Term Termination Governing Law Confidential Information Services Service
    Primary Secondary Emergency Department Unit Ward Risk Factors Treatment Therapy Imaging
    Blood Pressure Heart Rate Oxygen Saturation Temperature Weight Height Signed Electronically
    Attending Physician Consultant Nurse Doctor Dr Mr Mrs Ms Discussion Recommendation
    Recommendations Next Steps Appointment Visit Monday Tuesday Wednesday Thursday Friday
    Saturday Sunday Company Companies Distributor Distributors Product Products Year Years
    Month Months Business Obligation Obligations Objective Objectives Terms Minimum Maximum
    Expectations Appointment Territory Price Prices Customer Customers Licensor Licensee
    License Seller Buyer Supplier Purchaser Vendor Contractor Consultant Employer Employee
    Landlord Tenant Lender Borrower Owner Affiliate Affiliates Effective Closing Amendment
    Exhibit Schedule Annex Appendix Recitals Definitions Notices Warranty Warranties Indemnity
    Indemnification Liability Insurance Assignment Severability Waiver Entire Force Majeure
    Payment Payments Fees Fee Royalty Royalties Intellectual Property Rights Trademark
    Trademarks Patent Patents Marketing Sales Support Training Delivery Shipping Order Orders
    Purchase Quality Standards Renewal Dispute Resolution Arbitration Jurisdiction Venue
    One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Twenty Thirty Forty Fifty
    Hundred Thousand Million Billion Dollars Percent Inc Incorporated Corp Corporation LLC
    Ltd Limited Co LLP PLC GmbH Group Holdings Verified Confirmed Registered""".split()
)
_LABEL_END = frozenset("No Nos Number Numbers Ref Reference Code Adjuster".split())
_ORG_END = frozenset("Inc Incorporated Corp Corporation LLC Ltd Limited Co LLP PLC GmbH".split())
# Lowercase words that follow "patient" or "client" in ordinary prose.
_COMMON_AFTER = frozenset(
    """is was has had have will would should could can may might must does did do not no
    and or but with without who whom whose which that this the a an of in on at to for from by
    as if then reports reported states stated says said denies denied presents presented
    complains remains remained returned returns notes noted feels felt appears appeared agrees
    agreed declined declines tolerated tolerates takes took taking given gets got being been
    seen came comes went goes lives lived unable able also still now today currently again
    education care safety history record records name names information consent portal
    number details counsel matter file contact id ids no nos granddaughter grandson daughter
    son wife husband mother father brother sister partner carer""".split()
)


@dataclass(frozen=True)
class Risk:
    """A stretch of redacted text that may identify someone: `text[start:end]`."""

    start: int
    end: int
    reason: RiskReason


def find_risks(text: str) -> list[Risk]:
    """Every stretch of `text` that looks like an identifier, in order, not overlapping."""
    protected = [m.span() for m in _BRACKETED.finditer(text)]
    found: list[Risk] = []
    found += [Risk(m.start(), m.end(), "contact") for m in _CONTACT.finditer(text)]
    found += _cue_risks(text)
    found += _beside_placeholders(text)
    found += _name_risks(text)
    found += [Risk(m.start(), m.end(), "number") for m in _DIGITS.finditer(text) if _long(m[0])]
    found += _other_mentions(text, found)
    kept = [r for r in found if not any(s < r.end and r.start < e for s, e in protected)]
    return _merge(kept)


_AFTER_PLACEHOLDER = re.compile(
    r"\[(?:PERSON|ADDRESS)_\d+\](?:[ \t]|['’]s[ \t])(?P<word>[^\W\d_][\w'’.-]*)"
)
_LOWER_NAME_END = re.compile(r"[ \t]*(?:[\[(,;.]|$)", re.MULTILINE)
_BEFORE_PLACEHOLDER = re.compile(rf"(?P<word>\b{_PARTICLE})[ \t]+\[PERSON_\d+\]")


def _beside_placeholders(text: str) -> list[Risk]:
    """What is left of a name or an address next to its placeholder: "[PERSON_3] Washington",
    "[PERSON_2] achebe", "von [PERSON_1]", "[ADDRESS_1] Lower"."""
    out: list[Risk] = []
    for m in _AFTER_PLACEHOLDER.finditer(text):
        word = m.group("word").rstrip(".")
        if word in _FUNCTION or word in _HEADING or word.lower() in _COMMON_AFTER:
            continue
        if word.isupper():
            continue  # "[PERSON_1] LETTER": a heading
        if word[0].islower():
            end = m.start("word") + len(word)
            if _plain_word(word) or len(word) < 3 or not _LOWER_NAME_END.match(text, end):
                continue  # "[PERSON_1] ran the light": prose; "[PERSON_2] achebe [PHONE_1]"
        out.append(Risk(m.start("word"), m.start("word") + len(word), "beside"))
    for m in _BEFORE_PLACEHOLDER.finditer(text):
        out.append(Risk(m.start("word"), m.end("word"), "beside"))
    return out


def _long(run: str) -> bool:
    """Five digits or more, but not two short groups ("142/88", a blood pressure)."""
    groups = re.split(r"[ ./-]", run)
    return not (len(groups) == 2 and all(len(g) <= 3 for g in groups))


def _other_mentions(text: str, found: list[Risk]) -> list[Risk]:
    """A possible name marked once is marked wherever else it stands, in any case ("Name:
    hope castillo" marks the "hope castillo" of the next line too)."""
    values = {
        " ".join(text[r.start : r.end].split()).lower()
        for r in found
        if r.reason == "cue" and r.end - r.start >= 4  # a lowercase name is missed elsewhere
    }
    out: list[Risk] = []
    for value in values:
        pattern = r"[ \t]+".join(re.escape(w) for w in value.split())
        for m in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE):
            if not any(r.start < m.end() and m.start() < r.end for r in found):
                out.append(Risk(m.start(), m.end(), "cue"))
    return out


def _name_risks(text: str) -> list[Risk]:
    out: list[Risk] = []
    for m in _NAME_RUN.finditer(text):
        words = list(_WORD.finditer(m.group()))
        while words and words[0].group() in _FUNCTION:  # "The", "When": not part of a name
            words.pop(0)
        if len(words) < 2:
            continue
        bare = [re.sub(r"['’]s$", "", w.group()) for w in words]
        if all(w in _HEADING for w in bare) or bare[-1] in _ORG_END | _LABEL_END:
            continue  # a heading or defined term ("Company's Obligations"), an organisation
        if text[m.end() : m.end() + 1] == ":":  # a label: "Discharge Medications:"
            continue
        out.append(Risk(m.start() + words[0].start(), m.end(), "name"))
    return out


def _cue_risks(text: str) -> list[Risk]:
    out: list[Risk] = []
    for m in _CUE.finditer(text):
        tokens = []
        pos = m.end()
        for _ in range(2):  # up to two words: a first name and a surname
            t = _TOKEN.match(text, pos)
            if t is None:
                break
            tokens.append(t)
            gap = re.match(r"[ \t]+", text[t.end() :])
            if gap is None:
                break
            pos = t.end() + gap.end()
        titled = m.group("title") is not None or m.group("label") is not None
        picked = _name_like(tokens, titled=titled)
        if picked:
            out.append(Risk(picked[0].start(), picked[-1].end(), "cue"))
    return out


def _name_like(tokens: list[re.Match[str]], *, titled: bool) -> list[re.Match[str]]:
    """The tokens after a cue that may be a name: after a title any word but a function word;
    after "patient" a capitalised word, or two lowercase words that are not ordinary prose."""
    picked: list[re.Match[str]] = []
    for t in tokens:
        word = t.group()
        if word in _FUNCTION or word.lower() in _COMMON_AFTER:
            break
        if word[0].isupper():
            if word in _HEADING and not titled:
                break
        elif _plain_word(word):
            break
        picked.append(t)
    if not titled and picked and all(p.group()[0].islower() for p in picked) and len(picked) < 2:
        return []  # "patient alone": one lowercase word is prose, two may be a name
    return picked


def _plain_word(word: str) -> bool:
    return word.endswith(("ed", "ing", "ly", "tion", "ment", "ness"))


def _merge(risks: list[Risk]) -> list[Risk]:
    """Overlapping marks become one, its reason the first found (contact, cue, name, number)."""
    order = {"contact": 0, "cue": 1, "beside": 2, "name": 3, "number": 4}
    out: list[Risk] = []
    for r in sorted(risks, key=lambda r: (r.start, order[r.reason])):
        if out and r.start < out[-1].end:
            last = out[-1]
            out[-1] = Risk(last.start, max(last.end, r.end), last.reason)
        else:
            out.append(r)
    return out
