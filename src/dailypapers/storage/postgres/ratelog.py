"""The rate-limit log: recent events in an UNLOGGED table every node shares.

A check is one statement, ``dp_rate_hit`` (migration 0007), that skips the content lock. Checks
on the same key wait for each other (a transaction-level advisory lock per key, taken in sorted
order so two checks never deadlock), so two nodes cannot both let the last allowed event through;
the lock is held only while the server runs the check, never while a client sends the next
statement (many members behind one address share its key).
"""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.storage.postgres.base import PostgresBase

# Events older than the longest sensible window are swept every so many checks.
RATE_SWEEP_EVERY = 1000
RATE_KEEP_SECONDS = 86_400


class RateLogQueries(PostgresBase):
    _rate_checks = 0

    def rate_hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        if limit <= 0:
            return window
        keys = sorted(set(keys))
        self._rate_checks += 1
        # keys not seen again (one-off addresses) would otherwise keep their last events
        sweep = now - RATE_KEEP_SECONDS if self._rate_checks % RATE_SWEEP_EVERY == 0 else None
        # Through read(), which repeats the statement once on a connection lost before its check:
        # at worst an event is counted twice, never let through uncounted.
        row = self.read("SELECT dp_rate_hit(%s::text[], %s::integer, %s::float8, %s::float8, %s::float8)",
                        (keys, limit - 1, window, now, sweep))
        # Every full key must let one more through: the latest of their limit-th newest events
        # leaves the window last (it is newer than now - window, or the DELETE took it).
        return None if not row or row[0][0] is None else row[0][0] + window - now
