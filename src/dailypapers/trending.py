"""Trending: time-decayed upvotes. Pure functions, no I/O; the constants live here and only here.

The formula
-----------
A paper's trending score at time ``now`` is::

    score = (upvotes + PRIOR) ** ALPHA * 2 ** (-age_hours / HALF_LIFE_HOURS)

where ``upvotes`` is the total shown on the site (imported Hugging Face base count + member votes
here) and ``age_hours`` runs from the moment the paper first went on a daily list (its submission
time, else the start of its list day, UTC).

* ``ALPHA`` < 1 gives diminishing returns: the 100th vote counts less than the 10th.
* ``PRIOR`` = 1 keeps a fresh paper with no votes yet above zero, so new papers rank by recency
  among themselves until votes arrive.
* ``HALF_LIFE_HOURS``: every day a paper's score halves, whatever its count.

Compare Hacker News: ``(votes - 1) ** 0.8 / (age_hours + 2) ** 1.8``, a power-law decay. We use an
exponential decay instead because it makes the ranking *time-invariant*: taking log2,

    log2(score) = ALPHA * log2(upvotes + PRIOR) + listed_hours / HALF_LIFE_HOURS - now_hours / HALF_LIFE_HOURS

and the last term is the same for every paper. So the stored key

    key = ALPHA * log2(upvotes + PRIOR) + listed_hours / HALF_LIFE_HOURS      (listed_hours: since the Unix epoch)

orders papers exactly as ``score`` does at *any* ``now``. The database keeps this key in
``papers.trending_score`` (indexed); ``/papers/trending`` is an ``ORDER BY trending_score DESC
LIMIT n`` that never scans votes and never goes stale as time passes. The key changes only when a
paper's upvotes or listing time change: a vote (recomputed in the vote's transaction), a
submission, or an import that updates the Hugging Face base count (``dailypapers trending
refresh``, also run periodically by the web process). With HN's power law the order itself drifts
with time and the whole table would need rescoring on a schedule.

"Top of the week / month" is the same data ranked by plain upvotes within the period (see
``period_bounds``).
"""

from __future__ import annotations

import datetime as dt
import math

ALPHA = 0.8  # exponent on upvotes: diminishing returns
PRIOR = 1.0  # added to upvotes so that zero votes still has a (small) score
HALF_LIFE_HOURS = 24.0  # the score halves every this many hours after listing
WINDOW_DAYS = 7  # /papers/trending shows papers listed in the last week of lists
REFRESH_DAYS = 14  # `trending refresh` recomputes papers listed this recently (older ones are settled)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def _hours(at: dt.datetime) -> float:
    return (_aware(at) - _EPOCH).total_seconds() / 3600.0


def trending_score(upvotes: int, listed_at: dt.datetime | None, now: dt.datetime) -> float:
    """The score at ``now`` (see the module docstring). A paper never listed scores 0.

    A listing time in the future (a list day that starts after ``now``) counts as age 0.
    """
    if listed_at is None:
        return 0.0
    age_hours = max(0.0, (_aware(now) - _aware(listed_at)).total_seconds() / 3600.0)
    return (max(upvotes, 0) + PRIOR) ** ALPHA * 2.0 ** (-age_hours / HALF_LIFE_HOURS)


def trending_key(upvotes: int, listed_at: dt.datetime | None) -> float | None:
    """The time-invariant key stored in ``papers.trending_score``; None when never listed.

    For any two papers listed at or before ``now``: key(a) > key(b) exactly when
    trending_score(a, now) > trending_score(b, now).
    """
    if listed_at is None:
        return None
    return ALPHA * math.log2(max(upvotes, 0) + PRIOR) + _hours(listed_at) / HALF_LIFE_HOURS


def score_from_key(key: float | None, now: dt.datetime) -> float:
    """Turn a stored key back into the score at ``now`` (for display)."""
    if key is None:
        return 0.0
    return 2.0 ** (key - _hours(now) / HALF_LIFE_HOURS)


def listed_at_of(day: dt.date, submitted_at: dt.datetime | None) -> dt.datetime:
    """When a listing put its paper on the list: the submission time, else the day's start (UTC)."""
    if submitted_at is not None:
        return _aware(submitted_at)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)


def period_bounds(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the week ("week", ISO, Monday first) or month holding ``today``."""
    if kind == "week":
        start = today - dt.timedelta(days=today.weekday())
        return start, start + dt.timedelta(days=6)
    if kind == "month":
        start = today.replace(day=1)
        nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return start, nxt - dt.timedelta(days=1)
    raise ValueError(f"unknown period {kind!r}: use week or month")


__all__ = [
    "ALPHA", "PRIOR", "HALF_LIFE_HOURS", "WINDOW_DAYS", "REFRESH_DAYS",
    "trending_score", "trending_key", "score_from_key", "listed_at_of", "period_bounds",
]
