"""The connection base: a psycopg pool, one content lock, migrations, state and the content version.

* Reads take a pooled connection in autocommit mode: one statement, its own snapshot.
* Writes run in one transaction on one pooled connection. A write that pages may show
  (``content=True``) first takes the cluster-wide advisory lock ``CONTENT_LOCK``, so content
  writes commit one at a time, in the order they took their ``seq`` numbers: a search index that
  has caught up to seq N has seen every change up to N, as with SQLite's one writer. Bookkeeping
  (sessions, rate limits) skips the lock.
* Every content commit bumps ``content_version`` in ``state`` and NOTIFYs ``dailypapers_content``
  with it; a listener thread (started by the first ``web_version`` call) counts the
  notifications into ``content_writes``, so every node's page cache drops stale pages within
  milliseconds of a commit anywhere, not at its next poll.
* A server that cannot be reached raises ``DatabaseUnavailable`` (the web answers 503 with
  Retry-After); the pool replaces broken connections, so service resumes by itself when the
  server is back. A wrong password or database name is a plain ``StorageError``. A pooled
  connection is checked (one round trip) before it is handed out only when it has been idle for
  more than ``CHECK_IDLE`` seconds or its socket has something to read (an idle connection has
  nothing to read unless the server ended it: a restart, pg_terminate_backend); a vote took 4
  checkouts, each with its round trip. A connection found lost makes every pooled one suspect
  (checked at its next checkout), and a read (one statement, safe to repeat) is tried once more.

The entity modules beside this one add their queries as mixins over this class. Dates,
timestamps and JSON columns are loaded as text and parsed by the row mappers both backends share
(``storage/rows.py``), so a record reads back the same from either.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from dailypapers.storage.errors import DatabaseUnavailable, StorageError
from dailypapers.storage.schema import STATS_KEYS, STATS_SQL, Migration, check_version, load_migrations

MIGRATIONS = "dailypapers.storage.postgres.migrations"
# Advisory lock keys (any bigint; these spell "dp" and a number).
CONTENT_LOCK = 0x6470_0001
MIGRATE_LOCK = 0x6470_0002
CHANNEL = "dailypapers_content"
# SQLSTATE classes a retry cannot fix: bad password or role (28), no such database (3D).
_FATAL_STATES = ("28", "3D")
POOL_MAX = 12
# Connections a web process opens at start and keeps: a vote burst after a start or a quiet spell
# then finds warm ones instead of waiting for new ones (~12 ms to connect here).
POOL_MIN_SERVING = 4
# Run on each new connection before the pool hands it out. A new server process loads the
# catalog entries of every table, index and function on first use: a token lookup, rate check
# and vote took 14-17 ms first on a new connection and 5-6 ms after; 8 ms first once warmed.
WARM_UP = (
    "SELECT 1 FROM papers, listings, votes, users, api_tokens, sessions, state, rate_events WHERE false",
    "SELECT dp_rate_hit('{}'::text[], 0, 1, 0, NULL)",  # no keys: compiles the function, writes nothing
)
# Every content commit: the next content version, NOTIFYed to every node (sent at commit).
BUMP_VERSION = (
    "WITH v AS (INSERT INTO state (key, value) VALUES ('content_version', '1') ON CONFLICT (key) "
    "DO UPDATE SET value = (state.value::bigint + 1)::text RETURNING value) SELECT pg_notify(%s, value) FROM v"
)
# Seconds a request waits for a connection before it is answered 503.
POOL_TIMEOUT = 3.0
CHECK_IDLE = 2.0  # seconds: a pooled connection idle longer is checked before it is handed out
CONNECT_TIMEOUT = 5


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unreadable URL)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{info.get('dbname') or ''}"


def _configure(conn: psycopg.Connection) -> None:
    # Days, times and JSON come back as text for the shared row mappers (storage/rows.py).
    for name in ("date", "timestamptz", "jsonb"):
        conn.adapters.register_loader(name, TextLoader)
    try:
        for sql in WARM_UP:
            conn.execute(sql)
    except psycopg.Error:
        pass  # a database not migrated yet: the connection is still good for migrate


def connect_error(url: str, e: Exception) -> StorageError:
    """One clear line for a failed connection: fatal for a wrong URL, password or database,
    DatabaseUnavailable (retry) when the server cannot be reached."""
    where = describe(url)
    text = " ".join(str(e).split()) or type(e).__name__
    state = getattr(e, "sqlstate", None) or ""
    lowered = text.lower()
    if state.startswith(_FATAL_STATES) or "password authentication failed" in lowered \
            or "does not exist" in lowered or "no password supplied" in lowered \
            or "could not translate host name" in lowered or "invalid" in lowered and "dsn" in lowered:
        return StorageError(f"cannot use the database at {where}: {text}")
    return DatabaseUnavailable(f"the database at {where} cannot be reached: {text}")


class _Lost(DatabaseUnavailable):
    """A pooled connection failed: the server went away, or had ended that connection."""


def _readable(conn: psycopg.Connection) -> bool:
    """Whether an idle connection's socket has something to read (no round trip)."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True


class PostgresBase:
    def __init__(self, url: str, *, pool_min: int = 1, pool_max: int = POOL_MAX, pool_timeout: float = POOL_TIMEOUT):
        self.url = url
        self.where = describe(url)
        # Commits that may change what pages show: this process's, and (through NOTIFY, once
        # web_version has started the listener) every other process's.
        self.content_writes = 0
        self._count_lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()
        # close() NOTIFYs this channel so the listener stops now, not at its next half-second poll.
        self._stop_channel = f"dailypapers_stop_{os.getpid()}_{id(self)}"
        self.probe()
        self._used: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()
        self._pool = ConnectionPool(
            url, min_size=pool_min, max_size=pool_max, timeout=pool_timeout, open=False, name="dailypapers",
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "options": "-c TimeZone=UTC"},
            configure=_configure, check=self._check, reconnect_timeout=0,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
        except PoolTimeout as e:
            self._pool.close()
            raise DatabaseUnavailable(f"the database at {self.where} cannot be reached: {e}") from None

    def probe(self) -> None:
        """Connect once: raises the one-line error a bad URL, password or a down server deserves."""
        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as e:
            raise connect_error(self.url, e) from None

    # -- connections -------------------------------------------------------
    def _check(self, conn: psycopg.Connection) -> None:
        if time.monotonic() - self._used.get(conn, 0.0) > CHECK_IDLE or _readable(conn):
            ConnectionPool.check_connection(conn)

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in autocommit mode; a lost server becomes DatabaseUnavailable."""
        try:
            with self._pool.connection() as conn:
                yield conn
                self._used[conn] = time.monotonic()
        except PoolTimeout:
            raise DatabaseUnavailable(f"no connection to the database at {self.where}") from None
        except psycopg.OperationalError as e:
            if e.sqlstate and not e.sqlstate.startswith(("08", "57")):
                raise  # a real query error (deadlock, serialization...), not a lost server
            self._used.clear()  # the others were most likely lost with it
            raise _Lost(f"lost the database at {self.where}: {' '.join(str(e).split())}") from None

    @contextlib.contextmanager
    def write(self, *, content: bool = True) -> Iterator[psycopg.Connection]:
        """One transaction: all or nothing. ``content=False`` marks bookkeeping (sessions, rate
        limits) that no page shows: it neither waits for the content lock nor bumps the version."""
        with self.connection() as conn, conn.transaction():
            if content:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (CONTENT_LOCK,))
            yield conn
            if content:
                conn.execute(BUMP_VERSION, (CHANNEL,))
        if content:
            self._count_write()

    def read(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        try:
            with self.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except _Lost:  # on a connection that skipped its check: once more, on a checked one
            with self.connection() as conn:
                return conn.execute(sql, params).fetchall()

    def _count_write(self) -> None:
        with self._count_lock:
            self.content_writes += 1

    # -- the content version -----------------------------------------------
    def web_version(self) -> tuple:
        """Changes whenever anything a page shows may have changed, by any process on any node."""
        self._start_listener()
        rows = self.read("SELECT value FROM state WHERE key = 'content_version'")
        return (int(rows[0][0]) if rows else 0,)

    def _start_listener(self) -> None:
        if self._listener is None:
            with self._count_lock:
                if self._listener is None:
                    self._listener = threading.Thread(target=self._listen, name="dailypapers-listen", daemon=True)
                    self._listener.start()

    def _listen(self) -> None:
        backoff = 0.25
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {self._stop_channel}")
                    self._count_write()  # commits while we were not listening
                    backoff = 0.25
                    while not self._closing.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if note.channel == self._stop_channel:
                                break
                            self._count_write()
            except psycopg.Error:
                # The server went away: pages fall back on PaperService's short re-read interval.
                self._closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    # -- maintenance -------------------------------------------------------
    def _client(self) -> tuple[str, dict[str, str]]:
        """The connection string for pg_dump and pg_restore, with the password passed in the
        environment (PGPASSWORD) rather than on their command line, where `ps` would show it."""
        info = {k: str(v) for k, v in conninfo_to_dict(self.url).items()}
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        password = info.pop("password", None)
        if password is not None:
            env["PGPASSWORD"] = password
        return make_conninfo(**info), env

    def backup(self, target: str | Path) -> None:
        """A consistent dump of the live database (pg_dump's custom format; restore with restore())."""
        target = Path(target)
        if target.exists():
            raise StorageError(f"{target} already exists; choose a new file")
        if shutil.which("pg_dump") is None:
            raise StorageError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
        conninfo, env = self._client()
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), conninfo],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            target.unlink(missing_ok=True)
            raise StorageError(f"pg_dump failed: {' '.join(done.stderr.split())}")

    def restore(self, source: str | Path) -> None:
        """Load a backup (pg_dump's custom format) into this database, which must be empty: all of
        it in one transaction, or nothing."""
        source = Path(source)
        if not source.is_file():
            raise StorageError(f"{source} is not a file")
        if shutil.which("pg_restore") is None:
            raise StorageError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
        tables = self.read("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()")
        if tables[0][0]:
            raise StorageError(f"the database {self.where} is not empty: restore into a new one (createdb NAME)")
        conninfo, env = self._client()
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
                               "--dbname", conninfo, str(source)], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise StorageError(f"pg_restore failed: {' '.join(done.stderr.split())}")
        self.check_schema()

    def close(self) -> None:
        self._closing.set()
        if self._listener is not None:
            with contextlib.suppress(psycopg.Error, PoolTimeout), self._pool.connection(timeout=0.5) as conn:
                conn.execute(f"NOTIFY {self._stop_channel}")
            self._listener.join(timeout=2)
        self._pool.close()

    def stats(self) -> dict[str, int]:
        return dict(zip(STATS_KEYS, self.read(STATS_SQL)[0]))

    # -- schema ------------------------------------------------------------
    def schema_version(self) -> int:
        rows = self.read("SELECT to_regclass('schema_migrations') IS NOT NULL")
        if not rows[0][0]:
            return 0
        return self.read("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0]

    def migrate(self) -> list[Migration]:
        """Apply the migrations this database lacks, each in its own transaction. Several nodes
        may run it at once: an advisory lock makes the others wait, then find nothing to do."""
        applied = []
        with self.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                current = self.schema_version()
                for m in load_migrations(MIGRATIONS):
                    if m.version <= current:
                        continue
                    with conn.transaction():
                        conn.execute(m.sql.encode())
                        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                     (m.version, m.name))
                    applied.append(m)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))
        return applied

    def check_schema(self) -> None:
        check_version(self.schema_version(), load_migrations(MIGRATIONS)[-1].version, str(self.where))

    # -- state -------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM state WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def set_state(self, key: str, value: str) -> None:
        with self.write() as conn:
            self._set_state(conn, key, value)

    @staticmethod
    def _set_state(conn: psycopg.Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO state (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- run locks ---------------------------------------------------------
    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Yields True while this process alone holds the named lock across every node sharing
        the database, False when another holds it. A session-level advisory lock on a connection
        of its own: it dies with the process (or a lost connection), like flock."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as e:
            raise connect_error(self.url, e) from None
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (name,)).fetchone()
            yield bool(got and got[0])
        finally:
            conn.close()

