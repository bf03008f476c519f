"""A yes/no question about a clause or a finding is "not found" when no passage names what it
is about, in its own words or in the words rag.concepts knows for it (rag.evidence.answers)."""

from __future__ import annotations

import pytest

from rag.evidence import answers, choose_evidence
from rag.types import Chunk, Hit

CONTRACT = (
    "7. Termination. Either party may terminate this Agreement at any time without cause upon "
    "sixty (60) days' prior written notice to the other party.\n\n"
    "8. Assignment. Neither party may assign this Agreement without the prior written consent "
    "of the other party.\n\n"
    "9. Audit. The Supplier shall keep complete books and records and the Customer may inspect "
    "them once a year on thirty days' notice.\n\n"
    "10. Licence. The Supplier grants the Customer a non-exclusive licence to use the Software "
    "at its premises."
)
NOTE = (
    "PROCEDURE: Right inguinal hernia repair.\n"
    "Hemostasis was obtained and 10 mg of Decadron was given intraoperatively.\n"
    "DISPOSITION: He will keep to clear liquids at home, goal 64 ounces per day."
)


def _hit(text: str, name: str = "doc.txt") -> Hit:
    return Hit(Chunk("c1", "d1", 1, 0, len(text), text), name, f"/d/{name}", 1.0)


@pytest.mark.parametrize(
    ("question", "text", "found"),
    [
        # the words themselves, or the words a contract uses for them
        ("Can a party terminate for convenience?", CONTRACT, True),  # "without cause"
        (
            "Can a party terminate for convenience?",
            "Either party may terminate at any time upon notice if the other party has failed "
            "to cure a breach.",
            False,
        ),
        ("Does either party have audit rights?", CONTRACT, True),
        ("Can this agreement be assigned without consent?", CONTRACT, True),
        ("What steroid was given during the operation?", NOTE, True),  # Decadron
        ("What is his fluid intake goal at home?", NOTE, True),  # liquids, ounces
        (
            "Which antibiotic was she treated with?",
            "She was treated with ceftriaxone and discharged on oral amoxicillin.",
            True,
        ),  # a drug of the class asked about
        ("What antibiotic was he started on?", "He was placed on clindamycin today.", True),
        ("What imaging is planned?", "Plan is for renal ultrasound to rule out pathology.", True),
        ("When should he come back?", "He will follow up in the clinic in two weeks.", True),
        (
            "Is any liability uncapped?",
            "Neither party's liability shall exceed the fees paid in the prior twelve months.",
            True,
        ),  # "uncapped" stems to "uncap"
        # a cue starts a word of its family, compared whole: hydrocodone is not
        # hydrocortisone (both "hydroc" in six letters), the SEC is not a commission paid
        (
            "What steroid was given during the operation?",
            "He was given hydrocodone for pain after the operation.",
            False,
        ),
        (
            "Is there revenue or profit sharing?",
            "This exhibit was filed with the Securities and Exchange Commission.",
            False,
        ),
        # what no passage names, however well another sentence scores
        ("Is there a source code escrow?", CONTRACT, False),
        ("Is there a right of first refusal?", CONTRACT, False),
        ("Are there liquidated damages?", CONTRACT, False),
        ("Is there a non-disparagement clause?", CONTRACT, False),
        ("What organism grew from the abscess cultures?", NOTE, False),
    ],
)
def test_the_topic_must_be_named(question: str, text: str, found: bool) -> None:
    # Without an embedder the score is lexical only, so the named topic is what is checked
    # where the passage names it; where it does not, the answer is "not found" whatever else.
    evidence = choose_evidence(question, [_hit(text)], None)
    assert evidence, question
    if found:
        assert not evidence[0].absent, (question, evidence[0].absent)
    else:
        assert evidence[0].absent and answers(evidence, question) is False, question


def test_the_missing_word_is_named_as_the_question_wrote_it() -> None:
    evidence = choose_evidence("Is there a right of first refusal?", [_hit(CONTRACT)], None)
    assert evidence and "refusal" in evidence[0].absent


def test_a_word_of_the_same_family_counts() -> None:
    text = "Dr. X identified a change in the patient's PSA from 4.1 to 6.3 over a year."
    evidence = choose_evidence("How has his PSA changed?", [_hit(text)], None)
    assert evidence and not evidence[0].absent


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Is he on a beta blocker?", "Medications: metoprolol 25 mg twice daily."),
        ("What blood thinner does she take?", "She takes warfarin 5 mg daily."),
        ("Is there a cap on liability?", "Liability shall not exceed the fees paid."),
    ],
)
def test_a_kind_is_named_by_its_members(question: str, text: str) -> None:
    evidence = choose_evidence(question, [_hit(text)], None)
    assert evidence and not evidence[0].absent, evidence[:1]


def test_one_of_two_alternatives_named_is_enough() -> None:
    """ "A holdback or retention": a passage naming either is about the question."""
    from rag.evidence import choose_evidence

    grant = _hit("A retention of ten percent applies to each payment under this Agreement.")
    assert (
        choose_evidence("Is there a holdback or retention of payments?", [grant], None)[0].absent
        == ()
    )
    assert choose_evidence("Is there a holdback of payments?", [grant], None)[0].absent == (
        "holdback",
    )


@pytest.mark.parametrize(
    ("question", "sentence", "typed"),
    [
        ("When does this agreement become effective?",
         "This Agreement shall become effective as of the date first written above.", True),
        ("When does this agreement become effective?",
         "This Agreement becomes effective upon execution by both parties.", True),
        ("What is the date of this agreement?",
         "This Agreement shall become effective as of the date first written above.", False),
        ("What is the date of this agreement?",
         "This Agreement is entered into as of this ___ day of _________, 2004.", True),
        ("When does this agreement become effective?",
         "This Agreement shall be governed by the laws of Texas.", False),
    ],
)  # fmt: skip
def test_a_date_by_reference_answers_when_but_not_what_date(
    question: str, sentence: str, typed: bool
) -> None:
    from rag.evidence import answer_type, type_matches

    assert type_matches(sentence, answer_type(question)) is typed


def test_a_sentence_naming_the_parties_answers_who_the_parties_are() -> None:
    """ "Who are the parties" is answered by the sentence that names them, though it never
    writes "parties"; the recital that writes "parties" and names none is not the answer."""
    text = (
        "This Reseller Agreement is entered into as of 1 March 2004 by and between PivX "
        "Corporation, a California corporation, and Detto Technologies, a Washington "
        "corporation.\n\nNOW THEREFORE, for good and valuable consideration, the parties "
        "hereby agree as follows:\n\n1. GRANT. PivX grants Detto a licence to distribute."
    )
    (best, *_) = choose_evidence("Who are the parties to this agreement?", [_hit(text)], None)
    assert best.quote.startswith("This Reseller Agreement") and best.type_match
    assert answers([best], "Who are the parties to this agreement?")


def test_the_agreements_own_term_answers_when_it_expires() -> None:
    """ "When does it expire?" is answered by the term clause ("continue for six months"),
    not by a termination-for-breach clause that also states a period."""
    text = (
        "4.1 A party may terminate this Agreement if the other party fails to cure a material "
        "breach within thirty (30) days after written notice of it.\n\n"
        "4.2 The term of this  Agreement shall commence on the Effective Date and continue "
        "for six (6) months.\n\n"
        "4.3 Sections 5 and 6 shall survive the termination of this Agreement."
    )
    (best, *_) = choose_evidence("When does this agreement expire?", [_hit(text)], None)
    assert best.quote.startswith("4.2 The term")


def test_when_it_takes_effect_a_clause_of_its_own_is_weighed_against_the_opening() -> None:
    """The opening's date answers "what is the date of this agreement"; "when does it become
    effective" may be answered by a clause that ties it to an event, and then is."""
    opening = Hit(
        Chunk("c0", "d1", 1, 0, 120, "SITE AGREEMENT. This Agreement dated as of August 9, "
              "1999 is made between Hanover Direct, Inc. and The Deerskin Companies, Inc."),
        "doc.txt", "/d/doc.txt", 1.0,
    )  # fmt: skip
    clause = _hit(
        "4.1 Term. This Agreement shall be effective as of the date the Site becomes fully "
        "operational as set forth in writing and shall continue for one (1) year.\n\n"
        "4.2 Either party may terminate on thirty (30) days' notice."
    )
    effective = choose_evidence(
        "When does this agreement become effective?", [clause], None, openings=[opening]
    )
    assert "This Agreement shall be effective as of the date the Site" in effective[0].quote
    dated = choose_evidence(
        "What is the date of this agreement?", [clause], None, openings=[opening]
    )
    assert "August 9, 1999" in dated[0].quote


@pytest.mark.parametrize(
    ("question", "other_sense", "answer"),
    [
        (
            "Is there an exclusivity clause?",
            "The parties submit to the exclusive jurisdiction of the courts of New York, and "
            "this is the sole and exclusive remedy of either party for any breach.",
            "The Company appoints the Distributor as its exclusive distributor of the Products "
            "within the Territory.",
        ),
        (
            "Are there any third-party beneficiaries?",
            "The Supplier shall defend the Customer against any third party claim arising from "
            "the Products.",
            "Nothing in this Agreement is intended to benefit any person other than the parties, "
            "and no other person may enforce any of its terms.",
        ),
    ],
)
def test_a_word_in_another_sense_does_not_name_the_topic(
    question: str, other_sense: str, answer: str
) -> None:
    """ "Exclusive jurisdiction" is not an exclusivity clause, and a "third party claim" is
    not a third-party beneficiary (rag.concepts.OTHER_SENSES)."""
    (best, *_) = choose_evidence(question, [_hit(other_sense + "\n\n" + answer)], None)
    assert best.quote == answer
