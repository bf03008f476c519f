"""Names in clinical and legal text, however they are written: behind cues (titles, field
labels, relations, roles, credentials, signatures, court captions, "spoke with"), from the
gazetteers (census given names and surnames) when no cue stands there, in lower case, with
particles and hyphens, nicknames in quotes. `app.privacy.identifiers.detect` calls
`detect_people`; `app.privacy.redaction` spreads every detected name to its other mentions.

Pure functions, no state, no I/O beyond the gazetteers loaded once; safe on any thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.privacy import gazetteer, name_words
from app.privacy.detection import Detection, Lazy
from app.privacy.name_words import NOT_NAMES, ORG_WORDS

# The word lists (app.privacy.name_words), under the names the patterns below use.
_CREDENTIALS = name_words.CREDENTIALS
_PARTICLES = name_words.PARTICLES
_RELATIONS = name_words.RELATIONS
_ROLES = name_words.ROLES
_ROLES_BEFORE = name_words.ROLES_BEFORE
_STREET = name_words.STREET
_STRONG_LABELS = name_words.STRONG_LABELS
_TITLES = name_words.TITLES
_WEAK_LABELS = name_words.WEAK_LABELS
_Lazy = Lazy


def _lazy(pattern: str, flags: int = 0) -> Lazy:
    return Lazy(pattern, flags)


# --------------------------------------------------------------------------------------------
# Vocabulary
_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"
_LO = "a-zß-öø-ÿĀ-ſ"


def first_names() -> frozenset[str]:
    """The built-in given names plus the US census ones (less everyday words). Loaded once."""
    return gazetteer.first_names()


# --------------------------------------------------------------------------------------------
# Names
_TOKEN = (
    rf"(?:(?:Mc|Mac|O['’]|D['’]|(?:al|el|bin|ibn|abu|ben|bint)[-‐])?[{_UP}][{_LO}]+"
    rf"(?:[{_UP}][{_LO}]+)?(?:[-'’][{_UP}]?[{_LO}]+)*"
    rf"|[{_UP}]{{2,}}(?:[-'’][{_UP}]+)*)"
)
_INITIAL = rf"[{_UP}]\."
_PARTICLE_BEFORE_NAME = rf"(?:{_PARTICLES})(?=(?:[ ](?:{_PARTICLES}))*[ ][{_UP}])"  # "de la Cruz"
_NICK = r"[\"“][A-Z][a-z]+[\"”]"
_NAME_SEQ = (
    rf"(?:{_TOKEN}|{_INITIAL})"
    rf"(?:[ ](?:{_TOKEN}|{_INITIAL}|{_NICK}|{_PARTICLE_BEFORE_NAME})){{0,5}}"
)
_LAST_FIRST = rf"{_TOKEN}(?:[ ]{_TOKEN})?,[ \t]*{_TOKEN}(?:[ ](?:{_TOKEN}|{_INITIAL}|[A-Z]\b))?"
_Need = str  # "none": the cue is enough; "any": some token is a first name (or "F. Surname");
# "first": the first token is a first name (no cue at all)


def _name_tokens(text: str) -> list[str]:
    return re.findall(rf"[{_UP}{_LO}'’-]+|[{_UP}]\.", text)


def _is_not_name(word: str) -> bool:
    bare = word.strip('"“”').rstrip(".")
    if bare.lower().endswith(("ologist", "ician", "iatrist", "ologists", "icians")):
        return True  # Cardiologist, Physician, Psychiatrist
    return bare in NOT_NAMES or (bare.isupper() and bare.title() in NOT_NAMES)


def _name_word_here(words: list[str], i: int) -> bool:
    """An everyday word that is also a given name ("April", "Will", "Hope") is a name here when
    a surname stands right after it, or it ends a "SURNAME, Given" form."""
    word = words[i].strip('"“”').rstrip(".")
    if word not in name_words.AMBIGUOUS_FIRST_NAMES and word not in _MONTH_NAMES:
        return False
    j = i + 1
    while j < len(words) - 1 and words[j] in _PARTICLE_WORDS:
        j += 1
    if j < len(words):
        nxt = words[j].strip('"“”,').rstrip(".")
        return (
            bool(nxt)
            and nxt[0].isupper()
            and nxt not in NOT_NAMES
            and (nxt.title() in gazetteer.surnames() or nxt in first_names() or "-" in nxt)
        )
    return i > 0 and words[i - 1].endswith(",")


_MONTH_NAMES = frozenset({"April", "May", "June", "August"})
_STREET_WORDS = frozenset(name_words.STREET.split("|"))


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a candidate name at the first word that is not a name; None if nothing is left or
    the phrase turns out to name an organisation or a place ("Pennine Tenancy Law LLP")."""
    kept_end = start
    matches = list(re.finditer(r"[^\s]+", text[start:end]))
    words = [m.group() for m in matches]
    mixed_case = any(c.islower() for c in text[start:end])
    for i, match in enumerate(matches):
        word = match.group().rstrip(",")
        if mixed_case and i > 0 and word.isalpha() and word.isupper() and 2 <= len(word) <= 5:
            break  # "Castellanos, GMC": an acronym after a mixed-case name ends it
        if word.strip('"“”').rstrip(".").title() in ORG_WORDS:
            return None
        if word.strip('"“”').rstrip(".") in name_words.PLACES_NOT_REDACTED and not (
            i + 1 < len(words) and _is_surname(words[i + 1].strip('"“”,.'))
        ):
            break  # "Florida", "Georgia": a state, unless a surname follows ("Jordan Blake")
        if _is_not_name(word) and not _name_word_here(words, i):
            break
        kept_end = start + match.start() + len(word)
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


def _is_surname(token: str) -> bool:
    known = gazetteer.surnames()
    bare = re.sub(r"['’]", "", token)  # the census writes O'Sullivan as Osullivan
    return all(p.title() in known for p in bare.split("-") if p)


def _satisfies(piece: str, need: _Need) -> bool:
    if need == "none":
        return True
    tokens = _name_tokens(piece)
    if not tokens:
        return False
    if need == "any2" and len(tokens) >= 2 and not any(t.isupper() for t in tokens):
        return True  # right after "patient", "provider", "visited": two capitalised words
    if need == "first":
        return _is_first_name(tokens[0])
    if need == "plain":  # capitalised words that are none of the words that are never names
        return (
            len(tokens) >= 2
            and not any(
                t.isupper() or t in name_words.COMMON_WORDS or t.title() in ORG_WORDS
                or t in name_words.PLACES_NOT_REDACTED or t in _STREET_WORDS
                for t in tokens
            )
            and tokens[-1] not in name_words.DEFINED_TERM_HEADS
        )  # fmt: skip
    if need == "pair":  # a capitalised word (a given name or not) and a known surname
        first, last = tokens[0], tokens[-1]
        return (
            len(tokens) >= 2
            and not first.isupper()
            and not last.isupper()
            and first not in NOT_NAMES
            and first not in name_words.PLACES_NOT_REDACTED
            and _is_surname(last)
            and last not in name_words.COMMON_WORDS
            and last not in _STREET_WORDS
            and last.title() not in ORG_WORDS
            # "Indemnifying Party", "Escrow Marks": a contract's defined term, unless a given
            # name comes first
            and (_is_first_name(first) or last not in name_words.DEFINED_TERM_HEADS)
        )
    if (
        len(tokens) >= 2
        and _is_surname(tokens[-1])
        and tokens[-1] not in name_words.COMMON_WORDS
        and tokens[-1] not in name_words.DEFINED_TERM_HEADS
    ):
        return True
    if re.match(rf"[{_UP}]\.[ \t]*(?:[{_UP}]\.[ \t]*)?[{_UP}][{_LO}]", piece):
        return True  # "F. McLeod", "R. J. Kapoor"
    return any(_is_first_name(t) for t in tokens)


def _after(pattern: str, flags: int = 0) -> _Lazy:
    return _lazy(pattern + rf"(?P<name>{_LAST_FIRST}|{_NAME_SEQ})", flags)


_PARTY = r"Plaintiffs?|Defendants?|Claimants?|Debtors?|Petitioners?|Respondents?|Appellants?"
_TITLE_RE = _lazy(
    rf"\b(?i:{_TITLES})\.?[ \t]+(?P<name>(?:(?:{_PARTICLES})[ ])*(?:{_LAST_FIRST}|{_NAME_SEQ}))"
)
_ROLE_LINE_RE = _lazy(
    rf"(?m)^[ \t]*(?:/s/[ \t]*)?(?P<name>{_NAME_SEQ})[ \t]*\n[ \t]*(?:[A-Z][a-z]+[ \t]+){{0,2}}"
    rf"(?:{_ROLES}|Adjuster|GP|General Practitioner|Solicitor|Attorney at Law)\b"
)
_ADDRESS_LINE_RE = _lazy(
    rf"(?m)^[ \t]*(?P<name>{_NAME_SEQ})[ \t]*\n[ \t]*"
    rf"(?:\d{{1,5}}[A-Za-z]?[ ,]|(?:Flat|Apt|Apartment|Unit|Suite)[ ]"
    rf"|[^\n]{{0,40}}\b(?:{_STREET})\b)"
)
_LABEL_COLON_RE = _after(
    rf"\b(?i:{_STRONG_LABELS}|{_PARTY})[ \t]*[:\-][ \t]*(?:\([^)\n]*\)[ \t]*)?"
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
_SIGNATURE_RE = _lazy(rf"(?m)(?:^|_{{3,}}[ \t]*)(?P<name>{_NAME_SEQ})[ \t]*(?:[,|(]|$)")
_SLASH_S_RE = _lazy(rf"/s/[ \t]*(?P<name>{_NAME_SEQ})")
_NICKNAME_RE = _lazy(
    rf"(?i:known as|calls? (?:me|him|her|them)|a\.?k\.?a\.?|nicknamed?|goes by|prefers)[ \t]+"
    rf"[\"“']?(?P<name>{_TOKEN})|\([\"“'](?P<q>{_TOKEN})[\"”']\)"
)
_VERB_AFTER_NAME = (
    r"was|is|has|had|said|says|told|reported|reports|stated|states|showed|shows|denied|denies|"
    r"agreed|agrees|called|presented|attended|signed|saw|ran|drove|lives|lived|died|works|"
    r"worked|testified|confirmed|declined|asked|wants|wanted|came|went|emailed|phoned|wrote"
)
_VERB_FOLLOWS = _lazy(rf"[ ](?:{_VERB_AFTER_NAME})\b")
_NAME_FIELD_RE = _lazy(
    rf"(?i:\b(?:surname|family name|last name|maiden name|first name|given names?|forenames?|"
    rf"n[ée]e|also known as|aka)\b)[ \t:]+(?P<name>{_NAME_SEQ})"
)
_CARE_BY_RE = _after(
    r"\b(?:[Vv]isited|[Hh]anded over to|[Rr]eferred to|[Ss]een by|[Rr]eviewed by|[Ee]xamined by|"
    r"[Tt]reated by|[Aa]ccompanied by|[Ww]itnessed by|[Ii]nterviewed|[Cc]ared for by)[ \t]+"
)
_ROLE_COLON_RE = _lazy(
    rf"\b(?i:{_ROLES})[ \t]*:[ \t]*(?P<name>(?:(?:{_PARTICLES})[ ])*{_NAME_SEQ})"
)
_INFORMED_RE = _lazy(
    rf"\b(?:informed|notified|contacted|updated|told|phoned|rang)[ \t]*:?[ \t]+"
    rf"(?P<name>(?:(?:{_PARTICLES})[ ])*{_NAME_SEQ})"
)
_PAIR_RE = _lazy(
    rf"\b(?P<name>{_TOKEN}(?:[ ](?:{_TOKEN}|{_INITIAL}|{_PARTICLE_BEFORE_NAME})){{1,4}})"
)
_LOWER_CUE = (
    r"spoke (?:with|to)|talked (?:with|to)|call(?:ed)? (?:from|with)|phoned|per|pt|patient|client|"
    r"mr\.?|mrs\.?|ms\.?|dr\.?|states|(?:grand|step)?(?:daughter|son|mother|father|child)|wife|"
    r"husband|neighbou?r|niece|nephew|sister|brother|partner|friend|carer|caregiver|nok|"
    r"with|from|to|by|for|visited|saw|seen|given by|met"
)
_LOWER_RE = _lazy(
    rf"\b(?P<cue>{_LOWER_CUE})[ \t]+(?P<name>[{_LO}][{_LO}'’-]+(?:[ ][{_LO}][{_LO}'’-]+){{0,4}})"
)
_VERB_NEXT_CUE = _lazy(r"(?i)pt|patient|client|per|states|mr\.?|mrs\.?|ms\.?|dr\.?")
_WEAK_LOWER_CUES = frozenset({"with", "from", "to", "by", "for", "visited", "saw", "seen"})
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
    (_ROLE_BEFORE_RE, 3, "any2"),
    (_LABEL_BARE_RE, 3, "any2"),
    (_CARE_BY_RE, 3, "any2"),
    (_ROLE_COLON_RE, 3, "any2"),
    (_INFORMED_RE, 3, "none"),
    (_WEAK_RE, 3, "any"),
    (_BY_RE, 2, "any"),
    (_SIGNATURE_RE, 2, "any"),
    (_SLASH_S_RE, 4, "none"),
    (_ROLE_LINE_RE, 3, "none"),
    (_ADDRESS_LINE_RE, 3, "none"),
    (_NAME_FIELD_RE, 4, "none"),
)


def _person_candidates(text: str) -> Iterator[tuple[int, int, int, _Need]]:
    """(start, end, priority, need) for every name-shaped span behind a cue."""
    for regex, priority, need in _RULES:
        for m in regex.finditer(text):
            yield m.start("name"), m.end("name"), priority, need
    for m in _IN_RE_AND.finditer(text):
        yield m.start("a"), m.end("a"), 4, "none"
        yield m.start("name"), m.end("name"), 4, "none"
    # One scan of capitalised word runs serves three rules: a known given name first
    # ("first"), a known surname last ("pair"), and any name-shaped run before a verb ("plain").
    for m in _PAIR_RE.finditer(text):
        start, end = m.start("name"), m.end("name")
        yield start, end, 2, "first"
        yield start, end, 2, "pair"
        if _VERB_FOLLOWS.match(text, end):
            yield start, end, 2, "plain"
    for m in _NICKNAME_RE.finditer(text):
        group = "name" if m.group("name") else "q"
        before = text[max(0, m.start() - 40) : m.start()]
        if _nickname_like(m.group(group)) and not _CORPORATE_BEFORE.search(before):
            yield m.start(group), m.end(group), 3, "none"


_CORPORATE_BEFORE = _lazy(
    r"(?i)\b(?:Inc|LLC|L\.L\.C|Ltd|Limited|Corp|Corporation|Company|Co|plc|GmbH|AG|S\.A|N\.V|"
    r"B\.V|LLP|L\.P|LP|S\.p\.A|Pty|Holdings|Group|Trust|Bank|University|Hospital)\b\.?,?[ \t]*$"
)


def _nickname_like(word: str) -> bool:
    """("Bud"), known as "Tiny": a given name or a short word; never a contract's defined term
    ("Invoices", "Company") or an organisation's short name (all capitals, inner capitals)."""
    if word in NOT_NAMES or word in name_words.DEFINED_TERM_HEADS or word.isupper():
        return False
    if word in name_words.PLACES_NOT_REDACTED or any(c.isupper() for c in word[1:]):
        return False
    return _is_first_name(word) or len(word) <= 6


_PARTICLE_WORDS = frozenset(name_words.PARTICLES.lower().split("|"))


def _lowercase_names(text: str) -> Iterator[Detection]:
    """Names written in lower case after a cue ("spoke with rosa delgado", "pt states
    rutherford"): a known given name, then known surnames (particles between)."""
    first, last = first_names(), gazetteer.surnames()
    common = name_words.COMMON_WORDS
    for m in _LOWER_RE.finditer(text):
        words = m.group("name").split(" ")
        kept = 0
        for i, word in enumerate(words):
            title = "-".join(p.title() for p in word.split("-"))
            nxt = words[i + 1].title() if i + 1 < len(words) else ""
            given_before_surname = (
                i == 0
                and title in name_words.AMBIGUOUS_FIRST_NAMES
                and nxt in last
                and nxt not in common
            )
            if (
                (title in common and not given_before_surname)
                or title in NOT_NAMES
                or (title in name_words.PLACES_NOT_REDACTED)
            ):
                break
            if word in _PARTICLE_WORDS and i > 0 and i + 1 < len(words):
                continue
            kept = i + 1
        titled = ["-".join(p.title() for p in w.split("-")) for w in words[:kept]]
        surname_last = bool(titled) and all(p in last for p in titled[-1].split("-"))
        weak = m.group("cue").lower() in _WEAK_LOWER_CUES
        first_known = titled[0] in first if titled else False
        speech = not weak and not _VERB_NEXT_CUE.get().fullmatch(m.group("cue"))
        if len(titled) >= 2 and surname_last and (first_known or speech or titled[0] in last):
            pass  # a given name (or any word after "spoke with", "daughter") and a surname
        elif len(titled) >= 2 and first_known and speech:
            kept = 2  # "granddaughter ezekiel oduya": a given name and the word after it
        elif len(titled) >= 1 and titled[0] in first and not weak:
            kept = 1 if not surname_last else kept
        else:
            kept = 0
        if kept:
            start = m.start("name")
            end = start + len(" ".join(words[:kept]))
            yield Detection(start, end, "PERSON", 3)


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
    trims: dict[tuple[int, int], tuple[int, int] | None] = {}  # many rules find the same span
    verdicts: dict[tuple[str, _Need], bool] = {}
    for start, end, priority, need in _person_candidates(text):
        if (start, end) not in trims:
            trimmed = _trim_name(text, start, end)
            if trimmed is None and "," in text[start:end]:
                trimmed = _trim_name(text, start, text.index(",", start))
            trims[start, end] = trimmed
        trimmed = trims[start, end]
        if trimmed is None:
            continue
        piece = text[trimmed[0] : trimmed[1]]
        if (piece, need) not in verdicts:
            verdicts[piece, need] = (
                "\n" not in piece
                and piece.strip(' "“”').title() not in name_words.DEFINED_TERM_HEADS
                and _satisfies(piece, need)
            )
        if not verdicts[piece, need]:
            continue
        at_line_start = text[text.rfind("\n", 0, trimmed[0]) + 1 : trimmed[0]].strip() == ""
        if at_line_start and re.match(r"[ \t]*:", text[trimmed[1] : trimmed[1] + 3]):
            continue  # "Woman:", "Client-Matter:": a field label, not a name
        found.append(Detection(trimmed[0], trimmed[1], "PERSON", priority))
    found.extend(_lowercase_names(text))
    # "Sophie Lang and Theo Lang": a name right after a detected one, joined by and/&
    extra: list[Detection] = []
    for d in found:
        m = _AND_RE.match(text, d.end)
        if m:
            trimmed = _trim_name(text, m.start("name"), m.end("name"))
            if trimmed:
                extra.append(Detection(trimmed[0], trimmed[1], "PERSON", d.priority))
    return found + extra
