"""When arXiv announces a paper, from its first version's submission time.

arXiv closes each weekday's batch at 14:00 US Eastern and mails it at 20:00
Eastern the same evening, except that Friday's batch is mailed on Sunday
evening (no mailings on Friday and Saturday nights). The /new page shows a
mailing under the next day's date: Monday 20:00 ET appears as Tuesday's list,
Sunday 20:00 ET as Monday's.

The announcement day here is that listing date (Monday to Friday), not the
date of the mailing: it is the convention of the arxiv-daily-cs data, whose
`first_listed` is the mailing date plus one day for 91% of the 3,246 papers
that also carry a submission time on Hugging Face (most of the rest are
listed later still, held back by moderation). A holiday is a listing date
with no list: its batch rolls to the next listing day.

How each source gets a paper's day (`stamp`): bulk JSONL that records
`first_listed` gives it exactly; OAI-PMH (arXivRaw), the search API and Hugging
Face's JSON give the first version's submission time, which goes through the
schedule above. A day-only time (00:00:00 UTC: what the arXiv OAI format's
`created` date parses to) says too little, and the paper keeps no day until a
source that knows more reports it. Moderation only ever delays a listing, so when
two sources disagree the later day wins (storage/merge.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from dailypapers.models import Paper

EASTERN = ZoneInfo("America/New_York")
CUTOFF = dt.time(14, 0)  # submissions strictly before this join the day's batch
MAILING = dt.time(20, 0)
FRIDAY, SATURDAY = 4, 5


def _next_listing_day(day: dt.date, holidays: Collection[dt.date]) -> dt.date:
    """`day` itself if it is a listing day, else the first one after it."""
    while day.weekday() >= SATURDAY or day in holidays:
        day += dt.timedelta(days=1)
    return day


def announcement_day(submitted: dt.datetime, holidays: Collection[dt.date] = ()) -> dt.date:
    """The /new listing date of a paper whose first version was submitted at `submitted`."""
    if submitted.tzinfo is None:
        raise ValueError("submission time must be timezone-aware")
    local = submitted.astimezone(EASTERN)
    # The batch a submission joins is named by the weekday whose cut-off it beats.
    batch = local.date() if local.time() < CUTOFF else local.date() + dt.timedelta(days=1)
    while batch.weekday() >= SATURDAY:
        batch += dt.timedelta(days=1)
    # Monday..Thursday batches are mailed that evening and listed the next day;
    # Friday's is mailed on Sunday evening and listed on Monday.
    listed = batch + dt.timedelta(days=3 if batch.weekday() == FRIDAY else 1)
    return _next_listing_day(listed, holidays)


def mailing_time(listing_day: dt.date) -> dt.datetime:
    """When the list dated `listing_day` is mailed: 20:00 Eastern on the evening before
    (Sunday evening for Monday's list), as an aware datetime."""
    if listing_day.weekday() >= SATURDAY:
        raise ValueError(f"{listing_day} is a weekend day: arXiv lists nothing under it")
    return dt.datetime.combine(listing_day - dt.timedelta(days=1), MAILING, EASTERN)


def is_day_only(t: dt.datetime) -> bool:
    """A time that only names a day (midnight UTC), as date-only sources parse."""
    return t.utcoffset() == dt.timedelta(0) and t.time() == dt.time(0)


def stamp(paper: Paper, holidays: Collection[dt.date] = ()) -> Paper:
    """`paper` with its announcement day, derived from its submission time when not given."""
    if paper.announced is not None or paper.published is None or is_day_only(paper.published):
        return paper
    return paper.replace(announced=announcement_day(paper.published, holidays))
