"""The rate-limit log: recent events in an UNLOGGED table every node shares.

A check is one short transaction that skips the content lock, sent in one round trip (a
pipeline). Checks on the same key wait for each other (a transaction-level advisory lock per key,
taken in sorted order so two checks never deadlock), so two nodes cannot both let the last allowed
event through; the lock is held only while the server runs the check, never across a client's
round trip (many members behind one address share its key).
"""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.storage.postgres.base import PostgresBase

# Events older than the longest sensible window are swept every so many checks.
RATE_SWEEP_EVERY = 1000
RATE_KEEP_SECONDS = 86_400


# Per key, the time of the limit-th newest event in the window (NULL while fewer): a full key
# waits until that event leaves the window. The event is recorded only when no key is full.
_HIT = (
    "WITH full_ AS (SELECT k, (SELECT at FROM rate_events WHERE key = k ORDER BY at DESC OFFSET %(skip)s LIMIT 1) "
    "AS at FROM unnest(%(keys)s::text[]) AS k), "
    "hit AS (INSERT INTO rate_events (key, at) SELECT k, %(now)s FROM full_ "
    "WHERE NOT EXISTS (SELECT 1 FROM full_ WHERE at IS NOT NULL)) "
    "SELECT MAX(at) FROM full_"
)


class RateLogQueries(PostgresBase):
    _rate_checks = 0

    def rate_hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        if limit <= 0:
            return window
        keys = sorted(set(keys))
        self._rate_checks += 1
        with self.connection() as conn, conn.pipeline(), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 1)) FROM unnest(%s::text[]) AS k ORDER BY k",
                         (keys,))
            conn.execute("DELETE FROM rate_events WHERE key = ANY(%s) AND at <= %s", (keys, now - window))
            hit = conn.execute(_HIT, {"keys": keys, "skip": limit - 1, "now": now})
            if self._rate_checks % RATE_SWEEP_EVERY == 0:
                # keys not seen again (one-off addresses) would otherwise keep their last events
                conn.execute("DELETE FROM rate_events WHERE at <= %s", (now - RATE_KEEP_SECONDS,))
        row = hit.fetchone()
        # Every full key must let one more through: the latest of their limit-th newest events
        # leaves the window last (it is newer than now - window, or the DELETE took it).
        return None if row is None or row[0] is None else row[0] + window - now
