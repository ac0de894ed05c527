"""Email digests: subscriptions, personalized composition, sending, and "For you".

Modules:

* ``subscriptions`` -- subscribe (double opt-in), confirm, manage, unsubscribe, with signed tokens;
* ``foryou`` -- the ranking engine shared by the digest and the /for-you page;
* ``compose`` -- what goes into one digest, and rendering it to an email;
* ``send`` -- batch sending with a send log (idempotent, resumable after a kill).

This module holds the plain records the store returns and the period arithmetic; it imports
nothing from storage, so the store can import it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

FREQUENCIES = ("daily", "weekly")
PERIODS = FREQUENCIES
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_FAILURES = 3  # a subscription is skipped after this many consecutive permanent (5xx) failures

# Send-log states. pending -> sending -> sent | failed; a 4xx puts it back to pending (with
# next_attempt_at); a row left in 'sending' by a killed process is "in doubt" (see send.py).
SEND_STATES = ("pending", "sending", "sent", "failed", "cancelled", "in_doubt")


@dataclass
class Subscription:
    id: int | None
    email: str
    user_id: int | None = None
    frequency: str = "daily"
    weekday: int | None = None  # 0 = Monday .. 6 = Sunday, for weekly digests
    skip_weekends: bool = False
    topics: list[str] = field(default_factory=list)
    include_upvotes: bool = False  # members: add "papers like the ones I upvoted"
    confirmed_at: dt.datetime | None = None
    unsubscribed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    confirm_nonce: str | None = None  # one-time: the confirmation link carries it
    confirm_sent_at: dt.datetime | None = None
    manage_key: str | None = None  # manage/unsubscribe links carry it; a new one on each confirmation
    notice_sent_at: dt.datetime | None = None  # last "manage your subscription" email
    fail_count: int = 0  # consecutive permanent failures
    last_failure_at: dt.datetime | None = None
    last_error: str | None = None

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    @property
    def failing(self) -> bool:
        return self.fail_count >= MAX_FAILURES

    @property
    def schedule_label(self) -> str:
        if self.frequency == "weekly":
            day = WEEKDAYS[self.weekday] if self.weekday is not None else WEEKDAYS[0]
            return f"weekly, on {day}s"
        return "daily, on weekdays only" if self.skip_weekends else "daily"


@dataclass
class DigestEntry:
    """One paper in a digest and why it is there."""

    arxiv_id: str
    reasons: list[str]
    section: str = "trending"  # "trending" | "for_you"


@dataclass
class DigestSend:
    """One row of the send log: a digest for one subscriber and one period."""

    id: int | None
    subscription_id: int
    period_key: str
    status: str
    message_id: str
    entries: list[DigestEntry]
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = None
    created_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None


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
    def parse_key(cls, key: str) -> "Period":
        kind, _, day = key.partition(":")
        if kind not in PERIODS:
            raise ValueError(f"bad period key {key!r}")
        return cls(kind, dt.date.fromisoformat(day))


def default_digest_day(now: dt.datetime, rollover: str, timezone: str) -> dt.date:
    """The list day a digest run at `now` covers: the last list day that is complete.

    After the roll-over (21:30 New York for HF) today's list is closed, so a run at 22:00
    covers today; a run the next morning covers the same day.
    """
    from dailypapers.days import list_day

    return list_day(now, rollover, timezone) - dt.timedelta(days=1)


__all__ = [
    "FREQUENCIES", "PERIODS", "WEEKDAYS", "MAX_FAILURES", "SEND_STATES",
    "Subscription", "DigestEntry", "DigestSend", "Period", "default_digest_day",
]
