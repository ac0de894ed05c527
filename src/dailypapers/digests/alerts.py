"""Saved-search alerts on their own schedule: one email per saved search and period.

``dailypapers digest send --period daily`` sends the alerts of saved searches set to ``daily``;
``--period weekly`` on a Monday those set to ``weekly`` (ALERT_WEEKDAY). They run inside the
digest run, after the digests, under the same two locks (the flock beside the data and the
store's ``digest-send`` run lock), so two runs never send one alert twice.

The log (``saved_search_sends``) works like the digest send log: an alert is planned as
``pending`` with its papers reserved for the member (``alert_sent_papers``) in one transaction,
then marked ``sending``, handed to SMTP, and marked ``sent``. A rerun skips a (saved search,
period) that has a row. A row left ``sending`` by a killed run is resent with the same
Message-ID (``--in-doubt resend``) or marked ``in_doubt`` (``skip``); a 4xx stays ``pending`` for
the next run; a 5xx marks it ``failed`` and releases its papers.

Every alert has a visible "stop this alert" link and the RFC 8058 headers (``List-Unsubscribe``
with the signed one-click URL, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``), as the
digests do; the one-click POST turns that saved search's alert off (web/saved.py).

What an alert holds: SavedSearchService.new_matches -- the newest matches published in the
period (with ALERT_LOOKBACK of slack), without papers the member hid or was ever sent (by an alert
or by a digest). An alert with nothing new is not sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlencode

from dailypapers.clock import utcnow
from dailypapers.digests import Period
from dailypapers.digests.compose import TEMPLATES, DigestRenderer
from dailypapers.digests.saved import ALERT_LABELS, SavedSearchService
from dailypapers.digests.subscriptions import Tokens
from dailypapers.mail import PermanentMailError, TemplateMail, TemporaryMailError
from dailypapers.models import AlertSend, SavedSearch, StoredPaper, User
from dailypapers.storage import AlertStore

ALERT_WEEKDAY = 0  # weekly alerts go out with Monday's weekly run
BATCH = 100


@dataclass
class AlertReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0  # a 4xx: left pending for the next run
    empty: int = 0  # nothing new for the reader: not sent
    recovered: int = 0

    def line(self) -> str:
        return (f"alerts: {self.sent} sent, {self.failed} failed, {self.deferred} deferred, "
                f"{self.empty} empty (not sent)")


class AlertSender:
    """Sends the period's saved-search alerts. The caller (DigestSender.run) holds the locks."""

    def __init__(self, store: AlertStore, settings, mailer, saved: SavedSearchService, *,
                 clock: Callable[[], dt.datetime] = utcnow, say: Callable[[str], None] | None = None):
        self.store, self.settings, self.mailer, self.saved = store, settings, mailer, saved
        self.clock = clock
        self.say = say or (lambda msg: None)
        self.renderer = DigestRenderer(settings, Tokens(settings.signing_key()))
        self.mail = TemplateMail(TEMPLATES)
        self.base_url = settings.public_url

    @staticmethod
    def due(period: Period) -> str | None:
        """The alert mode this period's run sends, if any."""
        if period.kind == "daily":
            return "daily"
        return "weekly" if period.day.weekday() == ALERT_WEEKDAY else None

    def message_id(self, saved_id: int, period: Period) -> str:
        return f"<alert.{saved_id}.{period.kind}.{period.day:%Y%m%d}@{self.renderer.domain}>"

    def run(self, period: Period, *, resend: bool = True) -> AlertReport:
        report = AlertReport()
        report.recovered = self.store.recover_alert_sends(period.key, resend=resend)
        after = 0
        while rows := self.store.alert_sends(period.key, ["pending"], after_id=after, limit=BATCH):
            after = rows[-1].id or after
            for send in rows:
                saved = self.store.get_saved_search(send.saved_search_id)
                if saved is not None:
                    self._send(period, saved, send, report)
        mode = self.due(period)
        after = 0
        while mode and (searches := self.store.alerting_saved_searches(mode, after_id=after, limit=BATCH)):
            after = searches[-1].id or after
            for saved in searches:
                self._plan_and_send(period, saved, report)
        return report

    def _member(self, saved: SavedSearch) -> User | None:
        user = self.store.get_user(saved.user_id)
        return user if user is not None and user.verified and not user.disabled else None

    def _plan_and_send(self, period: Period, saved: SavedSearch, report: AlertReport) -> None:
        assert saved.id is not None  # read from the store
        if self._member(saved) is None:
            return
        # a rerun finds the papers it sent already in reader_sent_ids: nothing new, nothing planned
        papers = self.saved.new_matches(saved, period.start, period.end, self.store.reader_sent_ids(saved.user_id))
        if not papers:
            report.empty += 1
            return
        send = self.store.plan_alert_send(
            AlertSend(None, saved.id, period.key, "pending", self.message_id(saved.id, period),
                      [p.arxiv_id for p in papers]), saved.user_id, self.clock())
        if send is not None:
            self._send(period, saved, send, report, {p.arxiv_id: p for p in papers})

    def _send(self, period: Period, saved: SavedSearch, send: AlertSend, report: AlertReport,
              papers: dict[str, StoredPaper] | None = None) -> None:
        assert send.id is not None
        user = self._member(saved)
        if user is None or saved.alert not in ("daily", "weekly"):
            self.store.mark_alert_send(send.id, "cancelled", "alert turned off before sending", self.clock())
            return
        papers = papers or self.store.get_papers(send.arxiv_ids)
        message = self.render(saved, user, period, [papers[a] for a in send.arxiv_ids if a in papers],
                              send.message_id)
        self.store.mark_alert_send(send.id, "sending", None, self.clock())
        try:
            self.mailer.send(message)
        except TemporaryMailError as e:
            report.deferred += 1
            self.store.mark_alert_send(send.id, "pending", str(e)[:500], self.clock())
            self.say(f"{user.email}: {e}; the alert waits for the next run")
        except PermanentMailError as e:
            report.failed += 1
            self.store.mark_alert_send(send.id, "failed", str(e)[:500], self.clock())
            self.say(f"{user.email}: {e}; alert marked as failed")
        else:
            report.sent += 1
            self.store.mark_alert_send(send.id, "sent", None, self.clock())

    def render(self, saved: SavedSearch, user: User, period: Period, papers: list[StoredPaper],
               message_id: str) -> EmailMessage:
        token = self.saved.alert_token(saved)
        ctx = {
            "site_name": "Daily Papers", "base_url": self.base_url, "email": user.email, "name": saved.name,
            "period_label": period.label, "schedule": ALERT_LABELS.get(saved.alert, saved.alert).split(" ")[0].lower(),
            "papers": [self.renderer._item(p, []) for p in papers], "count": len(papers),
            "search_url": f"{self.base_url}/papers/search?" + urlencode(saved.params),
            "manage_url": f"{self.base_url}/saved-searches",
            "stop_url": f"{self.base_url}/unsubscribe/alert?token={token}",
        }
        headers = {
            "List-Unsubscribe": f"<{ctx['stop_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Daily Papers alerts <alert.{self.renderer.domain}>",
            "X-Alert-Period": period.key, "Precedence": "bulk",
        }
        msg = self.mail.render("alert", ctx, to=user.email, sender=self.settings.mail_from, headers=headers)
        del msg["Message-ID"]
        msg["Message-ID"] = message_id
        # as for digests: the signed URL stays one plain header line, never RFC 2047 encoded words
        msg.policy = msg.policy.clone(max_line_length=998)
        return msg


__all__ = ["AlertSender", "AlertReport", "ALERT_WEEKDAY"]
