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


# -- normalization and the convex combination ------------------------------------------------
from dailypapers.search.fusion import (  # noqa: E402
    CONVEX_WEIGHTS,
    CONVEX_WEIGHTS_COSINE,
    CONVEX_WEIGHTS_SHORT,
    CONVEX_WEIGHTS_SHORT_COSINE,
    convex,
    fuse,
    normalize,
)


def test_minmax_and_zscore_by_hand():
    assert normalize([2.0, 4.0, 3.0], "minmax") == pytest.approx([0.0, 1.0, 0.5])
    z = normalize([1.0, 2.0, 3.0], "zscore")
    sd = (2 / 3) ** 0.5
    assert z == pytest.approx([-1 / sd, 0.0, 1 / sd])
    # flat lists carry no order
    assert normalize([5.0, 5.0], "minmax") == [1.0, 1.0]
    assert normalize([5.0], "zscore") == [0.0]
    assert normalize([], "minmax") == []
    with pytest.raises(ValueError):
        normalize([1.0], "rank")


def test_convex_hand_computed():
    lex = [("a", 10.0), ("b", 6.0), ("c", 2.0)]  # min-max: a 1, b 0.5, c 0
    sem = [("b", 0.9), ("c", 0.7), ("d", 0.5)]  # min-max: b 1, c 0.5, d 0
    got = dict(convex({"lexical": lex, "semantic": sem}, {"lexical": 0.5, "semantic": 0.5}, "minmax"))
    assert got["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)  # missing from semantic: its minimum, 0
    assert got["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert got["c"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.5)
    assert got["d"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.0)
    fused = convex({"lexical": lex, "semantic": sem}, {"lexical": 0.5, "semantic": 0.5}, "minmax")
    assert [d for d, _ in fused] == ["b", "a", "c", "d"]


def test_convex_weights_move_the_order():
    lists = {"lexical": [("a", 3.0), ("b", 1.0)], "semantic": [("b", 0.8), ("a", 0.2)]}
    assert convex(lists, {"lexical": 0.8, "semantic": 0.2}, "minmax")[0][0] == "a"
    assert convex(lists, {"lexical": 0.2, "semantic": 0.8}, "minmax")[0][0] == "b"
    # a zero weight ignores the ranker altogether, its papers included
    only_lex = convex({"lexical": [("a", 1.0)], "semantic": [("z", 0.9)]}, {"lexical": 1.0, "semantic": 0.0})
    assert [d for d, _ in only_lex] == ["a"]


def test_convex_missing_gets_the_lists_minimum_under_zscore():
    lex = [("a", 3.0), ("b", 2.0), ("c", 1.0)]
    sem = [("a", 0.9), ("b", 0.1)]
    got = dict(convex({"lexical": lex, "semantic": sem}, {"lexical": 0.0001, "semantic": 1.0}, "zscore"))
    # c is missing from the semantic list: it scores like b, the list's lowest (z = -1)
    assert got["c"] == pytest.approx(1.0 * -1.0 + 0.0001 * normalize([3.0, 2.0, 1.0], "zscore")[2])
    assert got["c"] < got["b"] < got["a"]


def test_convex_edge_cases():
    assert convex({}) == []
    assert convex({"lexical": [], "semantic": []}) == []
    assert convex({"lexical": [("x", 1.0), ("x", 3.0), ("y", 2.0)]}, {"lexical": 1.0}, "minmax") == [("x", 1.0), ("y", 0.0)]
    # ties keep the order of first appearance
    tie = convex({"lexical": [("p", 1.0)], "semantic": [("q", 1.0)]}, {"lexical": 0.5, "semantic": 0.5}, "minmax")
    assert [d for d, _ in tie] == ["p", "q"]


def test_fuse_dispatches_with_the_tuned_constants():
    lists = {"lexical": [("a", 3.0), ("b", 1.0)], "semantic": [("b", 0.8), ("a", 0.2), ("c", 0.1)]}
    assert fuse(lists, "rrf") == rrf({"lexical": ["a", "b"], "semantic": ["b", "a", "c"]})
    assert fuse(lists, "convex") == convex(lists, CONVEX_WEIGHTS)
    assert fuse(lists, "convex", short=True) == convex(lists, CONVEX_WEIGHTS_SHORT)
    # semantic scores that are the papers' cosines alone (no sentences mixed in) have their own weights
    assert fuse(lists, "convex", sentences=False) == convex(lists, CONVEX_WEIGHTS_COSINE)
    assert fuse(lists, "convex", short=True, sentences=False) == convex(lists, CONVEX_WEIGHTS_SHORT_COSINE)
    with pytest.raises(ValueError):
        fuse(lists, "combsum")
    for w in (CONVEX_WEIGHTS, CONVEX_WEIGHTS_SHORT, CONVEX_WEIGHTS_COSINE, CONVEX_WEIGHTS_SHORT_COSINE):
        assert set(w) == {"lexical", "semantic"} and sum(w.values()) == pytest.approx(1.0)
    # short queries lean on the lexical list; the cosine alone is trusted less than with sentences
    assert CONVEX_WEIGHTS_SHORT["lexical"] > CONVEX_WEIGHTS["lexical"]
    assert CONVEX_WEIGHTS_SHORT_COSINE["lexical"] > CONVEX_WEIGHTS_COSINE["lexical"]
    assert CONVEX_WEIGHTS_COSINE["semantic"] < CONVEX_WEIGHTS["semantic"]


def _convex_by_paper(scored, weights, norm="minmax"):
    """convex() as first written (a sum per paper, ties broken by first appearance): the faster
    one must give the same floats in the same order."""
    legs, order = [], {}
    for name, items in scored.items():
        weight = float(weights.get(name, 0.0))
        if not items or weight == 0:
            continue
        best = {}
        for doc, s in items:
            if doc not in best or s > best[doc]:
                best[doc] = float(s)
            order.setdefault(doc, len(order))
        normed = dict(zip(best, normalize(list(best.values()), norm)))
        legs.append((weight, normed, min(normed.values())))
    fused = {doc: sum(w * normed.get(doc, floor) for w, normed, floor in legs) for doc in order}
    return sorted(fused.items(), key=lambda item: (-item[1], order[item[0]]))


def test_convex_and_rrf_match_the_per_paper_sum_exactly():
    import random

    rng = random.Random(7)
    for _ in range(300):
        docs = [f"d{i}" for i in range(rng.randint(1, 60))]
        lists = {}
        for name in ("lexical", "semantic"):
            picked = rng.sample(docs, rng.randint(0, len(docs)))
            # coarse scores, so that ties (within a list and after fusing) are common
            lists[name] = [(d, rng.choice([0.0, 0.5, 1.0, 1.5, rng.random()])) for d in picked]
        for weights in (CONVEX_WEIGHTS, CONVEX_WEIGHTS_SHORT, {"lexical": 1.0}):
            for norm in ("minmax", "zscore"):
                assert convex(lists, weights, norm) == _convex_by_paper(lists, weights, norm)
        ranked = {name: [d for d, _ in items] for name, items in lists.items()}
        scores: dict = {}
        for name, ids in ranked.items():
            for rank, d in enumerate(dict.fromkeys(ids), start=1):
                scores[d] = scores.get(d, 0.0) + WEIGHTS.get(name, 1.0) / (RRF_K + rank)
        order = {d: i for i, d in enumerate(scores)}
        assert rrf(ranked) == sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
