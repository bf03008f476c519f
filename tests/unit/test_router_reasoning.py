"""Test-time reasoning with fakes: agreement, parsing, claim verification and the tier runner."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.chat.reasoning import (
    SampleDone,
    TierResult,
    Token,
    consensus,
    decision_label,
    reasoning_messages,
    run_tier,
    split_reasoning,
    verify_claims,
    word_f1,
)
from models.fake import ScriptedEngine
from models.types import GenerationOptions, Message
from rag.types import Chunk, Hit


def hit(text: str, n: int = 0) -> Hit:
    return Hit(Chunk(f"c{n}", "d", 1, 0, len(text), text), "doc.txt", "/doc.txt", 1.0, 0.6)


SOURCES = [
    hit("The agreement is governed by the laws of the State of Illinois.", 0),
    hit("Either party may terminate this agreement on ninety days written notice.", 1),
]


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("Yes, the trial showed a benefit [1].", "yes"),
        ("no.", "no"),
        ("  Maybe: the evidence is mixed.", "maybe"),
        ("The answer is yes [2].", "yes"),
        ("Not found in your documents.", "not_found"),
        ("Yesterday the patient was seen.", None),
        ("The term is ten years.", None),
    ],
)
def test_decision_label(answer: str, label: str | None) -> None:
    assert decision_label(answer) == label


@pytest.mark.parametrize(
    ("answers", "chosen", "agreement"),
    [
        (["Yes [1].", "No [1].", "Yes, because [2].", "yes", "Maybe."], 0, 0.6),
        (["No.", "Yes.", "Yes.", "No.", "Maybe."], 0, 0.4),  # tie: the earliest decision
        (["Not found in your documents.", "Not found in your documents.", "Yes."], 0, 2 / 3),
        (["Only one answer."], 0, None),
        (
            [
                "The agreement is governed by Illinois law [1].",
                "Illinois law governs the agreement [1].",
                "The parties are Acme and Beta.",
            ],
            0,
            2 / 3,
        ),
    ],
)
def test_consensus(answers: list[str], chosen: int, agreement: float | None) -> None:
    got_chosen, got_agreement = consensus(answers)
    assert got_chosen == chosen
    assert (
        got_agreement == pytest.approx(agreement)
        if agreement is not None
        else got_agreement is None
    )


@pytest.mark.parametrize(
    ("answer", "strict", "lenient"),
    [
        ("1. The answer is: No, radiotherapy does not help [1].", None, "no"),
        ("The answer is: No, it does not [1].", "no", "no"),
        ("1. Yes, no", None, "yes"),
        ("The study found a benefit. " + "x" * 200 + " yes", None, None),
        ("Maybe.", "maybe", "maybe"),
    ],
)
def test_lenient_labels_for_yes_no_questions(
    answer: str, strict: str | None, lenient: str | None
) -> None:
    assert decision_label(answer) == strict
    assert decision_label(answer, lenient=True) == lenient


def test_consensus_on_a_yes_no_question_reads_the_first_decision() -> None:
    answers = ["The answer is yes [1].", "I think no.", "1. Yes, it helps.", "Not sure at all."]
    chosen, agreement = consensus(answers, lenient=True)
    assert chosen == 0 and agreement == pytest.approx(0.5)


def test_word_f1() -> None:
    assert word_f1("Illinois law governs", "governs Illinois law") == 1.0
    assert word_f1("Illinois", "Delaware") == 0.0


@pytest.mark.parametrize(
    ("text", "reasoning", "answer"),
    [
        (
            "Reasoning: the clause says Illinois.\nAnswer: Illinois [1].",
            "the clause says Illinois.",
            "Illinois [1].",
        ),
        ("Illinois [1].", "", "Illinois [1]."),
        ("Reasoning: a\nAnswer: first\nAnswer: second", "a\nAnswer: first", "second"),
        ("Reasoning: only thoughts\nAnswer:", "", "Reasoning: only thoughts\nAnswer:"),
    ],
)
def test_split_reasoning(text: str, reasoning: str, answer: str) -> None:
    assert split_reasoning(text) == (reasoning, answer)


def test_reasoning_prompt_keeps_the_direct_prompt_as_prefix() -> None:
    msgs = [Message("system", "S"), Message("user", "Sources: ...\n\nQuestion: Q?")]
    out = reasoning_messages(msgs, 50)
    assert out[0] == msgs[0]
    assert out[1].content.startswith(msgs[1].content) and "Answer:" in out[1].content


def test_verify_claims() -> None:
    answer = (
        "The agreement is governed by the laws of Illinois [1]. "
        "The supplier must pay a penalty of five million dollars [2]. "
        'Either party may terminate "on ninety days written notice" [2].'
    )
    v = verify_claims(answer, SOURCES)
    assert (v.supported, v.total) == (2, 3)
    assert v.unsupported == ("The supplier must pay a penalty of five million dollars [2].",)
    assert "penalty" not in v.kept and "Illinois" in v.kept
    assert v.share == pytest.approx(2 / 3)


def test_verify_claims_a_quote_must_be_verbatim() -> None:
    v = verify_claims('Either party may terminate "on thirty days written notice" [2].', SOURCES)
    assert v.supported == 0 and v.kept == ""


def test_words_about_the_answer_are_not_claims() -> None:
    v = verify_claims("1. The source: [2] agreement.txt, page 1\nThe answer is: 3", SOURCES)
    assert v.total == 0 and v.share is None


def test_a_claim_needs_two_supporting_words() -> None:
    assert verify_claims("The Tokyo office earned 90 dollars [2].", SOURCES).supported == 0
    assert verify_claims("Written notice of ninety days ends it [2].", SOURCES).supported == 1


def test_verify_claims_not_found_has_no_claims() -> None:
    v = verify_claims("Not found in your documents.", SOURCES)
    assert v.total == 0 and v.share is None


def _run(engine: ScriptedEngine, **kw: object) -> tuple[list[object], TierResult]:
    msgs = [Message("system", "S"), Message("user", "Q?")]
    events = list(run_tier(engine, msgs, options=GenerationOptions(max_tokens=50), **kw))  # type: ignore[arg-type]
    assert isinstance(events[-1], TierResult)
    return events[:-1], events[-1]


def test_direct_streams_one_answer() -> None:
    engine = ScriptedEngine(["Illinois law governs [1]."])
    events, result = _run(engine, tier="direct", samples=1)
    assert "".join(e.text for e in events if isinstance(e, Token)) == "Illinois law governs [1]."
    assert result.answer == "Illinois law governs [1]." and len(result.samples) == 1
    assert result.agreement is None


def test_reasoning_tier_keeps_the_answer_part() -> None:
    engine = ScriptedEngine(["Reasoning: clause 12 names Illinois.\nAnswer: Illinois [1]."])
    _, result = _run(engine, tier="reasoning", samples=1)
    assert result.answer == "Illinois [1]." and "clause 12" in result.reasoning
    assert "Think step by step" in engine.calls[0][-1].content


def test_self_consistency_samples_and_votes() -> None:
    engine = ScriptedEngine(["No [1].", "Yes [1].", "Yes [2].", "No.", "Yes."])
    events, result = _run(engine, tier="self_consistency", samples=5)
    assert [e.n for e in events if isinstance(e, SampleDone)] == [1, 2, 3, 4, 5]
    assert not any(isinstance(e, Token) for e in events)  # the caller shows the chosen one
    assert result.answer == "Yes [1]." and result.agreement == pytest.approx(0.6)
    assert result.stats is not None and result.stats.completion_tokens == 8
    assert len(engine.calls) == 5 and all(c == engine.calls[0] for c in engine.calls)


def test_adaptive_first_pass_stops_when_two_samples_agree() -> None:
    engine = ScriptedEngine(["Yes [1].", "Yes, clearly [1].", "No."])
    _, result = _run(engine, tier="self_consistency", samples=5, adaptive_first_pass=2)
    assert len(result.samples) == 2 and result.agreement == 1.0


def test_adaptive_first_pass_goes_on_when_they_disagree() -> None:
    engine = ScriptedEngine(["Yes [1].", "No [1].", "No."])
    _, result = _run(engine, tier="self_consistency", samples=5, adaptive_first_pass=2)
    assert len(result.samples) == 5 and result.answer == "No [1]."


def test_samples_use_distinct_seeds_and_the_sampling_temperature() -> None:
    seen: list[tuple[float, int | None]] = []

    class Recording(ScriptedEngine):
        def generate(self, messages: Sequence[Message], options: GenerationOptions, cancel=None):  # type: ignore[no-untyped-def,override]
            seen.append((options.temperature, options.seed))
            return super().generate(messages, options, cancel)

    _run(Recording(["Yes."]), tier="self_consistency", samples=3, sample_temperature=0.9)
    assert seen == [(0.2, 0), (0.9, 1), (0.9, 2)]
