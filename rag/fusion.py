"""Reciprocal Rank Fusion: merge ranked lists of ids into one ranking (pure, no I/O).

RRF (Cormack, Clarke & Büttcher, SIGIR 2009) scores an item by the sum over the lists that
contain it of `weight / (k + rank)`, with ranks starting at 1. It needs no score calibration,
which is why it suits fusing a cosine ranking with a BM25 ranking.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[T]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[T, float]]:
    """Fuse `rankings` (each best first) into [(item, score)], best first.

    An item repeated inside one ranking counts at its best rank only. Ties are broken by the
    item's best rank in any list, then by the order in which the item was first seen
    (ranking by ranking), so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("weights must have one entry per ranking")

    scores: dict[T, float] = {}
    best_rank: dict[T, int] = {}
    first_seen: dict[T, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen_here: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen_here:
                continue
            seen_here.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
            first_seen.setdefault(item, len(first_seen))

    fused = sorted(scores, key=lambda item: (-scores[item], best_rank[item], first_seen[item]))
    if limit is not None:
        fused = fused[: max(limit, 0)]
    return [(item, scores[item]) for item in fused]
