"""Shared by the crash suite (SIGKILL at random points, then restart and rerun): the kill schedule
and the checks a database must pass after every kill.

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


def sqlite_problems(db: Path) -> list[str]:
    """SQLite's own checks plus the project's invariants: the counters kept beside the rows
    (papers.votes, papers.num_comments) equal the rows, nothing points at a missing row."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        problems = []
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            problems.append(f"integrity_check: {check[:5]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
        off = conn.execute(
            "SELECT p.arxiv_id, p.votes, COUNT(v.user_id) FROM papers p LEFT JOIN votes v ON v.arxiv_id = p.arxiv_id "
            "GROUP BY p.arxiv_id HAVING p.votes != COUNT(v.user_id) LIMIT 5").fetchall()
        if off:
            problems.append(f"papers.votes differs from the vote rows: {off}")
        off = conn.execute(
            "SELECT p.arxiv_id, p.num_comments, (SELECT COUNT(*) FROM comments c WHERE c.arxiv_id = p.arxiv_id "
            "AND c.deleted_at IS NULL AND c.hidden_at IS NULL) AS n FROM papers p "
            "WHERE p.num_comments != n LIMIT 5").fetchall()
        if off:
            problems.append(f"papers.num_comments differs from the comments: {off}")
        orphans = conn.execute(
            "SELECT COUNT(*) FROM listings l LEFT JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE p.arxiv_id IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} listings without their paper")
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
