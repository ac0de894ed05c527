"""PaperService: the read models behind the pages and the API, on real HF data in a real SQLite file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dailypapers.config import Settings
from dailypapers.days import BadPeriod
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import Listing, Organization, Paper
from dailypapers.papers import PaperService, trending_score

HF_RAW = Path(__file__).resolve().parent / "fixtures" / "hf_raw"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from dailypapers.ingest.jobs import ingest_hf_daily
    from dailypapers.storage.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path_factory.mktemp("papers") / "db.sqlite")
    s.migrate()
    assert ingest_hf_daily(s, HF_RAW).rejected == 0
    yield s
    s.close()


def service(store, now: dt.datetime, **settings) -> PaperService:
    return PaperService(store, Settings(**settings), clock=lambda: now)


def ids(entries) -> list[str]:
    return [e.paper.arxiv_id for e in entries]


def test_home_on_a_sunday_shows_fridays_list(store):
    view = service(store, dt.datetime(2026, 8, 23, 15, 0, tzinfo=UTC)).home()
    assert view.day == dt.date(2026, 8, 21)
    assert len(view.entries) == 17
    ups = [e.upvotes for e in view.entries]
    assert ups == sorted(ups, reverse=True)
    assert view.entries[0].paper.arxiv_id == "2608.19880"
    assert view.prev_day == dt.date(2026, 8, 20) and view.next_day is None


def test_home_follows_the_rollover_time_and_zone(store):
    # 21:29 in New York on Aug 19 -> still Aug 19's list; 21:30 -> Aug 20's.
    before = dt.datetime(2026, 8, 20, 1, 29, tzinfo=UTC)
    after = dt.datetime(2026, 8, 20, 1, 30, tzinfo=UTC)
    assert service(store, before).home().day == dt.date(2026, 8, 19)
    assert service(store, after).home().day == dt.date(2026, 8, 20)
    # another zone: 21:30 in Paris is 19:30 UTC in August
    paris = {"timezone": "Europe/Paris"}
    assert service(store, dt.datetime(2026, 8, 19, 19, 29, tzinfo=UTC), **paris).home().day == dt.date(2026, 8, 19)
    assert service(store, dt.datetime(2026, 8, 19, 19, 30, tzinfo=UTC), **paris).home().day == dt.date(2026, 8, 20)


def test_home_before_todays_list_has_papers_shows_the_latest_day(store):
    monday_morning = dt.datetime(2026, 8, 24, 12, 0, tzinfo=UTC)
    assert service(store, monday_morning).home().day == dt.date(2026, 8, 21)


def test_home_with_no_data(tmp_path):
    from dailypapers.storage.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "empty.db")
    s.migrate()
    view = service(s, dt.datetime(2026, 8, 23, tzinfo=UTC)).home()
    assert view.day is None and view.entries == []
    s.close()


def test_empty_day_points_to_the_nearest_day(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    view = svc.day(dt.date(2026, 8, 11))
    assert view.empty and view.requested
    assert view.prev_day == dt.date(2025, 1, 10) and view.next_day == dt.date(2026, 8, 13)
    assert view.nearest == dt.date(2026, 8, 13)
    view = svc.day(dt.date(2025, 1, 12))
    assert view.nearest == dt.date(2025, 1, 10)


def test_sorts(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    by_votes = svc.day(dt.date(2026, 8, 20), "upvotes").entries
    newest = svc.day(dt.date(2026, 8, 20), "newest").entries
    trending = svc.day(dt.date(2026, 8, 20), "trending").entries
    assert sorted(ids(by_votes)) == sorted(ids(newest)) == sorted(ids(trending))
    published = [e.paper.published for e in newest]
    assert published == sorted(published, reverse=True)
    with pytest.raises(Invalid):
        svc.day(dt.date(2026, 8, 20), "random")


def test_trending_score_decays_with_age():
    now = dt.datetime(2026, 8, 21, tzinfo=UTC)
    fresh = trending_score(10, now - dt.timedelta(hours=1), now)
    old = trending_score(10, now - dt.timedelta(hours=48), now)
    assert fresh > old > 0
    assert trending_score(20, now - dt.timedelta(hours=48), now) > old
    assert trending_score(5, None, now) == 0


def test_trending_list_covers_the_last_week_of_lists(store):
    view = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC)).trending()
    assert view.end == dt.date(2026, 8, 21) and view.start == dt.date(2026, 8, 15)
    days = {e.day for e in view.entries}
    assert days <= {dt.date(2026, 8, d) for d in range(15, 22)}
    assert len(set(ids(view.entries))) == len(view.entries)


def test_week_and_month(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    week = svc.week("2026-W34")
    assert (week.start, week.end) == (dt.date(2026, 8, 17), dt.date(2026, 8, 23))
    assert {e.day for e in week.entries} == {dt.date(2026, 8, d) for d in (17, 18, 19, 20, 21)}
    # Previous and Next go to the nearest period with papers; Next stops at the latest one.
    assert week.prev_label == "2026-W33" and week.next_label is None and week.latest_label == "2026-W34"
    assert week.last_day == dt.date(2026, 8, 21)
    month = svc.month("2026-08")
    assert month.total > week.total
    assert month.prev_label == "2025-01" and month.next_label is None
    assert svc.month("2025-12").prev_label == "2025-01" and svc.month("2025-12").next_label == "2026-08"
    empty = svc.month("2026-03")
    assert empty.entries == [] and empty.nearest is not None and empty.latest_label == "2026-08"
    for bad in ("2026-W60", "2026-W5", "26-W01"):
        with pytest.raises(BadPeriod):
            svc.week(bad)
    with pytest.raises(BadPeriod):
        svc.month("2026-13")


def test_week_pages_through_every_paper(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    first = svc.week("2026-W34")
    assert first.total == len({l.arxiv_id for l, _ in store.listings_in_range(first.start, first.end)})
    assert first.pages > 1 and first.has_next and len(first.entries) == first.per_page
    seen = []
    for page in range(1, first.pages + 1):
        view = svc.week("2026-W34", page=page)
        seen += ids(view.entries)
    assert len(seen) == len(set(seen)) == first.total
    ups = [e.upvotes for page in range(1, first.pages + 1) for e in svc.week("2026-W34", page=page).entries]
    assert ups == sorted(ups, reverse=True)
    assert not svc.week("2026-W34", page=first.pages).has_next
    with pytest.raises(NotFound):
        svc.week("2026-W34", page=first.pages + 1)
    with pytest.raises(Invalid):
        svc.month("2026-08", page=0)


def test_next_stops_at_the_latest_period_with_papers_and_latest_is_the_home_day(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    assert svc.day(dt.date(2026, 8, 21)).next_day is None
    assert svc.week("2026-W33").next_label == "2026-W34" and svc.week("2026-W40").next_label is None
    assert svc.month("2026-09").next_label is None and svc.month("2026-09").prev_label == "2026-08"
    thursday = service(store, dt.datetime(2026, 8, 20, 12, tzinfo=UTC))  # Aug 21's list is ahead
    assert thursday.day(dt.date(2026, 8, 13)).latest == dt.date(2026, 8, 20) == thursday.home().day


def test_recent_days_count_from_the_latest_list_day_not_the_date(store):
    # Weeks after the last list, "recent" still means the last days that have papers.
    later = service(store, dt.datetime(2026, 9, 30, tzinfo=UTC))
    assert later.recent_days(14) == (dt.date(2026, 8, 8), dt.date(2026, 8, 21))
    trending = later.trending()
    assert (trending.start, trending.end) == later.recent_days(7) and trending.entries


def test_a_pinned_paper_is_first_and_marked(tmp_path):
    from dailypapers.storage.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "db.sqlite")
    s.migrate()
    day = dt.date(2026, 8, 21)
    s.ingest_batch(
        [Paper(f"2608.0000{i}", f"Paper {i}", "An abstract", ["A. Author"],
               published=dt.datetime(2026, 8, 20, tzinfo=UTC)) for i in range(1, 4)],
        [Listing(f"2608.0000{i}", day, rank=i, upvotes=10 * i) for i in range(1, 4)],
    )
    at = dt.datetime(2026, 8, 21, tzinfo=UTC)
    curator = s.create_user("cur@example.org", "cur", None, "curator", at)
    s.set_listing_flags(day, "2608.00001", actor_id=curator.id, at=at, pinned=True)
    svc = service(s, dt.datetime(2026, 8, 22, tzinfo=UTC))
    for view in (svc.day(day), svc.week("2026-W34"), svc.month("2026-08")):
        assert ids(view.entries) == ["2608.00001", "2608.00003", "2608.00002"]
        assert [e.pinned for e in view.entries] == [True, False, False]
    s.close()


def test_paper_detail_and_ids(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    d = svc.paper("2608.19880v3")
    assert d.paper.title.startswith("EnvHarness")
    assert [l.day for l in d.listings] == [dt.date(2026, 8, 21)]
    assert svc.canonical_id("https://arxiv.org/abs/2608.19880v2") == "2608.19880"
    for bad in ("", "not-an-id", "../../etc/passwd", "x" * 500, "2608.19880\x00"):
        with pytest.raises(NotFound):
            svc.paper(bad)
    with pytest.raises(NotFound):
        svc.paper("2101.99999")


def test_old_style_ids_and_organizations(tmp_path):
    from dailypapers.storage.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "db.sqlite")
    s.migrate()
    org = Organization("cern", "CERN", None)
    s.ingest_batch(
        [Paper("hep-th/9901001", "Old <b>style</b>", "An abstract & more", ["A. Author"], organization=org,
               published=dt.datetime(1999, 1, 4, tzinfo=UTC))],
        [Listing("hep-th/9901001", dt.date(2026, 8, 3), rank=1)],
    )
    svc = service(s, dt.datetime(2026, 8, 23, tzinfo=UTC))
    assert svc.paper("hep-th/9901001").paper.title == "Old <b>style</b>"
    view = svc.organization("cern")
    assert view.total == 1 and view.organization.fullname == "CERN"
    with pytest.raises(NotFound):
        svc.organization("nobody")
    with pytest.raises(Invalid):
        svc.organization("cern", page=0)
    s.close()


def test_api_daily_paging_and_filters(store):
    svc = service(store, dt.datetime(2026, 8, 23, tzinfo=UTC))
    page0 = svc.api_daily(limit=10)
    assert len(page0.items) == 10 and page0.has_next
    assert page0.items[0].day == dt.date(2026, 8, 21)
    page_last = svc.api_daily(date="2026-08-21", limit=10, page=1)
    assert len(page_last.items) == 7 and not page_last.has_next
    week = svc.api_daily(week="2026-W34", limit=100)
    assert {e.day for e in week.items} == {dt.date(2026, 8, d) for d in (17, 18, 19, 20, 21)}
    submitter = page0.items[0].listing.submitted_by
    mine = svc.api_daily(submitter=submitter, limit=100)
    assert mine.items and all(e.listing.submitted_by == submitter for e in mine.items)
    assert week.has_next  # 110 listings that week
    rest = svc.api_daily(week="2026-W34", limit=100, page=1)
    assert len(week.items) + len(rest.items) == 110 and not rest.has_next
    trending = svc.api_daily(date="2026-08-20", sort="trending", limit=100)
    assert sorted(ids(trending.items)) == sorted(ids(svc.api_daily(date="2026-08-20", limit=100).items))
    with pytest.raises(BadPeriod):
        svc.api_daily(date="2026-02-30")
    # date, week and month given together narrow to the days they share
    both = svc.api_daily(date="2026-08-21", week="2026-W34", limit=100)
    assert ids(both.items) == ids(svc.api_daily(date="2026-08-21", limit=100).items)
    assert svc.api_daily(date="2026-08-21", week="2026-W33", limit=100).items == []
    with pytest.raises(Invalid):
        svc.api_daily(sort="upvotes")


def test_version_changes_when_data_changes(tmp_path):
    import dailypapers.papers as papers_mod
    from dailypapers.storage.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "db.sqlite")
    s.migrate()
    svc = service(s, dt.datetime(2026, 8, 23, tzinfo=UTC))
    v1 = svc.version()
    s.ingest_batch([Paper("2601.00001", "T", "A", ["X"])], [Listing("2601.00001", dt.date(2026, 1, 2))])
    svc._version_at -= papers_mod.VERSION_TTL + 1  # let the memo expire
    assert svc.version() != v1
    s.close()
