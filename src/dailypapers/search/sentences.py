"""A paper as sentence vectors (its title and its abstract's sentences): the semantic score of
its closest sentence.

A claim or question is usually about one finding, which an abstract states in one sentence; the
whole abstract's vector averages that sentence with the rest. So besides the paper's vector, its
title and each abstract sentence are embedded on their own (``texts``), and the semantic score that
hybrid and semantic search rank by mixes the paper's cosine with its closest sentence's
(``fusion.with_sentences``). On SciFact train (the fusion alone) 0.748 with the abstract's
sentences and 0.751 with the title as one more, against 0.739 without (BENCHMARKS.md, "Search
quality: a paper's closest sentence").

Stored per paper in the ``embeddings`` row, beside the paper's vector, as one blob: the sentence
vectors as int8 rows, each scaled so that its largest component is 127 (a cosine does not change
with a row's scale; SciFact's fused figure is 0.7504 with int8 rows against 0.7500 with float32).
``b""``: the paper has no text to embed (its own vector stands).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numkong
import numpy as np

from dailypapers.search.vectors import quantize

# A sentence ends at . ! or ? (perhaps inside a closing bracket or quote) followed by space and a
# capital letter or an opening bracket: "e.g. a" and "4.5 tokens" stay whole.
_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][)\]\"']))\s+(?=[A-Z(\[])")
MAX_SENTENCES = 32  # a cap on the blob (7 of SciFact's 5,183 abstracts reach it; the 64k corpus' longest has 22)
MIN_CHARS = 12  # shorter pieces ("Methods.", "Results:") say nothing on their own


def texts(title: str, abstract: str) -> list[str]:
    """What a paper's sentence vectors are made of: its title (a title query then finds its paper's
    own sentence, and a title often states the finding), then its abstract's sentences."""
    head = " ".join(title.split())
    return ([head] if head else []) + split(abstract)


def split(abstract: str) -> list[str]:
    """The sentences of an abstract worth a vector of their own, in order, at most MAX_SENTENCES."""
    text = " ".join(abstract.split())
    if not text:
        return []
    out = [s for s in (p.strip() for p in _BOUNDARY.split(text)) if len(s) >= MIN_CHARS]
    return out[:MAX_SENTENCES]


def encode(vectors: np.ndarray) -> bytes:
    """Sentence vectors (n, dim) as the stored blob: int8 rows scaled as the vector index scales
    its rows (``vectors.quantize``)."""
    if len(vectors) == 0:
        return b""
    return quantize(vectors).tobytes()


def best_similarities(query: np.ndarray, blobs: Mapping[str, bytes]) -> dict[str, float]:
    """Each paper's best cosine between the query (a unit vector) and one of its sentences; papers
    whose blob is empty or malformed are left out (their own vector stands). The query is made
    int8 as the rows were, and numkong's int8 kernel scores them (no float copy of the rows)."""
    dim = len(query)
    ids = [i for i, b in blobs.items() if b and len(b) % dim == 0]
    if not ids:
        return {}
    counts = np.fromiter((len(blobs[i]) // dim for i in ids), dtype=np.int64, count=len(ids))
    rows = np.frombuffer(b"".join(blobs[i] for i in ids), dtype=np.int8).reshape(-1, dim)
    sims = 1.0 - np.asarray(numkong.angular(quantize(query), rows), dtype=np.float32)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    best = np.maximum.reduceat(sims, starts)
    return dict(zip(ids, best.tolist()))
