"""The domain classifier: which specialist a question belongs to, from embeddings alone.

No language model and no network: the labelled example questions (app.routing.examples, plus an
organisation's own `routing_examples.jsonl`) are embedded once with the same local embedder the
index uses, and a question is scored per domain by the mean cosine similarity of its `k` nearest
examples of that domain (a per-class k-NN). The winner must beat the runner-up by `min_margin`,
else the question counts as "general" (the generalist is the safe default).

Only the question's text is classified: never a document's text, so an instruction written inside
a document cannot choose the route. All methods run on the caller's thread; embeddings are
computed under the embedder's own lock. Vectors of the examples are cached in memory and, with
`cache_dir`, on disk (keyed by the embedder's name and the examples' hash).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import EnclaveError
from app.routing.examples import EXAMPLES

if TYPE_CHECKING:
    from rag.embedder import Embedder

DOMAINS = ("clinical", "legal", "general")
FALLBACK_DOMAIN = "general"
EXAMPLES_FILENAME = "routing_examples.jsonl"


class DomainExamplesError(EnclaveError):
    """The organisation's examples file cannot be used; the message says why."""


@dataclass(frozen=True)
class DomainPrediction:
    """The classifier's decision. `scores` are per-domain similarities in [-1, 1]."""

    domain: str
    score: float
    margin: float  # best score minus the runner-up's
    scores: dict[str, float] = field(default_factory=dict)
    confident: bool = True  # False: the margin was too small and the fallback was chosen
    seconds: float = 0.0  # embedding the question included

    @property
    def best(self) -> str:
        """The top-scoring domain, even when it was not confident enough to be chosen."""
        return max(self.scores, key=lambda d: self.scores[d]) if self.scores else self.domain


def load_examples(path: Path | None = None) -> dict[str, list[str]]:
    """The built-in examples plus those in `path` (JSON lines: {"domain": .., "question": ..})."""
    merged: dict[str, list[str]] = {d: list(qs) for d, qs in EXAMPLES.items()}
    if path is None or not path.exists():
        return merged
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainExamplesError(
            f"The routing examples file {path} cannot be read: {exc}"
        ) from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            domain, question = str(row["domain"]).strip().lower(), str(row["question"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise DomainExamplesError(
                f'{path}, line {n}: expected {{"domain": ..., "question": ...}} ({exc})'
            ) from exc
        if domain not in DOMAINS:
            raise DomainExamplesError(
                f"{path}, line {n}: unknown domain {domain!r}; use one of {', '.join(DOMAINS)}"
            )
        if question and question not in merged[domain]:
            merged[domain].append(question)
    return merged


class DomainClassifier:
    """Per-class k-NN over embedded example questions. Thread-safe."""

    def __init__(
        self,
        embedder: Embedder,
        examples: Mapping[str, Sequence[str]] | None = None,
        *,
        k: int = 5,
        min_margin: float = 0.02,
        cache_dir: Path | None = None,
    ) -> None:
        self._embedder = embedder
        source = examples if examples is not None else EXAMPLES
        self._examples = {d: [q for q in qs if q.strip()] for d, qs in source.items() if qs}
        if not self._examples:
            raise DomainExamplesError("The domain classifier needs at least one example.")
        self.k = max(1, k)
        self.min_margin = min_margin
        self._cache_dir = cache_dir
        self._vectors: dict[str, list[list[float]]] | None = None
        self._np: dict[str, Any] | None = None
        self._lock = threading.Lock()

    @property
    def domains(self) -> list[str]:
        return list(self._examples)

    def warm_up(self) -> None:
        """Embed the examples now (about a second on two cores) instead of on first use."""
        self.example_vectors()

    def classify(self, question: str) -> DomainPrediction:
        """The domain of `question` (the embedding of the question included in `seconds`)."""
        matrices = self._matrices()
        started = time.perf_counter()
        vector = self._embedder.embed([question])[0]
        import numpy as np  # already loaded by the embedder's libraries

        q = np.asarray(vector, dtype=np.float32)
        scores: dict[str, float] = {}
        for domain, matrix in matrices.items():
            sims = np.sort(matrix @ q)[::-1][: self.k]
            scores[domain] = round(float(sims.mean()), 4) if sims.size else -1.0
        prediction = decide_domain(scores, self.min_margin)
        return _with_seconds(prediction, time.perf_counter() - started)

    def classify_vector(
        self, vector: Sequence[float], examples: Mapping[str, Sequence[Sequence[float]]]
    ) -> DomainPrediction:
        """Pure: score `vector` against embedded examples (unit vectors) per domain. The same
        rule as `classify`, in plain Python."""
        scores: dict[str, float] = {}
        for domain, vecs in examples.items():
            sims = sorted((_dot(vector, v) for v in vecs), reverse=True)
            top = sims[: self.k]
            scores[domain] = round(sum(top) / len(top), 4) if top else -1.0
        return decide_domain(scores, self.min_margin)

    # -- example vectors ------------------------------------------------------------------
    def _matrices(self) -> dict[str, Any]:
        """The example vectors as one float32 matrix per domain (built once)."""
        vectors = self.example_vectors()
        with self._lock:
            if self._np is None:
                import numpy as np

                self._np = {d: np.asarray(vs, dtype=np.float32) for d, vs in vectors.items()}
            return self._np

    def example_vectors(self) -> dict[str, list[list[float]]]:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._load_or_embed()
            return self._vectors

    def _cache_key(self) -> str:
        digest = hashlib.sha256(self._embedder.name.encode())
        for domain in sorted(self._examples):
            for q in self._examples[domain]:
                digest.update(f"{domain}\0{q}\0".encode())
        return digest.hexdigest()[:20]

    def _load_or_embed(self) -> dict[str, list[list[float]]]:
        cache = (
            self._cache_dir / f"domain-examples-{self._cache_key()}.json"
            if self._cache_dir
            else None
        )
        if cache is not None and cache.is_file():
            try:
                data = json.loads(cache.read_text(encoding="utf-8"))
                if set(data) == set(self._examples) and all(
                    len(data[d]) == len(self._examples[d]) for d in data
                ):
                    return {d: [[float(x) for x in v] for v in vs] for d, vs in data.items()}
            except (OSError, ValueError, TypeError):
                pass  # a damaged cache is simply rebuilt
        vectors: dict[str, list[list[float]]] = {}
        for domain, questions in self._examples.items():
            vectors[domain] = [_unit(v) for v in self._embedder.embed(questions)]
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(vectors), encoding="utf-8")
                os.replace(tmp, cache)
            except OSError:
                pass  # the cache only saves time
        return vectors


def decide_domain(scores: Mapping[str, float], min_margin: float) -> DomainPrediction:
    """Pure: the best-scoring domain if it wins by `min_margin`, else the fallback."""
    if not scores:
        return DomainPrediction(FALLBACK_DOMAIN, 0.0, 0.0, {}, confident=False)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else -1.0
    margin = round(best_score - runner_up, 4)
    if margin < min_margin and best != FALLBACK_DOMAIN:
        return DomainPrediction(FALLBACK_DOMAIN, best_score, margin, dict(scores), confident=False)
    return DomainPrediction(best, best_score, margin, dict(scores), confident=True)


def _with_seconds(p: DomainPrediction, seconds: float) -> DomainPrediction:
    return DomainPrediction(p.domain, p.score, p.margin, p.scores, p.confident, seconds)


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=False)))


def _unit(v: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [float(x) / norm for x in v]
