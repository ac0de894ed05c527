"""Votes: a member's upvotes, with papers.votes and the trending key kept in step.

A vote is one content write: the vote row changes, papers.votes is set to the row count (never
incremented, so it cannot drift from the rows), the paper takes the next seq and its trending key
is recomputed, all in one transaction.

Votes on one paper take turns on a lock of their own (an advisory lock on the paper's id), so
the recount is exact; the cluster-wide content lock is taken only for the last step (the paper
row with its count, its seq, the content version) and the commit, sent together in one round
trip, so the lock is never held across a client round trip. A vote holding the content lock
across all its statements made every vote on every node wait for the slowest client round trip
of the one before it (issue 14: p99 295 ms at 32 voters). The last step counts the rows again
itself, and sets the trending key only if nothing the key was computed from moved meanwhile (an
import changing the HF count, a listing, a deleted account's votes); when something did, the key
is recomputed in a write of its own right after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

from dailypapers.models import StoredPaper
from dailypapers.storage.postgres.base import BUMP_VERSION, CHANNEL, CONTENT_LOCK, PostgresBase
from dailypapers.storage.postgres.listings import _FIRST_LISTED, retrend
from dailypapers.storage.rows import P_COLUMNS, format_ts, parse_ts, row_paper
from dailypapers.trending import trending_key

# Seed of the per-paper vote lock: pg_advisory_xact_lock(hashtextextended(arxiv_id, VOTE_LOCK_SEED)).
VOTE_LOCK_SEED = 0x6470_0003

# A toggle in one statement: the vote row goes if it was there, else comes (if the paper exists).
_TOGGLE = (
    "WITH gone AS (DELETE FROM votes WHERE user_id = %(u)s AND arxiv_id = %(a)s RETURNING 1), "
    "cast_ AS (INSERT INTO votes (user_id, arxiv_id, created_at) SELECT %(u)s, arxiv_id, %(at)s FROM papers "
    "WHERE arxiv_id = %(a)s AND NOT EXISTS (SELECT 1 FROM gone) ON CONFLICT DO NOTHING RETURNING 1) "
    "SELECT NOT EXISTS (SELECT 1 FROM gone)"
)
_CAST = ("INSERT INTO votes (user_id, arxiv_id, created_at) SELECT %(u)s, arxiv_id, %(at)s FROM papers "
         "WHERE arxiv_id = %(a)s ON CONFLICT DO NOTHING")
_TAKE_BACK = "DELETE FROM votes WHERE user_id = %(u)s AND arxiv_id = %(a)s"
_COUNTED = (f"SELECT p.hf_upvotes, (SELECT COUNT(*) FROM votes WHERE arxiv_id = %(a)s), {_FIRST_LISTED} "
            "FROM papers p WHERE p.arxiv_id = %(a)s")
# The last step, under the content lock: the count of the rows, and the trending key only if the
# count, the HF count and the first listing are still those it was computed from (the last column).
_SETTLE = (
    "WITH c AS (SELECT COUNT(*) AS n FROM votes WHERE arxiv_id = %(a)s), "
    "s AS (SELECT p.hf_upvotes = %(hf)s AND c.n = %(n)s "
    f"AND {_FIRST_LISTED} IS NOT DISTINCT FROM %(listed)s::timestamptz AS same FROM papers p, c "
    "WHERE p.arxiv_id = %(a)s) "
    "UPDATE papers p SET votes = c.n, seq = nextval('paper_seq'), "
    "trending_score = CASE WHEN s.same THEN %(key)s ELSE p.trending_score END, "
    "listed_at = CASE WHEN s.same THEN %(first)s ELSE p.listed_at END "
    "FROM c, s WHERE p.arxiv_id = %(a)s RETURNING p.votes, p.hf_upvotes, s.same"
)


def _voted(cursor: psycopg.Cursor, want: bool | None) -> bool:
    """Whether the vote is now in place: a toggle's answer, or what was asked for."""
    if want is not None:
        return want
    row = cursor.fetchone()
    assert row is not None  # _TOGGLE always answers one row
    return bool(row[0])


class VoteQueries(PostgresBase):
    def toggle_vote(self, user_id: int, arxiv_id: str, at: dt.datetime,
                    want: bool | None = None) -> tuple[bool, int, int] | None:
        """Toggle (want=None) or set a member's vote. Returns (voted, votes, hf_upvotes), None if no paper."""
        try:
            return self._vote(user_id, arxiv_id, at, want)
        except psycopg.errors.DeadlockDetected:
            # A write holding the content lock waited for this vote's row (its member's account
            # being deleted): that write went ahead; this vote runs again, the content lock first.
            return self._vote_locked(user_id, arxiv_id, at, want)

    def _vote(self, user_id: int, arxiv_id: str, at: dt.datetime, want: bool | None) -> tuple[bool, int, int] | None:
        args = {"u": user_id, "a": arxiv_id, "at": format_ts(at)}
        # One pipeline: BEGIN and the first statements go in one round trip, the last step and
        # the COMMIT in a second.
        with self.connection() as conn:
            with conn.pipeline(), conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (arxiv_id, VOTE_LOCK_SEED))
                toggled = conn.execute(_TOGGLE if want is None else _CAST if want else _TAKE_BACK, args)
                counted = conn.execute(_COUNTED, args)
                found = counted.fetchone()
                if found is None:
                    return None  # no such paper: nothing was written
                hf, n, listed = found
                voted = _voted(toggled, want)
                first = parse_ts(listed)
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (CONTENT_LOCK,))
                settled = conn.execute(_SETTLE, {**args, "n": n, "hf": hf, "listed": listed, "first": first,
                                                 "key": trending_key(hf + n, first)})
                conn.execute(BUMP_VERSION, (CHANNEL,))
            row = settled.fetchone()
            assert row is not None  # the paper was there, and no vote deletes a paper
            if not row[2]:  # something the key counted on moved: the key again, from what is there now
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (CONTENT_LOCK,))
                    retrend(conn, [arxiv_id])
                    conn.execute(BUMP_VERSION, (CHANNEL,))
                self._count_write()
        self._count_write()
        return voted, row[0], row[1]

    def _vote_locked(self, user_id: int, arxiv_id: str, at: dt.datetime,
                     want: bool | None) -> tuple[bool, int, int] | None:
        """The same vote with the content lock taken first, as every other content write does."""
        args = {"u": user_id, "a": arxiv_id, "at": format_ts(at)}
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE arxiv_id = %s", (arxiv_id,)).fetchone() is None:
                return None
            voted = _voted(conn.execute(_TOGGLE if want is None else _CAST if want else _TAKE_BACK, args), want)
            row = self._recount(conn, arxiv_id)
        return voted, row[0], row[1]

    @staticmethod
    def _recount(conn: psycopg.Connection, arxiv_id: str) -> tuple[int, int]:
        row = conn.execute(
            "UPDATE papers SET votes = (SELECT COUNT(*) FROM votes WHERE arxiv_id = %(a)s), "
            "seq = nextval('paper_seq') WHERE arxiv_id = %(a)s RETURNING votes, hf_upvotes", {"a": arxiv_id},
        ).fetchone()
        retrend(conn, [arxiv_id])
        assert row is not None  # the paper was there, under the content lock
        return row[0], row[1]

    def voted_ids(self, user_id: int, arxiv_ids: Sequence[str]) -> set[str]:
        rows = self.read("SELECT arxiv_id FROM votes WHERE user_id = %s AND arxiv_id = ANY(%s)",
                         (user_id, list(arxiv_ids)))
        return {r[0] for r in rows}

    def count_votes(self, arxiv_id: str) -> int:
        return self.read("SELECT COUNT(*) FROM votes WHERE arxiv_id = %s", (arxiv_id,))[0][0]

    def user_upvotes(self, user_id: int, limit: int = 100) -> list[StoredPaper]:
        rows = self.read(f"SELECT {P_COLUMNS} FROM votes v JOIN papers p ON p.arxiv_id = v.arxiv_id "
                         "WHERE v.user_id = %s ORDER BY v.created_at DESC, v.id DESC LIMIT %s", (user_id, limit))
        return [row_paper(r) for r in rows]

    def user_upvoted_ids(self, user_id: int, limit: int = 500) -> list[str]:
        rows = self.read("SELECT arxiv_id FROM votes WHERE user_id = %s ORDER BY created_at DESC, arxiv_id LIMIT %s",
                         (user_id, limit))
        return [r[0] for r in rows]

    def users_upvoted_ids(self, user_ids: Sequence[int], limit_each: int = 500) -> dict[int, list[str]]:
        rows = self.read(
            "SELECT user_id, arxiv_id FROM (SELECT user_id, arxiv_id, row_number() OVER (PARTITION BY user_id "
            "ORDER BY created_at DESC) AS n FROM votes WHERE user_id = ANY(%s)) v WHERE n <= %s ORDER BY user_id, n",
            (sorted(set(user_ids)), limit_each),
        )
        out: dict[int, list[str]] = {}
        for uid, aid in rows:
            out.setdefault(uid, []).append(aid)
        return out
