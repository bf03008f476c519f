"""Redaction for the frontier route: identifiers out, consistent placeholders in, restored locally.

One `RedactionSession` per outgoing request. `redact_all(texts)` looks at every text of the
request (question, retrieved chunks) together, so the same person, date or number gets the same
placeholder everywhere (`[PERSON_1]`, `[DATE_2]`, `[MRN_1]`), and every part of a detected name
is replaced wherever it appears ("Margaret Ellison" -> `[PERSON_1]`, later "Ms. Ellison" ->
"Ms. [PERSON_1]"). The mapping placeholder -> original text lives only in the session's memory:
it is never written, logged or sent. `restore()` / `StreamRestorer` put the originals back in the
reply.

`RedactionError` means redaction could not run or could not prove its output clean: the caller
must send nothing. Detection rules live in `app.privacy.identifiers`. Pure computation, no I/O;
a session is not thread-safe (one request, one thread).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import EnclaveError
from app.privacy.identifiers import KINDS, NOT_NAMES, Detection, detect, extend_name_left
from app.privacy.name_words import AMBIGUOUS_FIRST_NAMES, COMMON_WORDS

_PLACEHOLDER_RE = re.compile(
    r"\[\s*(?P<k1>" + "|".join(KINDS) + r")[ _-]?(?P<n1>\d+)\s*\]"
    r"|\b(?P<k2>" + "|".join(KINDS) + r")_(?P<n2>\d+)\b",
    re.IGNORECASE,
)
_PARTICLES = {"de", "del", "della", "der", "di", "da", "van", "von", "la", "le", "bin", "al", "el"}


class RedactionError(EnclaveError):
    """Redaction could not run (or left an identifier behind): nothing may be sent."""


@dataclass(frozen=True)
class RedactedSpan:
    """One replacement, for display: offsets in the redacted text and in the original."""

    start: int
    end: int
    kind: str
    placeholder: str
    original_start: int
    original_end: int


@dataclass(frozen=True)
class RedactionResult:
    text: str
    spans: tuple[RedactedSpan, ...]


def _merge(detections: list[Detection]) -> list[Detection]:
    """Merge overlapping detections (never lose coverage); the strongest one names the kind."""
    ordered = sorted(detections, key=lambda d: (d.start, -d.end))
    merged: list[tuple[int, int, list[Detection]]] = []
    for d in ordered:
        if d.end <= d.start:
            continue
        if merged and d.start < merged[-1][1]:
            start, end, members = merged[-1]
            merged[-1] = (start, max(end, d.end), [*members, d])
        else:
            merged.append((d.start, d.end, [d]))
    out = []
    for start, end, members in merged:
        best = max(members, key=lambda m: (m.priority, m.end - m.start))
        out.append(Detection(start, end, best.kind, best.priority))
    return out


def _name_parts(value: str) -> list[str]:
    parts = []
    for token in re.split(r"[\s,]+", value):
        token = token.strip('."“”()')
        if len(token) < 2 or token.lower() in _PARTICLES or token in NOT_NAMES:
            continue
        if len(token) == 2 and not token.isupper():
            continue
        parts.append(token)
    return parts


def _normalise(kind: str, value: str) -> str:
    if kind in ("DATE", "ADDRESS", "EMAIL", "URL"):
        return " ".join(value.lower().split())
    return re.sub(r"[^A-Za-z0-9]", "", value).upper()


def _value_key(kind: str, value: str) -> str:
    """One key per entity whatever label found it: the same hospital number read as an MRN in
    the question and as an ID in a source is one value, so it gets one placeholder."""
    if kind in ("DATE", "ADDRESS", "EMAIL", "URL", "AGE"):
        return f"{kind}:{_normalise(kind, value)}"
    return f"NUMBER:{_normalise(kind, value)}"


def _spreads_alone(part: str) -> bool:
    """A lower-case name part that is also an everyday word ("will", "hope") is not looked for
    on its own elsewhere (its capitalised forms and the whole name are)."""
    return part.title() not in AMBIGUOUS_FIRST_NAMES and part.title() not in COMMON_WORDS


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _occurs(needle: str, haystack: str, letters_only: bool) -> bool:
    """`needle` in `haystack` (both lower case); a letters-only needle must not sit inside a
    longer word ("rosa" in "rosalind"); anything else may sit inside any token."""
    at = haystack.find(needle)
    while at >= 0:
        if not letters_only:
            return True
        end = at + len(needle)
        before = haystack[at - 1] if at else " "
        after = haystack[end] if end < len(haystack) else " "
        if not _is_letter(before) and not _is_letter(after):
            return True
        at = haystack.find(needle, at + 1)
    return False


def _survives(
    original: str, texts: Sequence[str], lowered: Sequence[str], compacted: Sequence[str]
) -> bool:
    """Whether `original` still stands in one of the texts, also inside another token (a file
    name, a URL, a path, a user name: "_" and "." are no boundary); a value with digits in any
    case and also with its separators changed or dropped ("GB29 NWBK..." as "GB29NWBK...")."""
    needle = original.strip().lower()
    compact = _NOT_ALNUM.sub("", needle)
    if len(compact) < 4:
        return False
    has_digit = any(c.isdigit() for c in compact)
    word = original.strip()
    if not has_digit:
        # A name or place in the spellings the redaction replaces (as written, Title, UPPER,
        # and lower case when it was written so): "will" the verb is not "Will" the name
        forms = {word, word.title(), word.upper()}
        if word.islower() and _spreads_alone(word):
            forms.add(word.lower())
        return any(_occurs(f, t, letters_only=True) for f in forms for t in texts)
    for text in lowered:
        if _occurs(needle, text, letters_only=not has_digit):
            return True
    if has_digit and len(compact) >= 8:
        return any(compact in text for text in compacted)
    return False


def _spread_matches(text: str, values: dict[str, str]) -> list[tuple[int, int, str]]:
    """Every other mention of a detected value in `text` (str.find, no regex to compile):
    not inside a longer word or number, but inside file names, paths and user names ("_", ".",
    "/" are boundaries)."""
    found = []
    for value, kind in values.items():
        at = text.find(value)
        while at >= 0:
            end = at + len(value)
            before = text[at - 1] if at else " "
            after = text[end] if end < len(text) else " "
            if not before.isalnum() and before != "@" and not after.isalnum():
                found.append((at, end, kind))
            at = text.find(value, at + 1)
    return found


class RedactionSession:
    """Redacts the texts of one request and restores the reply. Keep it in memory only."""

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}
        self._kind_of: dict[str, str] = {}  # value key -> the kind its strongest detection says
        self._originals: dict[str, str] = {}  # placeholder -> original text
        self._people: list[tuple[frozenset[str], str]] = []  # name tokens -> placeholder
        self._numbers: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()  # replacements per kind

    # -- placeholders ------------------------------------------------------------------------
    def _new(self, kind: str, original: str) -> str:
        self._numbers[kind] += 1
        placeholder = f"[{kind}_{self._numbers[kind]}]"
        self._originals[placeholder] = original
        return placeholder

    def _person(self, value: str) -> str:
        tokens = frozenset(p.lower() for p in _name_parts(value))
        if not tokens:
            tokens = frozenset({value.lower()})
        for known, placeholder in self._people:
            if tokens <= known or known <= tokens:
                return placeholder
        for known, placeholder in self._people:  # a lone surname or first name
            if len(tokens) == 1 and tokens & known:
                return placeholder
        placeholder = self._new("PERSON", value)
        self._people.append((tokens, placeholder))
        return placeholder

    def placeholder_for(self, kind: str, value: str) -> str:
        if kind == "PERSON":
            return self._person(value)
        key = _value_key(kind, value)
        if key not in self._by_key:
            self._by_key[key] = self._new(self._kind_of.get(key, kind), value)
        return self._by_key[key]

    @property
    def mapping(self) -> dict[str, str]:
        """placeholder -> original (a copy). Never persist or log it."""
        return dict(self._originals)

    # -- redaction ---------------------------------------------------------------------------
    def redact_all(self, texts: Sequence[str]) -> list[RedactionResult]:
        try:
            return self._redact_all(texts)
        except RedactionError:
            raise
        except Exception as exc:  # any bug in a rule: fail closed
            raise RedactionError(
                f"Redaction could not run ({type(exc).__name__}); nothing was sent."
            ) from exc

    def _redact_all(self, texts: Sequence[str]) -> list[RedactionResult]:
        per_text = [detect(text) for text in texts]
        # Spread every detected value (and every part of every name) to its other mentions.
        values: dict[str, str] = {}
        strongest: dict[str, tuple[int, str]] = {}
        for text, detections in zip(texts, per_text, strict=True):
            for d in _merge(detections):
                value = text[d.start : d.end]
                if d.kind == "PERSON":
                    values.setdefault(value, "PERSON")
                    if len(_name_parts(value)) >= 2:
                        for form in {value.upper(), value.title()}:
                            values.setdefault(form, "PERSON")
                    for part in _name_parts(value):
                        forms = {part, part.title(), part.upper()}
                        if not _spreads_alone(part):
                            forms -= {part.lower()}
                        for form in forms:
                            values.setdefault(form, "PERSON")
                elif len(re.sub(r"\W", "", value)) >= 4:
                    for form in (value, value.upper(), value.lower(), value.title()):
                        values.setdefault(form, d.kind)
                    key = _value_key(d.kind, value)
                    if key not in strongest or d.priority > strongest[key][0]:
                        strongest[key] = (d.priority, d.kind)
        for key, (_, kind) in strongest.items():
            self._kind_of.setdefault(key, kind)
        # Inside other tokens too: "_", "." and "/" are no boundary ("photo_K4471923.png").
        for text, detections in zip(texts, per_text, strict=True):
            for start, end, kind in _spread_matches(text, values):
                if kind == "PERSON":
                    start = extend_name_left(text, start)
                detections.append(Detection(start, end, kind, 1))
        # People first, longest names first, so "Ellison" maps to "Margaret Ellison".
        merged = [_merge(d) for d in per_text]
        people = sorted(
            {text[d.start : d.end] for text, ds in zip(texts, merged, strict=True) for d in ds
             if d.kind == "PERSON"},
            key=lambda v: (-len(_name_parts(v)), v),
        )  # fmt: skip
        for value in people:
            self._person(value)
        results = [self._apply(text, ds) for text, ds in zip(texts, merged, strict=True)]
        self._verify([r.text for r in results])
        return results

    def _apply(self, text: str, detections: list[Detection]) -> RedactionResult:
        out: list[str] = []
        spans: list[RedactedSpan] = []
        cursor = 0
        length = 0
        for d in detections:
            out.append(text[cursor : d.start])
            length += d.start - cursor
            placeholder = self.placeholder_for(d.kind, text[d.start : d.end])
            spans.append(
                RedactedSpan(length, length + len(placeholder), d.kind, placeholder, d.start, d.end)
            )
            out.append(placeholder)
            length += len(placeholder)
            cursor = d.end
            self.counts[d.kind] += 1
        out.append(text[cursor:])
        return RedactionResult("".join(out), tuple(spans))

    def _verify(self, texts: Sequence[str]) -> None:
        """Defence in depth: no original value of 4+ letters and digits may survive anywhere,
        not even inside another token (see `_survives`)."""
        lowered = [t.lower() for t in texts]
        compacted = [_NOT_ALNUM.sub("", t) for t in lowered]
        for original in self._originals.values():
            if _survives(original, texts, lowered, compacted):
                raise RedactionError(
                    "Redaction left an identifier in the outgoing text; nothing was sent."
                )

    # -- restoration -------------------------------------------------------------------------
    def restore(self, text: str) -> str:
        """Replace known placeholders in a reply (also [person 1], PERSON_1) with the originals."""

        def put_back(m: re.Match[str]) -> str:
            kind = (m.group("k1") or m.group("k2")).upper()
            number = m.group("n1") or m.group("n2")
            return self._originals.get(f"[{kind}_{int(number)}]", m.group())

        return _PLACEHOLDER_RE.sub(put_back, text)


class StreamRestorer:
    """Restores placeholders in a streamed reply. Holds back a piece that could be the start of
    a placeholder until it is complete. Call `feed()` per piece and `flush()` at the end."""

    _HOLD = re.compile(r"(\[[^\]\n]{0,24}|\b[A-Za-z_]{1,12}\d*)$")

    def __init__(self, session: RedactionSession) -> None:
        self._session = session
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        hold = self._HOLD.search(self._pending)
        cut = hold.start() if hold else len(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._session.restore(ready)

    def flush(self) -> str:
        ready, self._pending = self._pending, ""
        return self._session.restore(ready)


def redact(text: str) -> tuple[RedactionResult, RedactionSession]:
    """Redact one text in a fresh session (for tests, the bench and simple callers)."""
    session = RedactionSession()
    return session.redact_all([text])[0], session
