"""The checkable facts ("atoms") of a sentence, normalised, and whether a source sentence holds
them: numbers in digits or words, durations, amounts of money, percentages, dates, doses with
their unit, dosing frequencies, proper names and places, and negation.

Why: a sentence counts as supported only when every fact it states stands in the passage it
cites. Sharing half its words with the passage is not enough: "10 days" and "sixty (60) days'
notice" share "days" and "notice"; the number is the one word that matters.

    atoms("Either party may terminate on sixty (60) days' notice.")
        -> {Atom("duration", "60 day"), Atom("number", "60")}
    holds(source_atoms, claim_atoms) -> the claim atoms missing from the source

Normalisation: "sixty (60) days" = "60 days" = "sixty days"; "b.i.d." = "twice daily" = "BID";
"$1,000,000" = "USD 1 million" = "one million dollars"; "03/20/08" = "March 20, 2008" =
"2008-03-20"; "500 mg" != "50 mg"; "10 business days" != "10 days". Pure functions, no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "Atom",
    "atoms",
    "is_negated",
    "missing_atoms",
    "negated_words",
    "number_value",
    "without_facts",
]


@dataclass(frozen=True, order=True)
class Atom:
    kind: str  # number, duration, money, percent, date, dose, frequency, name, place, code
    value: str  # normalised: "60", "60 day", "1000000 usd", "2008-03-20", "100 mg", "2/day"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


# -- numbers -------------------------------------------------------------------------------------
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "a": 1, "an": 1, "single": 1,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_WORDS_RE = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)
_DIGITS_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d])")
_MULTIPLIER_RE = re.compile(r"\s*(thousand|million|billion|k\b|m\b|bn\b)", re.IGNORECASE)


def _words_value(text: str) -> int | None:
    total, current, seen = 0, 0, False
    for word in re.split(r"[\s-]+", text.lower()):
        if word == "and" or not word:
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def number_value(text: str) -> float | None:
    """The number written in `text` ("60", "1,000", "2.38", "sixty", "thirty-five"), or None."""
    text = text.strip()
    m = _DIGITS_RE.fullmatch(text)
    if m:
        return float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
    value = _words_value(text)
    return None if value is None else float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class _Num:
    start: int
    end: int
    value: float


def _numbers(text: str) -> list[_Num]:
    """Numbers in digits and in words, with "sixty (60)" read as one number."""
    found: list[_Num] = []
    for m in _DIGITS_RE.finditer(text):
        if _in_date_or_code(text, m.start(), m.end()):
            continue
        value = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
        end = m.end()
        mult = _MULTIPLIER_RE.match(text, end)
        if mult:
            word = mult.group(1).lower()
            factor = {"k": 1e3, "m": 1e6, "bn": 1e9}.get(word) or _SCALES[word]
            value, end = value * factor, mult.end()
        found.append(_Num(m.start(), end, value))
    for m in _WORDS_RE.finditer(text):
        word = m.group(0)
        if word.lower() in ("a", "an", "single"):
            continue  # "a contract", "an hour": not amounts
        spelled = _words_value(word)
        if spelled is not None:
            found.append(_Num(m.start(), m.end(), float(spelled)))
    found.sort(key=lambda n: n.start)
    merged: list[_Num] = []
    for num in found:  # "sixty (60)": keep one, spanning both
        if merged:
            prev = merged[-1]
            between = text[prev.end : num.start]
            if prev.value == num.value and re.fullmatch(r"\s*\(\s*", between):
                close = re.match(r"\s*\)", text[num.end :])
                merged[-1] = _Num(prev.start, num.end + (close.end() if close else 0), prev.value)
                continue
        merged.append(num)
    return merged


def _in_date_or_code(text: str, start: int, end: int) -> bool:
    """Digits that are part of a date (03/20/08), a time (10:30), a section number (2.4.1)
    or an identifier (K4471923, 10-K) are not amounts."""
    before, after = text[max(0, start - 1) : start], text[end : end + 1]
    if before in "/-:" and before and start >= 2 and text[start - 2].isdigit():
        return True
    if after in "/:" and after and end + 1 < len(text) and text[end + 1].isdigit():
        return True
    return bool((before.isalpha() and before) or (after.isalpha() and after and after.isupper()))


# -- units ---------------------------------------------------------------------------------------
_DURATION_UNITS = {
    "business day": "business day", "business days": "business day",
    "working day": "business day", "working days": "business day",
    "calendar day": "day", "calendar days": "day",
    "day": "day", "days": "day", "week": "week", "weeks": "week",
    "month": "month", "months": "month", "year": "year", "years": "year",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "minute": "minute",
    "minutes": "minute", "min": "minute", "mins": "minute",
}  # fmt: skip
_DOSE_UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "µg": "mcg", "ug": "mcg",
    "microgram": "mcg", "micrograms": "mcg", "g": "g", "gram": "g", "grams": "g", "kg": "kg",
    "ml": "ml", "mL": "ml", "cc": "ml", "l": "l", "units": "unit", "unit": "unit", "u": "unit",
    "iu": "iu", "meq": "meq", "mmol": "mmol", "mmhg": "mmhg", "mm": "mm", "cm": "cm",
    "mg/dl": "mg/dl", "mg/kg": "mg/kg", "bpm": "bpm",
}  # fmt: skip
_UNIT_RE = re.compile(
    r"\s*(?:-\s*)?(?:\(\s*\d[\d,.]*\s*\)\s*)?("
    + "|".join(
        re.escape(u) for u in sorted({*_DURATION_UNITS, *_DOSE_UNITS}, key=len, reverse=True)
    )
    + r")(?![a-z])['’]?s?",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(US\$|USD|\$|€|EUR|£|GBP)\s*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(r"\s*(dollars?|usd|euros?|eur|pounds?|gbp)\b", re.IGNORECASE)
_CURRENCY = {"us$": "usd", "usd": "usd", "$": "usd", "dollar": "usd", "dollars": "usd",
             "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur", "£": "gbp", "gbp": "gbp",
             "pound": "gbp", "pounds": "gbp"}  # fmt: skip
_PERCENT_AFTER = re.compile(r"\s*(%|percent\b|per cent\b|percentage points?\b)", re.IGNORECASE)


def _unit_atoms(text: str) -> set[Atom]:
    out: set[Atom] = set()
    for num in _numbers(text):
        value = _fmt(num.value)
        out.add(Atom("number", value))
        currency = _CURRENCY_BEFORE.search(text[max(0, num.start - 6) : num.start])
        if currency:
            out.add(Atom("money", f"{value} {_CURRENCY[currency.group(1).lower()]}"))
            continue
        cur_after = _CURRENCY_AFTER.match(text, num.end)
        if cur_after:
            out.add(Atom("money", f"{value} {_CURRENCY[cur_after.group(1).lower()]}"))
            continue
        if _PERCENT_AFTER.match(text, num.end):
            out.add(Atom("percent", value))
            continue
        unit = _UNIT_RE.match(text, num.end)
        if unit is None:
            continue
        word = unit.group(1)
        if word.lower() in _DURATION_UNITS:
            out.add(Atom("duration", f"{value} {_DURATION_UNITS[word.lower()]}"))
        elif word in _DOSE_UNITS or word.lower() in _DOSE_UNITS:
            out.add(Atom("dose", f"{value} {_DOSE_UNITS.get(word) or _DOSE_UNITS[word.lower()]}"))
    return out


# -- codes ---------------------------------------------------------------------------------------
# Digits joined into one identifier: a phone number's groups (555-0143), a record or case
# number (ACC-99120374, 1:23-cv-04417, K4471923), a section (2.4.1), a time (10:30). Their
# digit runs are not amounts (_in_date_or_code), so each is checked whole, as written.
_CODE_RE = re.compile(
    r"(?<![\w.\-/:])(?=[\w.\-/:]*\d)"
    r"(?:[A-Za-z]*\d[A-Za-z\d]*|[A-Za-z]+)(?:[.\-/:][A-Za-z\d]+)+(?![\w\-/:]|\.\w)"
    r"|(?<![\w.\-/:])[A-Za-z]+\d[A-Za-z\d]*(?![\w\-/:]|\.\w)"
)


def _code_atoms(text: str) -> set[Atom]:
    out = set()
    for m in _CODE_RE.finditer(text):
        code = m.group(0).rstrip(".")
        if sum(c.isdigit() for c in code) >= 2 and not _DIGITS_RE.fullmatch(code):
            out.add(Atom("code", code.lower()))
    return out


# -- dates ---------------------------------------------------------------------------------------
_MONTHS = {
    m: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for m in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    # 2008-03-20, 1944/08/30
    (re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"), ("y", "m", "d")),
    # 03/20/08, 3-20-2008 (US order; day-first when the first part cannot be a month)
    (re.compile(r"\b(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b"), ("m", "d", "y")),
    # March 20, 2008 / Mar. 20th 2008
    (
        re.compile(
            rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
        ),
        ("M", "d", "y"),
    ),
    # 20 March 2008 / 20th day of March, 2008
    (
        re.compile(
            rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:day\s+of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b",
            re.IGNORECASE,
        ),
        ("d", "M", "y"),
    ),
    # March 2008
    (re.compile(rf"\b({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.IGNORECASE), ("M", "y")),
]


def _date_atoms(text: str) -> tuple[set[Atom], list[tuple[int, int]]]:
    out: set[Atom] = set()
    spans: list[tuple[int, int]] = []
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            parts = dict(zip(order, m.groups(), strict=True))
            month = _MONTHS[parts["M"].lower()] if "M" in parts else int(parts.get("m", 0))
            day = int(parts.get("d", 0))
            year = int(parts["y"])
            if year < 100:
                year += 2000 if year < 50 else 1900
            if "m" in parts and month > 12 and day <= 12:
                month, day = day, month  # 20/03/2008
            if not 1 <= month <= 12 or day > 31:
                continue
            value = f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
            out.add(Atom("date", value))
            spans.append((m.start(), m.end()))
    return out, spans


# -- frequencies ---------------------------------------------------------------------------------
_FREQUENCIES = [
    (r"\b(?:b\.?\s?i\.?\s?d\.?|bid|twice\s+(?:a\s+)?(?:daily|day)|two\s+times\s+(?:a\s+)?day)",
     "2/day"),
    (r"\b(?:t\.?\s?i\.?\s?d\.?|tid|three\s+times\s+(?:a\s+)?(?:daily|day))", "3/day"),
    (r"\b(?:q\.?\s?i\.?\s?d\.?|qid|four\s+times\s+(?:a\s+)?(?:daily|day))", "4/day"),
    (r"\b(?:q\.?\s?d\.?(?![a-z])|qday|once\s+(?:a\s+)?(?:daily|day)|daily|every\s+day|per\s+day)",
     "1/day"),
    (r"\b(?:q\.?\s?h\.?\s?s\.?|at\s+bedtime|nightly)", "bedtime"),
    (r"\b(?:p\.?\s?r\.?\s?n\.?|as\s+needed)", "as needed"),
    (r"\b(?:weekly|once\s+a\s+week|every\s+week)", "1/week"),
    (r"\b(?:monthly|once\s+a\s+month|every\s+month)", "1/month"),
    (r"\bq\.?\s?(\d{1,2})\s?h(?:ours?|rs?)?\b|\bevery\s+(\d{1,2})\s+hours?\b", "q{n}h"),
]  # fmt: skip
_FREQ_RES = [(re.compile(p, re.IGNORECASE), v) for p, v in _FREQUENCIES]


def _frequency_atoms(text: str) -> tuple[set[Atom], list[tuple[int, int]]]:
    """The frequencies and where they are. In order, most specific first; a matched span is
    masked, so "twice daily" is not also "daily"."""
    out: set[Atom] = set()
    spans: list[tuple[int, int]] = []
    for pattern, value in _FREQ_RES:
        for m in pattern.finditer(text):
            if "{n}" in value:
                n = next(g for g in m.groups() if g)
                out.add(Atom("frequency", value.format(n=int(n))))
            else:
                out.add(Atom("frequency", value))
            spans.append((m.start(), m.end()))
            text = _mask(text, [(m.start(), m.end())])
    return out, spans


# -- names and places ----------------------------------------------------------------------------
_STATES = [
    *(
        "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia "
    "Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts "
    "Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon "
    "Pennsylvania Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming"
    ).split(),
    "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota",
    "Rhode Island", "South Carolina", "South Dakota", "West Virginia", "District of Columbia",
    "England", "Wales", "Scotland", "Ireland", "Canada", "Ontario", "Quebec", "British Columbia",
    "Germany", "France", "Switzerland", "Singapore", "Hong Kong", "China", "Japan", "India",
    "Israel", "Netherlands", "Luxembourg", "Cayman Islands", "Bermuda", "Australia", "Mexico",
]  # fmt: skip
_PLACE_RE = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(_STATES, key=len, reverse=True)) + r")\b"
)
_CAP_RE = re.compile(r"\b[A-Z][a-zA-Z'’\-]*[a-z][a-zA-Z'’\-]*\b|\b[A-Z]{2,}\b")
_NOT_NAMES = frozenset(
    """a an the this that these those it its he she his her they their we our you your i my
    if in on at of to for by with from as and or but not no nor so yes per all any each every
    either neither both such which who whom whose what when where why how there here then
    than also only may shall will would should could can must is are was were be been being
    has have had do does did agreement contract party parties section article clause exhibit
    schedule company companies customer client patient patients doctor dr mr mrs ms date
    term notice source sources document documents page answer question note plan history
    assessment impression diagnosis procedure findings medications allergies none unknown
    monday tuesday wednesday thursday friday saturday sunday january february march april june
    july august september october november december state states law laws usd eur gbp us
    inc corp corporation llc ltd plc lp llp co
    now whereas therefore witnesseth witness whereof hereby hereto herein hereof hereunder
    recital recitals background agree agreed agrees follows premises""".split()
)
_DRUG_SUFFIX = re.compile(
    r"\b[a-z]{3,}(?:olol|pril|sartan|statin|azole|cillin|mycin|cycline|floxacin|oxacin|pam|"
    r"lam|zepam|dipine|semide|thiazide|parin|xaban|gatran|formin|gliptin|glitazone|tidine|"
    r"prazole|triptan|profen|coxib|caine|sone|olone|asone|mab|nib|vir|navir|tadine|phylline|"
    r"terol|tropium|lukast|oxetine|aline|pramine|apine|idone|zodone|pentin|gabalin|barbital|"
    r"amide|dronate|vastatin|setron|plase|kinase)\b",
    re.IGNORECASE,
)


def _name_atoms(text: str) -> set[Atom]:
    out: set[Atom] = set()
    for m in _PLACE_RE.finditer(text):
        out.add(Atom("place", m.group(1).lower()))
    places = {a.value for a in out}
    for m in _CAP_RE.finditer(text):
        word = m.group(0).strip("'’-")
        low = word.lower()
        if low in _NOT_NAMES or low in places or len(low) < 2:
            continue
        if _starts_sentence(text, m.start()) and not _next_is_capitalised(text, m.end()):
            continue  # "Take", "Patient", "Either": a capital only because a sentence starts
        if any(low in p.split() for p in places):
            continue
        out.add(Atom("name", low))
    for m in _DRUG_SUFFIX.finditer(text):
        out.add(Atom("name", m.group(0).lower()))
    return out


_TITLES_RE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Mx|Prof|St|Sr|Jr|Hon|Rev|Messrs)\.$")


def _starts_sentence(text: str, pos: int) -> bool:
    i = pos
    while i > 0 and text[i - 1] in " \t\"'“(-*•":
        i -= 1
    if i > 0 and text[i - 1] == "." and _TITLES_RE.search(text[max(0, i - 8) : i]):
        return False  # "Dr. Smith": a name after a title, not a sentence start
    return i == 0 or text[i - 1] in ".!?\n:;"


def _next_is_capitalised(text: str, end: int) -> bool:
    m = re.match(r"\s+([A-Z])[a-z]", text[end:])
    return m is not None


# -- negation ------------------------------------------------------------------------------------
_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|can't|won't|isn't|aren't|wasn't|"
    r"weren't|doesn't|don't|didn't|shan't|denies|denied|negative\s+for|free\s+of|absence\s+of|"
    r"unremarkable|non-?\w+)\b",
    re.IGNORECASE,
)


def is_negated(text: str) -> bool:
    """Whether the sentence says something is not so ("no", "not", "denies", "negative for")."""
    return bool(_NEGATION_RE.search(_NOT_NEGATION_RE.sub(" ", text)))


# Phrases with a negation word that deny nothing.
_NOT_NEGATION_RE = re.compile(
    r"\b(?:without limitation|not limited to|but not limited|not less than|no later than|"
    r"not later than|no less than|not more than|no more than|not exceed|not to exceed|"
    r"whether or not|if not|not only|non-?exclusive|non-?transferable|non-?refundable)\b",
    re.IGNORECASE,
)
_NEGATED_SPAN = 5  # words after a negation cue that it denies
_CONDITION_RE = re.compile(r"\b(?:if|unless|until|in the event|provided|whether|where)\b", re.I)


def negated_words(text: str) -> set[str]:
    """Lower-case words that a negation cue in `text` denies ("denies chest pain" -> chest,
    pain; "may not assign" -> assign): the few words after each cue."""
    text = _NOT_NEGATION_RE.sub(" ", text)
    out: set[str] = set()
    for m in _NEGATION_RE.finditer(text):
        clause = re.split(r"[,;:.]", text[max(0, m.start() - 80) : m.start()])[-1]
        if _CONDITION_RE.search(clause):
            continue  # "if the breach is not cured": a condition, not a denial
        following = re.findall(r"[A-Za-z][A-Za-z'’\-]*", text[m.end() : m.end() + 80])
        out.update(w.lower() for w in following[:_NEGATED_SPAN] if len(w) > 2)
    return out


# -- the whole -----------------------------------------------------------------------------------
def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


@lru_cache(maxsize=4096)
def _atoms_cached(text: str) -> frozenset[Atom]:
    text = _MARKERS_RE.sub(lambda m: " " * len(m.group(0)), text)  # "[1]" is not a fact
    dates, spans = _date_atoms(text)
    frequencies, freq_spans = _frequency_atoms(text)
    # A date, or "every 6 hours", is one fact, not also loose numbers or a name ("BID").
    masked = _mask(text, spans + freq_spans)
    return frozenset(
        dates | frequencies | _unit_atoms(masked) | _name_atoms(masked) | _code_atoms(masked)
    )


# Words that are part of a fact atoms() checks with its own normalisation ("sixty days", "twice
# daily"): a word-by-word comparison must not count them again.
_FACT_WORDS = frozenset(
    """day days week weeks month months year years hour hours minute minutes business calendar
    mg mcg ml g kg mmhg units unit percent dollars usd""".split()
)


def without_facts(text: str) -> str:
    """`text` with the words of its dates, frequencies, numbers and their units blanked out:
    what is left is what a comparison of words should compare."""
    _, spans = _date_atoms(text)
    _, freq_spans = _frequency_atoms(text)
    masked = _mask(text, spans + freq_spans)
    return re.sub(
        r"[\w.,'-]+",
        lambda m: (
            m.group(0)
            if number_value(m.group(0).strip(".,")) is None
            and m.group(0).lower().strip(".,'") not in _FACT_WORDS
            else " "
        ),
        masked,
    )


def atoms(text: str) -> frozenset[Atom]:
    """Every checkable fact of `text`, normalised (see the module docstring)."""
    return _atoms_cached(text)


_MARKERS_RE = re.compile(r"\[\s*\d{1,2}(?:\s*,\s*\d{1,2})*\s*\]")


def missing_atoms(claim: str, source: str) -> list[Atom]:
    """The facts of `claim` that `source` does not state (empty: the source holds them all).

    A number the source writes only as part of a larger fact still counts ("60" in the claim,
    "sixty (60) days" in the source). A name counts when every word of it is in the source.
    """
    claim = _MARKERS_RE.sub(" ", claim)
    have = atoms(source)
    source_words = {w.lower() for w in re.findall(r"[\w'’\-]+", source)}
    numbers = {a.value for a in have if a.kind == "number"}
    missing = []
    for atom in sorted(atoms(claim)):
        if atom in have:
            continue
        if atom.kind == "number" and atom.value in numbers:
            continue
        if atom.kind == "code" and atom.value in source.lower():
            continue  # written inside a longer token of the source
        if atom.kind in ("name", "place") and all(w in source_words for w in atom.value.split()):
            continue
        if atom.kind == "number" and _is_part_of_other(atom, claim):
            continue  # checked as its duration, dose, amount or percentage
        missing.append(atom)
    return missing


def _is_part_of_other(atom: Atom, claim: str) -> bool:
    return any(
        a.kind in ("duration", "dose", "money", "percent") and a.value.split()[0] == atom.value
        for a in atoms(claim)
    )
