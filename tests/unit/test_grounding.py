"""The fact check (app.chat.grounding), on answers written by hand as a strong model would
write them: right, a subtly wrong number, the wrong party, negated, an invented quote."""

from __future__ import annotations

import pytest

from app.chat.grounding import check_answer, check_sentence, split_answer
from rag.types import Chunk, Hit

SERVICES = (
    "7. TERM AND TERMINATION.\n"
    "7.1 Breach. If either party breaches this Agreement, the other party may terminate it if "
    "the breach is not cured within ten (10) business days after written notice.\n"
    "7.2 Convenience. Either party may terminate this Agreement for convenience upon sixty (60) "
    "days' written notice to the other party.\n"
    "12. GOVERNING LAW. This Agreement is governed by the laws of the State of Delaware.\n"
    "13. ASSIGNMENT. Neither party may assign this Agreement without the prior written consent "
    "of the other party. Acme Corp. shall pay Beta LLC a fee of $25,000 per month."
)
NOTE = (
    "CURRENT MEDICATIONS:\n1.  Metoprolol 100 mg b.i.d.\n2.  Apixaban 5 mg once daily.\n"
    "REVIEW OF SYSTEMS: The patient denies chest pain. Creatinine of 2.38."
)


def _hit(text: str, n: int) -> Hit:
    return Hit(Chunk(f"c{n}", f"d{n}", 1, 0, len(text), text), f"doc{n}.txt", f"/d/doc{n}.txt", 1.0)


SOURCES = [_hit(SERVICES, 1), _hit(NOTE, 2)]

CASES = [
    # (sentence, supported)
    ("Either party may terminate for convenience on sixty days' written notice [1].", True),
    ("Termination for convenience needs 60 days' notice [1].", True),
    ("Termination for convenience needs 10 days' notice [1].", False),
    ("Termination for convenience needs thirty (3) days' notice [1].", False),
    ("A breach must be cured within 10 business days [1].", True),
    ("A breach must be cured within 10 days [1].", False),  # business days, not days
    ("The agreement is governed by Delaware law [1].", True),
    ("The agreement is governed by Florida law [1].", False),
    ("Acme Corp. pays Beta LLC $25,000 per month [1].", True),
    ("Acme Corp. pays Beta LLC $250,000 per month [1].", False),
    ("Gamma Inc. pays Beta LLC $25,000 per month [1].", False),  # the wrong party
    ("Either party may assign this Agreement without consent [1].", False),  # negation flipped
    ("Neither party may assign the Agreement without written consent [1].", True),
    ('The contract says "either party may assign freely" [1].', False),  # invented quote
    ("He takes metoprolol 100 mg twice daily [2].", True),
    ("He takes metoprolol 50 mg twice daily [2].", False),
    ("Apixaban 5 mg twice daily [2].", False),  # once daily in the note
    ("The patient reports chest pain [2].", False),
    ("The patient denies chest pain [2].", True),
    ("His creatinine was 2.38 [2].", True),
    ("His creatinine was 2.83 [2].", False),
]


@pytest.mark.parametrize(("sentence", "supported"), CASES)
def test_each_fact_must_stand_in_the_cited_passage(sentence: str, supported: bool) -> None:
    assert check_sentence(sentence, SOURCES).supported is supported


def test_a_fact_from_another_passage_does_not_count() -> None:
    checked = check_sentence("Metoprolol 100 mg b.i.d. [1].", SOURCES)  # it is in [2], not [1]
    assert not checked.supported and "100 mg" in checked.reason


def test_an_unsupported_sentence_says_which_fact_is_missing() -> None:
    checked = check_sentence("Termination for convenience needs 10 days' notice [1].", SOURCES)
    assert not checked.supported and "10 day" in checked.reason


def test_sentences_and_list_items_are_checked_one_by_one() -> None:
    answer = "- Metoprolol 100 mg b.i.d. [2]\n- Apixaban 10 mg daily [2]. Yes [2]."
    assert split_answer(answer) == ["Metoprolol 100 mg b.i.d. [2]", "Apixaban 10 mg daily [2].",
                                    "Yes [2]."]  # fmt: skip
    got = [(c.supported, c.checkable) for c in check_answer(answer, SOURCES)]
    assert got == [(True, True), (False, True), (True, False)]


def test_numbers_run_without_gaps_and_never_repeat() -> None:
    from app.chat.answer import compose
    from rag.evidence import Evidence

    hit = SOURCES[0]
    text = hit.chunk.text
    a = text.index("7.2 Convenience.")
    b = text.index("12. GOVERNING LAW.")
    evidence = [  # two quotes from one passage, as the evidence chooser may give
        Evidence(hit, a, text.index("\n", a), 0.9, 0.8, 0.8, True),
        Evidence(hit, b, text.index("\n", b), 0.85, 0.8, 0.8, True),
    ]
    draft = (
        "Either party may terminate on sixty days' notice [1]. "
        "He takes metoprolol 100 mg b.i.d. [2]."
    )
    composed = compose(draft, SOURCES, evidence, [None, None])
    numbers = [c.n for c in composed.citations]
    assert numbers == sorted(set(numbers)) == list(range(1, len(numbers) + 1))
    assert composed.answer.endswith("[3].") and all(c.supported for c in composed.citations)


@pytest.mark.parametrize(
    ("question", "draft", "shown"),
    [
        # True of the passage, but not what was asked: a party where a law is wanted.
        ("Which state's law governs the agreement?", "Acme Corp. pays Beta LLC [1].", False),
        ("Which state's law governs the agreement?", "It is governed by Delaware law [1].", True),
        ("How much notice is needed to terminate for convenience?",
         "Either party may terminate this Agreement for convenience [1].", False),
        ("How much notice is needed to terminate for convenience?",
         "Termination for convenience needs 60 days' notice [1].", True),
    ],
)  # fmt: skip
def test_a_true_sentence_that_does_not_answer_the_kind_asked_is_not_shown(
    question: str, draft: str, shown: bool
) -> None:
    from app.chat.answer import compose
    from rag.evidence import choose_evidence

    evidence = choose_evidence(question, [SOURCES[0]], None)
    composed = compose(draft, [SOURCES[0]], evidence, [None] * len(evidence), question)
    assert (not composed.evidence_only) is shown, composed.answer
    if not shown:
        assert any("which the question asks for" in n for n in composed.notices), composed.notices


def test_true_sentences_that_do_not_answer_are_padding_and_a_repeat_is_shown_once() -> None:
    """A small model copies the note: every sentence verbatim, none about the question."""
    from app.chat.answer import compose
    from rag.evidence import choose_evidence

    note = (
        "IMPRESSION: Bladder cancer.\n"
        "LABORATORY EXAM: Creatinine of 2.38 with BUN of 42.\n"
        "PLAN: The patient will undergo a completion TURBT on 03/20/08.\n"
    )
    source = _hit(note, 1)
    question = "What was his creatinine?"
    evidence = choose_evidence(question, [source], None)
    draft = (
        "His creatinine was 2.38 [1]. The patient will undergo a completion TURBT on 03/20/08 "
        "[1]. His creatinine was 2.38 [1]."
    )
    composed = compose(draft, [source], evidence, [None] * len(evidence), question)
    assert composed.answer.count("2.38") == 1, composed.answer
    assert "TURBT" not in composed.answer
    assert any("does not answer the question" in n for n in composed.notices)


def test_many_unsupported_sentences_are_named_two_then_counted() -> None:
    """A small model can write ten unsupported sentences; the notices name two and count the
    rest, and the evidence still stands first."""
    from app.chat.answer import MAX_LEFT_OUT_SHOWN, compose
    from rag.evidence import choose_evidence

    question = "How much notice is needed to terminate for convenience?"
    evidence = choose_evidence(question, [SOURCES[0]], None)
    draft = " ".join(f"Either party needs {n} days' notice [1]." for n in (5, 7, 9, 11, 13))
    composed = compose(draft, [SOURCES[0]], evidence, [None] * len(evidence), question)
    left = [n for n in composed.notices if n.startswith("Left out of the answer")]
    assert len(left) == MAX_LEFT_OUT_SHOWN, composed.notices
    assert any(n.startswith("3 more sentences of the model's answer") for n in composed.notices)
    assert "sixty (60)" in composed.answer and "13 days" not in composed.answer


def test_a_quote_cut_where_its_passage_starts_or_ends_is_shown_with_an_ellipsis() -> None:
    """A passage can open or stop in the middle of a long sentence; its quote stays verbatim
    (offsets unchanged), and what a person reads marks the cut."""
    from app.chat.answer import EvidenceQuote, evidence_only
    from app.cli.output import format_evidence
    from rag.evidence import choose_evidence

    cut = _hit(
        "all of its creditors, or becomes insolvent. Either party may terminate this "
        "Agreement on sixty (60) days' written notice to the other party, provided that",
        1,
    )
    whole = _hit("Either party may terminate this Agreement on sixty (60) days' notice.", 2)
    question = "How much notice is needed to terminate?"
    for source, marked in ((cut, True), (whole, False)):
        evidence = choose_evidence(question, [source], None)
        composed = evidence_only(evidence[:1], [None])
        quote = composed.evidence[0]
        assert quote.quote in source.chunk.text and "\u2026" not in quote.quote
        assert quote.shown.endswith("\u2026") is marked, quote.shown
        assert (f"{quote.shown}\u201d" in composed.answer) and quote.shown in format_evidence(
            composed.evidence
        )
        assert EvidenceQuote.from_json(quote.to_json()).shown == quote.shown  # in the history
    from rag.evidence import Evidence

    first = cut.chunk.text.index("insolvent.") + len("insolvent.")
    opening = Evidence(cut, 0, first, 0.5, 0.0, 0.5, False)
    assert opening.cut_before and not opening.cut_after
    assert (
        "\u2026" not in evidence_only([Evidence(whole, 0, 10, 0.5, 0.0, 0.5, False)], [None]).answer
    )


@pytest.mark.parametrize(
    ("question", "passage", "sentence", "supported"),
    [
        # an invented clause carried by a true one
        ("What prescriptions was the patient given at discharge?",
         "He is asked to continue the Colace as an outpatient for stool softening for comfort.",
         "The patient was prescribed a combination of antibiotics for infection, and he is "
         "asked to continue the Colace as an outpatient for stool softening [1].", False),
        ("What prescriptions was the patient given at discharge?",
         "He is asked to continue the Colace as an outpatient for stool softening for comfort.",
         "He is asked to continue the Colace as an outpatient for stool softening [1].", True),
        # invented findings next to true ones, in one clause
        ("What did the renal ultrasound show?",
         "At that time, he was shown to have multiple bilateral renal cysts with one that did "
         "not meet classification as a simple cyst.",
         "The renal ultrasound showed a clear outline of the kidney with multiple bilateral "
         "renal cysts [1].", False),
        ("What did the renal ultrasound show?",
         "At that time, he was shown to have multiple bilateral renal cysts with one that did "
         "not meet classification as a simple cyst.",
         "The renal ultrasound showed multiple bilateral renal cysts [1].", True),
        # phrasing, the question's words and facts in other words are not invented
        ("How much notice is needed to terminate for convenience?",
         "Either party may terminate this Agreement for convenience upon sixty (60) days' "
         "written notice.",
         "Termination for convenience needs 60 days' written notice [1].", True),
    ],
)  # fmt: skip
def test_every_clause_must_be_said_by_the_passage(
    question: str, passage: str, sentence: str, supported: bool
) -> None:
    checked = check_sentence(sentence, [_hit(passage, 1)], question)
    assert checked.supported is supported, checked
