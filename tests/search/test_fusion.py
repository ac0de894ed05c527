"""Reciprocal rank fusion: a pure function, checked by hand."""

from __future__ import annotations

import pytest

from dailypapers.search.fusion import RRF_K, WEIGHTS, rrf


def test_hand_computed_scores():
    got = dict(rrf({"a": ["x", "y"], "b": ["y", "z"]}, {"a": 1.0, "b": 1.0}, k=60))
    assert got["x"] == pytest.approx(1 / 61)
    assert got["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert got["z"] == pytest.approx(1 / 62)


def test_order_and_agreement_wins():
    fused = rrf({"lexical": ["a", "b", "c"], "semantic": ["c", "b", "d"]}, {"lexical": 1, "semantic": 1})
    assert [d for d, _ in fused][:2] == ["c", "b"]  # c: 1/63+1/61 = 0.032266 > b: 2/62 = 0.032258
    assert {d for d, _ in fused} == {"a", "b", "c", "d"}


def test_weights_shift_the_balance():
    lists = {"lexical": ["a", "b"], "semantic": ["b", "a"]}
    assert rrf(lists, {"lexical": 2.0, "semantic": 1.0})[0][0] == "a"
    assert rrf(lists, {"lexical": 1.0, "semantic": 2.0})[0][0] == "b"
    assert rrf(lists, {"lexical": 0.0, "semantic": 1.0}) == rrf({"semantic": ["b", "a"]}, {"semantic": 1.0})


def test_missing_from_one_list_still_ranked():
    fused = rrf({"lexical": ["only-lexical"], "semantic": []})
    assert fused[0][0] == "only-lexical"


def test_duplicates_count_once_and_ties_are_stable():
    fused = rrf({"a": ["x", "x", "y"]}, {"a": 1.0}, k=0)
    assert fused == [("x", 1.0), ("y", 1 / 3)]
    tie = rrf({"a": ["p"], "b": ["q"]}, {"a": 1.0, "b": 1.0})
    assert [d for d, _ in tie] == ["p", "q"]


def test_defaults_and_validation():
    assert RRF_K == 60 and set(WEIGHTS) == {"lexical", "semantic"}
    assert rrf({}) == []
    with pytest.raises(ValueError):
        rrf({"a": ["x"]}, k=-1)
    # unknown rankers weigh 1.0
    assert rrf({"other": ["x"]})[0][1] == pytest.approx(1 / 61)
