"""The rate-limit log: a separate SQLite file of recent events, for the store-backed limiter.

The events live in a file of their own beside the database (<db>.ratelimits), not in it: a
rate check is a write on every search, and in the main file it would wait behind ingest
batches and vote commits for SQLite's one write lock. Losing them in a crash costs nothing,
so that file does not sync.

The workers of one server take turns at that file through an flock on ``<db>.ratelimits.lock``
before they open the write transaction. SQLite's own wait for a busy file polls, sleeping 1, 2,
5 ... up to 100 ms between tries, so a check that lost the race to another worker's could wait
far longer than the other's sub-millisecond write: under 32 connections to /api/daily_papers on
2 workers, p99 152-301 ms against 16-21 ms with the flock, which wakes the next holder as soon
as the lock is let go (bench/bench_web.py, BENCHMARKS.md "The rate-limit log's writers queue on
a file lock").
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from dailypapers.storage.sqlite.base import SQLiteBase

# Rate-limit events older than the longest sensible window are swept every so many checks.
RATE_SWEEP_EVERY = 1000
RATE_KEEP_SECONDS = 86_400


class RateLogQueries(SQLiteBase):
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        # The rate-limit log and the descriptor of the lock file its writers queue on, opened on first use.
        self._rates: tuple[sqlite3.Connection, int] | None = None
        self._rates_lock = threading.Lock()
        self._rate_checks = 0
        super().__init__(path, busy_timeout_ms=busy_timeout_ms)

    def close(self) -> None:
        super().close()
        with self._rates_lock:
            if self._rates is not None:
                conn, fd = self._rates
                conn.close()
                os.close(fd)
                self._rates = None

    def _rate_conn(self) -> tuple[sqlite3.Connection, int]:
        """The rate-limit log's connection and its lock file; call with _rates_lock held."""
        if self._rates is None:
            fd = os.open(self.path.with_name(self.path.name + ".ratelimits.lock"), os.O_RDWR | os.O_CREAT, 0o600)
            conn = sqlite3.connect(self.path.with_name(self.path.name + ".ratelimits"),
                                   check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            # Under the lock too: two workers making the file at once would otherwise race to switch it
            # to WAL, and SQLite answers the loser "database is locked" without waiting (seen in CI).
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute("CREATE TABLE IF NOT EXISTS rate_events (key TEXT NOT NULL, at REAL NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events(key, at)")
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._rates = conn, fd
        return self._rates

    def rate_hit(self, keys: Sequence[str], limit: int, window: float, now: float) -> float | None:
        with self._rates_lock:
            conn, fd = self._rate_conn()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                return self._rate_hit(conn, keys, limit, window, now)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _rate_hit(self, conn: sqlite3.Connection, keys: Sequence[str], limit: int, window: float,
                  now: float) -> float | None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            wait = 0.0
            for key in keys:
                conn.execute("DELETE FROM rate_events WHERE key = ? AND at <= ?", (key, now - window))
                n = conn.execute("SELECT COUNT(*) FROM rate_events WHERE key = ?", (key,)).fetchone()[0]
                if n >= limit:
                    if limit <= 0:
                        wait = max(wait, window)
                        continue
                    # the (n - limit + 1)th oldest event must leave the window before one more fits
                    oldest = conn.execute("SELECT at FROM rate_events WHERE key = ? ORDER BY at LIMIT 1 OFFSET ?",
                                          (key, n - limit)).fetchone()[0]
                    wait = max(wait, oldest + window - now)
            if wait <= 0:
                conn.executemany("INSERT INTO rate_events (key, at) VALUES (?, ?)", [(k, now) for k in keys])
            self._rate_checks += 1
            if self._rate_checks % RATE_SWEEP_EVERY == 0:
                # keys not seen again (one-off addresses) would otherwise keep their last events
                conn.execute("DELETE FROM rate_events WHERE at <= ?", (now - RATE_KEEP_SECONDS,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return wait if wait > 0 else None

