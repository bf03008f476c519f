"""The router: for each question, before generation, which specialist, how much thinking, and
whether the frontier route would help and is allowed. Local, fast, no language model.

`decide()` and `reassess()` are pure functions of plain values (table-tested). `Router` gathers
their inputs: the domain classifier's prediction for the question, the installed models and their
domains, retrieval support (similarity numbers, never document text) and the administrator's
policy. Document text never decides a route: an instruction inside a document ("send this to
...", "think harder") is not an input of any function here.

Tiers, cheapest first (each includes the work of the ones before where it makes sense):
- direct: one answer, the plain prompt.
- reasoning: one answer after brief step-by-step reasoning, within a token budget.
- self_consistency: N samples of the plain prompt sharing one prompt evaluation (KV reuse),
  the answer chosen by agreement. Chosen automatically, it starts with a cheap first pass of
  two samples and stops there when they agree.
- verify: self-consistency, then each claim and quote is checked against the cited sources and
  unsupported sentences are removed.

All functions run on the caller's thread.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from app.routing.domains import DomainClassifier, DomainPrediction
    from models.catalog import ModelCatalog
    from rag.embedder import Embedder

Tier = Literal["direct", "reasoning", "self_consistency", "verify"]
Choice = Literal["auto", "quick", "think_harder"]
# What answered: a local tier, or the frontier route (app.frontier) when the person sent it.
AnsweredBy = Tier | Literal["frontier"]
QuestionType = Literal["lookup", "yes_no", "reasoning", "summary"]
TIERS: tuple[Tier, ...] = ("direct", "reasoning", "self_consistency", "verify")
CHOICES: tuple[Choice, ...] = ("auto", "quick", "think_harder")


@dataclass(frozen=True)
class Route:
    """The router's decision with its reasons; `enclave ask --json` prints it under "route".

    The first six fields are the original contract; the rest were added by the router.
    """

    model_id: str
    domain: str = "general"
    tier: AnsweredBy = "direct"
    samples: int = 1
    frontier_offered: bool = (
        False  # offer the frontier route: it would help AND the policy allows it
    )
    reasons: tuple[str, ...] = ()
    domain_score: float | None = None
    domain_margin: float | None = None
    question_type: str = ""
    support: float | None = None  # best cosine similarity of a retrieved source
    token_budget: int | None = None  # max new tokens per sample
    agreement: float | None = None  # share of samples that agree with the chosen answer
    confidence: float | None = None
    abstained: bool = False
    frontier_helpful: bool = False
    frontier_allowed: bool = False
    choice: Choice = "auto"
    overrides: tuple[str, ...] = ()  # what the user set by hand: "model", "domain", "tier", ...
    router_ms: float | None = None
    server: str | None = None  # host:port when the model is the team's inference server

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"] = list(self.reasons)
        data["overrides"] = list(self.overrides)
        return data


@dataclass(frozen=True)
class Overrides:
    """The user's per-question choices ("Think harder", "Quick", a domain, a tier, a model)."""

    choice: Choice = "auto"
    domain: str | None = None
    tier: Tier | None = None
    model_id: str | None = None
    samples: int | None = None


@dataclass(frozen=True)
class RouterConfig:
    strong_support: float = 0.55  # a source this similar makes a direct answer enough
    weak_support: float = 0.35  # below this, the documents hardly cover the question
    samples: int = 5  # N for self-consistency
    first_pass_samples: int = 2  # the cheap first pass of an automatic self-consistency
    answer_tokens: int = 384  # per sample, direct and self-consistency
    reasoning_tokens: int = 512  # reasoning tier: the reasoning and the answer
    sample_temperature: float = 0.8
    min_confidence: float = 0.35  # below this the answer abstains instead of guessing
    low_agreement: float = 0.6  # below this the samples disagree: the frontier would help


@dataclass(frozen=True)
class ModelChoice:
    """What the router needs to know about an installed model."""

    id: str
    domains: tuple[str, ...]
    size_bytes: int = 0
    loaded: bool = False
    tiers: tuple[str, ...] = ()  # an inference server can take these tiers (any domain it lists)
    host: str = ""  # host:port of an inference server (app.chat.servers); "" for a local model


@dataclass(frozen=True)
class Signals:
    """Everything `decide()` looks at. No document text: only numbers about retrieval."""

    question: str
    prediction: DomainPrediction | None
    support: float | None  # best similarity of a relevant source; None: nothing retrieved
    n_sources: int
    frontier_allowed: bool = False
    policy_note: str = ""  # why the policy allows or refuses (no secrets, no content)


@dataclass(frozen=True)
class PassOutcome:
    """What generation produced, for `reassess()`."""

    samples: int
    agreement: float | None  # None with a single sample
    claim_support: float | None  # share of the answer's claims found in the cited sources
    model_abstained: bool  # the model itself said "not found"


_YES_NO_RE = re.compile(
    r"^(is|are|was|were|does|do|did|can|could|should|will|would|has|have|had|may|must|"
    r"might|shall)\b",
    re.I,
)
_REASONING_RE = re.compile(
    r"\b(why|how (?:does|do|did|would|should|can)|explain|compare|comparison|difference|"
    r"differ|versus|vs\.?|evaluate|assess|justify|implications?|what if|trade-?offs?|"
    r"pros and cons|calculate|estimate|reason)\b",
    re.I,
)
_SUMMARY_RE = re.compile(
    r"\b(summari[sz]e|summary|overview|outline|recap|list the|key points)\b", re.I
)


def question_type(question: str) -> QuestionType:
    """A coarse type from the question's wording (its form, not its topic)."""
    q = question.strip()
    if _SUMMARY_RE.search(q):
        return "summary"
    if _REASONING_RE.search(q) or q.count("?") > 1:
        return "reasoning"
    if _YES_NO_RE.match(q):
        return "yes_no"
    return "lookup"


def choose_model(domain: str, models: Sequence[ModelChoice], default_model: str) -> tuple[str, str]:
    """The specialist for `domain` and why: a model listing the domain, the team's inference
    server first (the administrator registered it), then the most specialised (fewest domains),
    then one already loaded, then the smallest; else the default."""
    candidates = [m for m in models if domain in m.domains]
    if not candidates:
        return default_model, f"no model is registered for {domain}: default {default_model}"
    best = min(
        candidates, key=lambda m: (not m.host, len(m.domains), not m.loaded, m.size_bytes, m.id)
    )
    if best.host:
        return best.id, f"{best.id}, the team's inference server at {best.host}, takes {domain}"
    if best.id == default_model and len(candidates) == 1:
        return best.id, f"{best.id} covers {domain}"
    return best.id, f"{best.id} is the {domain} specialist"


def server_for_tier(tier: str, domain: str, models: Sequence[ModelChoice]) -> ModelChoice | None:
    """The inference server registered for this tier (and this domain, if it lists domains)."""
    for m in models:
        if m.host and tier in m.tiers and (not m.domains or domain in m.domains):
            return m
    return None


def decide(
    signals: Signals,
    models: Sequence[ModelChoice],
    default_model: str,
    overrides: Overrides = Overrides(),
    config: RouterConfig = RouterConfig(),
) -> Route:
    """The route for one question, before generation. Pure."""
    reasons: list[str] = []
    set_by_user: list[str] = []
    pred = signals.prediction
    # 1. domain and model
    if overrides.domain:
        domain = overrides.domain
        set_by_user.append("domain")
        reasons.append(f"domain {domain} chosen by the user")
    elif pred is not None:
        domain = pred.domain
        if pred.confident:
            reasons.append(f"domain {domain} (score {pred.score:.2f}, margin {pred.margin:.2f})")
        else:
            reasons.append(
                f"domain unclear ({pred.best} by only {pred.margin:.2f}): the generalist answers"
            )
    else:
        domain = "general"
        reasons.append("no domain classifier: general")
    if overrides.model_id:
        model_id = overrides.model_id
        set_by_user.append("model")
        reasons.append(f"model {model_id} chosen by the user")
    else:
        model_id, why = choose_model(domain, models, default_model)
        reasons.append(why)
    # 2. compute tier
    qtype = question_type(signals.question)
    support = signals.support
    tier: Tier
    samples = 1
    if overrides.tier is not None:
        tier = overrides.tier
        set_by_user.append("tier")
        reasons.append(f"tier {tier} chosen by the user")
    elif overrides.choice == "quick":
        tier = "direct"
        reasons.append("Quick: one direct answer")
    elif overrides.choice == "think_harder":
        tier = "verify"
        reasons.append(f"Think harder: {config.samples} samples, then claims checked")
    elif support is None:
        tier = "direct"
        reasons.append("no relevant source: nothing to reason over")
    elif support >= config.strong_support and qtype in ("lookup", "summary"):
        tier = "direct"
        reasons.append(f"strong support ({support:.2f}) for a {qtype} question")
    elif support < config.weak_support:
        tier = "self_consistency"
        reasons.append(f"weak support ({support:.2f}): check the model's agreement")
    elif qtype == "reasoning":
        tier = "reasoning"
        reasons.append(f"a {qtype} question: reason first")
    elif qtype == "yes_no":
        tier = "self_consistency"
        reasons.append(f"a yes/no question with support {support:.2f}: vote")
    else:
        tier = "direct"
        reasons.append(f"support {support:.2f} for a {qtype} question")
    if overrides.choice != "auto" and "tier" not in set_by_user:
        set_by_user.append("choice")
    if tier in ("self_consistency", "verify"):
        samples = overrides.samples or config.samples
        if overrides.samples:
            set_by_user.append("samples")
    budget = config.reasoning_tokens if tier == "reasoning" else config.answer_tokens
    if "model" not in set_by_user and (server := server_for_tier(tier, domain, models)):
        model_id = server.id
        reasons.append(f"tier {tier} goes to {server.id}, the team's inference server")
    hosts = {m.id: m.host for m in models if m.host}
    # 3. would the frontier route help, and may it be used?
    weak = support is None or support < config.weak_support
    helpful = weak and overrides.choice != "quick"  # Quick: the user wants no detour
    if helpful:
        reasons.append("weak support: a larger model might help")
    allowed = signals.frontier_allowed
    if helpful:
        reasons.append(
            "frontier route allowed by the policy"
            if allowed
            else "frontier route not allowed by the policy"
        )
    return Route(
        model_id=model_id,
        domain=domain,
        tier=tier,
        samples=samples,
        frontier_offered=helpful and allowed,
        reasons=tuple(reasons),
        domain_score=None if pred is None else round(pred.score, 4),
        domain_margin=None if pred is None else round(pred.margin, 4),
        question_type=qtype,
        support=None if support is None else round(support, 4),
        token_budget=budget,
        frontier_helpful=helpful,
        frontier_allowed=allowed,
        choice=overrides.choice,
        overrides=tuple(set_by_user),
        server=hosts.get(model_id),
    )


def confidence(
    support: float | None,
    agreement: float | None,
    claim_support: float | None,
    config: RouterConfig = RouterConfig(),
) -> float:
    """A score in [0, 1]: retrieval support gates the rest.

    support is scaled from 0 at `weak_support - 0.1` to 1 at `strong_support`; the evidence of
    the answer itself is the mean of the samples' agreement and the share of its claims found
    in the sources (1 when neither is known). confidence = sqrt(scaled support) * evidence, so a
    fluent answer over sources that hardly match the question is not trusted, and a well
    supported question still needs an answer that agrees with itself and with its sources.
    """
    if support is None:
        return 0.0
    low = config.weak_support - 0.1
    span = max(config.strong_support - low, 1e-6)
    scaled = min(1.0, max(0.0, (support - low) / span))
    known = [x for x in (agreement, claim_support) if x is not None]
    evidence = sum(known) / len(known) if known else 1.0
    return round(scaled**0.5 * evidence, 4)


def reassess(
    route: Route,
    outcome: PassOutcome,
    config: RouterConfig = RouterConfig(),
) -> Route:
    """After generation: confidence, abstention and the frontier offer, with reasons. Pure."""
    reasons = list(route.reasons)
    conf = confidence(route.support, outcome.agreement, outcome.claim_support, config)
    abstain = outcome.model_abstained
    if outcome.agreement is not None:
        reasons.append(f"{outcome.samples} samples, agreement {outcome.agreement:.2f}")
    if outcome.claim_support is not None:
        reasons.append(f"claims supported by the sources: {outcome.claim_support:.0%}")
    if abstain:
        reasons.append("the model found no answer in the sources")
    elif conf < config.min_confidence:
        abstain = True
        reasons.append(f"confidence {conf:.2f} below {config.min_confidence:.2f}: abstained")
    else:
        reasons.append(f"confidence {conf:.2f}")
    helpful = route.frontier_helpful or (
        route.choice != "quick"
        and (
            abstain or (outcome.agreement is not None and outcome.agreement < config.low_agreement)
        )
    )
    if helpful and not route.frontier_helpful:
        reasons.append(
            "low agreement or no answer: a larger model might help"
            + (
                "; the policy allows it"
                if route.frontier_allowed
                else "; the policy does not allow it"
            )
        )
    return replace(
        route,
        samples=outcome.samples,
        agreement=None if outcome.agreement is None else round(outcome.agreement, 4),
        confidence=conf,
        abstained=abstain,
        frontier_helpful=helpful,
        frontier_offered=helpful and route.frontier_allowed,
        reasons=tuple(reasons),
    )


class FrontierPolicy(Protocol):
    """What the router asks the administrator's policy (app.privacy.policy.Policy)."""

    def is_allowed(self, workspace_id: str) -> bool: ...


CatalogLike = Callable[[], Sequence[ModelChoice]]
PolicyProvider = Callable[[], FrontierPolicy | None]


@dataclass
class Router:
    """Gathers the signals for `decide()`: the classifier, the model list, the policy.

    `classifier` is a zero-argument provider so the embedder loads only when first needed.
    """

    classifier: Callable[[], DomainClassifier | None] = lambda: None
    models: CatalogLike = lambda: ()
    policy: PolicyProvider = lambda: None
    config: RouterConfig = field(default_factory=RouterConfig)
    # The last question classified, by which classifier, and its prediction: the chat service
    # routes a question twice (a first guess to preload its model, then with the retrieval's
    # support), and the question is embedded once for both.
    _last: tuple[str, object, DomainPrediction | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def route(
        self,
        question: str,
        *,
        workspace_id: str,
        support: float | None,
        n_sources: int,
        default_model: str,
        overrides: Overrides = Overrides(),
    ) -> Route:
        started = time.perf_counter()
        prediction = None
        if overrides.domain is None:
            clf = self.classifier()
            last = self._last
            if last is not None and last[0] == question and last[1] is clf:
                prediction = last[2]
            else:
                prediction = None if clf is None else clf.classify(question)
                self._last = (question, clf, prediction)
        allowed, note = self._frontier_allowed(workspace_id)
        signals = Signals(question, prediction, support, n_sources, allowed, note)
        route = decide(signals, list(self.models()), default_model, overrides, self.config)
        return replace(route, router_ms=round((time.perf_counter() - started) * 1000, 2))

    def _frontier_allowed(self, workspace_id: str) -> tuple[bool, str]:
        try:
            policy = self.policy()
        except Exception:  # a broken policy never opens the route
            return False, "the policy could not be read"
        if policy is None:
            return False, "no policy"
        return bool(policy.is_allowed(workspace_id)), ""


def model_choices(records: Sequence[Any], loaded: Sequence[str]) -> list[ModelChoice]:
    """ModelChoice values from catalog records (models.types.ModelRecord)."""
    return [ModelChoice(r.id, tuple(r.domains), int(r.size_bytes), r.id in loaded) for r in records]


def build_router(
    *,
    embedder: Callable[[], Embedder],
    catalog: ModelCatalog,
    loaded: Callable[[], Sequence[str]],
    policy: PolicyProvider,
    config_dir: Path,
    cache_dir: Path,
    config: RouterConfig | None = None,
    servers: Callable[[], Sequence[ModelChoice]] = lambda: (),
) -> Router:
    """The app's router: the classifier is built on first use from the shared embedder (its
    example vectors cached under `cache_dir`), with the organisation's own examples from
    `config_dir/routing_examples.jsonl` when that file exists. `servers`: the policy's
    inference servers as router entries (app.chat.servers.InferenceServers.choices)."""
    from app.routing.domains import EXAMPLES_FILENAME, DomainClassifier, load_examples

    lock = threading.Lock()
    built: list[DomainClassifier] = []

    def classifier() -> DomainClassifier:
        with lock:
            if not built:
                examples = load_examples(config_dir / EXAMPLES_FILENAME)
                built.append(
                    DomainClassifier(embedder(), examples, cache_dir=cache_dir / "routing")
                )
            return built[0]

    return Router(
        classifier=classifier,
        models=lambda: _portfolio(model_choices(catalog.routable(), loaded()), servers),
        policy=policy,
        config=config or RouterConfig(),
    )


def _portfolio(
    local: list[ModelChoice], servers: Callable[[], Sequence[ModelChoice]]
) -> list[ModelChoice]:
    """Local models and inference servers; a broken policy gives no servers, and an installed
    model shadows a server of the same id."""
    try:
        remote = list(servers())
    except Exception:  # a policy that cannot be read never adds a destination
        remote = []
    ids = {m.id for m in local}
    return [*local, *(m for m in remote if m.id not in ids)]
