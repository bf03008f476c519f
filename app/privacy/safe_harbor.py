"""Detectors for the HIPAA Safe Harbor kinds the older rules (app.privacy.identifiers) lacked:
URLs, IP addresses (v4, v6), photo and image references, ages over 89, vehicle ids (VIN) and
plates, device ids and serial numbers (MAC, UDI, IMEI), biometric ids, licence and certificate
numbers, health plan numbers, IBANs kept whole, and geographic units smaller than a state
(cities and towns from a gazetteer, counties, postcodes, European street forms).

Pure functions, no state, no I/O beyond the gazetteers loaded once; safe on any thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from app.privacy import gazetteer, name_words
from app.privacy.detection import Detection, Lazy

_UP = "A-ZÀ-ÖØ-ÞĀ-ſ"
_LO = "a-zß-öø-ÿĀ-ſ"
_CAPW = rf"[{_UP}][{_LO}]+(?:[-'’][{_UP}]?[{_LO}]+)*"

_TLD = r"com|org|net|edu|gov|mil|int|io|co|uk|us|ie|de|fr|es|it|nl|eu|au|ca|info|biz|health|law|app"
_URL = Lazy(
    rf"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]"
    rf"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:{_TLD})/[^\s<>\"'()\[\]]*[^\s<>\"'()\[\].,;:!?]"
)
_IPV4 = Lazy(
    r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.]\d)"
)
_IPV6 = Lazy(
    r"(?i)(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    r"|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?"
    r"|::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})(?![\w:])"
)
_MAC = Lazy(r"(?i)(?<![\w:-])(?:[0-9a-f]{2}([:-]))(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}(?![\w:-])")
_UDI = Lazy(r"\(01\)\d{14}(?:\(\d{2}\)[A-Za-z0-9-]+)*")
_IMAGE = Lazy(
    r"(?i)(?<![\w.-])[\w.-]*\w\.(?:png|jpe?g|tiff?|heic|heif|gif|bmp|dcm|dicom|webp|raw|cr2|nef"
    r"|mp4|mov|avi)\b"
)
_FILE_WITH_NUMBER = Lazy(
    r"(?i)(?<![\w.-])(?=[\w.-]*\d{5})[\w-]+(?:\.[\w-]+)*\.(?:pdf|docx?|xlsx?|csv|txt|zip|rtf|msg|eml)\b"
)
_AGE = Lazy(
    r"(?i)\b(?:age[ds]?|aged)\b[ \t]*[:=]?[ \t]*(?P<a>9\d|1[01]\d)\b"
    r"|\b(?P<b>9\d|1[01]\d)"
    r"(?=[ -]?(?:years?|yrs?)(?:[ -]old|[ -]of[ -]age)|[ -]?y/?o\b|[ -]?y\.o\.)"
)
_VIN = Lazy(r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-Z])[A-HJ-NPR-Z0-9]{17}\b")
_UK_PLATE = Lazy(r"\b[A-Z]{2}\d{2}[ ]?[A-Z]{3}\b")
_IBAN = Lazy(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_USERNAME = Lazy(r"(?<![\w@.-])[a-z][a-z._-]{1,15}\d{3,6}\b(?![@.]\w)")

# A cue, up to three filler words, then the value (one token, or digit groups).
_CUE_VALUE = (
    r"(?:[ \t]*(?:#|:|No\.?|Nos?\.|number|num\.?|ID|ref\.?|reference|record|template|hash|scan|"
    r"code|tag|is|was|of|on|file)){0,3}[ \t]*[:#]?[ \t]*"
    r"(?P<value>(?=[\w/.:-]*\d)[A-Za-z0-9][\w/.:-]*[A-Za-z0-9]"
    r"(?:[ ](?=[A-Z0-9]*\d)[A-Z0-9]{2,8}(?![a-z])){0,3})"
)
_CUED: tuple[tuple[str, str], ...] = (
    ("VEHICLE", r"VIN|plate|licen[cs]e plate|registration|reg(?:istration)? (?:no|number|mark)|"
                r"tag number|car|vehicle|truck|van|motorcycle|chassis"),
    ("DEVICE", r"S/N|SN|serial(?: number| no\.?)?|device(?: ID)?|IMEI|UDI|MAC|asset|model|"
               r"pacemaker|implant|pump|pendant|sensor|monitor|laptop|handset|phone ID|lot"),
    ("BIOMETRIC", r"fingerprint|finger print|voiceprint|voice print|retinal|retina|iris|"
                  r"biometric|palm(?: vein)?|facial(?: geometry)?|face(?: template| print)?|"
                  r"DNA profile|gait"),
    ("LICENSE", r"DEA|(?:State )?Bar(?: No\.?| number| #)?|SRA|GMC|NMC|HCPC|GPhC|licen[cs]e|"
                r"certificate|cert\.?|registration|credential|permit"),
    ("HEALTH_PLAN", r"Member|Subscriber|Policy|Group|Medicaid|Medicare|insurance|insurer|"
                    r"health plan|plan (?:ID|number|no\.?)|beneficiary(?: number)?|payer"),
    ("ID", r"user(?:name| name| ID)?|login|handle|screen name|employee|student|prisoner|inmate|"
           r"badge|ticket|claim|booking|confirmation|order|passenger|frequent flyer"),
)  # fmt: skip
_CUED_RES = [(kind, Lazy(rf"(?i:\b(?:{cue}))\b" + _CUE_VALUE)) for kind, cue in _CUED]

# Geography
_PREPOSITION = r"(?:in|at|from|near|of|to|into|outside|around|moved to|lives in|born in|via)"
_PLACE_WORDS = rf"{_CAPW}(?:[ \t-](?:upon|on|under|le|la|de|sur|am|an|der)?[ \t-]?{_CAPW}){{0,2}}"
_CITY_AFTER = Lazy(rf"\b{_PREPOSITION}[ \t]+(?P<place>{_PLACE_WORDS})")
_CITY_BEFORE = Lazy(
    rf"(?P<place>{_PLACE_WORDS}),?[ \t]+"
    rf"(?=[A-Z]{{2}}[ \t]+\d{{5}}|[A-Z]{{1,2}}\d[A-Z\d]?[ ]?\d[A-Z]{{2}}"
    rf"|[A-Z]\d{{2}}[ ]?[A-Z0-9]{{4}}\b|\d{{4,5}}\b|\d{{4}}-\d{{3}}\b|\d{{4}}[ ][A-Z]{{2}}\b)"
)
_AFTER_COMMA = Lazy(rf"(?<=,)[ \t]+(?P<place>{_PLACE_WORDS})(?=[ \t]*(?:[,.;\n)]|$))", re.M)
_COUNTY = Lazy(
    rf"\b(?:County|Co\.|Parish of|Borough of)[ \t]+{_CAPW}(?:[ \t]{_CAPW})?"
    rf"|\b{_CAPW}(?:[ \t]{_CAPW})?[ \t]+(?:County|Parish|Borough|Township)\b"
    rf"|\b(?:North|South|East|West)[ \t]+(?:Yorkshire|Sussex|Lanarkshire|Ayrshire|Somerset)\b"
)
_POSTCODES = Lazy(
    r"\b[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}\b"  # UK
    r"|\b[A-Z]\d{2}[ ](?=[A-Z0-9]*\d)[A-Z0-9]{4}\b"  # Eircode
    r"|\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|"
    r"NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|NSW|VIC|QLD|TAS)"
    r"[ ]+\d{4,5}(?:-\d{4})?\b"  # US ZIP, Australian postcode (with the state)
)
_EU_STREET = Lazy(
    rf"\b\d{{1,4}}[A-Za-z]?,?[ \t]+(?i:calle|carrer|avinguda|passeig|avenida|paseo|plaza|rue|"
    rf"avenue|boulevard|place|"
    rf"chemin|via|viale|corso|piazza|rua|travessa|largo|straße|strasse|weg|laan|straat)"
    rf"(?:[ \t]+(?:(?:de la|della|delle|del|des|das|dos|las|los|von|van|der|de|du|la|do|da|di)\b|"
    rf"{_CAPW})){{1,4}}(?:,[ \t]*\d+º?[ \t]*[\w.]{{0,6}}\.?)?"
    rf"|\b(?:Calle|Carrer|Avinguda|Passeig|Avenida|Paseo|Plaza|Plaça|Rue|rue|Via|Viale|Corso|"
    rf"Piazza|Rua|Travessa|Largo|Strada|Calea|Ulica|ul\.)"
    rf"(?:[ \t]+(?:(?:della|del|des|das|dos|de|la|du|do|da|di)\b|{_CAPW})){{1,4}},?"
    rf"[ \t]+\d{{1,4}}[A-Za-z]?\b"
    rf"|\b{_CAPW}(?:straße|strasse|weg|gasse|platz|allee|gracht|straat|laan|plein|kade|"
    rf"singel|dijk|steeg|vej|gatan|gata|veien)\b(?:[ \t]+\d{{1,4}}[a-z]?\b)?"
    rf"|\b\d{{1,4}}[ \t]+{_CAPW}(?:straße|strasse|gracht|straat|laan|plein|kade|singel|gatan)\b"
)
_NAMED_PLACE = Lazy(
    rf"\b(?:\d{{1,5}}[A-Za-z]?[ \t]+)?(?:The[ \t]+)?(?:{_CAPW}[ \t]+){{1,3}}"
    rf"(?:Cottages?|Farm|Barns?|"
    rf"Rectory|Vicarage|Manor|Mill|Lodge|Mews|Rise|Hollow|Chase|Fold|Croft|Grange|Paddock)\b"
    rf"(?:,[ \t]+(?:{_CAPW}[ \t]+){{1,3}}(?:Lane|Road|Street|Close|Way|Drive|Avenue|Row|Hill))?"
)
_NAMED_STREET = Lazy(
    rf"(?<=,)[ \t]+(?P<place>(?:{_CAPW}[ \t]+){{1,3}}(?:Lane|Road|Street|Close|Crescent|Avenue|"
    rf"Drive|Terrace|Gardens|Grove|Mews|Boulevard|Parkway))\b"
    rf"|\b(?:on|off|at|near)[ \t]+(?P<p2>(?:{_CAPW}[ \t]+){{1,3}}(?:Lane|Road|Street|Close|Avenue|"
    rf"Drive|Boulevard))\b"
)


_POSTCODE_NEAR = Lazy(r",?[ \t]+(?P<code>\d{4,5}(?:-\d{3,4})?|\d{4}[ ][A-Z]{2})\b")
_POSTCODE_BEFORE = Lazy(rf"\b(?P<code>\d{{4,5}}(?:-\d{{3}})?)[ \t]+(?P<place>{_PLACE_WORDS})")


_NOT_BARE_PLACE = Lazy(
    r"[ \t]+(?:Hospital|Clinic|Surgery|University|College|General|Medical|Health|Court|Council|"
    r"Road|Street|Avenue|Lane)\b"
)
_COUNTY_ORG = Lazy(r"[ \t]+(?:Hospital|Council|Court)\b")


def _place_words(value: str) -> str | None:
    """The longest leading run of `value` that is a known city, or None."""
    words = value.split()
    known = gazetteer.cities()
    for n in range(len(words), 0, -1):
        candidate = " ".join(words[:n])
        if candidate in known:
            return candidate
    return None


def _geo(text: str) -> Iterator[Detection]:
    for regex in (_CITY_AFTER, _CITY_BEFORE, _AFTER_COMMA):
        for m in regex.finditer(text):
            place = _place_words(m.group("place"))
            if place:
                start = m.start("place")
                if _NOT_BARE_PLACE.match(text, start + len(place)):
                    continue  # "Leeds General Infirmary", "Dayton Road": not a bare place
                yield Detection(start, start + len(place), "ADDRESS", 4)
                after = _POSTCODE_NEAR.match(text, start + len(place))
                if after:
                    yield Detection(after.start("code"), after.end("code"), "ADDRESS", 4)
    known_counties = gazetteer.counties()
    for m in _COUNTY.finditer(text):
        yield Detection(m.start(), m.end(), "ADDRESS", 4)
    for m in re.finditer(rf"\b{_CAPW}(?:[ \t]{_CAPW})?\b", text):
        if m.group() in known_counties and not _COUNTY_ORG.match(text, m.end()):
            yield Detection(m.start(), m.end(), "ADDRESS", 3)
    for m in _POSTCODE_BEFORE.finditer(text):
        if _place_words(m.group("place")):
            yield Detection(m.start("code"), m.end("code"), "ADDRESS", 4)
    for regex in (_POSTCODES, _EU_STREET, _NAMED_PLACE):
        for m in regex.finditer(text):
            yield Detection(m.start(), m.end(), "ADDRESS", 5)
    for m in _NAMED_STREET.finditer(text):
        group = "place" if m.group("place") else "p2"
        yield Detection(m.start(group), m.end(group), "ADDRESS", 4)


def _plain(text: str) -> Iterator[Detection]:
    for regex, kind, priority in (
        (_URL, "URL", 6), (_IPV4, "IP", 6), (_IPV6, "IP", 5), (_MAC, "DEVICE", 7),
        (_UDI, "DEVICE", 7), (_IMAGE, "PHOTO", 7), (_FILE_WITH_NUMBER, "ID", 5),
        (_VIN, "VEHICLE", 6), (_UK_PLATE, "VEHICLE", 4), (_IBAN, "ACCOUNT", 7),
        (_USERNAME, "ID", 2),
    ):  # fmt: skip
        for m in regex.finditer(text):
            yield Detection(m.start(), m.end(), kind, priority)
    for m in _AGE.finditer(text):
        group = "a" if m.group("a") else "b"
        yield Detection(m.start(group), m.end(group), "AGE", 6)
    for m in _PLATE_CUED.finditer(text):
        value = m.group("value")
        if re.search(r"\d", value) and not re.match(r"(?i)VIN|REG|NO\b", value):
            yield Detection(m.start("value"), m.end("value"), "VEHICLE", 6)
    for kind, regex in _CUED_RES:
        for m in regex.finditer(text):
            value = m.group("value")
            if re.fullmatch(r"\d{1,2}|\d+(?:\.\d+)?(?:mg|mcg|ml|g|kg|mmol|%)?", value, re.I) and (
                kind != "ID" or len(value) < 4
            ):
                continue  # "Group 2", "pump 5 mg": a number, not an identifier
            yield Detection(m.start("value"), m.end("value"), kind, 6)


_PLATE_CUED = Lazy(
    r"(?i:\b(?:plate|registration|reg\.?|car|vehicle|truck|van|motorcycle|tag)\b)"
    r"(?:[ \t]*(?:#|:|No\.?|number|is|was)){0,2}[ \t]*"
    r"(?P<value>(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}[ -]?[A-Z0-9]{1,4})\b"
)
_LOCALITY = Lazy(
    rf",[ \t]+(?P<place>{_PLACE_WORDS})"
    rf"(?=[ \t]*(?:[,.;)\n]|$|[A-Z0-9]{{2,4}}[ ][A-Z0-9]{{3,4}}\b|\d{{4,5}}\b))"
)


def localities_after(text: str, addresses: list[Detection]) -> Iterator[Detection]:
    """The town after a street ("..., Church Lane, Much Wenlock"): capitalised words between
    a comma and the end of the clause, right after an address found another way."""
    for d in addresses:
        m = _LOCALITY.match(text, d.end)
        if m and not _NOT_BARE_PLACE.match(text, m.end("place")):
            words = m.group("place").split()
            if not any(w in name_words.PLACES_NOT_REDACTED for w in words):
                yield Detection(m.start("place"), m.end("place"), "ADDRESS", 3)


def detect_more(text: str) -> list[Detection]:
    """Every Safe Harbor identifier these rules see in `text` (overlaps included)."""
    return [*_plain(text), *_geo(text)]


@lru_cache(maxsize=1)
def warm() -> None:
    """Load the gazetteers now (the first redaction would otherwise pay for it)."""
    gazetteer.cities()
    gazetteer.counties()
