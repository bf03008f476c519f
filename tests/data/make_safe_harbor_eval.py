# ruff: noqa: E501, RUF059  (value pools and templates are kept one per line, as written)
"""Writes tests/data/safe_harbor_eval.jsonl: synthetic clinical and legal documents with every
HIPAA Safe Harbor identifier kind that applies to text labelled by its character span.

    .venv/bin/python tests/data/make_safe_harbor_eval.py

Every value is invented (names from many origins, 555 phone numbers, example.* domains, test
ranges for IP addresses). Documents are built from hand-written templates whose slots are filled
from value pools; the `heldout` split uses templates and name/place pools the `dev` split does
not, so the rules can be checked on text they were not written against. Distractors (doses, lab
values, statutes, clause numbers, money, ICD codes, states, organisations) stand unlabelled in
the prose. Deterministic (seeded): rerunning writes the same file.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).resolve().parent / "safe_harbor_eval.jsonl"

# ------------------------------------------------------------------------------------------
# Name pools (dev / heldout are disjoint)
FIRST = {
    "dev": [
        "Margaret", "Rosa", "Kwabena", "Joaquín", "LaToya", "Hope", "Will", "April", "Siobhán",
        "Nguyen Thi", "Priyanka", "Dmitri", "Fatou", "Hiroshi", "Aaliyah", "Bartholomew",
        "Ngozi", "Mateus", "Ingrid", "Tariq", "Delphine", "Rashida", "Eoin", "Xochitl",
        "Grace", "Sunny", "Faith", "Mercedes", "Bogdan", "Yusuf", "Ayesha", "Tomasz",
    ],
    "heldout": [
        "Eleanor", "Chiamaka", "Oluwadamilare", "Dawn", "Rich", "Summer", "Precious", "Heike",
        "Agnieszka", "Thanh", "Malik", "Imogen", "Rhiannon", "Bongani", "Esperanza", "Ravi",
        "Keanu", "Wren", "Jurgen", "Saoirse", "Kalani", "Mehmet", "Lucinda", "Olamide",
        "Joy", "Frank", "Ximena", "Haruto", "Anjali", "Patrice", "Leilani", "Cosmin",
    ],
}  # fmt: skip
LAST = {
    "dev": [
        "Delgado", "Asante-Darko", "de la Cruz Morales", "Jefferson-Reyes", "Castillo",
        "Treharne", "Blake", "Ní Bhriain", "van der Berg", "Okafor", "Ramaswamy", "Volkov",
        "Diallo", "Takahashi", "Whitfield", "Oyelaran", "Albuquerque", "Lindqvist", "Haddad",
        "Fontaine", "Abernathy-Cole", "O'Sullivan", "Huerta", "MacLeod", "Grabowski",
        "Ellison", "Pham", "Baptiste", "Kowalczyk", "Mensah", "Rutherford", "Iqbal",
    ],
    "heldout": [
        "Nwachukwu", "Fairweather", "Adeyemi-Brooks", "von Stauffenberg", "dos Santos",
        "Harrow", "Ng", "Kaczmarek", "Pereira da Silva", "Le Roux", "Mahlangu", "Obi",
        "Yilmaz", "Sandoval", "Achterberg", "Featherstone", "Ó Briain", "McAllister",
        "Kealoha", "Bui", "Iyer", "Ferreira", "Castellanos", "Petrescu", "Lindgren",
        "Quinlan", "Adebanjo", "Swann", "Ortega-Villalobos", "Kimura", "Boateng", "Marsh",
    ],
}  # fmt: skip
NICK = {
    "dev": ["Bud", "Tiny", "Kiki", "Red", "Dee"],
    "heldout": ["Sonny", "Boo", "Chip", "Lulu"],
    "heldout2": ["Pip", "Nana", "Biscuit", "Junior"],
}
STREETS = {
    "dev": [
        ("3 Mill Cottages, Ferry Lane", "Penzance", "TR18 4AB", "UK"),
        ("1187 Wexford Avenue, Apt 4B", "Dayton", "OH 45402", "US"),
        ("Flat 2, 19 Rowan Court", "Leeds", "LS6 2PL", "UK"),
        ("42 Calle de Alcalá, 3º izq.", "Madrid", "28014", "EU"),
        ("Hauptstraße 17", "Heidelberg", "69117", "EU"),
        ("77 Harbour View Road", "Cobh", "P24 X2F7", "IE"),
        ("2210 N Kedzie Blvd", "Chicago", "IL 60647", "US"),
        ("Rua das Flores 88", "Porto", "4050-262", "EU"),
        ("15 Old Orchard Close", "Stroud", "GL5 3JT", "UK"),
        ("908 Magnolia Terrace", "Savannah", "GA 31401", "US"),
    ],
    "heldout": [
        ("Unit 6, 240 Bridge Street", "Ballarat", "VIC 3350", "AU"),
        ("5 Kestrel Rise", "Harrogate", "HG1 4PQ", "UK"),
        ("63 Prinsengracht", "Amsterdam", "1015 DK", "EU"),
        ("4418 Cedar Hollow Drive", "Boise", "ID 83706", "US"),
        ("Apartment 12, Quayside Mews", "Galway", "H91 R2K4", "IE"),
        ("31 rue des Lilas", "Lyon", "69003", "EU"),
        ("The Old Rectory, Church Lane", "Much Wenlock", "TF13 6AA", "UK"),
        ("7020 Sunset Ridge Pkwy", "Scottsdale", "AZ 85251", "US"),
        ("Via Garibaldi 12", "Bologna", "40124", "EU"),
        ("1 Ferndale Gardens", "Cardiff", "CF14 3NR", "UK"),
    ],
}  # fmt: skip
COUNTY = {
    "dev": ["Cornwall", "Montgomery County", "Chatham County", "Cook County", "County Cork"],
    "heldout": ["Ada County", "North Yorkshire", "Maricopa County", "County Galway", "Shropshire"],
}  # fmt: skip
ORGS = [
    "St Mary's General Hospital", "Florida Medicaid", "Georgia Department of Labor",
    "Mercy General", "Royal Cornwall Hospital", "Northside Clinic", "Blue Harbor Health Plan",
    "Whitfield & Partners LLP", "Hope Valley Surgery", "General Medicine", "Aetna",
]  # fmt: skip


FIRST["heldout2"] = [
    "Temperance",
    "Kofi",
    "Mirela",
    "Jun",
    "Amadou",
    "Sigrid",
    "Paloma",
    "Declan",
    "Ifeoma",
    "Marguerite",
    "Rustam",
    "Noor",
    "Ezekiel",
    "Yuki",
    "Branwen",
    "Tupac",
    "Ottilie",
    "Rajan",
    "Constance",
    "Bao",
    "Ebony",
    "Florin",
    "Sunita",
    "Ambrose",
    "Carmel",
    "Dimitra",
    "Liesel",
    "Hamid",
    "Honor",
    "Zuzana",
    "Teodoro",
    "Iolanthe",
]
LAST["heldout2"] = [
    "Achebe",
    "Strand",
    "Papadopoulos",
    "al-Hashimi",
    "van Rensburg",
    "de Souza",
    "Lachance",
    "Nakamura-Hale",
    "Tremblay",
    "Oduya",
    "Baird",
    "Szymańska",
    "Nkemelu",
    "Carrow",
    "Villanueva",
    "Thistlewood",
    "Moreau",
    "Gallagher",
    "Ahmadzai",
    "Kovač",
    "Ibekwe",
    "Penhaligon",
    "Mwangi",
    "Rossi",
    "Halvorsen",
    "St. Clair",
    "Dang",
    "Obuya",
    "Esterházy",
    "Pendergast",
]
STREETS["heldout2"] = [
    ("22 Tannery Row", "Kendal", "LA9 4HF", "UK"),
    ("1650 W Alvarado Street, Unit 9", "Fresno", "CA 93711", "US"),
    ("Flat 5B, Marlowe House, 7 Station Approach", "Woking", "GU22 7AP", "UK"),
    ("Kastanienallee 41", "Berlin", "10435", "EU"),
    ("88 Rathmines Road Lower", "Dublin", "D06 F9T2", "IE"),
    ("Corso Vittorio Emanuele 140", "Torino", "10138", "EU"),
    ("311 Lakeshore Blvd, Suite 210", "Duluth", "MN 55802", "US"),
    ("Rose Cottage, Back Lane", "Hawes", "DL8 3QN", "UK"),
]
COUNTY["heldout2"] = ["Hennepin County", "Cumbria", "County Kerry", "Fresno County", "Surrey"]


FIRST["heldout3"] = [
    "Philippa",
    "Oyelowo",
    "Mariana",
    "Gustavo",
    "Sinéad",
    "Vusi",
    "Farida",
    "Lorcan",
    "Hana",
    "Augustin",
    "Rosalind",
    "Chukwuemeka",
    "Ines",
    "Benedikt",
    "Taini",
    "Archibald",
    "Nadia",
    "Kenji",
    "Blessing",
    "Lowri",
    "Ayodele",
    "Sebastián",
    "Maud",
    "Kaveh",
    "Perpetua",
    "Ugo",
    "Sol",
    "Iris",
    "Baxter",
    "Hollis",
]
LAST["heldout3"] = [
    "Okonjo",
    "Lindahl",
    "de Vries",
    "Abara",
    "Montgomery-Shaw",
    "Quispe",
    "Rahimi",
    "Galbraith",
    "Nakashima",
    "van den Broek",
    "Oyenuga",
    "Fitzwilliam",
    "Szabó",
    "Mbeki",
    "Castañeda",
    "Ó Conaill",
    "Whitlock",
    "Bergstrom",
    "Adewale",
    "Kaminski",
    "Delacroix",
    "Tshabalala",
    "Hartigan",
    "Al-Farsi",
    "Prendergast",
    "Voronova",
    "Eze",
    "Larkspur",
    "Goldfarb",
    "Mancini",
]
NICK["heldout3"] = ["Bunny", "Moe", "Tink", "Gus"]
STREETS["heldout3"] = [
    ("14 Kiln Lane", "Lewes", "BN7 2DH", "UK"),
    ("5520 Old Mill Road, Apt 3C", "Asheville", "NC 28806", "US"),
    ("Apartment 7, Weavers Court, 2 Canal Street", "Macclesfield", "SK11 6AF", "UK"),
    ("Carrer de Mallorca 214", "Barcelona", "08036", "EU"),
    ("Lindenstraße 9", "Freiburg", "79098", "EU"),
    ("29 Marine Parade", "Dún Laoghaire", "A96 K2X8", "IE"),
    ("808 Pecan Grove Court", "Tulsa", "OK 74105", "US"),
    ("Ivy Barn, Mill Hill", "Ledbury", "HR8 1QJ", "UK"),
]
COUNTY["heldout3"] = [
    "Buncombe County",
    "East Sussex",
    "County Wicklow",
    "Tulsa County",
    "Cheshire",
]


class Doc:
    """A document being written: text plus labelled spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[dict[str, object]] = []
        self.length = 0

    def t(self, text: str) -> Doc:
        self.parts.append(text)
        self.length += len(text)
        return self

    def s(self, kind: str, value: str) -> Doc:
        self.spans.append(
            {"start": self.length, "end": self.length + len(value), "type": kind, "text": value}
        )
        return self.t(value)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Person:
    def __init__(self, rng: random.Random, split: str, lower: bool = False) -> None:
        self.first = rng.choice(FIRST[split])
        self.last = rng.choice(LAST[split])
        self.nick = rng.choice(NICK[split])
        self.lower = lower

    @property
    def full(self) -> str:
        full = f"{self.first} {self.last}"
        return full.lower() if self.lower else full

    @property
    def surname(self) -> str:
        return self.last.lower() if self.lower else self.last


# ------------------------------------------------------------------------------------------
# Value generators (one per kind, several formats each)
def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def date(rng: random.Random) -> str:
    y, m, d = rng.randint(1931, 2025), rng.randint(1, 12), rng.randint(1, 28)
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]  # fmt: skip
    month = months[m - 1]
    return rng.choice([
        f"{m:02d}/{d:02d}/{y}", f"{d}.{m:02d}.{y}", f"{y}/{m:02d}/{d:02d}", f"{y}-{m:02d}-{d:02d}",
        f"{month} {d}, {y}", f"{d} {month} {y}", f"{month} {d}th", f"{d} {month[:3]} {y}",
        f"{month[:3]}. {d}, {y}", f"{d}-{month[:3]}-{y % 100:02d}", f"{m}/{d}/{y % 100:02d}",
    ])  # fmt: skip


def short_date(rng: random.Random) -> str:
    months = ["January", "March", "April", "June", "August", "October", "November"]
    return rng.choice([f"{rng.choice(months)} {rng.randint(1, 28)}",
                       f"{rng.randint(1, 28)} {rng.choice(months)}",
                       f"{rng.choice(months)} {rng.randint(1, 28)}th"])  # fmt: skip


def age(rng: random.Random) -> tuple[str, str, str]:
    n = rng.randint(90, 104)
    return rng.choice([
        ("", f"{n}", "-year-old"), ("Age: ", f"{n}", ""), ("aged ", f"{n}", ""),
        ("", f"{n}", " years old"), ("", f"{n}", " yo"), ("age ", f"{n}", ""),
        ("", f"{n}", "yo"), ("", f"{n}", " y/o"),
    ])  # fmt: skip


def phone(rng: random.Random, region: str = "US") -> str:
    if region == "UK":
        return rng.choice(
            [
                f"07700 900{_digits(rng, 3)}",
                f"0117 496 0{_digits(rng, 3)}",
                f"+44 20 7946 0{_digits(rng, 3)}",
                f"01632 960{_digits(rng, 3)}",
            ]
        )
    if region == "EU":
        return rng.choice(
            [
                f"+49 30 {_digits(rng, 8)}",
                f"+33 1 42 68 {_digits(rng, 2)} {_digits(rng, 2)}",
                f"+34 91 {_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 2)}",
            ]
        )
    return rng.choice([f"({_digits(rng, 3)}) 555-0{_digits(rng, 3)}", f"{_digits(rng, 3)}-555-0{_digits(rng, 3)}",
                       f"{_digits(rng, 3)}.555.0{_digits(rng, 3)}", f"+1 {_digits(rng, 3)} 555 0{_digits(rng, 3)}"])  # fmt: skip


def email(rng: random.Random, p: Person) -> str:
    first = re.sub(r"[^a-z]", "", p.first.lower())[:8] or "x"
    last = re.sub(r"[^a-z]", "", p.last.lower())[:10] or "y"
    return rng.choice([f"{first}.{last}@example.org", f"{first[0]}{last}{_digits(rng, 2)}@mail.example.com",
                       f"{last}_{first}@example.net", f"K{_digits(rng, 7)}@pt.example.org"])  # fmt: skip


def ssn(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(100, 665)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
            f"XXX-XX-{_digits(rng, 4)}",
            f"{rng.randint(100, 665)} {_digits(rng, 2)} {_digits(rng, 4)}",
        ]
    )


def national(rng: random.Random) -> tuple[str, str]:
    return rng.choice(
        [
            ("NHS number ", f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}"),
            ("NHS No: ", f"{_digits(rng, 10)}"),
            (
                "NI number ",
                f"Q{_letters(rng, 1)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} C",
            ),
            ("PPSN ", f"{_digits(rng, 7)}{_letters(rng, 1)}"),
            ("passport no. ", f"{_letters(rng, 2)}{_digits(rng, 7)}"),
            ("Medicare number ", f"{_digits(rng, 4)} {_digits(rng, 5)} {_digits(rng, 1)}"),
            ("CHI ", f"{_digits(rng, 10)}"),
            ("DNI ", f"{_digits(rng, 8)}{_letters(rng, 1)}"),
            ("driver's licence ", f"{_letters(rng, 5)}{_digits(rng, 6)}{_letters(rng, 2)}"),
        ]
    )


def mrn(rng: random.Random) -> tuple[str, str]:
    value = rng.choice(
        [
            _digits(rng, 8),
            f"K{_digits(rng, 7)}",
            f"{_letters(rng, 2)}-{_digits(rng, 6)}",
            f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 3)}",
            f"H{_digits(rng, 6)}",
        ]
    )
    label = rng.choice(["MRN: ", "MRN ", "Hosp No: ", "Hospital No. ", "Unit No ", "Medical Record Number: ",
                        "Patient ID: ", "Med Rec #", "Chart #", "RM2 number ", "hospital number ", "MR# "])  # fmt: skip
    return label, value


def plan(rng: random.Random) -> tuple[str, str]:
    return rng.choice([
        ("Member ID: ", f"{_letters(rng, 3)}{_digits(rng, 9)}"),
        ("Policy #", f"{_letters(rng, 1)}{_digits(rng, 8)}-{_digits(rng, 2)}"),
        ("Subscriber ID ", f"{_digits(rng, 9)}{_letters(rng, 2)}"),
        ("health plan beneficiary number ", f"{_digits(rng, 1)}{_letters(rng, 2)}{_digits(rng, 1)}-{_letters(rng, 3)}-{_digits(rng, 4)}"),
        ("Group No. ", f"GRP-{_digits(rng, 6)}"),
        ("Medicaid ID ", f"{_letters(rng, 2)}{_digits(rng, 8)}"),
        ("insurance ID ", f"{_letters(rng, 3)}-{_digits(rng, 4)}-{_digits(rng, 4)}"),
    ])  # fmt: skip


def account(rng: random.Random) -> tuple[str, str]:
    iban = rng.choice(
        [
            f"GB{_digits(rng, 2)} NWBK {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 2)}",
            f"DE{_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 2)}",
            f"IE{_digits(rng, 2)}AIBK{_digits(rng, 14)}",
            f"ES{_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 2)} {_digits(rng, 10)}",
        ]
    )
    return rng.choice([
        ("IBAN ", iban), ("IBAN: ", iban), ("account number ", _digits(rng, 10)),
        ("Acct #", f"{_digits(rng, 4)}-{_digits(rng, 6)}"), ("account ending ", _digits(rng, 4)),
        ("billing account ", f"BA-{_digits(rng, 7)}"), ("Invoice No. ", f"INV-{_digits(rng, 6)}"),
    ])  # fmt: skip


def licence(rng: random.Random) -> tuple[str, str]:
    return rng.choice([
        ("DEA ", f"{_letters(rng, 2)}{_digits(rng, 7)}"),
        ("State Bar No. ", _digits(rng, 6)),
        ("Bar No. ", _digits(rng, 7)),
        ("medical licence no. ", f"MD{_digits(rng, 6)}"),
        ("License #", f"{_letters(rng, 1)}{_digits(rng, 5)}"),
        ("GMC ", _digits(rng, 7)),
        ("NPI ", f"1{_digits(rng, 9)}"),
        ("death certificate no. ", f"{_digits(rng, 4)}-{_digits(rng, 6)}"),
        ("birth certificate ", f"BC{_digits(rng, 8)}"),
        ("RN license ", f"RN{_digits(rng, 7)}"),
        ("SRA number ", _digits(rng, 6)),
    ])  # fmt: skip


def vin(rng: random.Random) -> str:
    return rng.choice("1234JKLSW") + "".join(
        rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(16)
    )


def plate(rng: random.Random) -> str:
    return rng.choice([f"{_letters(rng, 2)}{_digits(rng, 2)} {_letters(rng, 3)}", f"{_digits(rng, 1)}{_letters(rng, 3)}{_digits(rng, 3)}",
                       f"{_letters(rng, 3)}-{_digits(rng, 4)}", f"{_letters(rng, 3)} {_digits(rng, 3)}"])  # fmt: skip


def device(rng: random.Random) -> tuple[str, str]:
    return rng.choice([
        ("serial number ", f"{_letters(rng, 3)}{_digits(rng, 6)}{_letters(rng, 1)}"),
        ("S/N ", f"{_digits(rng, 4)}-{_letters(rng, 2)}{_digits(rng, 4)}"),
        ("SN: ", f"PJN{_digits(rng, 6)}"),
        ("device ID ", f"{_letters(rng, 2)}{_digits(rng, 2)}-{_letters(rng, 1)}{_digits(rng, 5)}"),
        ("UDI ", f"(01){_digits(rng, 14)}(21){_letters(rng, 2)}{_digits(rng, 5)}"),
        ("serial ", f"{_letters(rng, 2)}{_digits(rng, 8)}"),
        ("IMEI ", f"35{_digits(rng, 13)}"),
        ("MAC ", ":".join(f"{rng.randint(0, 255):02X}" for _ in range(6))),
    ])  # fmt: skip


def url(rng: random.Random, p: Person) -> str:
    last = re.sub(r"[^a-z]", "", p.last.lower())
    return rng.choice([
        f"https://portal.example-health.org/patients/{_digits(rng, 7)}/summary",
        f"http://www.facebook.example.com/{last}.{_digits(rng, 3)}",
        f"https://drive.example.com/file/d/{_letters(rng, 4)}{_digits(rng, 5)}/view",
        f"www.{last}-family.example.net",
        f"https://linkedin.example.com/in/{re.sub(r'[^a-z]', '', p.first.lower())}-{last}",
        f"https://files.examplelaw.com/matters/{_digits(rng, 5)}/exhibit-{rng.randint(1, 9)}.pdf",
    ])  # fmt: skip


def ip(rng: random.Random) -> str:
    return rng.choice([
        f"192.0.2.{rng.randint(1, 254)}", f"198.51.100.{rng.randint(1, 254)}", f"203.0.113.{rng.randint(1, 254)}",
        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        f"2001:db8:{rng.randint(0, 65535):x}::{rng.randint(1, 65535):x}",
        f"2001:0db8:85a3:0000:0000:8a2e:0370:{rng.randint(0, 65535):04x}", f"fe80::{rng.randint(0, 65535):x}:{rng.randint(0, 65535):x}",
    ])  # fmt: skip


def biometric(rng: random.Random) -> tuple[str, str]:
    return rng.choice([
        ("fingerprint template ID ", f"FP-{_digits(rng, 8)}"),
        ("voiceprint ref ", f"VP{_digits(rng, 6)}"),
        ("retinal scan ID ", f"RS-{_letters(rng, 2)}{_digits(rng, 5)}"),
        ("biometric ID ", f"BIO{_digits(rng, 7)}"),
        ("palm vein record ", f"PV-{_digits(rng, 6)}"),
        ("facial geometry hash ", "".join(rng.choice("0123456789abcdef") for _ in range(16))),
    ])  # fmt: skip


def photo(rng: random.Random, p: Person, mrn_value: str) -> str:
    last = re.sub(r"[^A-Za-z]", "", p.last)
    return rng.choice([
        f"patient_photo_{mrn_value}.png", f"IMG_{_digits(rng, 4)}.JPG", f"{last}_wound_{_digits(rng, 8)}.jpg",
        f"DSC{_digits(rng, 5)}.jpeg", f"face_{mrn_value}_front.tif", f"photo-{last.lower()}-{_digits(rng, 4)}.heic",
        f"scan_{_digits(rng, 6)}.png",
    ])  # fmt: skip


def other_id(rng: random.Random) -> tuple[str, str]:
    return rng.choice([
        ("employee ID ", f"E{_digits(rng, 6)}"), ("student no. ", _digits(rng, 8)),
        ("prisoner number ", f"A{_digits(rng, 4)}{_letters(rng, 2)}"), ("badge ", f"{_digits(rng, 5)}"),
        ("claim number ", f"CLM-{_digits(rng, 8)}"), ("username ", f"jdoe{_digits(rng, 4)}"),
        ("reference ", f"REF/{_digits(rng, 4)}/{_letters(rng, 2)}"), ("ticket ", f"TK-{_digits(rng, 7)}"),
        ("case no. ", f"{rng.randint(1, 9)}:{rng.randint(18, 25)}-cv-{_digits(rng, 5)}"),
        ("Claim No. ", f"{_letters(rng, 2)}{_digits(rng, 2)}C{_digits(rng, 5)}"),
        ("Docket No. ", f"{_letters(rng, 3)}-L-{_digits(rng, 4)}-{rng.randint(18, 25)}"),
    ])  # fmt: skip


# Distractors: never labelled.
_DOMAIN = ["clinical"]


def distractor(rng: random.Random) -> str:
    pool = _CLINICAL_DISTRACTORS if _DOMAIN[0] == "clinical" else _LEGAL_DISTRACTORS
    return rng.choice(pool)


_ALL_DISTRACTORS = [
        "metformin 500 mg twice daily", "HbA1c 7.8%", "creatinine 1.4 mg/dL", "eGFR 48 mL/min/1.73m2",
        "potassium 4.2 mmol/L", "BP 142/88", "INR 2.6", "apixaban 5 mg BD", "Hb 11.2 g/dL",
        "under 42 U.S.C. § 1983", "pursuant to Section 12.3", "Clause 7.2(b)", "Rule 26(a)(1)",
        "a fee of $12,500.00", "damages of £48,250", "ICD-10 I50.9", "ICD-10 E11.65", "CPT 99214",
        "29 C.F.R. § 1630.2", "Fed. R. Civ. P. 56", "paragraph 14", "tablets 2.5 mg", "Article 9(2)(h) GDPR",
        "a deposit of €3,400", "Exhibit 12", "the Florida statute", "a Georgia court", "T2DM since 2009",
        "troponin 0.04 ng/mL", "heart rate 96", "SpO2 93%", "weight 71.4 kg", "the 2019 Act",
        "12 weeks", "section 47 of the Children Act 1989", "Level 3", "page 4 of 9", "Stage 2",
]  # fmt: skip
_LEGAL_WORDS = ("U.S.C", "Section", "Clause", "Rule", "fee", "damages", "C.F.R", "Fed.", "paragraph",
                "Article", "deposit", "Exhibit", "Florida", "Georgia", "Act", "page", "Level")  # fmt: skip
_LEGAL_DISTRACTORS = [x for x in _ALL_DISTRACTORS if any(w in x for w in _LEGAL_WORDS)]
_CLINICAL_DISTRACTORS = [x for x in _ALL_DISTRACTORS if x not in _LEGAL_DISTRACTORS] + [
    "ICD-10 I50.9",
    "ICD-10 E11.65",
    "a co-pay of $40",
    "Level 3",
    "the Georgia Medicaid formulary",
]


# ------------------------------------------------------------------------------------------
# Templates. Each writes one document; `p` is the patient or client, `o` other people.
def clinical_phone(d: Doc, r: random.Random, sp: str) -> None:
    p, o = Person(r, sp, lower=True), Person(r, sp)
    d.t("Telephone encounter ").s("DATE", date(r)).t("\nspoke with ").s("PERSON", p.full)
    d.t(" re: refill. pt states ").s("PERSON", p.surname).t(" ran out of ").t(distractor(r))
    d.t(". callback ").s("PHONE", phone(r)).t(". ")
    pre, a, post = age(r)
    d.t("Mother (").t(pre).s("AGE", a).t(post).t(") lives with her. Verified ")
    lab, v = mrn(r)
    d.t(lab).s("MRN", v).t(". Forwarded to Dr. ").s("PERSON", o.last).t(", fax ").s("FAX", phone(r))
    lab2, v2 = plan(r)
    d.t(". Insurance on file, ").t(lab2).s("HEALTH_PLAN", v2).t(".\n")
    d.t("Note: ").t(distractor(r)).t("; ").t(distractor(r)).t(".\n")


def clinical_discharge(d: Doc, r: random.Random, sp: str) -> None:
    p, o, q = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("DISCHARGE SUMMARY\nPatient: ").s("PERSON", f"{p.last.upper()}, {p.first}")
    lab, v = mrn(r)
    d.t("\n").t(lab).s("MRN", v).t("    DOB: ").s("DATE", date(r)).t("\nAddress: ").s(
        "ADDRESS", street
    )
    d.t(", ").s("ADDRESS", city).t(" ").s("ADDRESS", post).t("\n")
    pre, a, post_ = age(r)
    d.t("\nHPI: Mrs ").s("PERSON", p.last).t(" (").t(pre).s("AGE", a).t(post_).t(
        ") was admitted to "
    ).t(r.choice(ORGS)).t(" on ")
    d.s("DATE", short_date(r)).t(" with decompensated heart failure (").t(distractor(r)).t("). ")
    d.t("Started on ").t(distractor(r)).t(". Pacemaker ").t("serial number ")
    d.s("DEVICE", device(r)[1]).t(" interrogated.\nWound photo uploaded as ").s(
        "PHOTO", photo(r, p, v)
    )
    d.t(". Daughter ").s("PERSON", o.full).t(" (").s("PHONE", phone(r, region)).t(
        ") will collect her.\n"
    )
    d.t("District nurse ").s("PERSON", q.full).t(" to visit. ")
    lab2, v2 = plan(r)
    d.t(lab2).s("HEALTH_PLAN", v2).t(".\nAttending: ").s("PERSON", f"{o.first[0]}. {q.last}").t(
        ", MD\n"
    )


def clinical_referral_uk(d: Doc, r: random.Random, sp: str) -> None:
    p, gp = Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice([s for s in STREETS[sp] if s[3] in ("UK", "IE")])
    d.s("DATE", date(r)).t("\n\nDear Dr ").s("PERSON", gp.last).t(",\n\nRe: ").s("PERSON", p.full)
    d.t(' ("').s("PERSON", p.nick).t('"), DOB ').s("DATE", date(r)).t(", ")
    lab, v = national(r)
    d.t(lab).s("NATIONAL_ID", v).t("\n").s("ADDRESS", street).t(", ").s("ADDRESS", city).t(" ")
    d.s("ADDRESS", post).t("\n\nThank you for seeing ").s("PERSON", p.first).t(", who moved from ")
    d.s("ADDRESS", r.choice(COUNTY[sp])).t(" last year. ").t(distractor(r)).t(", ").t(distractor(r))
    d.t(". Contact her on ").s("PHONE", phone(r, "UK")).t(" or ").s("EMAIL", email(r, p)).t(".\n\n")
    d.t("Yours sincerely,\n\n").s("PERSON", f"{gp.first} {gp.last}").t("\nGP, ").t(r.choice(ORGS))
    d.t("\nTel ").s("PHONE", phone(r, "UK")).t("  Fax ").s("FAX", phone(r, "UK")).t("\n")


def clinical_radiology(d: Doc, r: random.Random, sp: str) -> None:
    p, rad = Person(r, sp), Person(r, sp)
    lab, v = mrn(r)
    d.t("RADIOLOGY REPORT\nName: ").s("PERSON", p.full).t("  ").t(lab).s("MRN", v)
    d.t("\nAccession: ").s("ID", f"ACC{_digits(r, 8)}").t("  Study date: ").s("DATE", date(r))
    d.t("\nImages: ").s("PHOTO", photo(r, p, v)).t(", ").s("PHOTO", f"IMG_{_digits(r, 4)}.JPG")
    d.t("\nViewer link: ").s("URL", url(r, p)).t("\nWorkstation ").s("IP", ip(r))
    d.t("\nFindings: ").t(distractor(r)).t(". Implanted device ")
    lab2, v2 = device(r)
    d.t(lab2).s("DEVICE", v2).t(" noted; MRI conditional.\nImpression: ").t(distractor(r))
    d.t(".\nReported by ").s("PERSON", rad.full).t(", FRCR, GMC ").s("LICENSE", _digits(r, 7)).t(
        "\n"
    )


def clinical_ed(d: Doc, r: random.Random, sp: str) -> None:
    p, o = Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    pre, a, post_ = age(r)
    d.t("ED triage ").s("DATE", date(r)).t(" 03:40\n").t(pre).s("AGE", a).t(post_)
    d.t(" male brought in by ambulance from ").s("ADDRESS", f"{street}, {city}").t(". Pt ")
    d.s("PERSON", p.full).t(" found on floor by neighbour ").s("PERSON", o.first).t(". ")
    d.t(distractor(r)).t(". SSN ").s("SSN", ssn(r)).t(". ")
    lab0, v0 = mrn(r)
    d.t(lab0).s("MRN", v0).t("; ")
    lab1, v1 = national(r)
    d.t(lab1).s("NATIONAL_ID", v1).t(". Old notes faxed from ").s("FAX", phone(r, region)).t(". ")
    lab, v = plan(r)
    d.t(lab).s("HEALTH_PLAN", v).t(".\nWristband biometric: ")
    lab2, v2 = biometric(r)
    d.t(lab2).s("BIOMETRIC", v2).t(".\nPlan: ").t(distractor(r)).t(". Discussed with ")
    d.s("PERSON", f"{o.first} {o.last}").t(" (son) on ").s("PHONE", phone(r, region)).t(".\n")


def clinical_home(d: Doc, r: random.Random, sp: str) -> None:
    p, n = Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("Home visit ").s("DATE", short_date(r)).t(". Visited ").s("PERSON", p.full).t(" at ")
    d.s("ADDRESS", street).t(", ").s("ADDRESS", city).t(". ")
    pre, a, post_ = age(r)
    d.t(pre).s("AGE", a).t(post_).t(". Key safe code given by ").s("PERSON", n.full)
    d.t(". Telecare pendant ").s("DEVICE", f"{_letters(r, 3)}{_digits(r, 6)}{_letters(r, 1)}")
    d.t(" tested. Video visit via ").s("URL", url(r, p)).t(" (home router ").s("IP", ip(r)).t("). ")
    d.t(distractor(r)).t(". Car: ").s("VEHICLE", plate(r)).t(" on driveway.\n")
    d.t("Next visit booked; ").s("PERSON", p.surname).t(" agrees. ").t(distractor(r)).t(".\n")


def clinical_pharmacy(d: Doc, r: random.Random, sp: str) -> None:
    p, doc = Person(r, sp), Person(r, sp)
    d.t("Prescription ").s("DATE", date(r)).t("\nPatient: ").s("PERSON", p.full).t(", DOB ")
    d.s("DATE", date(r)).t("\nRx: ").t(distractor(r)).t("\nPrescriber: Dr ").s("PERSON", doc.full)
    lab, v = licence(r)
    d.t(", ").t(lab).s("LICENSE", v).t("\nPharmacy account ")
    d.s("ACCOUNT", _digits(r, 9)).t("; patient portal user ").s(
        "ID", f"{p.first.lower()[:3]}{_digits(r, 4)}"
    )
    d.t("\nDiagnosis ").t(distractor(r)).t("\nFax back to ").s("FAX", phone(r)).t(". ")
    lab2, v2 = plan(r)
    d.t(lab2).s("HEALTH_PLAN", v2).t(". Last four of SSN verified: ").s("SSN", ssn(r)).t(
        ". EPCS sign-off "
    )
    lab3, v3 = biometric(r)
    d.t(lab3).s("BIOMETRIC", v3).t(".\n")


def legal_demand(d: Doc, r: random.Random, sp: str) -> None:
    c, a, o = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.s("DATE", date(r)).t("\n\nVIA EMAIL: ").s("EMAIL", email(r, o)).t("\n\n").s("PERSON", o.full)
    d.t("\nClaims Adjuster, ").t(r.choice(ORGS)).t("\n\nRe: Our client ").s("PERSON", c.full)
    lab, v = other_id(r)
    d.t("; ").t(lab).s("ID", v).t("; date of loss ").s("DATE", date(r)).t("\n\nDear Mr. ")
    d.s("PERSON", o.last).t(",\n\nOn ").s("DATE", short_date(r)).t(" your insured's vehicle, VIN ")
    d.s("VEHICLE", vin(r)).t(", plate ").s("VEHICLE", plate(r)).t(", struck ").s("PERSON", c.first)
    d.t(" near ").s("ADDRESS", street).t(" in ").s("ADDRESS", city).t(". Liability is clear ").t(
        distractor(r)
    )
    d.t(". We demand ").t(distractor(r)).t(" ").t(distractor(r)).t(".\nPayment to IOLTA ")
    lab2, v2 = account(r)
    d.t(lab2).s("ACCOUNT", v2).t(".\n\nVery truly yours,\n\n/s/ ").s("PERSON", a.full)
    lab3, v3 = licence(r)
    d.t("\n").t(lab3).s("LICENSE", v3).t("\n")


def legal_caption(d: Doc, r: random.Random, sp: str) -> None:
    pl, df, j = Person(r, sp), Person(r, sp), Person(r, sp)
    d.t("UNITED STATES DISTRICT COURT\nNORTHERN DISTRICT OF GEORGIA\n\n").s(
        "PERSON", pl.full.upper()
    )
    d.t(",\n        Plaintiff,\nv.\n").s("PERSON", df.full.upper()).t(",\n        Defendant.\n\n")
    d.t("Civil Action No. ").s(
        "ID", f"{r.randint(1, 4)}:{r.randint(19, 25)}-cv-{_digits(r, 5)}-{_letters(r, 3)}"
    )
    d.t("\n\nCOMPLAINT\n1. This action arises ").t(distractor(r)).t(". Plaintiff ").s(
        "PERSON", pl.last
    )
    pre, a, post = age(r)
    d.t(", ").t(pre).s("AGE", a).t(post).t(", resides in ").s("ADDRESS", r.choice(COUNTY[sp])).t(
        ".\n"
    )
    d.t("2. On ").s("DATE", date(r)).t(" Defendant accessed Plaintiff's account from IP address ")
    d.s("IP", ip(r)).t(" and posted at ").s("URL", url(r, pl)).t(".\n3. ").t(distractor(r))
    d.t("; see ").t(distractor(r)).t(". Defendant enrolled Plaintiff's ")
    lab4, v4 = biometric(r)
    d.t(lab4).s("BIOMETRIC", v4).t(" without consent.\nAssigned to Judge ").s("PERSON", j.full).t(
        ".\n"
    )


def legal_deposition(d: Doc, r: random.Random, sp: str) -> None:
    w, att = Person(r, sp), Person(r, sp)
    d.t("DEPOSITION OF ").s("PERSON", w.full.upper()).t("\nTaken ").s("DATE", date(r)).t("\n\n")
    d.t("Q. State your name for the record.\nA. ").s("PERSON", w.full).t(", but everyone calls me ")
    d.s("PERSON", w.nick).t(".\nQ. Your address?\nA. ").s("ADDRESS", r.choice(STREETS[sp])[0]).t(
        ".\n"
    )
    d.t("Q. Mr. ").s("PERSON", w.last).t(", did you drive the truck, plate ").s("VEHICLE", plate(r))
    d.t("?\nA. Yes. My cell is ").s("PHONE", phone(r)).t(".\nQ. Exhibit 4 is ").s(
        "PHOTO", f"DSC{_digits(r, 5)}.jpeg"
    )
    d.t(".\nQ. And your Social Security number is ").s("SSN", ssn(r)).t(
        "?\nA. Yes. I posted it on "
    )
    d.s("URL", url(r, w)).t(" from ").s("IP", ip(r)).t(".\nBY MS. ").s(
        "PERSON", att.last.upper()
    ).t(":\nQ. ").t(distractor(r)).t("?\n")


def legal_engagement(d: Doc, r: random.Random, sp: str) -> None:
    c, a = Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("ENGAGEMENT LETTER\n").s("DATE", date(r)).t("\n").s("PERSON", c.full).t("\n").s(
        "ADDRESS", street
    )
    d.t("\n").s("ADDRESS", city).t(" ").s("ADDRESS", post).t("\n\nDear ").s("PERSON", c.first).t(
        ",\n\n"
    )
    d.t("1. Scope. ").t(distractor(r)).t(". 2. Fees. ").t(distractor(r)).t(", ").t(distractor(r)).t(
        ".\n"
    )
    d.t("3. Your client portal: ").s("URL", url(r, c)).t(" (user name ").s(
        "ID", f"{re.sub('[^a-z]', '', c.last.lower())[:5]}{_digits(r, 3)}"
    )
    d.t(").\n4. Funds to ")
    lab, v = account(r)
    d.t(lab).s("ACCOUNT", v).t(". Your date of birth (").s("DATE", date(r)).t(") and ")
    lab2, v2 = national(r)
    d.t(lab2).s("NATIONAL_ID", v2).t(" and SSN ").s("SSN", ssn(r)).t(
        " were verified.\n\nSigned: "
    ).s("PERSON", a.full)
    d.t(", Partner\nSRA number ").s("LICENSE", _digits(r, 6)).t("\n")


def legal_forensic(d: Doc, r: random.Random, sp: str) -> None:
    s, e = Person(r, sp), Person(r, sp)
    d.t("FORENSIC EXAMINATION REPORT ").s("DATE", date(r)).t("\nCustodian: ").s("PERSON", s.full)
    d.t("\nLaptop ").s("DEVICE", f"{_letters(r, 2)}{_digits(r, 8)}").t(", MAC ")
    d.s("DEVICE", ":".join(f"{r.randint(0, 255):02X}" for _ in range(6))).t("\nLogins from ")
    d.s("IP", ip(r)).t(" and ").s("IP", ip(r)).t(" on ").s("DATE", short_date(r)).t(".\nFiles: ")
    d.s("PHOTO", photo(r, s, _digits(r, 7))).t(", ").t("budget_2023.xlsx").t(
        ".\nBadge access by biometric "
    )
    lab, v = biometric(r)
    d.t(lab).s("BIOMETRIC", v).t(". Examiner: ").s("PERSON", e.full)
    d.t(", ").s("EMAIL", email(r, e)).t(".\n").t(distractor(r)).t(".\n")


def legal_estate(d: Doc, r: random.Random, sp: str) -> None:
    t, ex, b = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("IN THE MATTER OF THE ESTATE OF ").s("PERSON", t.full.upper()).t(", deceased\n\n")
    d.t("The decedent died on ").s("DATE", date(r)).t(" aged ").s("AGE", str(r.randint(90, 103)))
    d.t(" at ").s("ADDRESS", f"{street}, {city}").t(". Death certificate no. ").s(
        "LICENSE", f"{_digits(r, 4)}-{_digits(r, 6)}"
    )
    d.t(". Executor: ").s("PERSON", ex.full).t(". Beneficiary ").s("PERSON", b.full)
    d.t(', known as "').s("PERSON", b.nick).t('", receives ').t(distractor(r)).t(". ")
    d.t("Vehicle ").s("VEHICLE", vin(r)).t(" passes to ").s("PERSON", b.surname).t(". ")
    lab, v = account(r)
    d.t(lab).s("ACCOUNT", v).t(" to be closed. ").t(distractor(r)).t(". Decedent's SSN ").s(
        "SSN", ssn(r)
    )
    lab2, v2 = national(r)
    d.t("; ").t(lab2).s("NATIONAL_ID", v2).t(". Safe deposit access ")
    lab3, v3 = biometric(r)
    d.t(lab3).s("BIOMETRIC", v3).t(" revoked.\n")


def clinical_handover(d: Doc, r: random.Random, sp: str) -> None:
    p, n, g = Person(r, sp), Person(r, sp), Person(r, sp, lower=True)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("SBAR handover, bay 3, bed 2\nS: ").s("PERSON", f"{p.first} {p.last}").t(", ")
    pre, a, post_ = age(r)
    d.t(pre).s("AGE", a).t(post_).t(", ")
    lab, v = mrn(r)
    d.t(lab).s("MRN", v).t(", adm ").s("DATE", date(r)).t(".\nB: lives alone at ").s(
        "ADDRESS", street
    )
    d.t(", ").s("ADDRESS", city).t(". NOK granddaughter ").s("PERSON", g.full).t(" ").s(
        "PHONE", phone(r, region)
    )
    d.t(".\nA: ").t(distractor(r)).t("; ").t(distractor(r)).t(". Insulin pump ")
    lab2, v2 = device(r)
    d.t(lab2).s("DEVICE", v2).t(".\nR: ").t(distractor(r)).t(". Handed over to ").s(
        "PERSON", n.full
    )
    d.t(" at 19:30 on ").s("DATE", short_date(r)).t(".\n")


def clinical_telehealth(d: Doc, r: random.Random, sp: str) -> None:
    p, c = Person(r, sp), Person(r, sp)
    d.t("Video consultation log ").s("DATE", date(r)).t("\nJoined from ").s("IP", ip(r))
    d.t(" via ").s("URL", url(r, p)).t("\nClinician: ").s("PERSON", c.full).t(" (")
    lab, v = licence(r)
    d.t(lab).s("LICENSE", v).t(")\n").s("PERSON", p.first).t(" ").s("PERSON", p.last)
    d.t(" showed the rash on camera; screenshot saved as ").s("PHOTO", photo(r, p, _digits(r, 7)))
    d.t(". ").t(distractor(r)).t(". Identity checked with ")
    lab2, v2 = national(r)
    d.t(lab2).s("NATIONAL_ID", v2).t(" and voice ")
    lab3, v3 = biometric(r)
    d.t(lab3).s("BIOMETRIC", v3).t(". Reply to ").s("EMAIL", email(r, p)).t(".\n")


def clinical_lab(d: Doc, r: random.Random, sp: str) -> None:
    p, o = Person(r, sp), Person(r, sp)
    lab, v = mrn(r)
    d.t("LAB REQUISITION\n").s("PERSON", f"{p.last.upper()}, {p.first}").t("  ").t(lab).s("MRN", v)
    d.t("\nDOB ").s("DATE", date(r)).t("  Sex F\n")
    lab2, v2 = plan(r)
    d.t(lab2).s("HEALTH_PLAN", v2).t("\nTests: ").t(distractor(r)).t(", ").t(distractor(r))
    d.t("\nOrdering provider ").s("PERSON", f"{o.first} {o.last}").t(", NPI ").s(
        "LICENSE", f"1{_digits(r, 9)}"
    )
    d.t("\nResults fax ").s("FAX", phone(r)).t("; SSN on file ").s("SSN", ssn(r)).t("\n")
    lab3, v3 = account(r)
    d.t("Bill to ").t(lab3).s("ACCOUNT", v3).t("\n")


def legal_appeal(d: Doc, r: random.Random, sp: str) -> None:
    c, a, o = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.s("DATE", date(r)).t("\nAppeals Unit, ").t(r.choice(ORGS)).t("\n\nRE: Appeal for ").s(
        "PERSON", c.full
    )
    lab, v = plan(r)
    d.t(", ").t(lab).s("HEALTH_PLAN", v).t("\n\nTo whom it may concern:\n\nWe represent ").s(
        "PERSON", c.first
    )
    d.t(" ").s("PERSON", c.last).t(" of ").s("ADDRESS", f"{street}, {city}").t(
        ". The denial of "
    ).s("DATE", short_date(r))
    d.t(" ignores ").t(distractor(r)).t(". Ms. ").s("PERSON", c.last).t(" is ")
    pre, age_v, post_ = age(r)
    d.t(pre).s("AGE", age_v).t(post_).t(". Her son, ").s("PERSON", o.full).t(
        ", holds power of attorney ("
    )
    d.s("PHONE", phone(r)).t(").\n\nRespectfully,\n").s("PERSON", a.full).t("\n")
    lab2, v2 = licence(r)
    d.t(lab2).s("LICENSE", v2).t("\n")


def legal_tribunal(d: Doc, r: random.Random, sp: str) -> None:
    w, m, j = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice([s for s in STREETS[sp] if s[3] in ("UK", "IE")])
    d.t("WITNESS STATEMENT OF ").s("PERSON", w.full.upper()).t("\nClaim No. ").s(
        "ID", f"{_digits(r, 7)}/{r.randint(2019, 2025)}"
    )
    d.t("\n\n1. I am ").s("PERSON", w.full).t(" of ").s("ADDRESS", street).t(", ").s(
        "ADDRESS", city
    ).t(" ")
    d.s("ADDRESS", post).t(". I was employed from ").s("DATE", date(r)).t(" (payroll ")
    lab, v = other_id(r)
    d.t(lab).s("ID", v).t(").\n2. My manager, ").s("PERSON", m.full).t(", emailed me from ")
    d.s("EMAIL", email(r, m)).t(" on ").s("DATE", short_date(r)).t(". ").t(distractor(r)).t(".\n")
    d.t("3. I was ").t(distractor(r)).t(". My ").t("NI number ").s(
        "NATIONAL_ID", f"Q{_letters(r, 1)} {_digits(r, 2)} {_digits(r, 2)} {_digits(r, 2)} B"
    )
    d.t(" appears on the payslip.\nBefore Employment Judge ").s("PERSON", j.last).t("\n")


def legal_accident(d: Doc, r: random.Random, sp: str) -> None:
    dr, o, wi = Person(r, sp), Person(r, sp), Person(r, sp)
    d.t("Police collision report ").s("DATE", date(r)).t("\nDriver 1: ").s("PERSON", dr.full)
    d.t(", licence ").s("LICENSE", f"{_letters(r, 5)}{_digits(r, 6)}{_letters(r, 2)}").t(", ")
    pre, a, post_ = age(r)
    d.t(pre).s("AGE", a).t(post_).t("\nVehicle 1: VIN ").s("VEHICLE", vin(r)).t(", reg ").s(
        "VEHICLE", plate(r)
    )
    d.t("\nDriver 2: ").s("PERSON", o.full).t(", phone ").s("PHONE", phone(r)).t("\nDashcam clip ")
    d.s("PHOTO", f"dashcam_{_digits(r, 8)}.mp4").t(" and ").s("PHOTO", f"IMG_{_digits(r, 4)}.HEIC")
    d.t(" retained.\nWitness ").s("PERSON", wi.first).t(" (surname ").s("PERSON", wi.last).t(
        ") saw "
    )
    d.s("PERSON", dr.last).t(" run the light on ").s("ADDRESS", r.choice(COUNTY[sp])).t(" Road.\n")
    d.t(distractor(r)).t(".\n")


def clinical_psych(d: Doc, r: random.Random, sp: str) -> None:
    p, m, c = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    lab, v = mrn(r)
    d.t("MENTAL HEALTH ASSESSMENT\nClient: ").s("PERSON", p.full).t(" | ").t(lab).s("MRN", v)
    d.t(" | seen ").s("DATE", date(r)).t("\n\n").s("PERSON", p.first).t(
        " attended with her mother, "
    )
    d.s("PERSON", m.full).t(". She lives in a flat in ").s("ADDRESS", city).t(" and works nights. ")
    d.t(distractor(r)).t(". Her grandfather (").s("AGE", str(r.randint(90, 99))).t(
        " years old) died "
    )
    d.s("DATE", short_date(r)).t(". Safety plan emailed to ").s("EMAIL", email(r, p)).t(
        "; crisis line "
    )
    d.s("PHONE", phone(r, region)).t(".\nCare coordinator: ").s("PERSON", c.full).t(", RMN\n")


def clinical_incident(d: Doc, r: random.Random, sp: str) -> None:
    p, s1, s2 = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    pre, a, post_ = age(r)
    d.t("Care home incident report, ").s("ADDRESS", f"{street}, {city}").t("\nResident ").s(
        "PERSON", p.full
    )
    d.t(" (").t(pre).s("AGE", a).t(post_).t(") fell in the lounge on ").s("DATE", date(r)).t(
        ". Found by carer "
    )
    d.s("PERSON", s1.full).t(". Bed sensor ").s("DEVICE", f"BS-{_digits(r, 6)}").t(
        " did not alarm. "
    )
    d.t(distractor(r)).t(". Photo of bruising: ").s("PHOTO", f"IMG_{_digits(r, 4)}.JPG").t(
        ". Family informed: "
    )
    d.s("PERSON", f"Mr {s2.last}"[3:]).t(" on ").s("PHONE", phone(r, region)).t(".\n")
    lab, v = plan(r)
    d.t("Funding: ").t(lab).s("HEALTH_PLAN", v).t(".\n")


def clinical_gp_to_solicitor(d: Doc, r: random.Random, sp: str) -> None:
    p, gp, sol = Person(r, sp), Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice([s for s in STREETS[sp] if s[3] in ("UK", "IE")])
    d.t("Dear Ms ").s("PERSON", sol.last).t(",\n\nYour client: ").s("PERSON", p.full).t(", born ")
    d.s("DATE", date(r)).t(", of ").s("ADDRESS", f"{street}, {city} {post}").t("\n")
    lab, v = national(r)
    d.t(lab).s("NATIONAL_ID", v).t("\n\nWith the consent of ").s("PERSON", f"Mr {p.last}"[3:])
    d.t(" I enclose his records. ").t(distractor(r)).t(". He attends ").t(r.choice(ORGS)).t(
        " and his "
    )
    d.t("fitness note reference is ").s("ID", f"FN-{_digits(r, 7)}").t(". Your ref ")
    d.s("ID", f"{_letters(r, 3)}/{_digits(r, 4)}/{rng_year(r)}").t(".\n\nKind regards,\n\nDr ")
    d.s("PERSON", gp.full).t("\nGMC ").s("LICENSE", _digits(r, 7)).t("\n")


def rng_year(r: random.Random) -> str:
    return str(r.randint(2019, 2025))


def legal_family(d: Doc, r: random.Random, sp: str) -> None:
    mo, fa, ch = Person(r, sp), Person(r, sp), Person(r, sp)
    d.t("IN THE FAMILY COURT\nCase number: ").s(
        "ID", f"{_letters(r, 2)}{_digits(r, 2)}P{_digits(r, 5)}"
    )
    d.t("\nThe child: ").s("PERSON", f"{ch.first} {fa.last}").t(" (born ").s("DATE", date(r)).t(
        ")\n"
    )
    d.t("Applicant mother: ").s("PERSON", mo.full).t("\nRespondent father: ").s("PERSON", fa.full)
    d.t("\n\nORDER\n1. ").s("PERSON", ch.first).t(" shall live with the mother at ")
    d.s("ADDRESS", r.choice(STREETS[sp])[0]).t(". ").t(distractor(r)).t(
        ".\n2. The father may collect "
    )
    d.t("the child by car (registration ").s("VEHICLE", plate(r)).t(") on alternate weekends.\n")
    d.t("3. The father's mobile ").s("PHONE", phone(r)).t(" and email ").s("EMAIL", email(r, fa))
    d.t(" are for contact arrangements only.\nDistrict Judge ").s("PERSON", Person(r, sp).last).t(
        "\n"
    )


def legal_claim_form(d: Doc, r: random.Random, sp: str) -> None:
    c, w = Person(r, sp), Person(r, sp)
    street, city, post, region = r.choice(STREETS[sp])
    d.t("INSURANCE CLAIM FORM\nPolicyholder: ").s("PERSON", c.full).t("\nPolicy number: ")
    d.s("HEALTH_PLAN", f"{_letters(r, 3)}{_digits(r, 8)}").t("\nAddress: ").s("ADDRESS", street).t(
        ", "
    )
    d.s("ADDRESS", city).t(" ").s("ADDRESS", post).t("\nDate of incident: ").s("DATE", date(r))
    d.t("\nVehicle: VIN ").s("VEHICLE", vin(r)).t("\nDevice stolen: laptop serial ")
    d.s("DEVICE", f"{_letters(r, 2)}{_digits(r, 8)}").t(", last seen online from ").s("IP", ip(r))
    d.t("\nBank details: ")
    lab, v = account(r)
    d.t(lab).s("ACCOUNT", v).t("\nWitness: ").s("PERSON", w.full).t(", ").s(
        "PHONE", phone(r, region)
    )
    d.t("\nEvidence uploaded: ").s("URL", url(r, c)).t("\n")


TEMPLATES: dict[str, list[tuple[str, Callable[[Doc, random.Random, str], None]]]] = {
    "dev": [
        ("clinical", clinical_phone), ("clinical", clinical_discharge), ("clinical", clinical_referral_uk),
        ("clinical", clinical_radiology), ("legal", legal_demand), ("legal", legal_caption),
        ("legal", legal_engagement), ("legal", legal_forensic),
    ],
    "heldout2": [
        ("clinical", clinical_handover), ("legal", legal_appeal), ("clinical", clinical_telehealth),
        ("legal", legal_tribunal), ("legal", legal_accident), ("clinical", clinical_lab),
    ],
    "heldout3": [
        ("clinical", clinical_psych), ("legal", legal_family), ("clinical", clinical_incident),
        ("legal", legal_claim_form), ("clinical", clinical_gp_to_solicitor),
    ],
    "heldout": [
        ("clinical", clinical_ed), ("clinical", clinical_home), ("clinical", clinical_pharmacy),
        ("legal", legal_deposition), ("legal", legal_estate), ("clinical", clinical_phone),
        ("legal", legal_demand), ("clinical", clinical_referral_uk),
    ],
}  # fmt: skip


def build() -> list[dict[str, object]]:
    rng = random.Random(16)
    docs = []
    for split, count in (("dev", 64), ("heldout", 56), ("heldout2", 48), ("heldout3", 40)):
        if split == "heldout2":
            rng = random.Random(1602)  # written after the others: their documents stay as they were
        if split == "heldout3":
            rng = random.Random(1603)
        templates = TEMPLATES[split]
        for i in range(count):
            domain, template = templates[i % len(templates)]
            d = Doc()
            _DOMAIN[0] = domain
            template(d, rng, split)
            docs.append(
                {"id": f"sh-{split}-{i:03d}", "split": split, "domain": domain, "text": d.text,
                 "spans": sorted(d.spans, key=lambda s: s["start"])}  # type: ignore[arg-type,return-value]
            )  # fmt: skip
    return docs


def main() -> None:
    docs = build()
    for doc in docs:
        for span in doc["spans"]:  # type: ignore[attr-defined]
            assert doc["text"][span["start"] : span["end"]] == span["text"], (doc["id"], span)  # type: ignore[index]
    OUT.write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )
    print(f"{len(docs)} documents, {sum(len(d['spans']) for d in docs)} spans -> {OUT}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
