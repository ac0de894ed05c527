"""arXiv's announcement schedule: cut-off 14:00 Eastern, no mailings Friday and Saturday nights."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from zoneinfo import ZoneInfo

import pytest

from dailypapers.ingest.announce import announcement_day, mailing_time, stamp
from dailypapers.ingest.arxiv_api import parse_atom
from dailypapers.ingest.arxiv_oai import parse_oai

ET = ZoneInfo("America/New_York")
UTC = dt.UTC


def et(y, m, d, hh, mm=0, ss=0):
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=ET)


def day(text):
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    "submitted, listed",
    [
        # Monday: before the cut-off -> mailed Monday evening, listed Tuesday.
        (et(2026, 1, 12, 9), "2026-01-13"),
        (et(2026, 1, 12, 13, 59, 59), "2026-01-13"),
        # At or after the cut-off: the next batch.
        (et(2026, 1, 12, 14), "2026-01-14"),
        (et(2026, 1, 12, 23, 30), "2026-01-14"),
        (et(2026, 1, 14, 10), "2026-01-15"),  # Wednesday -> Thursday
        # Thursday 14:00 .. Friday 14:00 goes out Sunday evening, listed Monday.
        (et(2026, 1, 15, 14), "2026-01-19"),
        (et(2026, 1, 16, 13, 59), "2026-01-19"),
        # Friday 14:00 .. Monday 14:00 goes out Monday evening, listed Tuesday.
        (et(2026, 1, 16, 14), "2026-01-20"),
        (et(2026, 1, 17, 12), "2026-01-20"),
        (et(2026, 1, 18, 23, 59), "2026-01-20"),
        (et(2026, 1, 19, 13, 0), "2026-01-20"),
        # Across a month and a year end.
        (et(2025, 12, 31, 13), "2026-01-01"),
        (et(2026, 1, 30, 15), "2026-02-03"),
    ],
)
def test_schedule(submitted, listed):
    assert announcement_day(submitted) == day(listed)


def test_the_cut_off_is_eastern_time_whatever_the_zone_given():
    # 18:30 UTC is 13:30 EST in winter (before the cut-off) but 14:30 EDT in summer (after it).
    assert announcement_day(dt.datetime(2026, 1, 12, 18, 30, tzinfo=UTC)) == day("2026-01-13")
    assert announcement_day(dt.datetime(2026, 6, 15, 18, 30, tzinfo=UTC)) == day("2026-06-17")


def test_daylight_saving_starts():
    # Clocks went forward on Sunday 2026-03-08. The same UTC minute is before the cut-off
    # the Monday before and after it the Monday after.
    assert announcement_day(dt.datetime(2026, 3, 2, 18, 30, tzinfo=UTC)) == day("2026-03-03")
    assert announcement_day(dt.datetime(2026, 3, 9, 18, 30, tzinfo=UTC)) == day("2026-03-11")
    # A weekend submission across the change still goes out Monday evening.
    assert announcement_day(dt.datetime(2026, 3, 8, 6, 59, tzinfo=UTC)) == day("2026-03-10")  # 01:59 EST
    assert announcement_day(dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) == day("2026-03-10")  # 03:00 EDT


def test_daylight_saving_ends():
    # Clocks went back on Sunday 2025-11-02.
    assert announcement_day(dt.datetime(2025, 10, 27, 18, 30, tzinfo=UTC)) == day("2025-10-29")  # 14:30 EDT
    assert announcement_day(dt.datetime(2025, 11, 3, 18, 30, tzinfo=UTC)) == day("2025-11-04")  # 13:30 EST
    # The cut-off in UTC moves from 18:00 to 19:00.
    assert announcement_day(dt.datetime(2025, 10, 31, 17, 59, tzinfo=UTC)) == day("2025-11-03")
    assert announcement_day(dt.datetime(2025, 10, 31, 18, 0, tzinfo=UTC)) == day("2025-11-04")
    assert announcement_day(dt.datetime(2025, 11, 7, 18, 59, tzinfo=UTC)) == day("2025-11-10")
    assert announcement_day(dt.datetime(2025, 11, 7, 19, 0, tzinfo=UTC)) == day("2025-11-11")


def test_a_holiday_batch_rolls_to_the_next_list():
    thanksgiving = {day("2025-11-27")}  # no list dated Thursday: Wednesday's batch waits
    assert announcement_day(et(2025, 11, 26, 10), thanksgiving) == day("2025-11-28")
    assert announcement_day(et(2025, 11, 26, 10)) == day("2025-11-27")
    # The next batch is unaffected, so both go out together on Friday's list.
    assert announcement_day(et(2025, 11, 27, 10), thanksgiving) == day("2025-11-28")


def test_consecutive_holidays_and_a_holiday_monday():
    winter = {day("2025-12-25"), day("2025-12-26"), day("2025-12-29")}
    assert announcement_day(et(2025, 12, 24, 9), winter) == day("2025-12-30")
    assert announcement_day(et(2025, 12, 24, 15), winter) == day("2025-12-30")
    assert announcement_day(et(2025, 12, 29, 13), winter) == day("2025-12-30")
    assert announcement_day(et(2025, 12, 29, 14), winter) == day("2025-12-31")


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        announcement_day(dt.datetime(2026, 1, 12, 9))


def test_mailing_time_is_the_evening_before_the_listing_day():
    assert mailing_time(day("2026-01-13")) == et(2026, 1, 12, 20)
    assert mailing_time(day("2026-01-19")) == et(2026, 1, 18, 20)  # Monday's list: Sunday evening
    assert mailing_time(day("2026-07-07")).astimezone(UTC).hour == 0  # 20:00 EDT
    assert mailing_time(day("2026-01-13")).astimezone(UTC).hour == 1  # 20:00 EST
    with pytest.raises(ValueError):
        mailing_time(day("2026-01-17"))


def test_matches_the_listing_days_of_real_papers(fixtures):
    """200 real papers: submission time from Hugging Face, first listing from arxiv-daily-cs.

    A paper held back by moderation is listed later than its batch, never earlier, so the
    rule must give the recorded day for most and an earlier one for the rest."""
    with open(fixtures / "arrivals" / "announce.csv") as fh:
        rows = list(csv.DictReader(fh))
    exact = early = 0
    for r in rows:
        predicted = announcement_day(dt.datetime.fromisoformat(r["submitted"].replace("Z", "+00:00")))
        recorded = day(r["first_listed"])
        exact += predicted == recorded
        early += predicted < recorded
    assert exact / len(rows) >= 0.85
    assert (exact + early) / len(rows) >= 0.95


def _recorded_papers(fixtures):
    papers = []
    for path in sorted((fixtures / "arxiv" / "atom" / "recorded").glob("*.json")):
        body = json.loads(path.read_text())
        if body.get("status_code") == 200:
            papers += parse_atom(body["body"].encode())[0]
    for path in sorted((fixtures / "arxiv" / "oai" / "listrecords_pages").glob("arXivRaw*.xml.gz")):
        with gzip.open(path) as fh:
            papers += parse_oai(fh.read()).papers
    return [p for p in papers if p.published is not None]


def test_recorded_arxiv_responses(fixtures):
    """Every submission time in the recorded API and OAI-PMH responses is announced on a
    weekday, one to four days later, and after the cut-off the submitter beat."""
    papers = _recorded_papers(fixtures)
    assert len(papers) > 100
    for p in papers:
        listed = announcement_day(p.published)
        local = p.published.astimezone(ET)
        assert listed.weekday() < 5
        assert 1 <= (listed - local.date()).days <= 4, (p.arxiv_id, local)
        assert mailing_time(listed) > p.published


def test_every_ingest_path_stores_the_day(fixtures, store, settings):
    """Through the real jobs: OAI-PMH (arXivRaw) and bulk JSONL pages get their day, with the
    holidays setting applied; a date-only OAI `arXiv` record gets none."""
    from dailypapers.ingest import jobs, pipeline
    from dailypapers.ingest.pipeline import Item

    pages = sorted((fixtures / "arxiv" / "oai" / "listrecords_pages").glob("arXivRaw*.xml.gz"))
    with gzip.open(pages[0]) as fh:
        papers = [p for p in parse_oai(fh.read()).papers if p.published is not None]
    first = papers[0]
    holiday = announcement_day(first.published)
    pipeline.run(store, [Item(p) for p in papers], holidays={holiday})
    stored = store.get_paper(first.arxiv_id)
    assert stored.announced > holiday and stored.announced.weekday() < 5  # rolled past the holiday
    others = [store.get_paper(p.arxiv_id) for p in papers[1:]]
    assert all(p.announced == announcement_day(p.published, {holiday}) for p in others)

    jobs.ingest_jsonl(store, fixtures / "arrivals" / "arrivals.jsonl.gz")
    with gzip.open(fixtures / "arrivals" / "arrivals.jsonl.gz", "rt") as fh:
        row = json.loads(fh.readline())
    assert store.get_paper(row["id"]).announced == day(row["first_listed"])

    raw = sorted((fixtures / "arxiv" / "oai" / "listrecords_pages").glob("arXiv_*.xml.gz"))
    if raw:
        with gzip.open(raw[0]) as fh:
            dated = parse_oai(fh.read()).papers[0]
        assert dated.published is None or dated.published.time() == dt.time(0)
        assert stamp(dated).announced is None
