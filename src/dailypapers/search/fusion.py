"""Fusion of the lexical and semantic lists: the one place where hybrid ranking is tuned.

The pure fusions, chosen between by measurement (``bench/bench_search_quality.py --tune``):

* ``rrf``: reciprocal rank fusion, ``sum_r WEIGHTS[r] / (RRF_K + rank_r(d))``, rank from 1
  (Cormack et al. 2009); with unequal weights it is "weighted RRF".
* ``convex``: a convex combination of each ranker's scores after normalizing them per query,
  ``sum_r CONVEX_WEIGHTS[r] * norm_r(score_r(d))``, with ``norm`` min-max or z-score
  (Bruch, Gai and Ingber 2023 found a tuned convex combination beats RRF).

A paper missing from a ranker's list has no score from it. RRF gives it nothing from that
ranker. ``convex`` gives it that ranker's lowest normalized score in the list (min-max: 0), as
if it came last. The engine avoids the guess where it can: before fusing it scores every
candidate with both rankers (exact cosine for lexical-only papers; BM25, 0 when nothing
matches, for semantic-only ones; ``SearchEngine._fusion_lists``), so only a paper that has no
vector yet is left to the rule, and it is still found through the lexical list.

How the constants were chosen (``bench/bench_search_quality.py --tune``; tables in
BENCHMARKS.md, "Search quality"): on SciFact train, 809 queries, top 100 from each ranker, 5-fold
cross-validation over queries repeated over 5 shuffles, mean held-out nDCG@10: RRF k=60 0.720;
weighted RRF 0.730 (k=10, semantic 0.75); convex min-max 0.739 with the missing = minimum rule
and 0.740 with both scores for every candidate (semantic weight 0.5, picked in 24 of 25 folds);
convex z-score 0.737 either way. Every convex variant beats RRF, the spread between them is
within noise (sd over folds 0.03); min-max with completed scores is used, semantic weight 0.5.
Tried later the same way and not better held out (0.737-0.740): a depth of 30, 50 or 200 (or
chosen with the weight), scores divided by their maximum instead of min-max, Bruch et al.'s
theoretical min-max (BM25 from 0, the cosine from -1: 0.736, weight 0.75), and a semantic weight
per query length (below / from 10 words). With the semantic leg searched exactly (SciFact's
5,183 vectors are under ``vectors.EXACT_INDEX_MAX``) every figure was the same to the fourth
digit as with that run's HNSW graph: the weight 0.5 stands.

Since 2026-12-05 the semantic score mixes a paper's cosine with its closest sentence's, its title
or an abstract sentence (``with_sentences``, ``search/sentences.py``). On SciFact train, with the
sentence weight at 0.5 (chosen with the abstract's sentences alone, where it held out best with a
semantic weight of 0.6), the semantic weight holds out at 0.753 (0.6 in 25 of 25 folds), where the
paper's cosine alone held out at 0.740 (0.5); choosing both weights together holds out at 0.749,
the folds picking among close neighbours ((0.6, 0.7) 11 times, (0.5, 0.6) 7). Hybrid as served:
0.7379 -> 0.7511.
Short queries (1-4 words, ``lexical.is_short_query``) are tuned apart on the topic queries
(HF keywords over HF papers, relevance = the query is one of the paper's keywords), where the
semantic leg is weak (nDCG@10 0.21 against 0.49 lexical): cross-validation picked a semantic
weight of 0.15 or 0.1 (11 and 9 of 25 folds; held-out 0.484). With the closest sentence (title
or abstract sentence) mixed in, the semantic leg's short-query nDCG@10 rose from 0.301 to 0.335,
and cross-validation picks 0.3 (24 of 25 folds; held-out 0.499). SciFact has 20 such queries.
Semantic scores without sentences (the engine's first fusion, whose head then has its sentences
read; every fusion when the ``embed_sentences`` setting is off or a paper has none yet) keep the
weights tuned for them, 0.5 and 0.15: with the setting off, SciFact train hybrid is 0.7379 with
those and 0.7347 with the mixed scores' 0.6, and with sentences served it is 0.7511 either way.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

RRF_K = 60
WEIGHTS: dict[str, float] = {"lexical": 1.0, "semantic": 1.0}  # RRF
METHOD = "convex"  # what the engine uses: "rrf" or "convex"
NORM = "minmax"  # "minmax" or "zscore"
CONVEX_WEIGHTS: dict[str, float] = {"lexical": 0.4, "semantic": 0.6}
# Short queries (lexical.is_short_query: a topic of 1-4 words) lean on the lexical list: one or
# two words embed poorly, and an exact term match is most of what such a query asks for.
CONVEX_WEIGHTS_SHORT: dict[str, float] = {"lexical": 0.7, "semantic": 0.3}
# The same, tuned before sentences, for semantic scores that are the papers' cosines alone: a
# first fusion, or any fusion when the embed_sentences setting is off.
CONVEX_WEIGHTS_COSINE: dict[str, float] = {"lexical": 0.5, "semantic": 0.5}
CONVEX_WEIGHTS_SHORT_COSINE: dict[str, float] = {"lexical": 0.85, "semantic": 0.15}
DEPTH = 100  # candidates each ranker contributes for one page of hybrid results
SENTENCE_WEIGHT = 0.5  # a paper's semantic score: (1 - w) x its cosine + w x its best sentence's
# The sentences are read for the head of a first fusion without them, then the lists are fused
# again: on SciFact train (fusion alone) 0.7477 for the top 30 against 0.7482 for every candidate
# (0.7470 for 20, 0.7434 for 10), reading 30 papers' sentences instead of ~170.
SENTENCE_DEPTH = 30

K = TypeVar("K", bound=Hashable)


def rrf(
    rankings: Mapping[str, Sequence[K]],
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
) -> list[tuple[K, float]]:
    """Fuse ranked lists of ids (best first) into [(id, score)], best first.

    ``weights`` default to :data:`WEIGHTS`; a ranker without a weight counts 1.0. Duplicate ids
    within one list count at their best rank only. Ties keep the order of first appearance
    (rankers in the order given), so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    w = WEIGHTS if weights is None else weights
    scores: dict[K, float] = {}
    for name, ranked in rankings.items():
        weight = float(w.get(name, 1.0))
        if weight == 0:
            continue
        seen: set[K] = set()
        for rank, doc in enumerate(ranked, start=1):
            if doc in seen:
                continue
            seen.add(doc)
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    return _sorted(scores)


def normalize(scores: Sequence[float], method: str = NORM) -> list[float]:
    """Scores of one list rescaled: ``minmax`` to [0, 1], ``zscore`` to mean 0 and sd 1.

    A list whose scores are all equal (or a single score) maps to 1.0 (min-max) or 0.0
    (z-score): it says nothing about order.
    """
    if not scores:
        return []
    if method == "minmax":
        lo, hi = min(scores), max(scores)
        if hi - lo <= 1e-12:
            return [1.0] * len(scores)
        return [(s - lo) / (hi - lo) for s in scores]
    if method == "zscore":
        mean = sum(scores) / len(scores)
        sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / len(scores))
        if sd <= 1e-12:
            return [0.0] * len(scores)
        return [(s - mean) / sd for s in scores]
    raise ValueError(f"unknown normalization {method!r}: use minmax or zscore")


def convex(
    scored: Mapping[str, Sequence[tuple[K, float]]],
    weights: Mapping[str, float] | None = None,
    norm: str = NORM,
) -> list[tuple[K, float]]:
    """Fuse scored lists [(id, score)] (higher is better) into [(id, fused score)], best first.

    Each list is normalized on its own (``normalize``), then the weighted sum is taken; a paper
    missing from a list gets that list's lowest normalized score. ``weights`` default to
    :data:`CONVEX_WEIGHTS` (a ranker without one counts 0). Duplicate ids within one list count
    at their best score. Ties keep the order of first appearance.
    """
    w = CONVEX_WEIGHTS if weights is None else weights
    legs: list[tuple[float, dict[K, float], float]] = []
    order: dict[K, int] = {}
    for name, items in scored.items():
        weight = float(w.get(name, 0.0))
        if not items or weight == 0:
            continue
        best: dict[K, float] = {}
        for doc, s in items:
            if doc not in best or s > best[doc]:
                best[doc] = float(s)
            order.setdefault(doc, len(order))
        normed = dict(zip(best, normalize(list(best.values()), norm)))
        legs.append((weight, normed, min(normed.values())))
    # Leg by leg, in the same order of additions as a per-paper sum (the same floats), without a
    # generator per paper; fused keeps the order of first appearance, so a stable sort on the
    # score alone breaks ties as that order would.
    fused = dict.fromkeys(order, 0.0)
    for weight, normed, floor in legs:
        for doc in fused:
            fused[doc] += weight * normed.get(doc, floor)
    return sorted(fused.items(), key=_minus_score)


def fuse(
    scored: Mapping[str, Sequence[tuple[K, float]]], method: str = METHOD, *, short: bool = False,
    sentences: bool = True,
) -> list[tuple[K, float]]:
    """The engine's hybrid ranking: ``method`` ("rrf" or "convex") with the tuned constants
    (``short``: the query is a short topic, see :data:`CONVEX_WEIGHTS_SHORT`; ``sentences``: the
    semantic scores have the closest sentences mixed in, else they are the papers' cosines)."""
    if method == "rrf":
        return rrf({name: [doc for doc, _ in items] for name, items in scored.items()})
    if method == "convex":
        if sentences:
            return convex(scored, CONVEX_WEIGHTS_SHORT if short else CONVEX_WEIGHTS)
        return convex(scored, CONVEX_WEIGHTS_SHORT_COSINE if short else CONVEX_WEIGHTS_COSINE)
    raise ValueError(f"unknown fusion {method!r}: use rrf or convex")


def with_sentences(scored: Sequence[tuple[K, float]], best: Mapping[K, float],
                   weight: float = SENTENCE_WEIGHT) -> list[tuple[K, float]]:
    """A semantic list [(id, cosine)] with each paper's score mixed with its best sentence's
    cosine (``best``; a paper without sentences keeps its own), in the list's order."""
    return [(doc, s if doc not in best else (1 - weight) * s + weight * best[doc]) for doc, s in scored]


def _sorted(scores: dict[K, float]) -> list[tuple[K, float]]:
    # the dict is in order of first appearance and the sort is stable: ties keep that order
    return sorted(scores.items(), key=_minus_score)


def _minus_score(item: tuple) -> float:
    return -item[1]


__all__ = [
    "rrf", "convex", "normalize", "fuse", "RRF_K", "WEIGHTS", "METHOD", "NORM", "CONVEX_WEIGHTS",
    "CONVEX_WEIGHTS_SHORT", "DEPTH", "SENTENCE_WEIGHT", "SENTENCE_DEPTH", "with_sentences",
]
