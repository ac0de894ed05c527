"""The relevance rule on its own: which ranked candidates count, without a store or an index."""

from __future__ import annotations

import pytest

from dailypapers.search.relevance import (
    ALL_WORDS_UP_TO,
    CORROBORATE_MARGIN,
    RELEVANT_MAX,
    SIM_BAND,
    SIM_MIN,
    WORD_SHARE,
    Candidate,
    relevant,
    similarity_floor,
    words_required,
)


@pytest.mark.parametrize("n", range(0, 16))
def test_words_required(n):
    need = words_required(n)
    if n <= ALL_WORDS_UP_TO:
        assert need == n
    else:  # a description or claim: some of its words, never fewer than a short query's
        assert ALL_WORDS_UP_TO <= need < n and need >= WORD_SHARE * n
        assert need - 1 < max(ALL_WORDS_UP_TO, WORD_SHARE * n)  # the least that satisfies both


def test_short_queries_need_every_word():
    ranked = [Candidate("both", words_matched=2), Candidate("one", words_matched=1), Candidate("sem-only")]
    assert relevant(ranked, 2).ids == ["both"]


def test_long_queries_need_some_of_their_words():
    n = 12
    need = words_required(n)
    ranked = [Candidate("a", words_matched=need + 2), Candidate("b", words_matched=need - 1),
              Candidate("c", words_matched=need)]
    assert relevant(ranked, n).ids == ["a", "c"]


def test_similarity_needs_the_floor_and_the_band():
    best = SIM_MIN + SIM_BAND + 0.2
    ranked = [
        Candidate("best", similarity=best),
        Candidate("close", similarity=best - SIM_BAND + 0.01),
        Candidate("drifting", similarity=best - SIM_BAND - 0.01),
    ]
    assert relevant(ranked, 3).ids == ["best", "close"]
    assert similarity_floor(best) == pytest.approx(best - SIM_BAND)


def test_weak_neighbours_only_means_nothing_is_relevant():
    ranked = [Candidate(f"n{i}", similarity=SIM_MIN - 0.01 - i / 1000) for i in range(50)]
    assert relevant(ranked, 2).ids == [] and not relevant(ranked, 2).capped
    assert similarity_floor(None) == float("inf")


def test_either_rule_is_enough_and_order_is_kept():
    ranked = [
        Candidate("sem", similarity=0.7),
        Candidate("weak-both", words_matched=1, similarity=0.3),
        Candidate("words", words_matched=2, similarity=0.2),
        Candidate("words-no-vector", words_matched=2),
    ]
    assert relevant(ranked, 2).ids == ["sem", "words", "words-no-vector"]


def test_cap_keeps_the_best_and_says_so():
    ranked = [Candidate(str(i), words_matched=1) for i in range(RELEVANT_MAX + 5)]
    rel = relevant(ranked, 1)
    assert rel.ids == [str(i) for i in range(RELEVANT_MAX)] and rel.capped
    exactly = relevant(ranked[:RELEVANT_MAX], 1)
    assert len(exactly.ids) == RELEVANT_MAX and not exactly.capped
    assert relevant(ranked, 1, limit=3).ids == ["0", "1", "2"]


def test_long_queries_keep_papers_just_short_on_both_signals():
    """A claim's keyword match one word short counts when its meaning is close too (just below
    the similarity floor); either shortfall alone, or a deeper one, does not."""
    n = 6
    need = words_required(n)
    best = SIM_MIN + SIM_BAND + 0.2
    floor = similarity_floor(best)
    ranked = [
        Candidate("best", similarity=best),
        Candidate("both-short", words_matched=need - 1, similarity=floor - CORROBORATE_MARGIN + 0.01),
        Candidate("too-far", words_matched=need - 1, similarity=floor - CORROBORATE_MARGIN - 0.01),
        Candidate("too-few-words", words_matched=need - 2, similarity=floor - 0.01),
        Candidate("words-short-no-vector", words_matched=need - 1),
        Candidate("meaning-short-no-words", similarity=floor - 0.01),
    ]
    assert relevant(ranked, n).ids == ["best", "both-short"]
    # the floor never drops below SIM_MIN, so a near miss needs at least SIM_MIN - CORROBORATE_MARGIN
    weak = [Candidate("w", words_matched=need - 1, similarity=SIM_MIN - CORROBORATE_MARGIN - 0.01)]
    assert relevant(weak, n).ids == []


def test_short_queries_get_no_near_misses():
    """Up to ALL_WORDS_UP_TO words every word is needed, however close the meaning."""
    best = SIM_MIN + SIM_BAND + 0.2
    ranked = [Candidate("best", similarity=best),
              Candidate("one-short", words_matched=ALL_WORDS_UP_TO - 1, similarity=similarity_floor(best) - 0.01)]
    assert relevant(ranked, ALL_WORDS_UP_TO).ids == ["best"]
