"""Three scoring rules of rag.evidence, each for a kind of question: the document's title, when
an agreement expires (not what happens after it does), and words that only say what kind of
answer is wanted ("rights", "clause"), which weigh half."""

from __future__ import annotations

import pytest

from rag.answer_types import answer_type, states_title, type_matches
from rag.evidence import answers, choose_evidence
from rag.types import Chunk, Hit


def _hit(text: str, n: int = 1) -> Hit:
    return Hit(Chunk(f"c{n}", "d1", 1, 0, len(text), text), "a.txt", "/d/a.txt", 1.0)


def _best(question: str, hits: list[Hit]) -> str:
    """The chunk id of the best evidence (no embedder: words, cues and kinds only)."""
    evidence = choose_evidence(question, hits, None)
    assert evidence
    return evidence[0].hit.chunk.id


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What is the name of this agreement?", "title"),
        ("What is the title of the document?", "title"),
        ("What kind of agreement is this?", "title"),
        ("What is the name of the company?", "party"),  # a party, not the document
        ("Who are the parties?", "party"),
    ],
)
def test_a_question_for_the_documents_name_wants_a_title(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ('THIS CO-BRANDING AND ADVERTISING AGREEMENT (the "Agreement") is made', True),
        ("EXHIBIT 10.6 DISTRIBUTOR AGREEMENT", True),
        ("Amendment No. 1 to the Global Maintenance Agreement", True),
        ("DISCHARGE SUMMARY", True),
        ("This Agreement shall be governed by the laws of Delaware.", False),
        ("WHEREAS, the Transporter has agreed subject to this Agreement.", False),
        ("The Parties enter into this Agreement.", False),
        ("In consideration of the mutual promises, HDI and the Company agree as follows:", False),
    ],
)
def test_a_title_is_named_not_just_referred_to(text: str, title: bool) -> None:
    assert states_title(text) is title
    assert type_matches(text, "title") is title


def test_the_name_of_the_agreement_is_its_title_not_a_recital() -> None:
    opening = _hit(
        "MASTER SUPPLY AGREEMENT\n\nWHEREAS, the Buyer desires to purchase products from the "
        "Seller under the terms of this Agreement."
    )
    question = "What is the name of this agreement?"
    evidence = choose_evidence(question, [opening], None, openings=[opening])
    assert evidence and "MASTER SUPPLY AGREEMENT" in evidence[0].quote
    recital = _hit("WHEREAS, the Buyer desires to purchase products under this Agreement.")
    assert not answers(choose_evidence(question, [recital], None, openings=[recital]), question)


def test_when_it_expires_is_its_term_not_what_survives_its_expiration() -> None:
    survival = _hit(
        "Sections 6, 7 and 9 shall survive the expiration or termination of this Agreement.", 1,
    )  # fmt: skip
    term = _hit(
        "This Agreement shall continue for a period of one (1) year from the Effective Date.", 2
    )
    assert _best("When does this agreement expire?", [survival, term]) == "c2"


def test_a_word_for_the_kind_of_answer_weighs_less_than_the_topic() -> None:
    waiver = _hit(
        "Either party's failure or delay in exercising any of its rights will not constitute a "
        "waiver of such rights.", 1,
    )  # fmt: skip
    audit = _hit("The Licensor may audit the Licensee's records once a year on notice.", 2)
    others = [
        _hit("Each party shall bear its own costs and expenses.", 3),
        _hit("Neither party may assign this Agreement without the other party's consent.", 4),
    ]  # "party" is in most passages of a contract; "rights" and "audit" are not
    assert _best("Does either party have audit rights?", [waiver, audit, *others]) == "c2"


def test_the_rarest_word_may_be_said_only_in_other_words() -> None:
    # "convenience" is in no passage; "without cause" says it: that sentence holds the key word,
    # not the ones that merely name a party
    breach = _hit(
        "Any Party may terminate this Agreement at any time upon written notice if the other "
        "Party fails to cure a material breach.", 1,
    )  # fmt: skip
    convenience = _hit(
        "Each of the Recipient and the Provider may terminate this Agreement at any time "
        "without cause.", 2,
    )  # fmt: skip
    others = [
        _hit("This Agreement terminates on December 31, 2020.", 3),
        _hit("Upon termination the Receiving Party shall return all materials.", 4),
    ]  # "terminate" is in every passage, "party" in two, "convenience" in none
    evidence = choose_evidence(
        "Can a party terminate for convenience?", [breach, convenience, *others], None
    )
    assert evidence and evidence[0].hit.chunk.id == "c2"
    assert evidence[0].key
