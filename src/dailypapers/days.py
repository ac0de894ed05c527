"""List days, ISO weeks and months. Pure functions, no I/O.

A list day rolls over at a configurable local time (HF: 21:30 America/New_York):
from that moment on, new submissions belong to the next day's list.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from dailypapers.errors import Invalid

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Years a date, week or month in a request may name. Stepping a day, week or month from any of
# them (previous/next links, a week's Sunday, the day after a range) stays inside Python's
# calendar (years 1 to 9999), so no caller has to guard its arithmetic.
MIN_YEAR, MAX_YEAR = 1900, 9998


class BadPeriod(Invalid):
    """A date, week or month label that does not parse (HTTP 400)."""


def list_day(now: dt.datetime, rollover: str = "21:30", timezone: str = "America/New_York") -> dt.date:
    """The list day that a moment belongs to."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    local = now.astimezone(ZoneInfo(timezone))
    hh, mm = (int(x) for x in rollover.split(":"))
    if (local.hour, local.minute) >= (hh, mm):
        return local.date() + dt.timedelta(days=1)
    return local.date()


def parse_day(text: str) -> dt.date:
    if not isinstance(text, str) or not _DAY.match(text):
        raise BadPeriod(f"bad date {text!r}: expected YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as e:
        raise BadPeriod(f"bad date {text!r}: {e}") from None
    _check_year(day.year, f"date {text!r}")
    return day


def parse_week(text: str) -> tuple[dt.date, dt.date]:
    """'2026-W33' -> (Monday, Sunday)."""
    m = _WEEK.match(text or "")
    if not m:
        raise BadPeriod(f"bad week {text!r}: expected YYYY-Www, e.g. 2026-W33")
    _check_year(int(m.group(1)), f"week {text!r}")
    try:
        start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as e:
        raise BadPeriod(f"bad week {text!r}: {e}") from None
    return start, start + dt.timedelta(days=6)


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """'2026-08' -> (first day, last day)."""
    m = _MONTH.match(text or "")
    if not m:
        raise BadPeriod(f"bad month {text!r}: expected YYYY-MM")
    year, month = int(m.group(1)), int(m.group(2))
    _check_year(year, f"month {text!r}")
    if not 1 <= month <= 12:
        raise BadPeriod(f"bad month {text!r}")
    start = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def _check_year(year: int, what: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadPeriod(f"bad {what}: the year must be between {MIN_YEAR} and {MAX_YEAR}")


def step_day(day: dt.date, days: int) -> dt.date | None:
    """`day` moved by `days`, or None when that leaves the years a request may name (no link)."""
    try:
        moved = day + dt.timedelta(days=days)
    except OverflowError:
        return None
    return moved if MIN_YEAR <= moved.year <= MAX_YEAR else None


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"
