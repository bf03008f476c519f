"""Deterministic detection of personal identifiers in clinical and legal text.

Rules, not a model: regular expressions for formatted identifiers (email, phone, SSN, dates,
addresses, case numbers), context cues for record numbers ("MRN", "Policy No.", "Matter"), and for
names a mix of cues (titles, field labels, relationships, credentials, signatures, court captions)
and a first-name lexicon. `app.privacy.redaction` turns detections into placeholders and spreads
every detected name part to its other mentions. Recall and precision are measured by
bench/bench_redaction.py on tests/data/redaction_eval.jsonl, not assumed.

Pure functions, no state, no I/O; safe on any thread.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

KINDS = (
    "PERSON", "DATE", "MRN", "NPI", "PHONE", "FAX", "EMAIL", "ADDRESS", "SSN", "NATIONAL_ID",
    "ACCOUNT", "CASE", "MATTER", "ID",
)  # fmt: skip
# ID: a record-number-shaped token with no cue that says which kind it is.


class _Lazy:
    """A regular expression compiled on first use (importing this module stays cheap)."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self._flags)
        return self._compiled

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        return self.get().finditer(text, pos)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.get().search(text, pos, endpos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.get().match(text, pos)


def _lazy(pattern: str, flags: int = 0) -> _Lazy:
    return _Lazy(pattern, flags)


@dataclass(frozen=True)
class Detection:
    start: int
    end: int
    kind: str
    priority: int  # overlaps: higher priority wins, then the longer span


# --------------------------------------------------------------------------------------------
# Vocabulary
_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"
_LO = "a-zß-öø-ÿĀ-ſ"
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_WEEKDAYS = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Tues|Wed|Thu|Thur|Fri|Sat|Sun"
)
_STREET = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Plaza|Square|Sq|Close|Crescent|Cres|Grove|"
    "Row|Walk|Mews|Gardens|Gdns|Trail|Yard|Pike|Alley|Loop|Run|Green|Hill|Rise|View|Wharf|Quay"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|"
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    "Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|"
    "Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|"
    "New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|"
    "Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|"
    "West Virginia|Wisconsin|Wyoming|NSW|VIC|QLD|TAS|ACT|NT|ON|QC|BC|AB"
)
_BUILTIN_FIRST_NAMES = frozenset(
    """
    Aaron Abdul Abena Abigail Adam Adebayo Adrian Ahmed Aidan Aisha Aisling Akira Alan Albert
    Alejandro Aleksandra Alex Alexander Alexandra Alexis Ali Alice Alicia Alison Allison Amanda
    Amara Amelia Amina Amir Amit Amy Ana Anan Andre Andrea Andrew Angela Anh Anita Ann Anna Anne
    Anthony Antonio Anya Arjun Arthur Ashley Aziz Barbara Beatrice Ben Benjamin Bernard Beth
    Betty Beverly Bianca Blessing Bogdan Brandon Brenda Brian Bridget Brianna Bruce Bryan
    Caitlin Cameron Camila Carl Carla Carlos Carmen Carol Caroline Catherine Cecilia Charles
    Charlotte Chen Chiamaka Chidi Chinedu Chloe Chris Christian Christina Christine Christopher
    Ciara Claire Clara Colin Connor Craig Cristina Cynthia Daniel Daniela Danielle Darnell
    David Dean Deborah Declan Deepa Denise Dennis Derek Diana Diane Diego Dmitri Dolores Donald
    Donna Doris Dorothy Douglas Dylan Edward Eileen Elaine Eleanor Elena Elif Elijah Elizabeth
    Ella Ellen Emily Emma Emmanuel Eric Erin Esther Ethan Eugene Eugenia Eva Evelyn Fatima
    Farah Felix Fernando Fiona Francesca Francis Frank Funmi Gabriel Gareth Gary Gemma George
    Gerald Giulia Giovanni Gloria Grace Graham Greg Gregory Greta Hamza Hannah Harold Harriet
    Harry Hassan Heather Helen Henry Hiroshi Holly Hugh Hussein Ian Ibrahim Imran Ines Ingrid
    Irene Isaac Isabel Isabella Ivan Jack Jacob Jacqueline Jake James Jamal Jan Jane Janet
    Janice Jason Javier Jean Jeffrey Jennifer Jeremy Jerome Jessica Jian Joan Joanna Joe John
    Jonathan Jordan Jorge Jose José Joseph Joshua Joyce Juan Judith Julia Julian Julie Justin
    Kai Karen Karim Kate Katherine Kathleen Kathryn Keiko Keith Kelly Kenji Kenneth Kevin
    Khalid Kim Kimberly Kwame Kyle Lakshmi Laura Lauren Lawrence Leah Lee Leon Leonard Li Liam
    Lillian Linda Lisa Lorenzo Lorraine Louis Louise Lucas Lucia Lucía Luis Luke Lydia Lynn
    Madison Magdalena Mandla Manuel Marco Marcus Margaret Maria María Marie Marisol Mark
    Martha Martin Mary Mateo Matthew Maureen Megan Mei Melissa Mercy Michael Michelle Miguel
    Mikhail Min Mohamed Mohammed Monica Morgan Muhammad Nadia Nancy Naomi Natalie Nathan Neil
    Nicholas Nicole Niamh Nikhil Nina Noah Nora Norma Obinna Olga Olivia Oliver Omar Oluwaseun
    Oscar Owen Pablo Pamela Patricia Patrick Paul Paula Pedro Peter Philip Phyllis Pierre Pooja
    Priya Rachel Rafael Rahul Rajesh Ralph Ramon Raymond Rebecca Rhys Richard Rita Robert
    Roberto Robin Rodrigo Roger Ronald Rosa Rose Ruth Ryan Sadia Samantha Samuel Sandra Sanjay
    Sara Sarah Scott Sean Sergei Shannon Sharon Shirley Siobhán Siobhan Sofia Sophia Sophie
    Stefan Stephanie Stephen Steven Sunil Susan Sven Tanya Tara Teresa Terrence Theo Theodore
    Theresa Thomas Timothy Tom Tomas Tony Tracy Tyler Valentina Valerie Vanessa Victor Victoria
    Vikram Vincent Virginia Walter Wayne Wei William Xavier Yan Yasmin Yolanda Yusuf Zachary
    Zainab Zhang Zoe
    """.split()
)
# Census first names that are also everyday words: not evidence of a name on their own.
_AMBIGUOUS_FIRST_NAMES = frozenset(
    """
    Will May June April August Summer Autumn Winter Dawn Joy Faith Hope Grace Major Young Royal
    Chance Son Golden Sterling Page Art Bill Pat Sue Guy Frank Sharp Rich Early Long Rose Ivy
    Lily Daisy Iris Ruby Pearl Amber Crystal Jewel Star Sky Rain Storm Sunny Honey Sugar Candy
    Brown Green White Gray Grey Black Love Lucky Precious Princess King Queen Prince Duke Earl
    Baron Marshal Judge Bishop Deacon Parish Church Christian Noble Justice Lane Dale Glen Hill
    Forest Wood Field Ford Banks Brook Cliff Rock Stone Reed Rush Heath Moss Fern Holly Hazel
    Olive Ginger Pepper Basil Sage Tory Miles Mark Bob Don Jack Will Bud Buck Hunter Fisher
    Taylor Carter Cooper Mason Baker Porter Chase Pierce Drew Grant Hale Wade Rod Ray Max Gene
    Roy Van Sol Cruz Vega Son Lee Les Ned Tom Nick Sam Al Ali Ira Eli Ian Ty Jay Kay Dee Lou
    Camp Case Carol Cherry Clay Colt Coy Cash Sonny Trinity Unique Genesis Destiny Harmony
    Heaven Miracle Nova Liberty Journey Legend Rebel Saint Angel Baby Doll Sweet Blue Merry
    Said Do Else Ok Many Man Lady Gay Ha Le La Ma Pa Mo Jo Ed Em In An On My Ai
    """.split()
)


def first_names() -> frozenset[str]:
    """The built-in names plus the US census first names from the `names` package (MIT; public
    domain data), when installed. Loaded once, lazily."""
    return _first_names_cached()


def _load_census_first_names() -> set[str]:
    try:
        from importlib.resources import files

        folder = files("names")
        loaded: set[str] = set()
        for name in ("dist.male.first", "dist.female.first"):
            for line in folder.joinpath(name).read_text(encoding="utf-8").splitlines():
                word = line.split(" ", 1)[0].strip().title()
                if len(word) >= 3:
                    loaded.add(word)
        return loaded
    except Exception:  # not installed (or unreadable): the built-in list alone
        return set()


_CACHE: dict[str, frozenset[str]] = {}


def _first_names_cached() -> frozenset[str]:
    if "first" not in _CACHE:
        census = _load_census_first_names() - _AMBIGUOUS_FIRST_NAMES - NOT_NAMES
        _CACHE["first"] = frozenset(_BUILTIN_FIRST_NAMES | census)
    return _CACHE["first"]


# Capitalised words that are never a name (labels, headings, organisations, courts).
NOT_NAMES = frozenset(
    """
    The This That These Those There Their They He She His Her Our Your We You It Its And Or
    Of In On At To For From With By As If Re Subject Dear Sirs Madam Sir Hi Hello Thanks Thank
    Regards Kind Yours Sincerely Faithfully Truly Very Best Patient Pt Client Member Name Date
    Plaintiff Plaintiffs Defendant Defendants Debtor Debtors Claimant Insurer Court County
    District Circuit Superior Supreme State United States Department Division Law Estate Trust
    Hospital Clinic Center Centre Medical Medicine Health Healthcare Insurance Mutual Plan
    Company Corp Corporation Inc Incorporated LLC LLP Ltd Limited Group Associates Partners
    Solicitors Practice Surgery Pharmacy Services Systems Diagnostics Logistics Lettings Bank
    University College School Board Office Team Unit Ward Review Coordination Records Custodian
    Care Family Pediatrics Orthopedic Cardiology Rheumatology Endocrinology Radiology Nephrology
    Oncology Psychiatry Emergency Department Internal History Plan Assessment Findings
    Impression Exam Procedure Diagnosis Diagnoses Chief Complaint Notes Note Summary Letter
    Report Memo Memorandum Notice Motion Order Agreement Release Payment Settlement Deposition
    Declaration Certification Answers Interrogatories Subpoena Will Instruction Instructions
    Executors Gifts Meeting Internal Related Assigned Judge Justice Honorable Hon Mr Mrs Ms
    Miss Dr Prof Professor Attorney Counsel Esq MD DO RN NP PA DOB MRN NPI SSN ID No Number
    Tel Phone Fax Email Cell Home Work Mobile Address Street Road Avenue Lane Drive Suite Apt
    Flat North South East West New Central Saint St Mount Fort Valley Point
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
    June July August September October November December Page Pages Copy Via Support Opposition
    Summary Judgment Certified Mail
    Private Confidential Privileged Electronically Signed Dictated Ordering Attending Referring
    Admission Discharge Follow Hospital Course Current Medications Allergies Social Past
    Blood Chest Stage Type Acute Chronic Right Left Continue Start Stop Recheck Discussed
    Reviewed Advised Denies Reports Presents Presented Lives Visit Next Caregiver Home
    Appointment Clinic Direct Line Secretary Requesting Collection Tests Clinical Copy Agency
    Payer Guarantor Statement Questions Provider Tax Claim Policy Account Statement Please
    Matter Client-Matter Woman Man Fee Earner Adult Young Senior Junior Opposing Natural Last
    Known Guardianship Adoption Custody Marriage Minor Hearing Probate Registry Land Title
    """.split()
)
_PARTICLES = (
    "de|del|della|der|di|da|dos|das|du|van|von|la|le|bin|binti|ibn|al|el|ap|Ní|Nic|Mac|Ó|Ua"
)
_TITLES = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Doctor|Prof|Professor|Judge|Justice|Hon|Honorable|Sister|Nurse|"
    r"Attorney|Atty|Rev|Fr|Sgt|Officer|Detective|Det|Adjuster|Senator|Rabbi|Pastor|"
    r"Frau|Herr|Mme|Mlle|Madame|Monsieur|Señora|Señor|Sra|Sr|Dott|Signora|Signor|Mevrouw|"
    r"(?-i:PA|NP|RN|CNA)"
)
_CREDENTIALS = (
    r"M\.?D\.?|D\.?O\.?|R\.?N\.?|N\.?P\.?|P\.?A\.?(?:-C)?|PharmD|LCSW|LPC|LMFT|CDE|CNM|FNP|"
    r"DNP|PhD|Ph\.D\.|PsyD|DDS|DMD|MBBS|MBChB|FRCP|FRCS|MRCP|Esq\.?|QC|KC|JD|LPN|CNA|OT|PT|DPT"
)
_ROLES = (
    r"Partner|Associate|Paralegal|Solicitor|Barrister|Attorney|Counsel|Consultant|Director|"
    r"Manager|Pharmacist|Physician|Surgeon|Resident|Fellow|Registrar|Coordinator|Adjuster|"
    r"Administrator|Executor|Trustee|Secretary|Clerk|Nurse|Therapist|Social Worker|Case Manager|"
    r"Physiotherapist|Dentist|Dietitian|Specialist|Midwife|Practitioner|Officer|Worker|Adviser|"
    r"Advisor|Assistant|Technician|Technologist|Scientist|Psychologist|Optometrist|Paramedic|"
    r"Engineer|Analyst|Agent|Broker|Notary|Mediator|Arbitrator|Investigator"
)
_STRONG_LABELS = (
    r"Patient(?: name| Surname)?|Pt(?: name)?|Name|Full name|Surname|Family name|Last name|"
    r"Given names?|First name|Client|Member|Beneficiary|Medicare Beneficiary|Subscriber|"
    r"Guarantor|Insured|Policyholder|Caller|Testator|Testatrix|Deceased|Decedent|Claimant|"
    r"Applicant|Respondent|Petitioner|Employee|Tenant|Attending|Surgeon|Assistant|Anesthesia|"
    r"Anaesthetist|Referring|Ordering|Requesting doctor|Dictated by|Signed by|"
    r"Electronically signed by|Seen by|Pharmacist|Emergency contact|Next of kin|NOK|"
    r"Responsible attorney|Issued by|Identifying data|Home health patient|Our client|"
    r"Your client|Executors?|Witness|Interpreter|Parent|Guardian|Mother|Father|PCP|GP|"
    r"Physician|Provider name|Author|Prepared by|Reviewed by|cc|CC|Cc|Dear|Hi|Hello|Attn|ATTN|"
    r"Mediator|Arbitrator|Signed|Parties|Children|Child|Informant|Submitting physician|"
    r"Counsel|Sender|Recipient|Borrower|Lender|Buyer|Seller|Landlord|Tenant|Patient's name"
)
_WEAK_LABELS = r"To|From|TO|FROM|Re|RE|Subject|Caregiver|Contact"
_RELATIONS = (
    r"wife|husband|spouse|partner|son|daughter|mother|father|mom|mum|dad|brother|sister|"
    r"nephew|niece|grandson|granddaughter|grandchildren|grandchild|grandmother|grandfather|"
    r"aunt|uncle|cousin|fiancée?|girlfriend|boyfriend|friend|neighbou?r|caregiver|carer|"
    r"guardian|supervisor|manager|colleague|landlord|tenant|employer|employee|children|child|"
    r"stepson|stepdaughter|sons|daughters|beneficiaries are|trustee is"
)
_ROLES_BEFORE = (
    r"paralegal|counsel|attorney|lawyer|solicitor|barrister|midwife|registrar|nurse|doctor|physician|surgeon|"
    r"consultant|therapist|pharmacist|adjuster|client|clerk|associate|advocate|caseworker|"
    r"social worker|interpreter|witness|executor|executrix|trustee|officer|resident|woman|man|"
    r"patient|pt|baby|infant|minor|student|employee|worker|applicant|debtor|decedent"
)

# --------------------------------------------------------------------------------------------
# Names
_TOKEN = (
    rf"(?:(?:Mc|Mac|O['’]|D['’])?[{_UP}][{_LO}]+(?:[-'’][{_UP}]?[{_LO}]+)*"
    rf"|[{_UP}]{{2,}}(?:[-'’][{_UP}]+)*)"
)
_INITIAL = rf"[{_UP}]\."
_NICK = r"[\"“][A-Z][a-z]+[\"”]"
_NAME_SEQ = (
    rf"(?:{_TOKEN}|{_INITIAL})"
    rf"(?:[ ](?:{_TOKEN}|{_INITIAL}|{_NICK}|(?:{_PARTICLES})(?=[ ][{_UP}]))){{0,4}}"
)
_LAST_FIRST = rf"{_TOKEN}(?:[ ]{_TOKEN})?,[ \t]*{_TOKEN}(?:[ ](?:{_TOKEN}|{_INITIAL}|[A-Z]\b))?"
# Words that end a name and show the whole phrase is an organisation or a place.
ORG_WORDS = frozenset(
    """
    Law LLP LLC Inc Ltd Limited Corp Corporation Company Co Group Associates Partners Solicitors
    Hospital Clinic Center Centre Medical Health Healthcare Insurance Bank University College
    School Court County Practice Surgery Pharmacy Services Systems Diagnostics Logistics
    Lettings Trust Foundation Mutual Pediatrics Orthopedic Family Medicine Homes Grocers Lines
    Freight Plan Board Act Street St Road Rd Avenue Ave Lane Drive Boulevard Blvd Terrace Way
    Place Court Yard House Building Tower River City Town Village Square
    """.split()
)
_Need = str  # "none": the cue is enough; "any": some token is a first name (or "F. Surname");
# "first": the first token is a first name (no cue at all)


def _name_tokens(text: str) -> list[str]:
    return re.findall(rf"[{_UP}{_LO}'’-]+|[{_UP}]\.", text)


def _is_not_name(word: str) -> bool:
    bare = word.strip('"“”').rstrip(".")
    if bare.lower().endswith(("ologist", "ician", "iatrist", "ologists", "icians")):
        return True  # Cardiologist, Physician, Psychiatrist
    return bare in NOT_NAMES or (bare.isupper() and bare.title() in NOT_NAMES)


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a candidate name at the first word that is not a name; None if nothing is left or
    the phrase turns out to name an organisation or a place ("Pennine Tenancy Law LLP")."""
    kept_end = start
    for match in re.finditer(r"[^\s,]+", text[start:end]):
        word = match.group()
        if word.strip('"“”').rstrip(".").title() in ORG_WORDS:
            return None
        if _is_not_name(word):
            break
        kept_end = start + match.end()
    following = re.match(r" ([^\s,]+)", text[kept_end : kept_end + 40])
    if (
        following
        and following.group(1)[0].isupper()
        and following.group(1).rstrip(".") in ORG_WORDS
    ):
        return None
    piece = re.sub(r"['’]s$", "", text[start:kept_end].rstrip(" ,\t"))  # "Pieter's" -> "Pieter"
    if not any(t[0].isalpha() and len(t.rstrip(".")) >= 2 for t in _name_tokens(piece)):
        return None
    return start, start + len(piece)


def _is_first_name(token: str) -> bool:
    known = first_names()
    return any(p.title() in known or p in known for p in token.split("-"))


def _satisfies(piece: str, need: _Need) -> bool:
    if need == "none":
        return True
    tokens = _name_tokens(piece)
    if not tokens:
        return False
    if need == "first":
        return _is_first_name(tokens[0])
    if re.match(rf"[{_UP}]\.[ \t]*(?:[{_UP}]\.[ \t]*)?[{_UP}][{_LO}]", piece):
        return True  # "F. McLeod", "R. J. Kapoor"
    return any(_is_first_name(t) for t in tokens)


def _after(pattern: str, flags: int = 0) -> _Lazy:
    return _lazy(pattern + rf"(?P<name>{_LAST_FIRST}|{_NAME_SEQ})", flags)


_PARTY = r"Plaintiffs?|Defendants?|Claimants?|Debtors?|Petitioners?|Respondents?|Appellants?"
_TITLE_RE = _after(rf"\b(?:{_TITLES})\.?[ \t]+")
_LABEL_COLON_RE = _after(
    rf"(?m)(?:^|\b)(?i:{_STRONG_LABELS}|{_PARTY})[ \t]*[:\-][ \t]*(?:\([^)\n]*\)[ \t]*)?"
)
_LABEL_BARE_RE = _after(rf"\b(?:{_STRONG_LABELS})[ \t]+(?:\([^)\n]*\)[ \t]*)?")
_GREETING_RE = _after(rf"(?m)(?:^|\b)(?:Dear|Hi|Hello|Attn\.?|ATTN|cc:?|{_PARTY})[ \t]+")
_WEAK_RE = _after(rf"(?m)^[ \t]*(?:{_WEAK_LABELS})[ \t]*:[ \t]*(?:RE:[ \t]*)?")


def _either_case_first(words: str) -> str:
    return "|".join(f"[{w[0].upper()}{w[0]}]{w[1:]}" for w in words.split("|"))


_RELATION_RE = _after(rf"\b(?:{_either_case_first(_RELATIONS)})(?:-in-law)?,?[ \t]+\(?")
_ROLE_BEFORE_RE = _after(rf"\b(?:{_either_case_first(_ROLES_BEFORE)}),?[ \t]+\(?")
_BY_RE = _after(r"\b(?:by|with|to|for|from|this is|I am|I'm|called|named)[ \t]+")
_CRED_RE = _lazy(rf"(?P<name>{_NAME_SEQ}),?[ \t]+(?:{_CREDENTIALS})(?![A-Za-z])")
_ROLE_RE = _lazy(
    rf"(?P<name>{_NAME_SEQ}),[ \t]+(?:(?:Senior|Junior|Managing|Claims|Case|Staff|Clinical|"
    rf"Principal|Chief|Lead|Head|Charge|Specialist|Trainee|Student)[ \t]+)?(?:{_ROLES})\b"
)
_SIGNATURE_RE = _lazy(rf"(?m)(?:^|/s/[ \t]*|_{{3,}}[ \t]*)(?P<name>{_NAME_SEQ})[ \t]*(?:[,|(]|$)")
_CLOSING_RE = _lazy(
    r"(?im)^[ \t]*(?:Yours sincerely|Yours faithfully|Sincerely(?: yours)?|Very truly yours|"
    r"(?:Kind |Best |Warm )?regards|Thanks|Thank you|Best|Cheers|Respectfully)[ \t]*,?[ \t]*\n"
    rf"(?:[ \t]*\n)*[ \t]*(?P<name>{_NAME_SEQ})[ \t]*$"
)
_CAPTION_RE = _lazy(
    rf"(?m)^[ \t]*(?:In re:?[ \t]+|ESTATE OF[ \t]+)?(?P<name>[{_UP}][{_UP}.'’ -]+?),?[ \t]*"
    rf"(?:an individual,?|deceased,.*|Debtors?\.?)?[ \t]*\n[ \t]*(?i:{_PARTY})"
)
_OF_RE = _lazy(
    rf"\b(?:DECLARATION|CERTIFICATION|DEPOSITION|AFFIDAVIT|TESTIMONY|ESTATE|STATEMENT) OF "
    rf"(?P<name>[{_UP}][{_UP}.'’]+(?:[ \t]+[{_UP}][{_UP}.'’]*){{1,3}})"
)
_IN_RE_AND = _lazy(
    rf"\bIn re:?[ \t]+(?P<a>[{_UP}][{_UP}.'’ ]+?)[ \t]+and[ \t]+(?P<name>[{_UP}][{_UP}.'’ ]+?),"
)
_HEADER_LAST_FIRST_RE = _lazy(
    rf"(?m)^[ \t]*(?P<name>{_TOKEN}(?:[ ]{_TOKEN})?,[ ]?{_TOKEN}(?:[ ](?:{_INITIAL}|[A-Z]\b))?)"
    r"(?=[ \t]{2,}|\t|[ \t]*$|[ \t]+\()"
)
_DECLARANT_RE = _lazy(rf"\bI,[ \t]+(?P<name>{_NAME_SEQ}),")
_MATTER_OF_RE = _after(
    r"\b(?:Guardianship|Estate|Matter|Adoption|Custody|Marriage|Conservatorship|Will) of[ \t]+"
    r"(?:the[ \t]+)?(?:(?:late|minor|deceased)[ \t]+)?"
)
_VERSUS_LEFT_RE = _lazy(
    rf"(?:(?<=^)|(?<=[\s:(]))(?P<name>{_TOKEN}(?:[ \t]+{_TOKEN})?)[ \t]+v\.?[ \t]+[{_UP}]", re.M
)
_VERSUS_RIGHT_RE = _lazy(
    rf"[ \t]v\.?[ \t]+(?P<name>{_TOKEN}(?:[ \t]+{_TOKEN})?)(?=[ \t]*(?:[-–,.;)\n]|$))", re.M
)
_BORN_RE = _lazy(
    rf"(?P<name>{_NAME_SEQ}),?[ \t]+\(?(?:DOB|D\.O\.B\.|born|b\.|date of birth|aged?[ \t]+\d|"
    rf"\d{{1,3}}[ -]?(?:y/?o|yo|year-old|years? old|[MF]\b)|a minor|deceased|an individual)"
)
_AND_RE = _lazy(rf"[ \t]+(?:and|&)[ \t]+(?P<name>{_NAME_SEQ})")
_LEXICON_RE = _lazy(rf"\b(?P<name>{_TOKEN}(?:[ ](?:{_INITIAL}|{_TOKEN})){{1,3}})")

_RULES: tuple[tuple[_Lazy, int, _Need], ...] = (
    (_TITLE_RE, 4, "none"),
    (_LABEL_COLON_RE, 4, "none"),
    (_GREETING_RE, 4, "none"),
    (_CRED_RE, 4, "none"),
    (_BORN_RE, 4, "none"),
    (_DECLARANT_RE, 4, "none"),
    (_OF_RE, 4, "none"),
    (_CAPTION_RE, 4, "none"),
    (_MATTER_OF_RE, 4, "none"),
    (_HEADER_LAST_FIRST_RE, 3, "none"),
    (_ROLE_RE, 3, "none"),
    (_RELATION_RE, 3, "none"),
    (_CLOSING_RE, 3, "none"),
    (_VERSUS_LEFT_RE, 3, "none"),
    (_VERSUS_RIGHT_RE, 3, "none"),
    (_ROLE_BEFORE_RE, 3, "any"),
    (_LABEL_BARE_RE, 3, "any"),
    (_WEAK_RE, 3, "any"),
    (_BY_RE, 2, "any"),
    (_SIGNATURE_RE, 2, "any"),
    (_LEXICON_RE, 2, "first"),
)


def _person_candidates(text: str) -> Iterator[tuple[int, int, int, _Need]]:
    """(start, end, priority, need) for every name-shaped span behind a cue."""
    for regex, priority, need in _RULES:
        for m in regex.finditer(text):
            yield m.start("name"), m.end("name"), priority, need
    for m in _IN_RE_AND.finditer(text):
        yield m.start("a"), m.end("a"), 4, "none"
        yield m.start("name"), m.end("name"), 4, "none"


_LEFT_TOKEN_RE = _lazy(rf"(?:{_TOKEN}|{_INITIAL})[ ]$")


def extend_name_left(text: str, start: int) -> int:
    """Where a name really starts when a known surname is found at `start`: take in the given
    names and initials just before it ("naming Gerhard [Albrecht]"), never a label or a word
    that opens a sentence."""
    while True:
        m = _LEFT_TOKEN_RE.search(text, max(0, start - 40), start)
        if m is None or m.end() != start:
            return start
        word = m.group().strip()
        before = text[max(0, m.start() - 3) : m.start()]
        sentence_start = m.start() == 0 or bool(re.search(r"(?:[.!?:;]\s*|\n\s*)$", before))
        if _is_not_name(word) or (sentence_start and not _is_first_name(word)):
            return start
        start = m.start()


def detect_people(text: str) -> list[Detection]:
    found: list[Detection] = []
    for start, end, priority, need in _person_candidates(text):
        trimmed = _trim_name(text, start, end)
        if trimmed is None and "," in text[start:end]:
            trimmed = _trim_name(text, start, text.index(",", start))
        if trimmed is None:
            continue
        piece = text[trimmed[0] : trimmed[1]]
        if "\n" in piece or not _satisfies(piece, need):
            continue
        at_line_start = text[text.rfind("\n", 0, trimmed[0]) + 1 : trimmed[0]].strip() == ""
        if at_line_start and re.match(r"[ \t]*:", text[trimmed[1] : trimmed[1] + 3]):
            continue  # "Woman:", "Client-Matter:": a field label, not a name
        found.append(Detection(trimmed[0], trimmed[1], "PERSON", priority))
    # "Sophie Lang and Theo Lang": a name right after a detected one, joined by and/&
    extra: list[Detection] = []
    for d in found:
        m = _AND_RE.match(text, d.end)
        if m:
            trimmed = _trim_name(text, m.start("name"), m.end("name"))
            if trimmed:
                extra.append(Detection(trimmed[0], trimmed[1], "PERSON", d.priority))
    return found + extra


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
    ("SSN", 7, r"\b\d{3}-\d{2}-\d{4}\b|\b[xX*]{3}-[xX*]{2}-\d{4}\b"),
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


def detect(text: str) -> list[Detection]:
    """Every identifier found in `text`, overlapping candidates included (the caller resolves)."""
    found: list[Detection] = []
    for kind, prio, regex in _PATTERN_RES:
        for m in regex.finditer(text):
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
    found.extend(detect_people(text))
    return found
