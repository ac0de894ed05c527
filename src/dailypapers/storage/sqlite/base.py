"""The connection base: one file in WAL mode, one writer, pooled per-thread readers.

The entity modules beside this one add their queries as mixins over this class.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

from dailypapers.clock import utcnow
from dailypapers.storage.errors import StorageError
from dailypapers.storage.locks import file_lock
from dailypapers.storage.schema import STATS_KEYS, STATS_SQL, Migration, check_version, load_migrations
from dailypapers.storage.sqlite.rows import format_ts


class _Reader:
    """One thread's reader connection, closed when the thread ends and its thread-local goes: the
    server's worker threads come and go (anyio retires a thread idle for 10 s), and a connection
    kept after its thread holds its page cache (up to 2 MB) for good."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __del__(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


class SQLiteBase:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_ms = busy_timeout_ms
        self._write_lock = threading.Lock()
        # Commits by this process that may change what pages show: PaperService.version() sees
        # them at once, and other processes' commits within its re-read interval.
        self.content_writes = 0
        self._local = threading.local()
        self._all_readers: weakref.WeakSet[_Reader] = weakref.WeakSet()  # the live threads' readers
        self._readers_lock = threading.Lock()
        self._writer = self._connect()

    # -- connections -------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode never corrupts the database; a power cut may drop the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _reader(self) -> sqlite3.Connection:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            reader = self._local.reader = _Reader(conn)
            with self._readers_lock:
                self._all_readers.add(reader)
        return reader.conn

    @contextlib.contextmanager
    def write(self, *, content: bool = True) -> Iterator[sqlite3.Connection]:
        """One writer at a time, in an IMMEDIATE transaction: all or nothing.

        ``content=False`` marks bookkeeping (sessions, rate limits) that no page shows."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                if content:
                    # One counter for every process: pages keyed by it never show stale data,
                    # and reading it is one row, not a scan (see web_version).
                    conn.execute(
                        "INSERT INTO state (key, value) VALUES ('content_version', '1') ON CONFLICT(key) "
                        "DO UPDATE SET value = CAST(value AS INTEGER) + 1"
                    )
                conn.execute("COMMIT")
                if content:
                    self.content_writes += 1

    def read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._reader().execute(sql, params).fetchall()

    def backup(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite's online backup), safe while serving."""
        target = Path(target)
        if target.exists():
            raise StorageError(f"{target} already exists; choose a new file")
        dest = sqlite3.connect(target)
        try:
            self._reader().backup(dest)
        finally:
            dest.close()

    def restore(self, source: str | Path) -> None:
        """Load a backup (a SQLite file, as backup() writes) into this database, which must be empty."""
        source = Path(source)
        if not source.is_file():
            raise StorageError(f"{source} is not a file")
        if self._writer.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            raise StorageError(f"the database {self.path} is not empty: restore into a new data folder")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            with self._write_lock:
                src.backup(self._writer)
        except sqlite3.DatabaseError as e:
            raise StorageError(f"cannot restore {source}: {e}") from None
        finally:
            src.close()
        self.check_schema()

    def close(self) -> None:
        with self._readers_lock:
            for reader in list(self._all_readers):
                reader.conn.close()
            self._all_readers.clear()
        self._local = threading.local()
        self._writer.close()

    # -- schema ------------------------------------------------------------
    def _ensure_migrations_table(self) -> None:
        self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )

    def schema_version(self) -> int:
        row = self._writer.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if row is None:
            return 0
        return self._writer.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    def migrate(self) -> list[Migration]:
        applied = []
        with self._write_lock:
            self._ensure_migrations_table()
            current = self.schema_version()
            for m in load_migrations():
                if m.version <= current:
                    continue
                # executescript commits on its own, so the version row goes in the same script.
                record = (
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES "
                    f"({m.version}, '{m.name}', '{format_ts(utcnow())}');"
                )
                self._writer.executescript(f"BEGIN;\n{m.sql}\n{record}\nCOMMIT;")
                applied.append(m)
        return applied

    def check_schema(self) -> None:
        check_version(self.schema_version(), load_migrations()[-1].version, str(self.path))

    def stats(self) -> dict[str, int]:
        return dict(zip(STATS_KEYS, self.read(STATS_SQL)[0]))

    # -- state -------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM state WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_state(self, key: str, value: str) -> None:
        with self.write() as conn:
            self._set_state(conn, key, value)

    @staticmethod
    def _set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def exclusive(self, name: str) -> contextlib.AbstractContextManager[bool]:
        """The named run lock: an flock on <db>.<name>.lock beside the database file."""
        return file_lock(self.path.with_name(f"{self.path.name}.{name}.lock"))

    def web_version(self) -> tuple:
        """Changes whenever anything a page shows may have changed: every write transaction not
        marked as bookkeeping, by any process, bumps it."""
        rows = self.read("SELECT value FROM state WHERE key = 'content_version'")
        return (int(rows[0][0]) if rows else 0,)
