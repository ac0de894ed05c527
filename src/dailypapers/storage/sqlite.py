"""SQLite store: one file in WAL mode, one writer, pooled per-thread readers."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from dailypapers.models import Listing, Organization, Outcome, Paper, StoredPaper
from dailypapers.storage import (
    Migration,
    SchemaOutdated,
    StorageError,
    load_migrations,
)
from dailypapers.storage.merge import merge_paper

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


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


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


def paper_row(p: Paper) -> tuple:
    org = p.organization
    return (
        p.arxiv_id, p.version, p.title, p.abstract, json.dumps(p.authors, ensure_ascii=False),
        json.dumps(p.categories), p.primary_category, format_ts(p.published), format_ts(p.updated),
        p.comment, p.github_repo, p.github_stars, p.project_page,
        org.name if org else None, org.fullname if org else None, org.avatar if org else None,
        p.ai_summary, json.dumps(p.ai_keywords, ensure_ascii=False), int(p.withdrawn), format_ts(p.observed_at),
    )


def row_paper(r: Sequence) -> StoredPaper:
    org = Organization(r[13], r[14], r[15]) if r[13] else None
    return StoredPaper(
        arxiv_id=r[0], version=r[1], title=r[2], abstract=r[3], authors=json.loads(r[4]),
        categories=json.loads(r[5]), published=parse_ts(r[7]), updated=parse_ts(r[8]),
        comment=r[9], github_repo=r[10], github_stars=r[11], project_page=r[12],
        organization=org, ai_summary=r[16], ai_keywords=json.loads(r[17]), withdrawn=bool(r[18]),
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
    def write(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time, in an IMMEDIATE transaction: all or nothing."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._reader().execute(sql, params).fetchall()

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._all_readers:
                conn.close()
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
        self, papers: Sequence[Paper], listings: Sequence[Listing] = ()
    ) -> tuple[list[str], list[str]]:
        """Upsert papers, then listings, in one transaction; returns an Outcome per record."""
        now = format_ts(utcnow())
        paper_outcomes: list[str] = []
        listing_outcomes: list[str] = []
        with self.write() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM papers").fetchone()[0]
            stored = self._stored(conn, [p.arxiv_id for p in papers])
            inserts, updates, stale_embeddings = [], [], []
            for incoming in papers:
                old = stored.get(incoming.arxiv_id)
                merged = merge_paper(old, incoming)
                row = paper_row(merged)
                if old is None:
                    inserts.append(row + (now, now, seq))
                    paper_outcomes.append(Outcome.ADDED)
                elif row != paper_row(old):
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
                conn.execute("INSERT INTO listings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
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
        # The imported base count is the paper's best-known HF count across its listings.
        for chunk in _chunks(sorted(changed_papers)):
            marks = ",".join("?" * len(chunk))
            conn.execute(
                f"UPDATE papers SET hf_upvotes = (SELECT COALESCE(MAX(upvotes), 0) FROM listings l "
                f"WHERE l.arxiv_id = papers.arxiv_id) WHERE arxiv_id IN ({marks})",
                chunk,
            )
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
        data = [(arxiv_id, model_id, text_hash, vector) for arxiv_id, text_hash, vector in rows]
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO embeddings (arxiv_id, model_id, text_hash, vector) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(arxiv_id) DO UPDATE SET model_id = excluded.model_id, "
                "text_hash = excluded.text_hash, vector = excluded.vector",
                data,
            )
        return len(data)

    def iter_embeddings(self, model_id: str, batch_size: int = 5000) -> Iterator[list[tuple[str, bytes]]]:
        last = ""
        while True:
            rows = self.read(
                "SELECT arxiv_id, vector FROM embeddings WHERE model_id = ? AND arxiv_id > ? "
                "ORDER BY arxiv_id LIMIT ?",
                (model_id, last, batch_size),
            )
            if not rows:
                return
            yield [(r[0], r[1]) for r in rows]
            last = rows[-1][0]

    # -- state -------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM state WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_state(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
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
    _SELECT_LP = f"SELECT {_LP_COLUMNS} FROM listings l JOIN papers p ON p.arxiv_id = l.arxiv_id"

    @staticmethod
    def _row_lp(r: Sequence) -> tuple[Listing, StoredPaper]:
        return _row_listing(r[:8]), row_paper(r[8:])

    def day_listing(self, day: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """One day's list, in imported rank order."""
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.day = ? ORDER BY l.rank IS NULL, l.rank, l.arxiv_id", (day.isoformat(),)
        )
        return [self._row_lp(r) for r in rows]

    def listings_in_range(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """Every listing from start to end inclusive (a paper may appear on several days)."""
        rows = self.read(
            f"{self._SELECT_LP} WHERE l.day BETWEEN ? AND ? ORDER BY l.day, l.rank IS NULL, l.rank, l.arxiv_id",
            (start.isoformat(), end.isoformat()),
        )
        return [self._row_lp(r) for r in rows]

    def nearest_listing_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The closest days before and after `day` (exclusive) that have papers."""
        r = self.read(
            "SELECT (SELECT MAX(day) FROM listings WHERE day < ?), (SELECT MIN(day) FROM listings WHERE day > ?)",
            (day.isoformat(), day.isoformat()),
        )[0]
        return (
            dt.date.fromisoformat(r[0]) if r[0] else None,
            dt.date.fromisoformat(r[1]) if r[1] else None,
        )

    def latest_listing_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        if on_or_before is None:
            r = self.read("SELECT MAX(day) FROM listings")[0]
        else:
            r = self.read("SELECT MAX(day) FROM listings WHERE day <= ?", (on_or_before.isoformat(),))[0]
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
        where, params = [], []
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
        """Changes whenever anything a list page shows changes (papers, listings, votes, comments)."""
        r = self.read(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM papers), (SELECT COUNT(*) FROM listings), "
            "(SELECT COALESCE(SUM(votes), 0) + COALESCE(SUM(num_comments), 0) FROM papers), "
            "(SELECT COUNT(*) FROM papers), (SELECT COUNT(*) FROM votes)"
        )[0]
        return tuple(r)


__all__ = ["SQLiteStore", "StorageError"]
