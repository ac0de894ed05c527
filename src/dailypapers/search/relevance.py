"""Which ranked candidates are relevant to a query: decided before any sort or filter.

A search ranks candidates from two lists (BM25 over an OR of the query's words, and the nearest
vectors), and both lists always fill up: an OR query matches any paper with one common word, and
every paper is *some* distance away. Sorting that pool by date or upvotes, or filtering it, puts
weak neighbours on top. So a candidate counts as relevant only when

* it contains the query's words: all of them for up to three content words; for longer queries
  (descriptions, claims) three of them, or ``WORD_SHARE`` when that is more (stopwords and
  ``FILLER_WORDS`` do not count; quoted phrases are already required by the lexical query), or
* its cosine similarity to the query is at least ``SIM_MIN`` and within ``SIM_BAND`` of the best
  candidate's, or
* for a long query, both signals fall just short but agree: it contains all but one of the words
  the first rule needs, and its similarity is within ``CORROBORATE_MARGIN`` below the second
  rule's floor (hybrid search knows the exact cosine of every candidate it fused, keyword-only
  ones included).

At most ``RELEVANT_MAX`` relevant candidates are kept, in ranking order; sorts and the form's
filters then work on that set only, so every sort shows the same papers and the count shown is
the number one can page through.

Constants, measured on the bundled 9.9k Hugging Face papers with the packaged MiniLM model:
random letter strings reach cosine 0.28-0.36 with their nearest paper, while real topic queries
whose nearest paper is below 0.40 are acronyms or jargon that the word rule finds (``ppo``,
``triviaqa``). Past ~0.15 below the best match the neighbours drift off topic (for "catastrophic
forgetting", rank 50 at 0.45 against 0.64 at the top is about memory benchmarks). The word rule
for long queries keeps most judged documents of SciFact's claims, which share few words with
their abstracts. The cut costs hybrid ranking little: SciFact train (809 claims, packaged model,
convex fusion; bench/bench_search_quality.py) hybrid nDCG@10 0.740 -> 0.739 (0.729 without the
near-miss rule) and recall@100 0.953 -> 0.912. A single ranker has one signal only and loses
more: lexical 0.705 -> 0.651 (recall@100 0.930 -> 0.790), semantic 0.658 -> 0.635 (0.926 ->
0.793); what is cut is the weak tail that sorts used to bring to the top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

RELEVANT_MAX = 200  # relevant results kept for one query (the deepest one can page or sort)
ALL_WORDS_UP_TO = 3  # queries this short need every content word; longer ones at least this many
WORD_SHARE = 1 / 3  # ... and this share of them (for queries of 10 words and more)
SIM_MIN = 0.40  # cosine similarity below which a semantic neighbour is never relevant
SIM_BAND = 0.15  # ... nor when it is this far below the best neighbour's
# A long query's keyword match one word short still counts this far below the similarity floor
# (so never below SIM_MIN - CORROBORATE_MARGIN = 0.30, where random strings cannot go: they match
# no words). Claims share few words with their abstracts and embed weakly with MiniLM: of
# SciFact's judged abstracts cut from hybrid top tens, most had 2 of the 3 words needed and a
# cosine of 0.30-0.40. Chosen on SciFact train itself (hybrid nDCG@10 0.735 / 0.740 / 0.739 at a
# margin of 0.05 / 0.10 / 0.15, replaying the cut on the same candidates), so an in-sample figure.
CORROBORATE_MARGIN = 0.10
# Words that do not count for the word rule, besides the highlighter's stopwords: questions and
# claims wrap a topic in them ("how do plants use light"), and abstracts seldom repeat them.
FILLER_WORDS = frozenset(
    "how what which why when where who whom whose do does did done doing use used uses using based via "
    "can could should would may might must shall i me my you your he she his her them those what's "
    "also than very more most about over under between through".split()
)


class Candidate(NamedTuple):  # a tuple: a search makes hundreds of them
    id: str
    words_matched: int | None = None  # content words of the query it contains (None: not a keyword hit)
    similarity: float | None = None  # cosine similarity to the query (None: not a semantic hit)


@dataclass(frozen=True)
class Relevant:
    ids: list[str]  # relevant candidates, in ranking order, at most the limit
    capped: bool  # more candidates passed than were kept


def words_required(n_words: int) -> int:
    """How many of a query's ``n_words`` content words a keyword match must contain."""
    if n_words <= ALL_WORDS_UP_TO:
        return n_words
    return max(ALL_WORDS_UP_TO, math.ceil(WORD_SHARE * n_words - 1e-9))


def similarity_floor(best: float | None) -> float:
    """The least similarity that counts, given the best candidate's."""
    if best is None:
        return math.inf
    return max(SIM_MIN, best - SIM_BAND)


def relevant(ranked: Sequence[Candidate], n_words: int, *, limit: int = RELEVANT_MAX,
             best: float | None = None) -> Relevant:
    """The relevant candidates of ``ranked`` (best first), by the rule in the module docstring.
    ``best``: the best similarity to the query in the whole collection, when ``ranked`` holds only
    some of it (a filtered search), so that the floor does not fall with the filter."""
    need = words_required(n_words)
    near = need - 1 if n_words > ALL_WORDS_UP_TO else None  # short queries need every word
    sims = [c.similarity for c in ranked if c.similarity is not None]
    if best is not None:
        sims.append(best)
    floor = similarity_floor(max(sims) if sims else None)
    out: list[str] = []
    for c in ranked:
        by_words = c.words_matched is not None and c.words_matched >= need
        by_meaning = c.similarity is not None and c.similarity >= floor
        by_both = (
            near is not None and c.words_matched is not None and c.words_matched >= near
            and c.similarity is not None and c.similarity >= floor - CORROBORATE_MARGIN
        )
        if by_words or by_meaning or by_both:
            if len(out) == limit:
                return Relevant(out, capped=True)
            out.append(c.id)
    return Relevant(out, capped=False)


__all__ = ["Candidate", "Relevant", "relevant", "words_required", "similarity_floor", "RELEVANT_MAX",
           "WORD_SHARE", "ALL_WORDS_UP_TO", "SIM_MIN", "SIM_BAND", "CORROBORATE_MARGIN", "FILLER_WORDS"]
