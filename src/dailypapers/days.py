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
        return dt.date.fromisoformat(text)
    except ValueError as e:
        raise BadPeriod(f"bad date {text!r}: {e}") from None


def parse_week(text: str) -> tuple[dt.date, dt.date]:
    """'2026-W33' -> (Monday, Sunday)."""
    m = _WEEK.match(text or "")
    if not m:
        raise BadPeriod(f"bad week {text!r}: expected YYYY-Www, e.g. 2026-W33")
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
    if not (1 <= month <= 12 and 1 <= year <= 9998):
        raise BadPeriod(f"bad month {text!r}")
    start = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, nxt - dt.timedelta(days=1)


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"
