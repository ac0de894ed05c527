"""SQLite store: one file in WAL mode, one writer, pooled per-thread readers."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import orjson

from dailypapers.models import Listing, Organization, Outcome, Paper, StoredPaper
from dailypapers.storage import (
    Migration,
    SchemaOutdated,
    StorageError,
    load_migrations,
)
from dailypapers.storage.merge import merge_paper
from dailypapers.clock import utcnow

_PAPER_COLUMNS = (
    "arxiv_id", "version", "title", "abstract", "authors", "categories", "primary_category",
    "published", "updated", "comment", "github_repo", "github_stars", "project_page",
    "org_name", "org_fullname", "org_avatar", "ai_summary", "ai_keywords", "withdrawn", "observed_at",
)
_SELECT_PAPER = (
    "SELECT " + ", ".join(_PAPER_COLUMNS) + ", hf_upvotes, votes, num_comments, added_at, seq FROM papers"
)
# Keeps IN (...) lists under SQLite's variable limit.
_CHUNK = 500
# Rate-limit events older than the longest sensible window are swept every so many checks.
RATE_SWEEP_EVERY = 1000
RATE_KEEP_SECONDS = 86_400



def format_ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    elif value.utcoffset():
        value = value.astimezone(dt.timezone.utc)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def paper_row(p: Paper) -> tuple:
    org = p.organization
    return (
        p.arxiv_id, p.version, p.title, p.abstract, _dumps(p.authors),
        _dumps(p.categories), p.primary_category, format_ts(p.published), format_ts(p.updated),
        p.comment, p.github_repo, p.github_stars, p.project_page,
        org.name if org else None, org.fullname if org else None, org.avatar if org else None,
        p.ai_summary, _dumps(p.ai_keywords), int(p.withdrawn), format_ts(p.observed_at),
    )


def row_paper(r: Sequence) -> StoredPaper:
    org = Organization(r[13], r[14], r[15]) if r[13] else None
    return StoredPaper(
        arxiv_id=r[0], version=r[1], title=r[2], abstract=r[3], authors=orjson.loads(r[4]),
        categories=orjson.loads(r[5]), published=parse_ts(r[7]), updated=parse_ts(r[8]),
        comment=r[9], github_repo=r[10], github_stars=r[11], project_page=r[12],
        organization=org, ai_summary=r[16], ai_keywords=orjson.loads(r[17]), withdrawn=bool(r[18]),
        observed_at=parse_ts(r[19]), hf_upvotes=r[20], votes=r[21], num_comments=r[22], added_at=parse_ts(r[23]),
    )


def _listing_row(item: Listing) -> tuple:
    return (
        item.day.isoformat(), item.arxiv_id, item.rank, item.submitted_by,
        format_ts(item.submitted_at), item.upvotes, item.num_comments, item.source,
    )


def _row_listing(r: Sequence) -> Listing:
    return Listing(
        day=dt.date.fromisoformat(r[0]), arxiv_id=r[1], rank=r[2], submitted_by=r[3],
        submitted_at=parse_ts(r[4]), upvotes=r[5], num_comments=r[6], source=r[7],
    )


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SQLiteStore:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_ms = busy_timeout_ms
        self._write_lock = threading.Lock()
        # Commits by this process that may change what pages show: PaperService.version() sees
        # them at once, and other processes' commits within its re-read interval.
        self.content_writes = 0
        self._rates: sqlite3.Connection | None = None  # the rate-limit log, opened on first use
        self._rates_lock = threading.Lock()
        self._rate_checks = 0
        self._local = threading.local()
        self._all_readers: list[sqlite3.Connection] = []
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
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._all_readers.append(conn)
        return conn

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

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
            self._all_readers.clear()
        self._local = threading.local()
        self._writer.close()
        with self._rates_lock:
            if self._rates is not None:
                self._rates.close()
                self._rates = None

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
        latest = load_migrations()[-1].version
        current = self.schema_version()
        if current < latest:
            raise SchemaOutdated(
                f"the database {self.path} is at schema version {current}, this code needs {latest}: "
                "run `dailypapers migrate` first"
            )
        if current > latest:
            raise SchemaOutdated(
                f"the database {self.path} is at schema version {current}, newer than this code ({latest}): "
                "upgrade dailypapers"
            )

    # -- papers ------------------------------------------------------------
    def _stored(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, StoredPaper]:
        found: dict[str, StoredPaper] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"{_SELECT_PAPER} WHERE arxiv_id IN ({marks})", chunk):
                found[r[0]] = row_paper(r)
        return found

    def ingest_batch(
        self, papers: Sequence[Paper], listings: Sequence[Listing] = (), state: tuple[str, str] | None = None
    ) -> tuple[list[str], list[str]]:
        """Upsert papers, then listings, in one transaction; returns an Outcome per record.

        `state` (key, value) is saved in the same transaction: a resume checkpoint
        can never disagree with what was committed.
        """
        now = format_ts(utcnow())
        paper_outcomes: list[str] = []
        listing_outcomes: list[str] = []
        with self.write() as conn:
            # Every changed paper gets its own seq, so readers can page through changes by seq.
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
            stored = self._stored(conn, [p.arxiv_id for p in papers])
            inserts, updates, stale_embeddings = [], [], []
            for incoming in papers:
                old = stored.get(incoming.arxiv_id)
                merged = merge_paper(old, incoming) if old is not None else incoming
                row = paper_row(merged)
                if old is None:
                    seq += 1
                    inserts.append(row + (now, now, seq))
                    paper_outcomes.append(Outcome.ADDED)
                elif row != paper_row(old):
                    seq += 1
                    updates.append(row[1:] + (now, seq, row[0]))
                    paper_outcomes.append(Outcome.UPDATED)
                    if (merged.title, merged.abstract) != (old.title, old.abstract):
                        stale_embeddings.append((merged.arxiv_id,))
                else:
                    paper_outcomes.append(Outcome.UNCHANGED)
                stored[incoming.arxiv_id] = merged  # a batch may hold the same paper twice
            cols = ", ".join(_PAPER_COLUMNS)
            conn.executemany(
                f"INSERT INTO papers ({cols}, added_at, modified_at, seq) "
                f"VALUES ({', '.join('?' * (len(_PAPER_COLUMNS) + 3))})",
                inserts,
            )
            sets = ", ".join(f"{c} = ?" for c in _PAPER_COLUMNS[1:])
            conn.executemany(
                f"UPDATE papers SET {sets}, modified_at = ?, seq = ? WHERE arxiv_id = ?", updates
            )
            # New text means a new embedding; `embed` picks these up again.
            conn.executemany("DELETE FROM embeddings WHERE arxiv_id = ?", stale_embeddings)
            if listings:
                listing_outcomes = self._upsert_listings(conn, listings)
            if state is not None:
                self._set_state(conn, *state)
        return paper_outcomes, listing_outcomes

    def _upsert_listings(self, conn: sqlite3.Connection, listings: Sequence[Listing]) -> list[str]:
        outcomes = []
        changed_papers: set[str] = set()
        for item in listings:
            row = _listing_row(item)
            old = conn.execute(
                "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source "
                "FROM listings WHERE day = ? AND arxiv_id = ?",
                row[:2],
            ).fetchone()
            if old is None:
                # community (issue 5): columns named, since 0002 adds pinned, hidden and submitter_id
                conn.execute(
                    "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, "
                    "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                outcomes.append(Outcome.ADDED)
            elif tuple(old) != row:
                conn.execute(
                    "UPDATE listings SET rank = ?, submitted_by = ?, submitted_at = ?, upvotes = ?, "
                    "num_comments = ?, source = ? WHERE day = ? AND arxiv_id = ?",
                    row[2:] + row[:2],
                )
                outcomes.append(Outcome.UPDATED)
            else:
                outcomes.append(Outcome.UNCHANGED)
                continue
            changed_papers.add(item.arxiv_id)
        # The imported base count is the paper's best-known HF count across its listings. A paper
        # whose count changes gets a new seq, so the next index sync carries it to the search
        # filters (min upvotes), as a member's vote does.
        for chunk in _chunks(sorted(changed_papers)):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT p.arxiv_id, p.hf_upvotes, (SELECT COALESCE(MAX(upvotes), 0) FROM listings l "
                f"WHERE l.arxiv_id = p.arxiv_id) FROM papers p WHERE p.arxiv_id IN ({marks}) ORDER BY p.arxiv_id",
                chunk,
            ).fetchall()
            moved = [(new, arxiv_id) for arxiv_id, old, new in rows if old != new]
            if moved:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
                conn.executemany("UPDATE papers SET hf_upvotes = ?, seq = ? WHERE arxiv_id = ?",
                                 [(n, seq + k, a) for k, (n, a) in enumerate(moved, start=1)])
        return outcomes

    def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        rows = self.read(f"{_SELECT_PAPER} WHERE arxiv_id = ?", (arxiv_id,))
        return row_paper(rows[0]) if rows else None

    def get_papers(self, arxiv_ids: Sequence[str]) -> dict[str, StoredPaper]:
        found: dict[str, StoredPaper] = {}
        for chunk in _chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            for r in self.read(f"{_SELECT_PAPER} WHERE arxiv_id IN ({marks})", chunk):
                found[r[0]] = row_paper(r)
        return found

    def iter_papers(self, batch_size: int = 1000) -> Iterator[StoredPaper]:
        last = ""
        while True:
            rows = self.read(
                f"{_SELECT_PAPER} WHERE arxiv_id > ? ORDER BY arxiv_id LIMIT ?", (last, batch_size)
            )
            if not rows:
                return
            for r in rows:
                yield row_paper(r)
            last = rows[-1][0]

    def papers_changed_since(self, seq: int, limit: int = 1000) -> list[tuple[int, StoredPaper]]:
        rows = self.read(f"{_SELECT_PAPER} WHERE seq > ? ORDER BY seq, arxiv_id LIMIT ?", (seq, limit))
        return [(r[24], row_paper(r)) for r in rows]

    def max_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM papers")[0][0]

    # -- listings ----------------------------------------------------------
    _SELECT_LISTING = (
        "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source FROM listings"
    )

    def listings_for_paper(self, arxiv_id: str) -> list[Listing]:
        rows = self.read(f"{self._SELECT_LISTING} WHERE arxiv_id = ? ORDER BY day", (arxiv_id,))
        return [_row_listing(r) for r in rows]

    def listings_between(self, start: dt.date, end: dt.date) -> list[Listing]:
        rows = self.read(
            f"{self._SELECT_LISTING} WHERE day BETWEEN ? AND ? ORDER BY day, rank",
            (start.isoformat(), end.isoformat()),
        )
        return [_row_listing(r) for r in rows]

    def listing_days(self) -> list[dt.date]:
        return [dt.date.fromisoformat(r[0]) for r in self.read("SELECT DISTINCT day FROM listings ORDER BY day")]

    def stats(self) -> dict[str, int]:
        r = self.read(
            "SELECT (SELECT COUNT(*) FROM papers), (SELECT COUNT(*) FROM listings), "
            "(SELECT COUNT(DISTINCT day) FROM listings), (SELECT COUNT(*) FROM embeddings), "
            "(SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM votes), (SELECT COUNT(*) FROM subscriptions)"
        )[0]
        keys = ("papers", "listings", "listing_days", "embeddings", "users", "votes", "subscriptions")
        return dict(zip(keys, r))

    # -- embeddings --------------------------------------------------------
    def embedding_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]:
        """(arxiv_id, title, abstract) of papers with no embedding from this model."""
        return self.read(
            "SELECT p.arxiv_id, p.title, p.abstract FROM papers p "
            "LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id "
            "WHERE e.arxiv_id IS NULL OR e.model_id != ? ORDER BY p.arxiv_id LIMIT ?",
            (model_id, limit),
        )

    def count_embedding_tasks(self, model_id: str) -> int:
        return self.read(
            "SELECT COUNT(*) FROM papers p LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id "
            "WHERE e.arxiv_id IS NULL OR e.model_id != ?",
            (model_id,),
        )[0][0]

    def put_embeddings(self, model_id: str, rows: Iterable[tuple[str, str, bytes]]) -> int:
        """Store (or replace) embeddings; each row gets the next embedding seq, which is how the
        vector index finds what to add without scanning every vector."""
        with self.write() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM embeddings").fetchone()[0]
            data = [(arxiv_id, model_id, text_hash, vector, seq + k)
                    for k, (arxiv_id, text_hash, vector) in enumerate(rows, start=1)]
            conn.executemany(
                "INSERT INTO embeddings (arxiv_id, model_id, text_hash, vector, seq) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(arxiv_id) DO UPDATE SET model_id = excluded.model_id, "
                "text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq",
                data,
            )
        return len(data)

    def max_embedding_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM embeddings")[0][0]

    def iter_embeddings(self, model_id: str, batch_size: int = 5000, *,
                        after_seq: int | None = None) -> Iterator[list[tuple[str, bytes]]]:
        """[(arxiv_id, vector blob)] batches: all of them by id, or (after_seq) those written since."""
        # keyset pagination; the third column is the key of the next page
        if after_seq is None:
            sql, last = ("SELECT arxiv_id, vector, arxiv_id FROM embeddings WHERE model_id = ? AND arxiv_id > ? "
                         "ORDER BY arxiv_id LIMIT ?"), ""
        else:
            sql, last = ("SELECT arxiv_id, vector, seq FROM embeddings WHERE model_id = ? AND seq > ? "
                         "ORDER BY seq LIMIT ?"), after_seq
        while True:
            rows = self.read(sql, (model_id, last, batch_size))
            if not rows:
                return
            yield [(r[0], r[1]) for r in rows]
            last = rows[-1][2]

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


    # -- read models for the web (issue 4) ----------------------------------
    # Everything below serves dailypapers.papers.PaperService and the web layer.
    # Parameterized SQL only.
    _LP_COLUMNS = (
        "l.day, l.arxiv_id, l.rank, l.submitted_by, l.submitted_at, l.upvotes, l.num_comments, l.source, "
        + ", ".join("p." + c for c in _PAPER_COLUMNS)
        + ", p.hf_upvotes, p.votes, p.num_comments, p.added_at, p.seq"
    )
    # community (issue 5): "AND l.hidden = 0" keeps listings a curator hid off every list and API page.
    _SELECT_LP = f"SELECT {_LP_COLUMNS} FROM listings l JOIN papers p ON p.arxiv_id = l.arxiv_id AND l.hidden = 0"

    @staticmethod
    def _row_lp(r: Sequence) -> tuple[Listing, StoredPaper]:
        return _row_listing(r[:8]), row_paper(r[8:])

    def day_listing(self, day: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """One day's list, in imported rank order."""
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.day = ? AND l.hidden = 0 ORDER BY l.rank IS NULL, l.rank, l.arxiv_id", (day.isoformat(),)
        )
        return [self._row_lp(r) for r in rows]

    def listings_in_range(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """Every listing from start to end inclusive (a paper may appear on several days)."""
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.day BETWEEN ? AND ? AND l.hidden = 0 ORDER BY l.day, l.rank IS NULL, l.rank, l.arxiv_id",
            (start.isoformat(), end.isoformat()),
        )
        return [self._row_lp(r) for r in rows]

    def nearest_listing_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The closest days before and after `day` (exclusive) that have papers."""
        r = self.read(
            "SELECT (SELECT MAX(day) FROM listings WHERE day < ? AND hidden = 0), "
            "(SELECT MIN(day) FROM listings WHERE day > ? AND hidden = 0)",
            (day.isoformat(), day.isoformat()),
        )[0]
        return (
            dt.date.fromisoformat(r[0]) if r[0] else None,
            dt.date.fromisoformat(r[1]) if r[1] else None,
        )

    def latest_listing_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        if on_or_before is None:
            r = self.read("SELECT MAX(day) FROM listings WHERE hidden = 0")[0]
        else:
            r = self.read("SELECT MAX(day) FROM listings WHERE day <= ? AND hidden = 0", (on_or_before.isoformat(),))[0]
        return dt.date.fromisoformat(r[0]) if r[0] else None

    def papers_by_org(self, name: str, limit: int = 50, offset: int = 0) -> tuple[list[StoredPaper], int]:
        """An organization's papers, newest first, and how many there are."""
        total = self.read("SELECT COUNT(*) FROM papers WHERE org_name = ?", (name,))[0][0]
        rows = self.read(
            f"{_SELECT_PAPER} WHERE org_name = ? ORDER BY published IS NULL, published DESC, arxiv_id DESC "
            "LIMIT ? OFFSET ?",
            (name, limit, offset),
        )
        return [row_paper(r) for r in rows], total

    def daily_papers_api(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        submitter: str | None = None,
        sort: str = "publishedAt",
        limit: int | None = 50,
        offset: int = 0,
    ) -> list[tuple[Listing, StoredPaper]]:
        """Listings for the HF-style API: newest day first, then most upvoted.

        sort="publishedAt" orders by day (newest first), then upvotes; any other value returns
        the same rows (the caller re-ranks, e.g. by trending). limit=None returns all rows.
        """
        where, params = ["l.hidden = 0"], []
        if start is not None:
            where.append("l.day >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("l.day <= ?")
            params.append(end.isoformat())
        if submitter is not None:
            where.append("l.submitted_by = ?")
            params.append(submitter)
        sql = self._SELECT_LP + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY l.day DESC, (p.hf_upvotes + p.votes) DESC, l.rank IS NULL, l.rank, l.arxiv_id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [self._row_lp(r) for r in self.read(sql, params)]

    def web_version(self) -> tuple:
        """Changes whenever anything a page shows may have changed: every write transaction not
        marked as bookkeeping, by any process, bumps it."""
        rows = self.read("SELECT value FROM state WHERE key = 'content_version'")
        return (int(rows[0][0]) if rows else 0,)

    # -- digests (issue 6) ---------------------------------------------------
    # Subscriptions, the digest send log and sent papers. Serves dailypapers.digests.
    # Parameterized SQL only; column names below are from fixed whitelists.
    _SUB_COLUMNS = (
        "id", "email", "user_id", "frequency", "weekday", "skip_weekends", "topics", "include_upvotes",
        "confirmed_at", "unsubscribed_at", "created_at", "updated_at", "confirm_nonce", "confirm_sent_at",
        "manage_key", "notice_sent_at", "fail_count", "last_failure_at", "last_error",
    )
    _SUB_TIMES = ("confirmed_at", "unsubscribed_at", "created_at", "updated_at", "confirm_sent_at",
                  "notice_sent_at", "last_failure_at")
    _SEND_COLUMNS = (
        "id, subscription_id, period_key, status, message_id, entries, attempts, next_attempt_at, "
        "last_error, created_at, sent_at"
    )

    @classmethod
    def _row_subscription(cls, r: Sequence):
        import json as _json

        from dailypapers.models import Subscription

        d = dict(zip(cls._SUB_COLUMNS, r))
        for k in cls._SUB_TIMES:
            d[k] = parse_ts(d[k])
        d["skip_weekends"] = bool(d["skip_weekends"])
        d["include_upvotes"] = bool(d["include_upvotes"])
        d["topics"] = _json.loads(d["topics"] or "[]")
        return Subscription(**d)

    def _select_subscriptions(self, where: str, params: Sequence) -> list:
        cols = ", ".join(self._SUB_COLUMNS)
        return [self._row_subscription(r) for r in self.read(f"SELECT {cols} FROM subscriptions WHERE {where}", params)]

    def get_subscription(self, sub_id: int):
        found = self._select_subscriptions("id = ?", (sub_id,))
        return found[0] if found else None

    def get_subscription_by_email(self, email: str):
        found = self._select_subscriptions("email = ?", (email,))
        return found[0] if found else None

    def get_subscription_for_user(self, user_id: int):
        found = self._select_subscriptions("user_id = ?", (user_id,))
        return found[0] if found else None

    def save_subscription(self, sub):
        """Insert (id None) or update every column of a subscription; returns it with its id.

        Raises StorageError if the email (or the member) already has another subscription."""
        import json as _json

        values = {
            k: getattr(sub, k) for k in self._SUB_COLUMNS if k != "id"
        }
        for k in self._SUB_TIMES:
            values[k] = format_ts(values[k])
        values["skip_weekends"] = int(sub.skip_weekends)
        values["include_upvotes"] = int(sub.include_upvotes)
        values["topics"] = _json.dumps(list(sub.topics), ensure_ascii=False)
        if values["created_at"] is None:
            values["created_at"] = format_ts(utcnow())
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
        return self.get_subscription(sub_id)

    def claim_subscription_mail(self, sub_id: int, column: str, now: dt.datetime, min_interval: float) -> bool:
        """Atomically record that an email goes out now, unless one went out less than
        `min_interval` seconds ago. True: go ahead and send."""
        if column not in ("confirm_sent_at", "notice_sent_at"):
            raise ValueError(f"not a mail timestamp column: {column}")
        cutoff = format_ts(now - dt.timedelta(seconds=min_interval))
        with self.write() as conn:
            cur = conn.execute(
                f"UPDATE subscriptions SET {column} = ? WHERE id = ? AND ({column} IS NULL OR {column} <= ?)",
                (format_ts(now), sub_id, cutoff),
            )
        return cur.rowcount == 1

    def release_subscription_mail(self, sub_id: int, column: str, previous: dt.datetime | None) -> None:
        """Undo claim_subscription_mail when the email could not be sent."""
        if column not in ("confirm_sent_at", "notice_sent_at"):
            raise ValueError(f"not a mail timestamp column: {column}")
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

    def user_upvoted_ids(self, user_id: int, limit: int = 500) -> list[str]:
        """The papers a member upvoted, most recent first."""
        rows = self.read(
            "SELECT arxiv_id FROM votes WHERE user_id = ? ORDER BY created_at DESC, arxiv_id LIMIT ?",
            (user_id, limit),
        )
        return [r[0] for r in rows]

    def users_upvoted_ids(self, user_ids: Sequence[int], limit_each: int = 500) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for chunk in _chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(chunk))
            for uid, aid in self.read(
                f"SELECT user_id, arxiv_id FROM votes WHERE user_id IN ({marks}) ORDER BY user_id, created_at DESC",
                chunk,
            ):
                ids = out.setdefault(uid, [])
                if len(ids) < limit_each:
                    ids.append(aid)
        return out

    def sent_paper_ids(self, sub_ids: Sequence[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {i: set() for i in sub_ids}
        for chunk in _chunks(sorted(set(sub_ids))):
            marks = ",".join("?" * len(chunk))
            for sid, aid in self.read(
                f"SELECT subscription_id, arxiv_id FROM digest_sent_papers WHERE subscription_id IN ({marks})", chunk
            ):
                out[sid].add(aid)
        return out

    def embeddings_for(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """(model_id, float32 vector) for each paper that has an embedding."""
        out: dict[str, tuple[str, bytes]] = {}
        for chunk in _chunks(sorted(set(arxiv_ids))):
            marks = ",".join("?" * len(chunk))
            for aid, model, vec in self.read(
                f"SELECT arxiv_id, model_id, vector FROM embeddings WHERE arxiv_id IN ({marks})", chunk
            ):
                out[aid] = (model, vec)
        return out

    def digest_pool(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """Visible listings (not hidden by a curator) from start to end, earliest listing per paper first."""
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.day BETWEEN ? AND ? AND COALESCE(l.hidden, 0) = 0 AND p.withdrawn = 0 "
            "ORDER BY l.day, l.rank IS NULL, l.rank, l.arxiv_id",
            (start.isoformat(), end.isoformat()),
        )
        return [self._row_lp(r) for r in rows]

    @staticmethod
    def _row_send(r: Sequence):
        import json as _json

        from dailypapers.models import DigestEntry, DigestSend

        entries = [DigestEntry(a, list(reasons), section) for a, section, reasons in _json.loads(r[5])]
        return DigestSend(
            id=r[0], subscription_id=r[1], period_key=r[2], status=r[3], message_id=r[4], entries=entries,
            attempts=r[6], next_attempt_at=parse_ts(r[7]), last_error=r[8], created_at=parse_ts(r[9]),
            sent_at=parse_ts(r[10]),
        )

    def plan_digest_sends(self, sends: Sequence, now: dt.datetime) -> list:
        """Record composed digests as 'pending' and reserve their papers, in one transaction.

        A (subscriber, period) that already has a row is left alone (another run planned it);
        returns the rows inserted, with ids."""
        import json as _json

        ts = format_ts(now)
        planned = []
        with self.write() as conn:
            for s in sends:
                entries = _json.dumps([[e.arxiv_id, e.section, e.reasons] for e in s.entries], ensure_ascii=False)
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

    def get_digest_send(self, subscription_id: int, period_key: str):
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
        rows = self.read("SELECT status, COUNT(*) FROM digest_sends WHERE period_key = ? GROUP BY status", (period_key,))
        return {r[0]: r[1] for r in rows}

    # -- community (issue 5) --
    # Accounts, sessions, API tokens, votes, submissions, curation, comments, trending and
    # store-backed rate limits. Parameterized SQL only. Counters (papers.votes, papers.num_comments,
    # papers.trending_score) change in the same transaction as the rows they count.
    _USER_COLUMNS = (
        "id, email, name, role, created_at, verified_at, disabled_at, password_hash, password_changed_at, "
        "show_upvotes, show_submissions"
    )

    @staticmethod
    def _row_user(r: Sequence):
        from dailypapers.models import User

        return User(
            id=r[0], email=r[1], name=r[2], role=r[3], created_at=parse_ts(r[4]), verified_at=parse_ts(r[5]),
            disabled_at=parse_ts(r[6]), password_hash=r[7], password_changed_at=parse_ts(r[8]),
            show_upvotes=bool(r[9]), show_submissions=bool(r[10]),
        )

    def _user_where(self, where: str, params: Sequence):
        rows = self.read(f"SELECT {self._USER_COLUMNS} FROM users WHERE {where}", params)
        return self._row_user(rows[0]) if rows else None

    def create_user(self, email, name, password_hash, role, at, verified_at=None):
        from dailypapers.storage import Conflict

        with self.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise Conflict("email")
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict("name")
            cur = conn.execute(
                "INSERT INTO users (email, name, password_hash, role, verified_at, created_at, password_changed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (email, name, password_hash, role, format_ts(verified_at), format_ts(at), format_ts(at)),
            )
            user_id = cur.lastrowid
        return self.get_user(user_id)

    def get_user(self, user_id):
        return self._user_where("id = ?", (user_id,))

    def user_by_email(self, email):
        return self._user_where("email = ?", (email,))

    def user_by_name(self, name):
        return self._user_where("name = ?", (name,))

    def set_password(self, user_id, password_hash, at, *, end_sessions=True):
        with self.write() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                (password_hash, format_ts(at), user_id),
            )
            if end_sessions:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """Upgrade a hash to new parameters (same password): no session or link changes."""
        with self.write() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                         (new_hash, user_id, old_hash))

    def set_verified(self, user_id, at):
        with self.write() as conn:
            cur = conn.execute("UPDATE users SET verified_at = ? WHERE id = ? AND verified_at IS NULL",
                               (format_ts(at), user_id))
            return cur.rowcount > 0

    def set_role(self, user_id, role):
        with self.write() as conn:
            conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))

    def set_disabled(self, user_id, at):
        with self.write() as conn:
            conn.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (format_ts(at), user_id))
            if at is not None:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
                conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                             (format_ts(at), user_id))

    def set_profile_visibility(self, user_id, show_upvotes, show_submissions):
        with self.write() as conn:
            conn.execute("UPDATE users SET show_upvotes = ?, show_submissions = ? WHERE id = ?",
                         (int(bool(show_upvotes)), int(bool(show_submissions)), user_id))

    # sessions
    def create_session(self, token_hash, user_id, at, expires_at):
        with self.write(content=False) as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, user_id, format_ts(at), format_ts(at), format_ts(expires_at)),
            )

    def get_session(self, token_hash):
        from dailypapers.models import SessionRecord

        cols = ", ".join("u." + c.strip() for c in self._USER_COLUMNS.split(","))
        rows = self.read(
            f"SELECT s.created_at, s.last_seen_at, s.expires_at, {cols} FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        return SessionRecord(user=self._row_user(r[3:]), created_at=parse_ts(r[0]), last_seen_at=parse_ts(r[1]),
                             expires_at=parse_ts(r[2]))

    def touch_session(self, token_hash, at):
        with self.write(content=False) as conn:
            conn.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (format_ts(at), token_hash))

    def delete_session(self, token_hash):
        with self.write(content=False) as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def purge_sessions(self, idle_before, now):
        with self.write(content=False) as conn:
            cur = conn.execute("DELETE FROM sessions WHERE last_seen_at < ? OR expires_at <= ?",
                               (format_ts(idle_before), format_ts(now)))
            return cur.rowcount

    # API tokens
    _TOKEN_COLUMNS = "id, user_id, name, prefix, created_at, last_used_at, revoked_at"

    @staticmethod
    def _row_token(r: Sequence):
        from dailypapers.models import ApiToken

        return ApiToken(id=r[0], user_id=r[1], name=r[2], prefix=r[3], created_at=parse_ts(r[4]),
                        last_used_at=parse_ts(r[5]), revoked_at=parse_ts(r[6]))

    def create_api_token(self, user_id, name, token_hash, prefix, at):
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, name, token_hash, prefix, format_ts(at)),
            )
            token_id = cur.lastrowid
        return self._row_token(self.read(f"SELECT {self._TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", (token_id,))[0])

    def api_token_user(self, token_hash):
        cols = ", ".join("u." + c.strip() for c in self._USER_COLUMNS.split(","))
        tcols = ", ".join("t." + c.strip() for c in self._TOKEN_COLUMNS.split(","))
        rows = self.read(
            f"SELECT {tcols}, {cols} FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            (token_hash,),
        )
        if not rows:
            return None
        return self._row_token(rows[0][:7]), self._row_user(rows[0][7:])

    def touch_api_token(self, token_id, at):
        with self.write() as conn:
            conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (format_ts(at), token_id))

    def list_api_tokens(self, user_id):
        rows = self.read(
            f"SELECT {self._TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY id",
            (user_id,),
        )
        return [self._row_token(r) for r in rows]

    def revoke_api_token(self, user_id, token_id, at):
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                (format_ts(at), token_id, user_id),
            )
            return cur.rowcount > 0

    # votes
    def _retrend(self, conn: sqlite3.Connection, arxiv_id: str) -> None:
        """Recompute one paper's first-listed time and trending key (inside a write)."""
        from dailypapers.trending import trending_key

        r = conn.execute(
            "SELECT hf_upvotes + votes, (SELECT MIN(COALESCE(submitted_at, day || 'T00:00:00Z')) "
            "FROM listings WHERE arxiv_id = ? AND hidden = 0) FROM papers WHERE arxiv_id = ?",
            (arxiv_id, arxiv_id),
        ).fetchone()
        if r is None:
            return
        listed = parse_ts(r[1])
        conn.execute(
            "UPDATE papers SET trending_score = ?, listed_at = ? WHERE arxiv_id = ?",
            (trending_key(r[0], listed), format_ts(listed), arxiv_id),
        )

    def toggle_vote(self, user_id, arxiv_id, at, want=None):
        """Toggle (want=None) or set a member's vote. Returns (voted, votes, hf_upvotes), None if no paper."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone() is None:
                return None
            if want is None or want:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO votes (user_id, arxiv_id, created_at) VALUES (?, ?, ?)",
                    (user_id, arxiv_id, format_ts(at)),
                )
                voted = True
                if cur.rowcount == 0 and want is None:  # already there: a toggle takes it back
                    conn.execute("DELETE FROM votes WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
                    voted = False
            else:
                conn.execute("DELETE FROM votes WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
                voted = False
            # The seq bump lets the next index sync carry the new count to the search filters.
            conn.execute(
                "UPDATE papers SET votes = (SELECT COUNT(*) FROM votes WHERE arxiv_id = ?), "
                "seq = (SELECT MAX(seq) + 1 FROM papers) WHERE arxiv_id = ?",
                (arxiv_id, arxiv_id),
            )
            self._retrend(conn, arxiv_id)
            votes, hf = conn.execute("SELECT votes, hf_upvotes FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        return voted, votes, hf

    def voted_ids(self, user_id, arxiv_ids):
        found: set[str] = set()
        for chunk in _chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            rows = self.read(f"SELECT arxiv_id FROM votes WHERE user_id = ? AND arxiv_id IN ({marks})",
                             (user_id, *chunk))
            found.update(r[0] for r in rows)
        return found

    def count_votes(self, arxiv_id):
        return self.read("SELECT COUNT(*) FROM votes WHERE arxiv_id = ?", (arxiv_id,))[0][0]

    def user_upvotes(self, user_id, limit=100):
        cols = ", ".join("p." + c for c in _PAPER_COLUMNS)
        rows = self.read(
            f"SELECT {cols}, p.hf_upvotes, p.votes, p.num_comments, p.added_at, p.seq FROM votes v "
            "JOIN papers p ON p.arxiv_id = v.arxiv_id WHERE v.user_id = ? ORDER BY v.created_at DESC, v.rowid DESC LIMIT ?",
            (user_id, limit),
        )
        return [row_paper(r) for r in rows]

    # listings: submissions and curation
    def add_listing(self, listing, *, submitter_id, cap=None, actor_id=None, at=None):
        """Put a paper on a day's list, atomically checking duplicates and the submitter's cap.

        Returns "added", "duplicate" (already on that day) or "cap" (the member has `cap`
        submissions that day already). With actor_id the addition is logged as a curator action.
        """
        row = _listing_row(listing)
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM listings WHERE day = ? AND arxiv_id = ?", row[:2]).fetchone():
                return "duplicate"
            if cap is not None and submitter_id is not None:
                n = conn.execute("SELECT COUNT(*) FROM listings WHERE submitter_id = ? AND day = ?",
                                 (submitter_id, row[0])).fetchone()[0]
                if n >= cap:
                    return "cap"
            conn.execute(
                "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, "
                "source, submitter_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row + (submitter_id,),
            )
            self._retrend(conn, listing.arxiv_id)
            if actor_id is not None:
                self._log_action(conn, actor_id, "add", at or utcnow(), listing.arxiv_id, listing.day, None)
        return "added"

    def count_submissions(self, user_id, day):
        return self.read("SELECT COUNT(*) FROM listings WHERE submitter_id = ? AND day = ?",
                         (user_id, day.isoformat()))[0][0]

    def user_submissions(self, user_id, limit=100):
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.submitter_id = ? ORDER BY l.day DESC, l.submitted_at DESC LIMIT ?",
            (user_id, limit),
        )
        return [self._row_lp(r) for r in rows]

    def set_listing_flags(self, day, arxiv_id, *, actor_id, at, pinned=None, hidden=None):
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM listings WHERE day = ? AND arxiv_id = ?",
                            (day.isoformat(), arxiv_id)).fetchone() is None:
                return False
            if pinned is not None:
                conn.execute("UPDATE listings SET pinned = ? WHERE day = ? AND arxiv_id = ?",
                             (int(pinned), day.isoformat(), arxiv_id))
                self._log_action(conn, actor_id, "pin" if pinned else "unpin", at, arxiv_id, day, None)
            if hidden is not None:
                conn.execute("UPDATE listings SET hidden = ? WHERE day = ? AND arxiv_id = ?",
                             (int(hidden), day.isoformat(), arxiv_id))
                self._log_action(conn, actor_id, "hide" if hidden else "unhide", at, arxiv_id, day, None)
                self._retrend(conn, arxiv_id)
        return True

    def remove_listing(self, day, arxiv_id, *, actor_id, at):
        import json as _json

        with self.write() as conn:
            old = conn.execute(
                "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source, pinned, "
                "hidden, submitter_id FROM listings WHERE day = ? AND arxiv_id = ?",
                (day.isoformat(), arxiv_id),
            ).fetchone()
            if old is None:
                return False
            conn.execute("DELETE FROM listings WHERE day = ? AND arxiv_id = ?", (day.isoformat(), arxiv_id))
            keys = ("day", "arxiv_id", "rank", "submitted_by", "submitted_at", "upvotes", "num_comments", "source",
                    "pinned", "hidden", "submitter_id")
            self._log_action(conn, actor_id, "remove", at, arxiv_id, day, _json.dumps(dict(zip(keys, old))))
            self._retrend(conn, arxiv_id)
        return True

    def curated_day(self, day):
        from dailypapers.models import CuratedListing

        rows = self.read(
            f"SELECT {self._LP_COLUMNS}, l.pinned, l.hidden, l.submitter_id FROM listings l "
            "JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE l.day = ? "
            "ORDER BY l.pinned DESC, (p.hf_upvotes + p.votes) DESC, l.arxiv_id",
            (day.isoformat(),),
        )
        out = []
        for r in rows:
            listing, paper = self._row_lp(r[:-3])
            out.append(CuratedListing(listing, paper, bool(r[-3]), bool(r[-2]), r[-1]))
        return out

    def pinned_listings(self, days):
        found: set[tuple[dt.date, str]] = set()
        day_list = sorted({d.isoformat() for d in days})
        for chunk in _chunks(day_list):
            marks = ",".join("?" * len(chunk))
            for d, a in self.read(
                f"SELECT day, arxiv_id FROM listings WHERE pinned = 1 AND hidden = 0 AND day IN ({marks})", chunk
            ):
                found.add((dt.date.fromisoformat(d), a))
        return found

    def _log_action(self, conn, actor_id, action, at, arxiv_id=None, day=None, detail=None) -> None:
        conn.execute(
            "INSERT INTO curator_actions (user_id, action, arxiv_id, day, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (actor_id, action, arxiv_id, day.isoformat() if day else None, detail, format_ts(at)),
        )

    def log_curator_action(self, actor_id, action, at, *, arxiv_id=None, day=None, detail=None):
        with self.write() as conn:
            self._log_action(conn, actor_id, action, at, arxiv_id, day, detail)

    def curator_log(self, limit=100, offset=0):
        from dailypapers.models import CuratorAction

        rows = self.read(
            "SELECT a.id, u.name, a.action, a.arxiv_id, a.day, a.detail, a.created_at FROM curator_actions a "
            "LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [
            CuratorAction(id=r[0], actor=r[1], action=r[2], arxiv_id=r[3],
                          day=dt.date.fromisoformat(r[4]) if r[4] else None, detail=r[5], created_at=parse_ts(r[6]))
            for r in rows
        ]

    # comments
    _COMMENT_SELECT = (
        "SELECT c.id, c.arxiv_id, c.user_id, u.name, c.body, c.created_at, c.edited_at, c.deleted_at, c.hidden_at "
        "FROM comments c JOIN users u ON u.id = c.user_id"
    )

    @staticmethod
    def _row_comment(r: Sequence):
        from dailypapers.models import Comment

        return Comment(id=r[0], arxiv_id=r[1], user_id=r[2], author=r[3], body=r[4], created_at=parse_ts(r[5]),
                       edited_at=parse_ts(r[6]), deleted_at=parse_ts(r[7]), hidden_at=parse_ts(r[8]))

    @staticmethod
    def _recount_comments(conn: sqlite3.Connection, arxiv_id: str) -> None:
        conn.execute(
            "UPDATE papers SET num_comments = (SELECT COUNT(*) FROM comments WHERE arxiv_id = ? "
            "AND deleted_at IS NULL AND hidden_at IS NULL) WHERE arxiv_id = ?",
            (arxiv_id, arxiv_id),
        )

    def add_comment(self, arxiv_id, user_id, body, at):
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO comments (arxiv_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                (arxiv_id, user_id, body, format_ts(at)),
            )
            comment_id = cur.lastrowid
            self._recount_comments(conn, arxiv_id)
        return self.get_comment(comment_id)

    def get_comment(self, comment_id):
        rows = self.read(f"{self._COMMENT_SELECT} WHERE c.id = ?", (comment_id,))
        return self._row_comment(rows[0]) if rows else None

    def edit_comment(self, comment_id, body, at):
        with self.write() as conn:
            conn.execute("UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL",
                         (body, format_ts(at), comment_id))

    def delete_comment(self, comment_id, at):
        with self.write() as conn:
            row = conn.execute("SELECT arxiv_id FROM comments WHERE id = ?", (comment_id,)).fetchone()
            if row is None:
                return
            conn.execute("UPDATE comments SET deleted_at = COALESCE(deleted_at, ?) WHERE id = ?",
                         (format_ts(at), comment_id))
            self._recount_comments(conn, row[0])

    def set_comment_hidden(self, comment_id, hidden, *, actor_id, at):
        import json as _json

        with self.write() as conn:
            row = conn.execute("SELECT arxiv_id FROM comments WHERE id = ?", (comment_id,)).fetchone()
            if row is None:
                return
            conn.execute("UPDATE comments SET hidden_at = ?, hidden_by = ? WHERE id = ?",
                         (format_ts(at) if hidden else None, actor_id if hidden else None, comment_id))
            self._recount_comments(conn, row[0])
            self._log_action(conn, actor_id, "hide_comment" if hidden else "unhide_comment", at, row[0], None,
                             _json.dumps({"comment_id": comment_id}))

    def paper_comments(self, arxiv_id, *, include_hidden=False):
        where = "" if include_hidden else " AND c.deleted_at IS NULL AND c.hidden_at IS NULL"
        rows = self.read(f"{self._COMMENT_SELECT} WHERE c.arxiv_id = ?{where} ORDER BY c.id", (arxiv_id,))
        return [self._row_comment(r) for r in rows]

    # trending
    def refresh_trending(self, since=None):
        """Recompute trending keys of papers listed on or after `since` (all listed papers if None)."""
        from dailypapers.trending import trending_key

        if since is None:
            ids = [r[0] for r in self.read("SELECT DISTINCT arxiv_id FROM listings")]
        else:
            ids = [r[0] for r in self.read("SELECT DISTINCT arxiv_id FROM listings WHERE day >= ?",
                                           (since.isoformat(),))]
        done = 0
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            with self.write() as conn:
                rows = conn.execute(
                    f"SELECT p.arxiv_id, p.hf_upvotes + p.votes, (SELECT MIN(COALESCE(l.submitted_at, l.day || "
                    f"'T00:00:00Z')) FROM listings l WHERE l.arxiv_id = p.arxiv_id AND l.hidden = 0), "
                    f"p.trending_score, p.listed_at FROM papers p WHERE p.arxiv_id IN ({marks})",
                    chunk,
                ).fetchall()
                updates = []
                for arxiv_id, upvotes, listed, old_key, old_listed in rows:
                    key = trending_key(upvotes, parse_ts(listed))
                    if key != old_key or listed != old_listed:
                        updates.append((key, format_ts(parse_ts(listed)), arxiv_id))
                conn.executemany("UPDATE papers SET trending_score = ?, listed_at = ? WHERE arxiv_id = ?", updates)
                done += len(updates)
        return done

    def trending_listings(self, start, end, limit=50, offset=0):
        """Papers by stored trending key, each with its earliest visible listing in [start, end]."""
        lo = start.isoformat() if start else "0000-00-00"
        hi = end.isoformat() if end else "9999-99-99"
        rows = self.read(
            f"SELECT {self._LP_COLUMNS} FROM papers p CROSS JOIN listings l "
            "ON l.arxiv_id = p.arxiv_id AND l.hidden = 0 AND l.day = (SELECT MIN(l2.day) FROM listings l2 "
            "WHERE l2.arxiv_id = p.arxiv_id AND l2.hidden = 0 AND l2.day BETWEEN ? AND ?) "
            "WHERE p.trending_score IS NOT NULL ORDER BY p.trending_score DESC, p.arxiv_id LIMIT ? OFFSET ?",
            (lo, hi, limit, offset),
        )
        return [self._row_lp(r) for r in rows]

    # rate limits
    # The events live in a file of their own beside the database (<db>.ratelimits), not in it: a
    # rate check is a write on every search, and in the main file it would wait behind ingest
    # batches and vote commits for SQLite's one write lock. Losing them in a crash costs nothing,
    # so that file does not sync.
    def _rate_conn(self) -> sqlite3.Connection:
        """The rate-limit log's connection; call with _rates_lock held."""
        if self._rates is None:
            conn = sqlite3.connect(self.path.with_name(self.path.name + ".ratelimits"),
                                   check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("CREATE TABLE IF NOT EXISTS rate_events (key TEXT NOT NULL, at REAL NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events(key, at)")
            self._rates = conn
        return self._rates

    def rate_hit(self, keys, limit, window, now):
        with self._rates_lock:
            conn = self._rate_conn()
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


__all__ = ["SQLiteStore", "StorageError"]
