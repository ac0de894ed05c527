"""Reciprocal rank fusion of ranked lists: the one place where hybrid ranking is tuned.

    score(d) = sum over rankers r of  WEIGHTS[r] / (RRF_K + rank_r(d))      (rank from 1)

A paper missing from a ranker's list gets nothing from it, so a paper that is not embedded yet
is still found through the lexical list alone.

How the constants were chosen (``bench/bench_search_quality.py --tune``; the grid is in
BENCHMARKS.md, "Search quality"): RRF_K = 60 is Cormack et al.'s (2009) value, kept. The weights
were grid-searched on SciFact **train** (809 queries, nDCG@10, all-MiniLM-L6-v2 int8 vectors),
each ranker contributing its top ``DEPTH`` = 100, for semantic weights 0.5-3.0 against lexical 1.0
and BM25 title weights 0.5-2.0. The optimum is flat between semantic 0.5 and 1.0 (0.712-0.715
at title weights 0.5-1.0) and falls beyond (0.698 at 2.0, 0.688 at 3.0); equal weights sit on the
plateau and favour neither ranker on data unlike SciFact. With the chosen BM25 weights
(title 1.25): lexical 0.652, semantic 0.658, hybrid 0.707 (figures from the run recorded in
BENCHMARKS.md; re-run the bench after changing anything here).
"""

from __future__ import annotations

from typing import Hashable, Mapping, Sequence

RRF_K = 60
WEIGHTS: dict[str, float] = {"lexical": 1.0, "semantic": 1.0}
DEPTH = 100  # candidates each ranker contributes for one page of hybrid results


def rrf(
    rankings: Mapping[str, Sequence[Hashable]],
    weights: Mapping[str, float] | None = None,
    k: int = RRF_K,
) -> list[tuple[Hashable, float]]:
    """Fuse ranked lists of ids (best first) into [(id, score)], best first.

    ``weights`` default to :data:`WEIGHTS`; a ranker without a weight counts 1.0. Duplicate ids
    within one list count at their best rank only. Ties keep the order of first appearance
    (rankers in the order given), so the result is deterministic.
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    w = WEIGHTS if weights is None else weights
    scores: dict[Hashable, float] = {}
    for name, ranked in rankings.items():
        weight = float(w.get(name, 1.0))
        if weight == 0:
            continue
        seen = set()
        for rank, doc in enumerate(ranked, start=1):
            if doc in seen:
                continue
            seen.add(doc)
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    order = {doc: i for i, doc in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


__all__ = ["rrf", "RRF_K", "WEIGHTS", "DEPTH"]
