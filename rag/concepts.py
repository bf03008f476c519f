"""Concepts: the other words a document uses for what a question names.

A contract says "terminate at any time without cause" where a lawyer asks about "termination
for convenience"; a note says "NKDA" where a clinician asks about "allergies". rag.evidence
treats a question's topic word as present in a passage when the word itself or one of its
cues here is there. Without it, a question whose topic appears in no passage is answered "not
found" (see rag.evidence.answers), so a missing cue costs a false "not found", never a wrong
answer.

The table is by kind of clause and kind of clinical fact (the categories lawyers review in a
contract and the sections of a clinical note), not by document. Keys are word stems as
rag.evidence makes them (the first six letters after a plural or -ing/-ed/-ation ending);
a cue is a stem (one word, matched at the start of a word), a phrase (several words, matched in
the lower-cased text) or, after "-", a word ending ("-cillin", "-olol").
"""

from __future__ import annotations

__all__ = [
    "CUES",
    "OTHER_SENSES",
    "cue_endings",
    "cue_phrases",
    "cue_stems",
    "other_senses",
]

_COMMISSION = (
    "a commission",
    "commission of",
    "commission on",
    "commissions on",
    "commissions of",
    "sales commission",
    "commission rate",
)

CUES: dict[str, tuple[str, ...]] = {
    # contracts
    "conven": ("without cause", "for any reason", "for no reason", "without reason"),
    "audit": ("inspec", "examin", "books and records", "records", "review the books"),
    "uncap": ("limitation of liability", "limit", "exceed", "cap", "unlimited"),
    "unlimi": ("unrestricted", "any number", "all users", "enterprise-wide"),  # not "limit"
    "commit": ("minimum", "at least", "no less than", "not less than", "shall purchase"),
    "minimu": ("at least", "no less than", "not less than", "commit"),
    # a commission paid, not the Securities and Exchange Commission of every filing
    "profit": ("royalt", "revenue", "percent", "share", *_COMMISSION),
    "revenu": ("royalt", "profit", "percent", "share", "sales", *_COMMISSION),
    "shar": ("royalt", "split", "percent", *_COMMISSION),
    "compet": ("similar business", "engage in", "rival", "competi", "compete"),
    "refusa": ("first refusal", "right of first", "first negotiation", "first offer",
               "offer first", "match"),
    "solici": ("hire", "entice", "induce", "recruit", "divert"),  # not any "employee"
    "hire": ("solici", "employ", "recruit", "entice"),
    "dispar": ("derogatory", "negative statements", "defam", "disparag", "critic"),
    "jointl": ("joint", "co-own", "jointly"),  # not any "both parties"
    "owned": ("owner", "owns", "title", "property of", "vest"),
    "owns": ("owner", "owned", "title", "property of", "vest", "belong"),
    "benefi": ("enforce", "privity", "intended to benefit"),  # not any "third party"
    "affili": ("subsid", "group compan", "controlled by", "under common control"),
    "perpet": ("perpetuity", "irrevo", "forever", "fully paid"),
    "irrevo": ("perpet", "irrevocabl"),
    "liquid": ("penalty", "pre-estimate", "agreed damages"),
    "escrow": ("deposit", "source code"),
    "favor": ("favora", "favour", "most favored", "no less favorable", "best price",
              "lowest price", "better terms"),
    "nation": ("favora", "favour", "no less favorable", "best price"),
    "rais": ("increa", "adjust", "change the price", "price increase"),
    "restri": ("shall not", "may not", "limit", "prohibit"),
    "transf": ("assign", "sublicens", "delegat", "non-transferable"),
    "assign": ("transf", "delegat", "successor"),
    "contro": ("merger", "acquisi", "substantially all", "change of control",
               "change in control", "ownership"),
    "change": ("merger", "acquisi", "substantially all", "ownership"),
    "except": ("notwithstanding", "provided that", "other than", "save", "excluding"),
    "covena": ("not to sue", "release", "challeng", "contest"),  # not any "waiver"
    "sue": ("not to sue", "challeng", "contest"),  # not any "claim" or "action"
    "insura": ("insur", "insured", "coverage", "policy", "policies"),
    "mainta": ("carry", "keep", "obtain", "procure", "in force", "in effect"),
    "contin": ("surviv", "remain in effect", "remain in force", "after termination",
               "after the termination", "post-termination"),
    # the agreement's own term, not any termination or period: "shall continue for six (6)
    # months", "until the third anniversary", "the Initial Term"
    "expire": ("expir", "until", "anniversar", "term of this", "initial term", "the term ",
               "a term of", "terminate on", "terminates on", "continue for",
               "continue in effect", "continue in full force", "remain in effect",
               "remain in force", "for a period of"),
    "renewa": ("renew", "extend", "extens", "successive", "automatic"),
    "stop": ("non-renewal", "not to renew", "terminat", "notice"),
    "warran": ("guarant", "warrant", "defect"),
    "volume": ("quantit", "units", "usage", "number of"),
    "usage": ("use", "volume", "quantit"),
    # clinical
    "allerg": ("nkda", "nka", "no known", "allergi", "allergy"),
    "prescr": ("discharg", "medicat", "mg", "started on", "given"),
    "medica": ("mg", "tablet", "daily", "medicat"),
    "taken": ("taking", "take", "mg", "medicat", "daily", "brought", "bringing", "returned"),
    "intake": ("fluid", "liquid", "ounce", "ml", "oral", "drink"),
    "fluid": ("liquid", "ounce", "water", "hydrat", "ml", "intake", "intraven"),
    "start": ("started", "begin", "begun", "initiat", "commenc", "placed on", "put on"),
    "organi": ("grew", "cultur", "staph", "strep", "bacteria", "coli"),
    "oper": ("procedure", "surgery", "surgical", "incision"),
    "surger": ("operation", "operative", "procedure", "surgical", "repair", "resection",
               "excision", "undergo", "underwent", "intraoperativ", "-ectomy", "-otomy",
               "-ostomy", "-plasty", "-pexy"),
    "imag": ("ultrasound", "x-ray", "xray", "radiograph", "mri", "ct scan", "cat scan",
               "scan", "echocardiogra", "sonogra", "mammogra", "fluoroscop", "angiogra"),
    "come": ("return", "follow up", "follow-up", "followup", "recheck", "revisit"),
    "back": ("return", "follow up", "follow-up", "followup", "recheck"),
    "done": ("performed", "undergo", "underwent", "carried out"),
    "steroi": ("prednis", "dexameth", "decadron", "solu-medrol", "medrol", "methylpred",
               "hydrocort", "cortico", "kenalog", "triamcin", "budeson", "fluticas"),
    "venou": ("vein", "iv", "intraven", "catheter"),
    "blood": ("ebl", "hemoglobin", "transfus", "pressure", "warfarin", "coumadin", "heparin",
              "lovenox", "eliquis", "xarelto", "aspirin", "plavix"),
    # classes of drugs: "-cillin" is a word ending
    "antibi": ("-cillin", "-mycin", "-floxacin", "-cycline", "-penem", "cef", "ceph",
               "augmentin", "bactrim", "sulfameth", "metronid", "flagyl", "vancomy", "linezol",
               "nitrofur", "macrobid", "zosyn", "keflex", "rocephin", "zithromax", "levaquin",
               "cipro"),
    "antico": ("warfarin", "coumadin", "heparin", "lovenox", "enoxapar", "apixaban",
                 "eliquis", "rivaroxa", "xarelto", "dabigat", "pradaxa"),
    "thinne": ("warfarin", "coumadin", "heparin", "lovenox", "enoxapar", "apixaban", "eliquis",
               "rivaroxa", "xarelto", "aspirin", "plavix", "clopidog"),
    "analge": ("morphine", "oxycod", "hydrocod", "vicodin", "percocet", "tylenol",
               "acetamin", "ibuprof", "motrin", "tramadol", "dilaudid", "fentanyl", "toradol"),
    "pain": ("morphine", "oxycod", "hydrocod", "vicodin", "percocet", "tylenol", "acetamin",
             "ibuprof", "motrin", "tramadol", "dilaudid", "fentanyl", "toradol", "analges"),
    "diuret": ("lasix", "furosem", "hydrochlor", "hctz", "spironol", "bumetan", "torsemi"),
    "statin": ("-statin", "lipitor", "zocor", "crestor"),
    "beta": ("-olol", "-ilol"),
    "blocke": ("-olol", "-ilol", "-dipine", "-sartan"),
    "antihy": ("-pril", "-sartan", "-olol", "-dipine", "lisinop", "hydrochlor"),
    "diabet": ("metformin", "insulin", "glipiz", "glybur", "-gliptin", "-gliflozin", "a1c"),
    "loss": ("ebl", "minimal", "cc"),
}  # fmt: skip


def cue_stems(stem: str) -> frozenset[str]:
    """The one-word cues for a question stem (stems themselves, compared with passage stems)."""
    return frozenset(c for c in CUES.get(stem, ()) if " " not in c and not c.startswith("-"))


def cue_endings(stem: str) -> tuple[str, ...]:
    """The word endings that name a kind of thing ("-cillin": amoxicillin is an antibiotic)."""
    return tuple(c[1:] for c in CUES.get(stem, ()) if c.startswith("-"))


# A question's word used in another sense, which does not say what the question asks: an
# exclusivity clause is not "the exclusive jurisdiction of the courts" or "the sole and
# exclusive remedy". A sentence whose only uses of the word are these does not name it.
OTHER_SENSES: dict[str, tuple[str, ...]] = {
    "exclus": ("exclusive jurisdiction", "exclusive venue", "exclusive forum",
               "exclusive remedy", "exclusive remedies", "exclusive of any other",
               "exclusively in that state", "exclusively within", "exclusive property",
               "exclusive of taxes", "exclusive of vat", "remedies not exclusive"),
    "third": ("third party claim", "third-party claim", "claims of third parties",
              "claims by third parties", "third party intellectual property"),
    # what happens after the agreement ends, not when it ends
    "expire": ("expiration or termination", "termination or expiration", "expiry or termination",
               "termination or expiry", "expiration or earlier termination"),
    "compet": ("competent jurisdiction", "court of competent", "competent court",
               "competent authority"),
}  # fmt: skip


def other_senses(stem: str) -> tuple[str, ...]:
    """The phrases in which the question stem's word means something else (lower case)."""
    return OTHER_SENSES.get(stem, ())


def cue_phrases(stem: str) -> tuple[str, ...]:
    """The several-word cues for a question stem, matched in the lower-cased passage text."""
    return tuple(c for c in CUES.get(stem, ()) if " " in c)
