"""Email digests: subscriptions, personalized composition, sending, and "For you".

Modules:

* ``subscriptions`` -- subscribe (double opt-in), confirm, manage, unsubscribe, with signed tokens;
* ``foryou`` -- the ranking engine shared by the digest and the /for-you page;
* ``compose`` -- what goes into one digest, and rendering it to an email;
* ``send`` -- batch sending with a send log (idempotent, resumable after a kill).

This module holds the period arithmetic; the records (Subscription, DigestSend, ...) live in
``dailypapers.models`` with every other record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dailypapers.days import list_day
from dailypapers.models import PERIODS, Subscription


@dataclass(frozen=True)
class Period:
    """What one digest covers: list days start..end, identified by key ('daily:2026-08-21')."""

    kind: str  # daily | weekly
    day: dt.date  # the last list day covered (the day it is sent for)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.day.isoformat()}"

    @property
    def start(self) -> dt.date:
        return self.day - dt.timedelta(days=6) if self.kind == "weekly" else self.day

    @property
    def end(self) -> dt.date:
        return self.day

    def range_for(self, sub: Subscription) -> tuple[dt.date, dt.date]:
        """The days this subscriber's digest covers: a weekday-only daily reader gets the
        weekend's papers in Monday's digest."""
        if self.kind == "daily" and sub.skip_weekends and self.day.weekday() == 0:
            return self.day - dt.timedelta(days=2), self.day
        return self.start, self.end

    def is_due(self, sub: Subscription) -> bool:
        if sub.frequency != self.kind:
            return False
        if self.kind == "weekly":
            return self.day.weekday() == (sub.weekday if sub.weekday is not None else 0)
        return not (sub.skip_weekends and self.day.weekday() >= 5)

    @property
    def label(self) -> str:
        if self.kind == "weekly":
            return f"week of {self.start:%b %-d} to {self.end:%b %-d, %Y}"
        return f"{self.day:%A, %B %-d, %Y}"

    @classmethod
    def parse_key(cls, key: str) -> Period:
        kind, _, day = key.partition(":")
        if kind not in PERIODS:
            raise ValueError(f"bad period key {key!r}")
        return cls(kind, dt.date.fromisoformat(day))


def default_digest_day(now: dt.datetime, rollover: str, timezone: str) -> dt.date:
    """The list day a digest run at `now` covers: the last list day that is complete.

    After the roll-over (21:30 New York for HF) today's list is closed, so a run at 22:00
    covers today; a run the next morning covers the same day.
    """
    return list_day(now, rollover, timezone) - dt.timedelta(days=1)


__all__ = ["Period", "default_digest_day"]
