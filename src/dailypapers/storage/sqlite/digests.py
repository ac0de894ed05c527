"""Digests: subscriptions, the send log and the papers each subscriber was sent."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from dailypapers.clock import utcnow
from dailypapers.models import DigestSend, Subscription
from dailypapers.storage.errors import StorageError
from dailypapers.storage.rows import (
    SEND_COLUMNS,
    SUB_COLUMNS,
    check_mail_column,
    entries_json,
    row_send,
    row_subscription,
    subscription_values,
)
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import chunks, format_ts, inserted, parse_ts


class DigestQueries(SQLiteBase):
    # Parameterized SQL only; column names are from fixed whitelists (storage/rows.py).
    _SUB_COLUMNS = SUB_COLUMNS
    _SEND_COLUMNS = SEND_COLUMNS
    _row_subscription = staticmethod(row_subscription)

    def _select_subscriptions(self, where: str, params: Sequence) -> list:
        cols = ", ".join(self._SUB_COLUMNS)
        return [self._row_subscription(r) for r in self.read(f"SELECT {cols} FROM subscriptions WHERE {where}", params)]

    def get_subscription(self, sub_id: int) -> Subscription | None:
        found = self._select_subscriptions("id = ?", (sub_id,))
        return found[0] if found else None

    def get_subscription_by_email(self, email: str) -> Subscription | None:
        found = self._select_subscriptions("email = ?", (email,))
        return found[0] if found else None

    def get_subscription_for_user(self, user_id: int) -> Subscription | None:
        found = self._select_subscriptions("user_id = ?", (user_id,))
        return found[0] if found else None

    def save_subscription(self, sub: Subscription) -> Subscription:
        """Insert (id None) or update every column of a subscription; returns it with its id.

        Raises StorageError if the email (or the member) already has another subscription."""

        values = subscription_values(sub, utcnow())
        names = list(values)
        try:
            with self.write() as conn:
                if sub.id is None:
                    cur = conn.execute(
                        f"INSERT INTO subscriptions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        [values[k] for k in names],
                    )
                    sub_id = cur.lastrowid
                else:
                    conn.execute(
                        f"UPDATE subscriptions SET {', '.join(k + ' = ?' for k in names)} WHERE id = ?",
                        [values[k] for k in names] + [sub.id],
                    )
                    sub_id = sub.id
        except sqlite3.IntegrityError as e:
            raise StorageError(f"that address or member already has a subscription ({e})") from None
        return inserted(self.get_subscription(inserted(sub_id)))

    def claim_subscription_mail(self, sub_id: int, column: str, now: dt.datetime, min_interval: float) -> bool:
        """Atomically record that an email goes out now, unless one went out less than
        `min_interval` seconds ago. True: go ahead and send."""
        check_mail_column(column)
        cutoff = format_ts(now - dt.timedelta(seconds=min_interval))
        with self.write() as conn:
            cur = conn.execute(
                f"UPDATE subscriptions SET {column} = ? WHERE id = ? AND ({column} IS NULL OR {column} <= ?)",
                (format_ts(now), sub_id, cutoff),
            )
        return cur.rowcount == 1

    def release_subscription_mail(self, sub_id: int, column: str, previous: dt.datetime | None) -> None:
        """Undo claim_subscription_mail when the email could not be sent."""
        check_mail_column(column)
        with self.write() as conn:
            conn.execute(f"UPDATE subscriptions SET {column} = ? WHERE id = ?", (format_ts(previous), sub_id))

    def confirm_subscription(self, sub_id: int, nonce: str, manage_key: str, now: dt.datetime) -> bool:
        """Compare-and-set: confirms only if the link's one-time nonce is still the current one."""
        ts = format_ts(now)
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE subscriptions SET confirmed_at = ?, unsubscribed_at = NULL, confirm_nonce = NULL, "
                "manage_key = ?, fail_count = 0, last_error = NULL, updated_at = ? "
                "WHERE id = ? AND confirm_nonce IS NOT NULL AND confirm_nonce = ?",
                (ts, manage_key, ts, sub_id, nonce),
            )
        return cur.rowcount == 1

    def unsubscribe_subscription(self, sub_id: int, manage_key: str, now: dt.datetime) -> bool:
        """Idempotent: True if the key is right (whether or not it was already unsubscribed)."""
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE subscriptions SET unsubscribed_at = COALESCE(unsubscribed_at, ?), "
                "updated_at = COALESCE(unsubscribed_at, ?) WHERE id = ? AND manage_key = ?",
                (format_ts(now), format_ts(now), sub_id, manage_key),
            )
        return cur.rowcount == 1

    def due_subscriptions(
        self, frequency: str, period_key: str, *, weekday: int | None = None, include_skip_weekends: bool = True,
        after_id: int = 0, limit: int = 100, max_failures: int = 3,
    ) -> list:
        """Active subscriptions of this frequency with no send-log row for the period, by id."""
        where = [
            "s.frequency = ?", "s.confirmed_at IS NOT NULL", "s.unsubscribed_at IS NULL", "s.fail_count < ?",
            "s.id > ?", "NOT EXISTS (SELECT 1 FROM digest_sends d WHERE d.subscription_id = s.id AND d.period_key = ?)",
        ]
        params: list = [frequency, max_failures, after_id, period_key]
        if weekday is not None:
            where.append("COALESCE(s.weekday, 0) = ?")
            params.append(weekday)
        if not include_skip_weekends:
            where.append("s.skip_weekends = 0")
        cols = ", ".join("s." + c for c in self._SUB_COLUMNS)
        rows = self.read(
            f"SELECT {cols} FROM subscriptions s WHERE {' AND '.join(where)} ORDER BY s.id LIMIT ?",
            params + [limit],
        )
        return [self._row_subscription(r) for r in rows]

    def sent_paper_ids(self, sub_ids: Sequence[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {i: set() for i in sub_ids}
        for chunk in chunks(sorted(set(sub_ids))):
            marks = ",".join("?" * len(chunk))
            for sid, aid in self.read(
                f"SELECT subscription_id, arxiv_id FROM digest_sent_papers WHERE subscription_id IN ({marks})", chunk
            ):
                out[sid].add(aid)
        return out
    _row_send = staticmethod(row_send)

    def plan_digest_sends(self, sends: Sequence, now: dt.datetime) -> list:
        """Record composed digests as 'pending' and reserve their papers, in one transaction.

        A (subscriber, period) that already has a row is left alone (another run planned it);
        returns the rows inserted, with ids."""

        ts = format_ts(now)
        planned = []
        with self.write() as conn:
            for s in sends:
                entries = entries_json(s)
                cur = conn.execute(
                    "INSERT INTO digest_sends (subscription_id, period_key, status, message_id, entries, created_at) "
                    "VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT(subscription_id, period_key) DO NOTHING",
                    (s.subscription_id, s.period_key, s.message_id, entries, ts),
                )
                if cur.rowcount != 1:
                    continue
                send_id = cur.lastrowid
                conn.executemany(
                    "INSERT OR IGNORE INTO digest_sent_papers (subscription_id, arxiv_id, send_id) VALUES (?, ?, ?)",
                    [(s.subscription_id, e.arxiv_id, send_id) for e in s.entries],
                )
                s.id, s.status, s.created_at = send_id, "pending", parse_ts(ts)
                planned.append(s)
        return planned

    def digest_sends(self, period_key: str, statuses: Sequence[str], *, after_id: int = 0, limit: int = 100) -> list:
        marks = ",".join("?" * len(statuses))
        rows = self.read(
            f"SELECT {self._SEND_COLUMNS} FROM digest_sends WHERE period_key = ? AND status IN ({marks}) "
            "AND id > ? ORDER BY id LIMIT ?",
            [period_key, *statuses, after_id, limit],
        )
        return [self._row_send(r) for r in rows]

    def get_digest_send(self, subscription_id: int, period_key: str) -> DigestSend | None:
        rows = self.read(
            f"SELECT {self._SEND_COLUMNS} FROM digest_sends WHERE subscription_id = ? AND period_key = ?",
            (subscription_id, period_key),
        )
        return self._row_send(rows[0]) if rows else None

    def recover_digest_sends(self, period_key: str, *, resend: bool) -> int:
        """Rows a killed run left in 'sending' are in doubt: back to 'pending' (resend, same
        Message-ID) or to 'in_doubt' (never resent). Call only while holding the send lock."""
        with self.write() as conn:
            if resend:
                cur = conn.execute(
                    "UPDATE digest_sends SET status = 'pending', last_error = 'in doubt after an interrupted run' "
                    "WHERE period_key = ? AND status = 'sending'",
                    (period_key,),
                )
            else:
                cur = conn.execute(
                    "UPDATE digest_sends SET status = 'in_doubt' WHERE period_key = ? AND status = 'sending'",
                    (period_key,),
                )
        return cur.rowcount

    def advance_digest_sends(
        self, finished: Sequence[tuple[int, str, str | None, dt.datetime | None]], start_id: int | None,
        now: dt.datetime,
    ) -> None:
        """One transaction: record outcomes (send_id, 'sent' | 'failed' | 'pending', error, next attempt)
        and mark the next digest 'sending' before its SMTP transaction starts.

        'failed' (a 5xx) and 'cancelled' (unsubscribed meanwhile) release the digest's papers;
        'failed' also counts a failure on the subscription, 'sent' resets the count."""
        ts = format_ts(now)
        with self.write() as conn:
            for send_id, status, error, next_at in finished:
                if status == "sent":
                    conn.execute(
                        "UPDATE digest_sends SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                        (ts, send_id),
                    )
                    conn.execute(
                        "UPDATE subscriptions SET fail_count = 0 WHERE id = "
                        "(SELECT subscription_id FROM digest_sends WHERE id = ?) AND fail_count != 0",
                        (send_id,),
                    )
                elif status == "failed":
                    conn.execute(
                        "UPDATE digest_sends SET status = 'failed', last_error = ? WHERE id = ?", (error, send_id)
                    )
                    # Its papers were never delivered: they may go in a later digest.
                    conn.execute("DELETE FROM digest_sent_papers WHERE send_id = ?", (send_id,))
                    conn.execute(
                        "UPDATE subscriptions SET fail_count = fail_count + 1, last_failure_at = ?, last_error = ? "
                        "WHERE id = (SELECT subscription_id FROM digest_sends WHERE id = ?)",
                        (ts, error, send_id),
                    )
                elif status == "cancelled":  # unsubscribed after planning: not sent, not a failure
                    conn.execute(
                        "UPDATE digest_sends SET status = 'cancelled', last_error = ? WHERE id = ?", (error, send_id)
                    )
                    conn.execute("DELETE FROM digest_sent_papers WHERE send_id = ?", (send_id,))
                elif status == "pending":
                    conn.execute(
                        "UPDATE digest_sends SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
                        (error, format_ts(next_at), send_id),
                    )
                else:
                    raise ValueError(f"bad outcome {status!r}")
            if start_id is not None:
                conn.execute(
                    "UPDATE digest_sends SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (start_id,)
                )

    def digest_send_counts(self, period_key: str) -> dict[str, int]:
        rows = self.read("SELECT status, COUNT(*) FROM digest_sends WHERE period_key = ? GROUP BY status",
                         (period_key,))
        return {r[0]: r[1] for r in rows}
