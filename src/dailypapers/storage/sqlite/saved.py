"""Saved searches, their alert send log, the papers alerts sent, and For-you feed tokens.

All bookkeeping (no cached page shows them): writes do not bump the content version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dailypapers.models import AlertSend, SavedSearch
from dailypapers.storage.saved_rows import (
    ALERT_SEND_COLUMNS,
    READER_SENT,
    SAVED_SELECT,
    ids_json,
    params_json,
    row_alert_send,
    row_saved,
)
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import chunks, format_ts, inserted, parse_ts

_READER_SENT = READER_SENT.format(p="?")


class SavedSearchQueries(SQLiteBase):
    # -- saved searches --------------------------------------------------------
    def create_saved_search(self, user_id: int, name: str, params: dict[str, str], feed_key: str, alert: str,
                            at: dt.datetime) -> SavedSearch:
        with self.write(content=False) as conn:
            cur = conn.execute(
                "INSERT INTO saved_searches (user_id, name, params, feed_key, alert, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, name, params_json(params), feed_key, alert, format_ts(at), format_ts(at)))
        return inserted(self.get_saved_search(inserted(cur.lastrowid)))

    def get_saved_search(self, saved_id: int) -> SavedSearch | None:
        rows = self.read(f"{SAVED_SELECT} WHERE id = ?", (saved_id,))
        return row_saved(rows[0]) if rows else None

    def saved_search_by_key(self, feed_key: str) -> SavedSearch | None:
        rows = self.read(f"{SAVED_SELECT} WHERE feed_key = ?", (feed_key,))
        return row_saved(rows[0]) if rows else None

    def user_saved_searches(self, user_id: int) -> list[SavedSearch]:
        return [row_saved(r) for r in self.read(f"{SAVED_SELECT} WHERE user_id = ? ORDER BY id", (user_id,))]

    def users_saved_searches(self, user_ids: Sequence[int], alert: str) -> dict[int, list[SavedSearch]]:
        out: dict[int, list[SavedSearch]] = {}
        for part in chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(part))
            for r in self.read(f"{SAVED_SELECT} WHERE alert = ? AND user_id IN ({marks}) ORDER BY id",
                               (alert, *part)):
                s = row_saved(r)
                out.setdefault(s.user_id, []).append(s)
        return out

    def alerting_saved_searches(self, alert: str, *, after_id: int = 0, limit: int = 100) -> list[SavedSearch]:
        rows = self.read(f"{SAVED_SELECT} WHERE alert = ? AND id > ? ORDER BY id LIMIT ?", (alert, after_id, limit))
        return [row_saved(r) for r in rows]

    def update_saved_search(self, saved_id: int, *, name: str, alert: str, at: dt.datetime) -> bool:
        with self.write(content=False) as conn:
            return conn.execute("UPDATE saved_searches SET name = ?, alert = ?, updated_at = ? WHERE id = ?",
                                (name, alert, format_ts(at), saved_id)).rowcount > 0

    def delete_saved_search(self, saved_id: int) -> bool:
        with self.write(content=False) as conn:
            return conn.execute("DELETE FROM saved_searches WHERE id = ?", (saved_id,)).rowcount > 0

    # -- alerts ----------------------------------------------------------------
    def reader_sent_ids(self, user_id: int) -> set[str]:
        return {r[0] for r in self.read(_READER_SENT, (user_id, user_id))}

    def plan_alert_send(self, send: AlertSend, user_id: int, now: dt.datetime) -> AlertSend | None:
        """Record one alert as 'pending' and reserve its papers for the member, in one transaction.
        None when the (saved search, period) has a row already."""
        ts = format_ts(now)
        with self.write(content=False) as conn:
            cur = conn.execute(
                "INSERT INTO saved_search_sends (saved_search_id, period_key, status, message_id, arxiv_ids, "
                "created_at) VALUES (?, ?, 'pending', ?, ?, ?) ON CONFLICT (saved_search_id, period_key) DO NOTHING",
                (send.saved_search_id, send.period_key, send.message_id, ids_json(send.arxiv_ids), ts))
            if not cur.rowcount:
                return None
            send_id = inserted(cur.lastrowid)
            conn.executemany("INSERT OR IGNORE INTO alert_sent_papers (user_id, arxiv_id, send_id) VALUES (?, ?, ?)",
                             [(user_id, a, send_id) for a in send.arxiv_ids])
        send.id, send.status, send.created_at = send_id, "pending", parse_ts(ts)
        return send

    def alert_sends(self, period_key: str, statuses: Sequence[str], *, after_id: int = 0,
                    limit: int = 100) -> list[AlertSend]:
        marks = ",".join("?" * len(statuses))
        rows = self.read(f"SELECT {ALERT_SEND_COLUMNS} FROM saved_search_sends WHERE period_key = ? "
                         f"AND status IN ({marks}) AND id > ? ORDER BY id LIMIT ?",
                         (period_key, *statuses, after_id, limit))
        return [row_alert_send(r) for r in rows]

    def recover_alert_sends(self, period_key: str, *, resend: bool) -> int:
        with self.write(content=False) as conn:
            return conn.execute("UPDATE saved_search_sends SET status = ? WHERE period_key = ? AND status = 'sending'",
                                ("pending" if resend else "in_doubt", period_key)).rowcount

    def mark_alert_send(self, send_id: int, status: str, error: str | None, now: dt.datetime) -> None:
        """'sending' counts an attempt; 'sent' stamps it; 'failed' and 'cancelled' release its papers."""
        with self.write(content=False) as conn:
            if status == "sending":
                conn.execute("UPDATE saved_search_sends SET status = 'sending', attempts = attempts + 1 WHERE id = ?",
                             (send_id,))
            else:
                conn.execute("UPDATE saved_search_sends SET status = ?, last_error = ?, sent_at = ? WHERE id = ?",
                             (status, error, format_ts(now) if status == "sent" else None, send_id))
            if status in ("failed", "cancelled"):
                conn.execute("DELETE FROM alert_sent_papers WHERE send_id = ?", (send_id,))

    # -- the For-you feed token ---------------------------------------------------
    def feed_token_nonce(self, user_id: int) -> str | None:
        rows = self.read("SELECT nonce FROM feed_tokens WHERE user_id = ?", (user_id,))
        return rows[0][0] if rows else None

    def set_feed_token_nonce(self, user_id: int, nonce: str | None, at: dt.datetime) -> None:
        """A new nonce (a new token), or None to revoke it."""
        with self.write(content=False) as conn:
            if nonce is None:
                conn.execute("DELETE FROM feed_tokens WHERE user_id = ?", (user_id,))
            else:
                conn.execute("INSERT INTO feed_tokens (user_id, nonce, created_at) VALUES (?, ?, ?) "
                             "ON CONFLICT (user_id) DO UPDATE SET nonce = excluded.nonce, "
                             "created_at = excluded.created_at", (user_id, nonce, format_ts(at)))
