"""The rate-limit log: recent events in an UNLOGGED table every node shares.

A check is one short transaction that skips the content lock. Checks on the same key wait for
each other (a transaction-level advisory lock per key, taken in sorted order so two checks never
deadlock), so two nodes cannot both let the last allowed event through.
"""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.storage.postgres.base import PostgresBase

# Events older than the longest sensible window are swept every so many checks.
RATE_SWEEP_EVERY = 1000
RATE_KEEP_SECONDS = 86_400


def wait_for(times: Sequence[float], limit: int, window: float, now: float) -> float:
    """Seconds until one more event fits, given the times (oldest first) of the events in the window."""
    if len(times) < limit:
        return 0.0
    if limit <= 0:
        return window
    # the (n - limit + 1)th oldest event must leave the window before one more fits
    return times[len(times) - limit] + window - now


class RateLogQueries(PostgresBase):
    _rate_checks = 0

    def rate_hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        with self.write(content=False) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 1)) FROM unnest(%s::text[]) AS k ORDER BY k",
                         (sorted(set(keys)),))
            conn.execute("DELETE FROM rate_events WHERE key = ANY(%s) AND at <= %s", (list(keys), now - window))
            rows = conn.execute("SELECT key, array_agg(at ORDER BY at) FROM rate_events WHERE key = ANY(%s) "
                                "GROUP BY key", (list(keys),)).fetchall()
            wait = max([wait_for(times, limit, window, now) for _, times in rows] + [window if limit <= 0 else 0.0])
            if wait <= 0:
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO rate_events (key, at) VALUES (%s, %s)", [(k, now) for k in keys])
            self._rate_checks += 1
            if self._rate_checks % RATE_SWEEP_EVERY == 0:
                # keys not seen again (one-off addresses) would otherwise keep their last events
                conn.execute("DELETE FROM rate_events WHERE at <= %s", (now - RATE_KEEP_SECONDS,))
        return wait if wait > 0 else None
