"""The trending formula, without a database."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from dailypapers import trending as t

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 8, 21, 12, tzinfo=UTC)


def ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def test_the_formula_matches_the_docstring():
    for votes, hours in [(0, 0), (1, 3), (40, 10), (1000, 100)]:
        expected = (votes + t.PRIOR) ** t.ALPHA * 2 ** (-hours / t.HALF_LIFE_HOURS)
        assert t.trending_score(votes, ago(hours), NOW) == pytest.approx(expected)


def test_more_votes_rank_higher_and_with_diminishing_returns():
    scores = [t.trending_score(v, ago(5), NOW) for v in range(0, 200, 10)]
    assert scores == sorted(scores)
    gains = [b - a for a, b in itertools.pairwise(scores)]
    assert gains == sorted(gains, reverse=True)


def test_scores_halve_every_half_life_and_never_grow_with_age():
    s0 = t.trending_score(50, ago(0), NOW)
    assert t.trending_score(50, ago(t.HALF_LIFE_HOURS), NOW) == pytest.approx(s0 / 2)
    assert t.trending_score(50, ago(3 * t.HALF_LIFE_HOURS), NOW) == pytest.approx(s0 / 8)
    ages = [t.trending_score(50, ago(h), NOW) for h in range(0, 240, 6)]
    assert ages == sorted(ages, reverse=True)


def test_edge_cases():
    assert t.trending_score(10, None, NOW) == 0.0
    assert t.trending_key(10, None) is None
    assert t.trending_score(10, NOW + dt.timedelta(hours=5), NOW) == t.trending_score(10, NOW, NOW)  # future: age 0
    assert t.trending_score(-3, ago(1), NOW) == t.trending_score(0, ago(1), NOW)
    naive = dt.datetime(2026, 8, 21, 10)
    assert t.trending_score(5, naive, NOW) == pytest.approx(t.trending_score(5, ago(2), NOW))


def test_a_fresh_paper_overtakes_an_old_popular_one_eventually():
    old = t.trending_score(100, ago(72), NOW)
    fresh = t.trending_score(10, ago(1), NOW)
    assert fresh > old


def test_the_stored_key_orders_exactly_like_the_score_at_any_time():
    rng = random.Random(7)
    papers = [(rng.randrange(0, 500), ago(rng.uniform(0, 24 * 14))) for _ in range(300)]
    by_key = sorted(range(len(papers)), key=lambda i: -t.trending_key(*papers[i]))
    for later in (0, 5, 50, 500):
        now = NOW + dt.timedelta(hours=later)
        by_score = sorted(range(len(papers)), key=lambda i: -t.trending_score(papers[i][0], papers[i][1], now))
        assert by_key == by_score
    for votes, at in papers[:20]:
        assert t.score_from_key(t.trending_key(votes, at), NOW) == pytest.approx(t.trending_score(votes, at, NOW))


def test_listed_at_and_periods():
    day = dt.date(2026, 8, 20)
    assert t.listed_at_of(day, None) == dt.datetime(2026, 8, 20, tzinfo=UTC)
    at = dt.datetime(2026, 8, 20, 15, 30, tzinfo=UTC)
    assert t.listed_at_of(day, at) == at
    assert t.period_bounds("week", dt.date(2026, 8, 20)) == (dt.date(2026, 8, 17), dt.date(2026, 8, 23))
    assert t.period_bounds("month", dt.date(2026, 12, 5)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValueError):
        t.period_bounds("year", day)
