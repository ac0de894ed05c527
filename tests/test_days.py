import datetime as dt

import pytest

from dailypapers.days import BadPeriod, list_day, parse_day, parse_month, parse_week

UTC = dt.timezone.utc


def test_day_rolls_over_at_the_configured_local_time():
    # 21:29 in New York (EDT, UTC-4) is still the same day; 21:30 starts tomorrow's list.
    before = dt.datetime(2026, 8, 20, 1, 29, tzinfo=UTC)  # 2026-08-19 21:29 EDT
    after = dt.datetime(2026, 8, 20, 1, 30, tzinfo=UTC)
    assert list_day(before, "21:30", "America/New_York") == dt.date(2026, 8, 19)
    assert list_day(after, "21:30", "America/New_York") == dt.date(2026, 8, 20)


def test_day_follows_the_time_zone():
    moment = dt.datetime(2026, 8, 20, 23, 0, tzinfo=UTC)
    assert list_day(moment, "00:00", "UTC") == dt.date(2026, 8, 21)
    assert list_day(moment, "23:59", "Asia/Tokyo") == dt.date(2026, 8, 21)


def test_weeks_and_months():
    assert parse_week("2026-W33") == (dt.date(2026, 8, 10), dt.date(2026, 8, 16))
    assert parse_month("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert parse_month("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30", "20260801", "", "2026-8-1", "x" * 10_000])
def test_bad_days_raise(bad):
    with pytest.raises(BadPeriod):
        parse_day(bad)


@pytest.mark.parametrize("bad", ["2026-W54", "2026-W00", "2026W33", "2026-13", "0000-01"])
def test_bad_weeks_and_months_raise(bad):
    with pytest.raises(BadPeriod):
        parse_week(bad) if "W" in bad else parse_month(bad)
