"""Sending digests in batches, idempotently, resumably after a kill.

The send log (``digest_sends``) has one row per (subscriber, period key), e.g.
(42, "daily:2026-08-21"). A run:

1. takes an exclusive lock (``flock`` on ``<data_dir>/digest-send.lock``; the kernel releases it
   when the process dies, even on SIGKILL), and the store's run lock ``digest-send``, which every
   machine sharing the database sees (PostgreSQL: an advisory lock that dies with its connection),
   so two runs never interleave, on one machine or on several;
2. recovers rows a killed run left in ``sending`` (see "The guarantee");
3. sends rows still ``pending`` from earlier runs (a 4xx, or a kill after planning);
4. then, batch by batch (``digest_batch`` subscribers): composes the digests of subscribers who
   have no row for this period, and records them as ``pending`` with their papers reserved in
   ``digest_sent_papers`` -- one transaction per batch; empty digests are not recorded or sent;
5. sends each: commit ``sending`` -> SMTP -> commit ``sent`` (the ``sent`` commit of one
   message is the same transaction as the ``sending`` commit of the next, so each message costs
   one commit). At most ``digest_rate`` messages per second.

Replies: a 4xx (or a dropped connection) is retried with exponential backoff, up to
MAX_ATTEMPTS in the run; after that the row stays ``pending`` for the next run. A 5xx marks the
row ``failed``, releases its papers (they may go in a later digest) and counts a failure on the
subscription; after MAX_FAILURES (3) consecutive failures it is skipped. A success resets it.

The guarantee
-------------
A digest's content and Message-ID are fixed when it is planned, so a retry sends the same
message. Every digest that reaches ``sent`` was handed to the SMTP server once. The only doubt is
the one message in flight when a process dies: its row is ``sending``, and whether the server
accepted it (it had received the final ``.``) cannot be known from here. The next run either

* resends it (``--in-doubt resend``, the default): nobody misses a digest; if the server had
  accepted the first copy, the reader gets a second copy with the **same Message-ID**, which
  mail clients (and our tests) recognise as the same message -- at most one such copy per kill;
* or marks it ``in_doubt`` without resending (``--in-doubt skip``): nobody gets a copy twice,
  but that one reader may miss that one digest.

Every other digest is sent exactly once whatever the moment of the kill.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import heapq
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dailypapers.clock import utcnow
from dailypapers.digests import Period
from dailypapers.digests.alerts import AlertReport, AlertSender
from dailypapers.digests.compose import Composer, DigestRenderer
from dailypapers.digests.foryou import Ranker
from dailypapers.digests.subscriptions import Tokens
from dailypapers.mail import PermanentMailError, TemporaryMailError
from dailypapers.models import MAX_FAILURES, DigestSend
from dailypapers.storage import DigestStore

MAX_ATTEMPTS = 4  # SMTP attempts per digest in one run (then it waits for the next run)
RETRY_BASE = 2.0  # seconds before the first retry; doubles each time


class SendLocked(Exception):
    """Another `digest send` holds the lock."""



@dataclass
class SendReport:
    period_key: str
    planned: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0  # 4xx after all attempts: left pending for the next run
    empty: int = 0  # nothing new for the reader: not sent
    recovered: int = 0  # in-doubt rows found from a killed run
    dry_run: bool = False
    previews: list[str] = field(default_factory=list)
    alerts: AlertReport | None = None  # saved-search alerts sent in the same run

    def line(self) -> str:
        if self.dry_run:
            return (f"{self.period_key}: dry run, {self.planned} digests would be sent, "
                    f"{self.empty} empty (not sent)")
        parts = [f"{self.sent} sent", f"{self.failed} failed", f"{self.deferred} deferred",
                 f"{self.empty} empty (not sent)"]
        if self.recovered:
            parts.append(f"{self.recovered} in doubt from an interrupted run")
        alerts = f"; {self.alerts.line()}" if self.alerts is not None else ""
        return f"{self.period_key}: " + ", ".join(parts) + alerts


@contextlib.contextmanager
def send_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendLocked(f"another `digest send` is running (lock {path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


class _Bucket:
    """At most `rate` messages per second: a token bucket holding a tenth of a second's worth
    (at least one), so messages go out evenly spaced in small bursts. rate <= 0: no limit."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.rate = rate
        self.clock, self.sleep = clock, sleep
        self.burst = max(1.0, rate / 10)
        self.tokens = self.burst
        self.at = clock()

    def wait_time(self) -> float:
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        if self.rate > 0:
            self.tokens -= 1


class DigestSender:
    def __init__(
        self,
        store: DigestStore,
        settings,
        mailer,
        *,
        ranker: Ranker | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        retry_base: float = RETRY_BASE,
        max_attempts: int = MAX_ATTEMPTS,
        say: Callable[[str], None] | None = None,
        lock_path: Path | None = None,
        embedder_factory: Callable[[], object] | None = None,
        saved=None,
        alerts: AlertSender | None = None,
    ):
        self.store = store
        self.settings = settings
        self.mailer = mailer
        self.ranker = ranker or Ranker(store, embedder_factory=embedder_factory)
        # saved: the SavedSearchService behind the digests' "saved searches" section;
        # alerts: the saved-search alerts on their own schedule, sent after the digests, under the same locks
        self.composer = Composer(store, settings, self.ranker, saved=saved)
        self.alerts = alerts
        self.tokens = Tokens(settings.signing_key())
        self.renderer = DigestRenderer(settings, self.tokens)
        self.clock, self.sleep, self.monotonic = clock, sleep, monotonic
        self.retry_base, self.max_attempts = retry_base, max_attempts
        self.say = say or (lambda msg: None)
        self.lock_path = lock_path or Path(settings.data_dir) / "digest-send.lock"
        self._raw = callable(getattr(mailer, "send_raw", None))  # pre-rendered bytes when the mailer takes them
        self._papers: dict = {}
        self._outcomes: list = []  # finished sends not yet committed
        self._retry: list = []  # heap of (due, seq, send)
        self._seq = 0

    # -- public ------------------------------------------------------------------
    def run(self, period: Period, *, dry_run: bool = False, limit: int | None = None,
            in_doubt: str = "resend") -> SendReport:
        if in_doubt not in ("resend", "skip"):
            raise ValueError("in_doubt must be resend or skip")
        report = SendReport(period.key, dry_run=dry_run)
        if dry_run:
            self._dry_run(period, report, limit)
            return report
        with send_lock(self.lock_path), self.store.exclusive("digest-send") as mine:
            if not mine:
                raise SendLocked("another `digest send` is running on a machine that shares this database")
            report.recovered = self.store.recover_digest_sends(period.key, resend=in_doubt == "resend")
            if report.recovered:
                self.say(f"{report.recovered} digests were in flight when a run stopped: "
                         + ("resending them with the same Message-ID" if in_doubt == "resend"
                            else "marked in_doubt, not resent"))
            self._bucket = _Bucket(float(self.settings.digest_rate), self.monotonic, self.sleep)
            try:
                self._send_all(period, report, limit)
            finally:
                self._flush()
            if self.alerts is not None:
                report.alerts = self.alerts.run(period, resend=in_doubt == "resend")
        return report

    def _budget(self, report: SendReport, limit: int | None) -> int | None:
        if limit is None:
            return None
        return max(0, limit - (report.sent + report.failed + report.deferred + len(self._retry)))

    # -- the run ---------------------------------------------------------------------
    def _send_all(self, period: Period, report: SendReport, limit: int | None) -> None:
        batch = max(1, int(self.settings.digest_batch))
        # 1. pending rows from earlier runs (deferred by a 4xx, or planned before a kill)
        after = 0
        while True:
            budget = self._budget(report, limit)
            if budget == 0:
                break
            rows = self.store.digest_sends(period.key, ["pending"], after_id=after,
                                           limit=batch if budget is None else min(batch, budget))
            if not rows:
                break
            last = rows[-1].id
            assert last is not None  # rows read from the send log have ids
            after = last
            self._send_rows(period, rows, report)
        # 2. new digests, batch by batch
        after_sub = 0
        weekday = period.day.weekday() if period.kind == "weekly" else None
        include_skip = not (period.kind == "daily" and period.day.weekday() >= 5)
        while True:
            budget = self._budget(report, limit)
            if budget == 0:
                break
            subs = self.store.due_subscriptions(
                period.kind, period.key, weekday=weekday, include_skip_weekends=include_skip,
                after_id=after_sub, limit=batch, max_failures=MAX_FAILURES,
            )
            if not subs:
                break
            last = subs[-1].id
            assert last is not None  # due_subscriptions reads stored subscriptions
            after_sub = last
            composed = self.composer.compose_many(subs, period)
            todo: list[DigestSend] = []
            for d in composed:
                if d.empty:
                    report.empty += 1
                    continue
                if budget is not None and len(todo) >= budget:
                    break
                self._papers.update(d.papers)
                sub_id = d.subscription.id
                assert sub_id is not None  # one of subs, read from the store
                todo.append(DigestSend(
                    id=None, subscription_id=sub_id, period_key=period.key, status="pending",
                    message_id=self.renderer.message_id(sub_id, period), entries=d.entries,
                ))
            planned = self.store.plan_digest_sends(todo, self.clock())
            report.planned += len(planned)
            self._send_rows(period, planned, report, subs={s.id: s for s in subs})
            if budget is not None and len(todo) >= budget:
                break
        # 3. retries of 4xx replies, when due
        while self._retry:
            due, _, send, sub = heapq.heappop(self._retry)
            wait = due - self.monotonic()
            if wait > 0:
                self._flush()
                self.sleep(wait)
            self._send_one(period, send, sub, report)

    def _send_rows(self, period: Period, rows: list[DigestSend], report: SendReport, subs: dict | None = None) -> None:
        if not rows:
            return
        subs = subs or {}
        missing = {e.arxiv_id for r in rows for e in r.entries} - self._papers.keys()
        if missing:
            self._papers.update(self.store.get_papers(sorted(missing)))
        for r in rows:
            sub = subs.get(r.subscription_id)
            self._send_one(period, r, sub, report)

    def _send_one(self, period: Period, send: DigestSend, sub, report: SendReport) -> None:
        now = self.clock()
        # Unsubscribing takes effect immediately, even for a digest planned a moment ago.
        current = self.store.get_subscription(send.subscription_id)
        if current is None or not current.active:
            self._outcomes.append((send.id, "cancelled", "unsubscribed before sending", None))
            return
        sub = current
        if self._raw:
            envelope = self.renderer.render_bytes(sub, period, send.entries, self._papers,
                                                  message_id=send.message_id)
        else:
            message = self.renderer.render(sub, period, send.entries, self._papers, message_id=send.message_id)
        wait = self._bucket.wait_time()
        if wait > 0:
            self._flush()  # never sleep with a finished send uncommitted
            self.sleep(wait)
            self._bucket.wait_time()
        self._bucket.take()
        # The previous outcome and this 'sending' mark commit together, just before SMTP.
        self.store.advance_digest_sends(self._outcomes, send.id, now)
        self._outcomes = []
        send.attempts += 1
        try:
            if self._raw:
                self.mailer.send_raw(*envelope)
            else:
                self.mailer.send(message)
        except TemporaryMailError as e:
            if send.attempts < self.max_attempts:
                delay = self.retry_base * (2 ** (send.attempts - 1))
                self._seq += 1
                heapq.heappush(self._retry, (self.monotonic() + delay, self._seq, send, sub))
                self._outcomes.append((send.id, "pending", str(e)[:500], now + dt.timedelta(seconds=delay)))
                self.say(f"{sub.email}: {e}; retrying in {delay:g}s")
            else:
                report.deferred += 1
                self._outcomes.append((send.id, "pending", str(e)[:500], None))
                self.say(f"{sub.email}: {e}; giving up for this run")
        except PermanentMailError as e:
            report.failed += 1
            self._outcomes.append((send.id, "failed", str(e)[:500], None))
            self.say(f"{sub.email}: {e}; marked as failing")
        else:
            report.sent += 1
            self._outcomes.append((send.id, "sent", None, None))

    def _flush(self) -> None:
        if self._outcomes:
            self.store.advance_digest_sends(self._outcomes, None, self.clock())
            self._outcomes = []

    def _dry_run(self, period: Period, report: SendReport, limit: int | None) -> None:
        after_sub = 0
        weekday = period.day.weekday() if period.kind == "weekly" else None
        include_skip = not (period.kind == "daily" and period.day.weekday() >= 5)
        while limit is None or report.planned < limit:
            subs = self.store.due_subscriptions(
                period.kind, period.key, weekday=weekday, include_skip_weekends=include_skip,
                after_id=after_sub, limit=max(1, int(self.settings.digest_batch)), max_failures=MAX_FAILURES,
            )
            if not subs:
                break
            last = subs[-1].id
            assert last is not None  # due_subscriptions reads stored subscriptions
            after_sub = last
            for d in self.composer.compose_many(subs, period):
                if d.empty:
                    report.empty += 1
                    continue
                if limit is not None and report.planned >= limit:
                    break
                report.planned += 1
                report.previews.append(
                    f"{d.subscription.email}: {len(d.trending)} top + {len(d.for_you)} for you"
                )


def send_digests(store: DigestStore, settings, mailer, period: Period, **kwargs) -> SendReport:
    run_kwargs = {k: kwargs.pop(k) for k in ("dry_run", "limit", "in_doubt") if k in kwargs}
    return DigestSender(store, settings, mailer, **kwargs).run(period, **run_kwargs)


__all__ = ["DigestSender", "SendReport", "SendLocked", "send_digests", "send_lock", "MAX_ATTEMPTS", "RETRY_BASE"]
