"""Reciprocal rank fusion of ranked lists: the one place where hybrid ranking is tuned.

    score(d) = sum over rankers r of  WEIGHTS[r] / (RRF_K + rank_r(d))      (rank from 1)

A paper missing from a ranker's list gets nothing from it, so a paper that is not embedded yet
is still found through the lexical list alone.

How the constants were chosen (``bench/bench_search_quality.py --tune``; the grid is in
BENCHMARKS.md, "Search quality"): RRF_K = 60 is Cormack et al.'s (2009) value, kept. The weights
were grid-searched on SciFact **train** (809 queries, nDCG@10, the packaged all-MiniLM-L6-v2 int8
model), each ranker contributing its top ``DEPTH`` = 100, for semantic weights 0.5-3.0 against
lexical 1.0 and BM25 title weights 0.5-2.0. The optimum is a plateau between semantic 0.5 and
1.0 (0.712-0.717 at title weights 0.5-1.0) that falls beyond (about 0.70 at 2.0, 0.69 at 3.0);
equal weights sit on it and favour neither ranker on data unlike SciFact. With the chosen BM25
weights (title 1.25, see lexical.FIELD_WEIGHTS): lexical 0.649, semantic 0.659, hybrid 0.706;
recall@100 0.910 / 0.926 / 0.943. Re-run the bench after changing anything here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

RRF_K = 60
WEIGHTS: dict[str, float] = {"lexical": 1.0, "semantic": 1.0}
DEPTH = 100  # candidates each ranker contributes for one page of hybrid results

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
        seen = set()
        for rank, doc in enumerate(ranked, start=1):
            if doc in seen:
                continue
            seen.add(doc)
            scores[doc] = scores.get(doc, 0.0) + weight / (k + rank)
    order = {doc: i for i, doc in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))


__all__ = ["rrf", "RRF_K", "WEIGHTS", "DEPTH"]
