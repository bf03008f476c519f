"""The router as a pure function: table-driven tests of decide(), reassess() and friends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.routing.domains import DomainPrediction, decide_domain
from app.routing.router import (
    ModelChoice,
    Overrides,
    PassOutcome,
    Route,
    Router,
    RouterConfig,
    Signals,
    choose_model,
    confidence,
    decide,
    model_choices,
    question_type,
    reassess,
)
from models.types import ModelRecord

CFG = RouterConfig()
MODELS = (
    ModelChoice("smollm2", ("general",), 100),
    ModelChoice("clinic-7b", ("clinical",), 4000),
    ModelChoice("law-3b", ("legal",), 2000),
)


def pred(domain: str, score: float = 0.6, margin: float = 0.1) -> DomainPrediction:
    return DomainPrediction(domain, score, margin, {domain: score}, confident=True)


UNSURE = DomainPrediction("general", 0.4, 0.01, {"legal": 0.4, "clinical": 0.39}, confident=False)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is the notice period?", "lookup"),
        ("Which state's law governs the agreement?", "lookup"),
        ("Is the licence exclusive?", "yes_no"),
        ("Does metformin cause lactic acidosis?", "yes_no"),
        ("Why was the patient transferred to intensive care?", "reasoning"),
        ("Compare the two indemnity clauses.", "reasoning"),
        ("What is the dose? And when was it started?", "reasoning"),
        ("Summarise the discharge letter.", "summary"),
        ("Give me an overview of the contract.", "summary"),
    ],
)
def test_question_type(question: str, expected: str) -> None:
    assert question_type(question) == expected


@pytest.mark.parametrize(
    ("domain", "models", "expected"),
    [
        ("clinical", MODELS, "clinic-7b"),
        ("legal", MODELS, "law-3b"),
        ("general", MODELS, "smollm2"),
        ("legal", MODELS[:2], "smollm2"),  # no legal model: the default
        # the most specialised wins over a model covering several domains
        (
            "legal",
            (ModelChoice("multi", ("legal", "clinical"), 10), ModelChoice("law", ("legal",), 99)),
            "law",
        ),
        # equal specialisation: the loaded one, then the smaller
        (
            "legal",
            (ModelChoice("a", ("legal",), 10), ModelChoice("b", ("legal",), 99, loaded=True)),
            "b",
        ),
        ("legal", (ModelChoice("a", ("legal",), 99), ModelChoice("b", ("legal",), 10)), "b"),
    ],
)
def test_choose_model(domain: str, models: tuple[ModelChoice, ...], expected: str) -> None:
    model_id, why = choose_model(domain, models, "smollm2")
    assert model_id == expected
    assert why


@dataclass(frozen=True)
class Case:
    name: str
    question: str
    prediction: DomainPrediction | None
    support: float | None
    overrides: Overrides
    allowed: bool
    model: str
    domain: str
    tier: str
    samples: int
    frontier_offered: bool
    helpful: bool


CASES = [
    Case("clinical lookup, strong support", "What dose of heparin was given?", pred("clinical"),
         0.7, Overrides(), False, "clinic-7b", "clinical", "direct", 1, False, False),
    Case("legal lookup, strong support", "What is the notice period?", pred("legal"),
         0.7, Overrides(), False, "law-3b", "legal", "direct", 1, False, False),
    Case("unsure domain goes to the generalist", "What is the term?", UNSURE,
         0.7, Overrides(), False, "smollm2", "general", "direct", 1, False, False),
    Case("no classifier", "What is the term?", None,
         0.7, Overrides(), False, "smollm2", "general", "direct", 1, False, False),
    Case("reasoning question, medium support", "Why did the court dismiss the claim?",
         pred("legal"), 0.45, Overrides(), False, "law-3b", "legal", "reasoning", 1, False, False),
    Case("yes/no, medium support: vote", "Is the licence exclusive?", pred("legal"),
         0.45, Overrides(), False, "law-3b", "legal", "self_consistency", 5, False, False),
    Case("lookup, medium support: direct", "What is the notice period?", pred("legal"),
         0.45, Overrides(), False, "law-3b", "legal", "direct", 1, False, False),
    Case("weak support: sample, frontier helpful but not allowed", "What is the cap?",
         pred("legal"), 0.3, Overrides(), False, "law-3b", "legal", "self_consistency", 5,
         False, True),
    Case("weak support and the policy allows: offer it", "What is the cap?", pred("legal"),
         0.3, Overrides(), True, "law-3b", "legal", "self_consistency", 5, True, True),
    Case("strong support, policy allows: no frontier offer", "What is the cap?", pred("legal"),
         0.8, Overrides(), True, "law-3b", "legal", "direct", 1, False, False),
    Case("no source at all: direct, frontier helpful", "What is the cap?", pred("legal"),
         None, Overrides(), True, "law-3b", "legal", "direct", 1, True, True),
    Case("Think harder", "What is the cap?", pred("legal"), 0.8,
         Overrides(choice="think_harder"), False, "law-3b", "legal", "verify", 5, False, False),
    Case("Think harder with 3 samples", "What is the cap?", pred("legal"), 0.8,
         Overrides(choice="think_harder", samples=3), False, "law-3b", "legal", "verify", 3,
         False, False),
    Case("Quick on a hard question", "Why was the claim dismissed?", pred("legal"), 0.2,
         Overrides(choice="quick"), True, "law-3b", "legal", "direct", 1, False, False),
    Case("user's domain beats the classifier", "What is the dose?", pred("legal"), 0.7,
         Overrides(domain="clinical"), False, "clinic-7b", "clinical", "direct", 1, False, False),
    Case("user's model beats the specialist", "What is the dose?", pred("clinical"), 0.7,
         Overrides(model_id="smollm2"), False, "smollm2", "clinical", "direct", 1, False, False),
    Case("user's tier beats the rules", "What is the dose?", pred("clinical"), 0.7,
         Overrides(tier="reasoning"), False, "clinic-7b", "clinical", "reasoning", 1, False,
         False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decide_table(case: Case) -> None:
    signals = Signals(case.question, case.prediction, case.support, 3, case.allowed)
    route = decide(signals, MODELS, "smollm2", case.overrides, CFG)
    got = (route.model_id, route.domain, route.tier, route.samples, route.frontier_offered)
    assert got == (case.model, case.domain, case.tier, case.samples, case.frontier_offered)
    assert route.frontier_helpful is case.helpful
    assert route.frontier_allowed is case.allowed
    assert route.reasons, "a route always says why"
    assert route.token_budget == (
        CFG.reasoning_tokens if case.tier == "reasoning" else CFG.answer_tokens
    )


def test_decide_records_what_the_user_overrode() -> None:
    signals = Signals("What is the dose?", pred("legal"), 0.7, 3)
    route = decide(signals, MODELS, "smollm2", Overrides("think_harder", "clinical", None, "x", 3))
    assert set(route.overrides) == {"domain", "model", "choice", "samples"}
    assert route.choice == "think_harder"
    assert decide(signals, MODELS, "smollm2").overrides == ()


def test_document_text_is_not_an_input() -> None:
    """Same question, same numbers: the route is the same whatever the documents say, because
    no document text reaches decide() (Signals has no field for it)."""
    fields = set(Signals.__dataclass_fields__)
    assert fields == {
        "question", "prediction", "support", "n_sources", "frontier_allowed", "policy_note"
    }  # fmt: skip
    a = decide(Signals("What is the cap?", pred("legal"), 0.6, 2), MODELS, "smollm2")
    b = decide(Signals("What is the cap?", pred("legal"), 0.6, 4), MODELS, "smollm2")
    assert (a.model_id, a.tier, a.frontier_offered) == (b.model_id, b.tier, b.frontier_offered)


@pytest.mark.parametrize(
    ("support", "agreement", "claims", "low", "high"),
    [
        (None, None, None, 0.0, 0.0),
        (0.9, None, None, 1.0, 1.0),
        (0.9, 1.0, 1.0, 1.0, 1.0),
        (0.2, None, None, 0.0, 0.0),
        (0.45, 0.4, 0.5, 0.35, 0.6),
        (0.9, 0.2, 0.0, 0.05, 0.15),  # well retrieved, but the answer disagrees with itself
    ],
)
def test_confidence(
    support: float | None, agreement: float | None, claims: float | None, low: float, high: float
) -> None:
    assert low <= confidence(support, agreement, claims, CFG) <= high


@dataclass(frozen=True)
class After:
    name: str
    support: float | None
    choice: str
    allowed: bool
    outcome: PassOutcome
    abstained: bool
    frontier_offered: bool


AFTER = [
    After("agreeing samples, good support", 0.7, "auto", True,
          PassOutcome(5, 1.0, 1.0, False), False, False),
    After("disagreeing samples: the frontier helps, allowed", 0.5, "auto", True,
          PassOutcome(5, 0.4, 0.8, False), False, True),
    After("disagreeing samples, not allowed", 0.5, "auto", False,
          PassOutcome(5, 0.4, 0.8, False), False, False),
    After("unsupported claims, weak support: abstain", 0.3, "auto", False,
          PassOutcome(1, None, 0.0, False), True, False),
    After("the model said not found", 0.7, "auto", False,
          PassOutcome(1, None, None, True), True, False),
    After("abstention with an allowed policy offers the frontier", 0.7, "auto", True,
          PassOutcome(1, None, None, True), True, True),
    After("Quick never offers the frontier", 0.3, "quick", True,
          PassOutcome(1, None, 0.0, False), True, False),
]  # fmt: skip


@pytest.mark.parametrize("case", AFTER, ids=[c.name for c in AFTER])
def test_reassess_table(case: After) -> None:
    before = Route(
        "m", support=case.support, choice=case.choice, frontier_allowed=case.allowed,
        reasons=("before",),
    )  # fmt: skip
    after = reassess(before, case.outcome, CFG)
    assert after.abstained is case.abstained
    assert after.frontier_offered is case.frontier_offered
    assert after.samples == case.outcome.samples
    assert after.confidence is not None and 0.0 <= after.confidence <= 1.0
    assert after.reasons[0] == "before" and len(after.reasons) > 1


def test_route_to_dict_is_json_ready() -> None:
    import json

    route = Route("m", reasons=("a", "b"), overrides=("tier",))
    data = route.to_dict()
    assert data["reasons"] == ["a", "b"] and data["overrides"] == ["tier"]
    assert {"model_id", "domain", "tier", "samples", "frontier_offered", "reasons"} <= set(data)
    json.dumps(data)


@pytest.mark.parametrize(
    ("scores", "margin", "domain", "confident"),
    [
        ({"clinical": 0.6, "legal": 0.3, "general": 0.2}, 0.02, "clinical", True),
        ({"clinical": 0.41, "legal": 0.40, "general": 0.2}, 0.02, "general", False),
        ({"clinical": 0.3, "legal": 0.2, "general": 0.295}, 0.02, "general", False),
        ({"general": 0.5, "legal": 0.49}, 0.02, "general", True),
        ({}, 0.02, "general", False),
    ],
)
def test_decide_domain(
    scores: dict[str, float], margin: float, domain: str, confident: bool
) -> None:
    p = decide_domain(scores, margin)
    assert (p.domain, p.confident) == (domain, confident)


class FakeClassifier:
    def __init__(self, prediction: DomainPrediction) -> None:
        self.prediction = prediction
        self.seen: list[str] = []

    def classify(self, question: str) -> DomainPrediction:
        self.seen.append(question)
        return self.prediction


class FakePolicy:
    def __init__(self, allowed: set[str]) -> None:
        self.allowed = allowed

    def is_allowed(self, workspace_id: str) -> bool:
        return workspace_id in self.allowed


def test_router_asks_the_policy_per_workspace() -> None:
    clf = FakeClassifier(pred("legal"))
    router = Router(
        classifier=lambda: clf,  # type: ignore[arg-type,return-value]
        models=lambda: MODELS,
        policy=lambda: FakePolicy({"firm"}),
    )
    a = router.route("What is the cap?", workspace_id="firm", support=0.2, n_sources=1,
                     default_model="smollm2")  # fmt: skip
    b = router.route("What is the cap?", workspace_id="clinic", support=0.2, n_sources=1,
                     default_model="smollm2")  # fmt: skip
    assert a.frontier_offered and not b.frontier_offered
    assert a.frontier_helpful and b.frontier_helpful
    assert a.model_id == "law-3b" and a.router_ms is not None
    assert clf.seen == ["What is the cap?"]  # the same question is classified once
    router.route("What is the term?", workspace_id="firm", support=0.2, n_sources=1,
                 default_model="smollm2")  # fmt: skip
    assert clf.seen == ["What is the cap?", "What is the term?"]


def test_router_a_broken_policy_never_opens_the_route() -> None:
    def broken() -> FakePolicy:
        raise OSError("unreadable")

    router = Router(policy=broken)  # type: ignore[arg-type]
    route = router.route("What is the cap?", workspace_id="w", support=None, n_sources=0,
                         default_model="smollm2")  # fmt: skip
    assert not route.frontier_allowed and not route.frontier_offered
    assert route.model_id == "smollm2" and route.domain == "general"


def test_router_skips_the_classifier_when_the_user_names_the_domain() -> None:
    clf = FakeClassifier(pred("legal"))
    router = Router(classifier=lambda: clf, models=lambda: MODELS)  # type: ignore[arg-type,return-value]
    route = router.route(
        "What is the dose?",
        workspace_id="w",
        support=0.7,
        n_sources=1,
        default_model="smollm2",
        overrides=Overrides(domain="clinical"),
    )
    assert route.model_id == "clinic-7b" and clf.seen == []


def test_model_choices_from_catalog_records() -> None:
    rec = ModelRecord("law", "law.gguf", "0" * 64, 123, "llama", "Q4", 2048, "chatml", ["legal"])
    (choice,) = model_choices([rec], ["law"])
    assert choice == ModelChoice("law", ("legal",), 123, True)
