"""Reciprocal Rank Fusion (rag.fusion): pure function, exact arithmetic."""

from __future__ import annotations

import pytest

from rag.fusion import RRF_K, reciprocal_rank_fusion


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)


def test_item_in_both_lists_beats_top_of_one_list() -> None:
    order = [item for item, _ in reciprocal_rank_fusion([["x", "y"], ["z", "y"]])]
    assert order[0] == "y"  # 2/62 > 1/61
    assert set(order) == {"x", "y", "z"}


def test_ties_break_by_best_rank_then_first_list() -> None:
    # "x" and "z" both have 1/61 and best rank 1: the first list's item comes first.
    order = [item for item, _ in reciprocal_rank_fusion([["x"], ["z"]])]
    assert order == ["x", "z"]
    order = [item for item, _ in reciprocal_rank_fusion([["z"], ["x"]])]
    assert order == ["z", "x"]


def test_duplicates_within_a_list_count_once_at_best_rank() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "a", "b"]], k=0))
    assert fused == {"a": pytest.approx(1.0), "b": pytest.approx(1 / 3)}


def test_weights_and_limit() -> None:
    fused = reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 3.0], limit=1)
    assert fused == [("b", pytest.approx(3.0))]


def test_empty_inputs_and_bad_arguments() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    assert reciprocal_rank_fusion([["a"]], limit=0) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], k=-1)


def test_default_k_is_60() -> None:
    assert RRF_K == 60
    assert reciprocal_rank_fusion([["a"]])[0][1] == pytest.approx(1 / 61)
