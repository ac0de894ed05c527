"""Shared by the crash suite (SIGKILL at random points, then restart and rerun): the kill schedule
and the checks a database must pass after every kill, on SQLite (`sqlite_problems`) or PostgreSQL
(`postgres_problems`): the database's own integrity check, then the same invariants on both.

The schedule is seeded (``DP_KILL_SEED``) and its length is ``DP_KILL_POINTS`` per test (default 2,
to keep CI to a few minutes; raise it for a longer soak). Every test reports the kill points it
tried on stderr (``kill points: ...``), shown with ``pytest -s`` or in the captured output.
"""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from pathlib import Path

SEED = int(os.environ.get("DP_KILL_SEED", "1616"))
POINTS = max(1, int(os.environ.get("DP_KILL_POINTS", "2")))


def schedule(name: str, low: float, high: float, points: int = POINTS) -> list[float]:
    """`points` kill moments in [low, high), reproducible per test name and seed."""
    rng = random.Random(f"{SEED}:{name}")
    return [rng.uniform(low, high) for _ in range(points)]


def report(name: str, tried: list) -> None:
    print(f"kill points: {name}: {len(tried)} tried (seed {SEED}): {tried}", file=sys.stderr)


# The project's invariants, the same on both backends: the counters kept beside the rows equal the rows,
# and nothing points at a missing row.
INVARIANTS = (
    ("papers.votes differs from the vote rows",
     "SELECT p.arxiv_id, p.votes, COUNT(v.user_id) FROM papers p LEFT JOIN votes v ON v.arxiv_id = p.arxiv_id "
     "GROUP BY p.arxiv_id, p.votes HAVING p.votes != COUNT(v.user_id) LIMIT 5"),
    ("papers.num_comments differs from the comments",
     "SELECT p.arxiv_id, p.num_comments, n FROM (SELECT p.arxiv_id, p.num_comments, (SELECT COUNT(*) FROM comments c "
     "WHERE c.arxiv_id = p.arxiv_id AND c.deleted_at IS NULL AND c.hidden_at IS NULL) AS n FROM papers p) p "
     "WHERE p.num_comments != n LIMIT 5"),
    ("listings without their paper",
     "SELECT l.arxiv_id FROM listings l LEFT JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE p.arxiv_id IS NULL LIMIT 5"),
)


def problems(db_url: str) -> list[str]:
    """`sqlite_problems` or `postgres_problems`, by the URL's scheme."""
    if db_url.startswith("sqlite:///"):
        return sqlite_problems(Path(db_url.removeprefix("sqlite:///")))
    return postgres_problems(db_url)


def postgres_problems(url: str) -> list[str]:
    """PostgreSQL's own check of every B-tree index against its table (amcheck's bt_index_check with
    heapallindexed: each row is in its indexes) plus the project's invariants. Foreign keys need no
    check here: PostgreSQL enforces them in the transaction."""
    import psycopg

    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = conn.execute(
            "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = current_schema() AND i.indisvalid AND i.indisready").fetchall()
        for oid, name in indexes:
            try:
                conn.execute("SELECT bt_index_check(%s, true)", (oid,))
            except psycopg.Error as e:
                found.append(f"index {name}: {e}")
        if not indexes:
            found.append("amcheck found no index to check")
        for what, sql in INVARIANTS:
            rows = conn.execute(sql).fetchall()
            if rows:
                found.append(f"{what}: {rows}")
    return found


def rows(db_url: str, sql: str) -> list[tuple]:
    """A read-only query on either backend (the SQL must be the same on both)."""
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(f"file:{db_url.removeprefix('sqlite:///')}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(db_url) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def sqlite_problems(db: Path) -> list[str]:
    """SQLite's own checks (integrity_check, foreign_key_check) plus the project's invariants."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        problems = []
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            problems.append(f"integrity_check: {check[:5]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
        for what, sql in INVARIANTS:
            rows = conn.execute(sql).fetchall()
            if rows:
                problems.append(f"{what}: {rows}")
        return problems
    finally:
        conn.close()


def count(db: Path, sql: str, *args) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        conn.close()
