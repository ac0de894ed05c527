"""Digests: subscriptions, the send log and the papers each subscriber was sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

from dailypapers.clock import utcnow
from dailypapers.models import DigestSend, Subscription
from dailypapers.storage.errors import StorageError
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.rows import (
    SEND_COLUMNS,
    SUB_COLUMNS,
    check_mail_column,
    entries_json,
    format_ts,
    inserted,
    parse_ts,
    row_send,
    row_subscription,
    subscription_values,
)

_SUBS = ", ".join("s." + c for c in SUB_COLUMNS)
# What each outcome of a send does (see SQLiteStore.advance_digest_sends): its new status, whether
# its papers are released for a later digest, and the change to the subscription's failure count.
_OUTCOMES = {"sent": ("sent", False, "reset"), "failed": ("failed", True, "count"),
             "cancelled": ("cancelled", True, None), "pending": ("pending", False, None)}


class DigestQueries(PostgresBase):
    def _subscriptions(self, where: str, params: Sequence) -> list[Subscription]:
        return [row_subscription(r) for r in self.read(f"SELECT {_SUBS} FROM subscriptions s WHERE {where}", params)]

    def get_subscription(self, sub_id: int) -> Subscription | None:
        return next(iter(self._subscriptions("s.id = %s", (sub_id,))), None)

    def get_subscription_by_email(self, email: str) -> Subscription | None:
        return next(iter(self._subscriptions("lower(s.email) = lower(%s)", (email,))), None)

    def get_subscription_for_user(self, user_id: int) -> Subscription | None:
        return next(iter(self._subscriptions("s.user_id = %s", (user_id,))), None)

    def save_subscription(self, sub: Subscription) -> Subscription:
        """Insert (id None) or update every column; raises StorageError if the email or member has another."""
        values = subscription_values(sub, utcnow())
        names = list(values)
        try:
            with self.write() as conn:
                if sub.id is None:
                    row = conn.execute(f"INSERT INTO subscriptions ({', '.join(names)}) VALUES "
                                       f"({', '.join(['%s'] * len(names))}) RETURNING id",
                                       list(values.values())).fetchone()
                    sub_id = inserted(row)[0]
                else:
                    conn.execute(f"UPDATE subscriptions SET {', '.join(k + ' = %s' for k in names)} WHERE id = %s",
                                 [*values.values(), sub.id])
                    sub_id = sub.id
        except psycopg.errors.UniqueViolation as e:
            raise StorageError(
                f"that address or member already has a subscription ({e.diag.constraint_name})") from None
        return inserted(self.get_subscription(sub_id))

    def claim_subscription_mail(self, sub_id: int, column: str, now: dt.datetime, min_interval: float) -> bool:
        check_mail_column(column)
        with self.write() as conn:
            return conn.execute(
                f"UPDATE subscriptions SET {column} = %s WHERE id = %s AND ({column} IS NULL OR {column} <= %s)",
                (format_ts(now), sub_id, format_ts(now - dt.timedelta(seconds=min_interval))),
            ).rowcount == 1

    def release_subscription_mail(self, sub_id: int, column: str, previous: dt.datetime | None) -> None:
        check_mail_column(column)
        with self.write() as conn:
            conn.execute(f"UPDATE subscriptions SET {column} = %s WHERE id = %s", (format_ts(previous), sub_id))

    def confirm_subscription(self, sub_id: int, nonce: str, manage_key: str, now: dt.datetime) -> bool:
        with self.write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET confirmed_at = %(t)s, unsubscribed_at = NULL, confirm_nonce = NULL, "
                "manage_key = %(k)s, fail_count = 0, last_error = NULL, updated_at = %(t)s "
                "WHERE id = %(id)s AND confirm_nonce IS NOT NULL AND confirm_nonce = %(n)s",
                {"t": format_ts(now), "k": manage_key, "id": sub_id, "n": nonce},
            ).rowcount == 1

    def unsubscribe_subscription(self, sub_id: int, manage_key: str, now: dt.datetime) -> bool:
        with self.write() as conn:
            return conn.execute(
                "UPDATE subscriptions SET unsubscribed_at = COALESCE(unsubscribed_at, %(t)s), "
                "updated_at = COALESCE(unsubscribed_at, %(t)s) WHERE id = %(id)s AND manage_key = %(k)s",
                {"t": format_ts(now), "id": sub_id, "k": manage_key},
            ).rowcount == 1

    def due_subscriptions(
        self, frequency: str, period_key: str, *, weekday: int | None = None, include_skip_weekends: bool = True,
        after_id: int = 0, limit: int = 100, max_failures: int = 3,
    ) -> list[Subscription]:
        """Active subscriptions of this frequency with no send-log row for the period, by id."""
        return self._subscriptions(
            "s.frequency = %(f)s AND s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL "
            "AND s.fail_count < %(max)s AND s.id > %(after)s AND NOT EXISTS (SELECT 1 FROM digest_sends d "
            "WHERE d.subscription_id = s.id AND d.period_key = %(p)s) "
            "AND (%(wd)s::int IS NULL OR COALESCE(s.weekday, 0) = %(wd)s) AND (%(skip)s OR NOT s.skip_weekends) "
            "ORDER BY s.id LIMIT %(limit)s",
            {"f": frequency, "max": max_failures, "after": after_id, "p": period_key, "wd": weekday,
             "skip": include_skip_weekends, "limit": limit},  # type: ignore[arg-type]
        )

    def sent_paper_ids(self, sub_ids: Sequence[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {i: set() for i in sub_ids}
        for sid, aid in self.read("SELECT subscription_id, arxiv_id FROM digest_sent_papers "
                                  "WHERE subscription_id = ANY(%s)", (sorted(set(sub_ids)),)):
            out[sid].add(aid)
        return out

    def plan_digest_sends(self, sends: Sequence[DigestSend], now: dt.datetime) -> list[DigestSend]:
        """Record composed digests as 'pending' and reserve their papers, in one transaction. A
        (subscriber, period) that has a row already is left alone; returns the rows inserted."""
        ts = format_ts(now)
        planned = []
        with self.write() as conn:
            for s in sends:
                row = conn.execute(
                    "INSERT INTO digest_sends (subscription_id, period_key, status, message_id, entries, created_at) "
                    "VALUES (%s, %s, 'pending', %s, %s, %s) ON CONFLICT (subscription_id, period_key) DO NOTHING "
                    "RETURNING id", (s.subscription_id, s.period_key, s.message_id, entries_json(s), ts),
                ).fetchone()
                if row is None:
                    continue
                conn.execute(
                    "INSERT INTO digest_sent_papers (subscription_id, arxiv_id, send_id) "
                    "SELECT %s, a, %s FROM unnest(%s::text[]) AS a ON CONFLICT DO NOTHING",
                    (s.subscription_id, row[0], [e.arxiv_id for e in s.entries]),
                )
                s.id, s.status, s.created_at = row[0], "pending", parse_ts(ts)
                planned.append(s)
        return planned

    def digest_sends(self, period_key: str, statuses: Sequence[str], *, after_id: int = 0,
                     limit: int = 100) -> list[DigestSend]:
        rows = self.read(f"SELECT {SEND_COLUMNS} FROM digest_sends WHERE period_key = %s AND status = ANY(%s) "
                         "AND id > %s ORDER BY id LIMIT %s", (period_key, list(statuses), after_id, limit))
        return [row_send(r) for r in rows]

    def get_digest_send(self, subscription_id: int, period_key: str) -> DigestSend | None:
        rows = self.read(f"SELECT {SEND_COLUMNS} FROM digest_sends WHERE subscription_id = %s AND period_key = %s",
                         (subscription_id, period_key))
        return row_send(rows[0]) if rows else None

    def recover_digest_sends(self, period_key: str, *, resend: bool) -> int:
        """Rows a killed run left in 'sending': back to 'pending' (resend) or 'in_doubt'. Call only
        while holding the send lock (exclusive("digest-send"), shared by every node)."""
        with self.write() as conn:
            return conn.execute(
                "UPDATE digest_sends SET status = %s, last_error = CASE WHEN %s THEN "
                "'in doubt after an interrupted run' ELSE last_error END WHERE period_key = %s AND status = 'sending'",
                ("pending" if resend else "in_doubt", resend, period_key),
            ).rowcount

    def advance_digest_sends(
        self, finished: Sequence[tuple[int, str, str | None, dt.datetime | None]], start_id: int | None,
        now: dt.datetime,
    ) -> None:
        """One transaction: record outcomes and mark the next digest 'sending' (see the SQLite store)."""
        ts = format_ts(now)
        with self.write() as conn:
            for send_id, status, error, next_at in finished:
                if status not in _OUTCOMES:
                    raise ValueError(f"bad outcome {status!r}")
                new, release, failures = _OUTCOMES[status]
                sub = conn.execute(
                    "UPDATE digest_sends SET status = %(s)s, last_error = %(e)s, "
                    "sent_at = CASE WHEN %(s)s = 'sent' THEN %(t)s::timestamptz ELSE sent_at END, "
                    "next_attempt_at = CASE WHEN %(s)s = 'pending' THEN %(n)s::timestamptz ELSE next_attempt_at END "
                    "WHERE id = %(id)s RETURNING subscription_id",
                    {"s": new, "e": error, "t": ts, "n": format_ts(next_at), "id": send_id},
                ).fetchone()
                if release:  # never delivered: its papers may go in a later digest
                    conn.execute("DELETE FROM digest_sent_papers WHERE send_id = %s", (send_id,))
                if sub is not None and failures == "reset":
                    conn.execute("UPDATE subscriptions SET fail_count = 0 WHERE id = %s AND fail_count != 0", sub)
                elif sub is not None and failures == "count":
                    conn.execute("UPDATE subscriptions SET fail_count = fail_count + 1, last_failure_at = %s, "
                                 "last_error = %s WHERE id = %s", (ts, error, sub[0]))
            if start_id is not None:
                conn.execute("UPDATE digest_sends SET status = 'sending', attempts = attempts + 1 WHERE id = %s",
                             (start_id,))

    def digest_send_counts(self, period_key: str) -> dict[str, int]:
        rows = self.read("SELECT status, COUNT(*) FROM digest_sends WHERE period_key = %s GROUP BY status",
                         (period_key,))
        return {r[0]: r[1] for r in rows}
