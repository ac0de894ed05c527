"""Votes: a member's upvotes, with papers.votes and the trending key kept in step.

A vote is one content write: under the content lock the vote row changes, and papers.votes is
set to the row count (never incremented, so it cannot drift from the rows), the paper takes the
next seq and its trending key is recomputed, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dailypapers.models import StoredPaper
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.postgres.listings import retrend
from dailypapers.storage.rows import P_COLUMNS, format_ts, row_paper


class VoteQueries(PostgresBase):
    def toggle_vote(self, user_id: int, arxiv_id: str, at: dt.datetime,
                    want: bool | None = None) -> tuple[bool, int, int] | None:
        """Toggle (want=None) or set a member's vote. Returns (voted, votes, hf_upvotes), None if no paper."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM papers WHERE arxiv_id = %s", (arxiv_id,)).fetchone() is None:
                return None
            if want is None:  # a toggle: take back a vote that is there, else cast it
                voted = not conn.execute("DELETE FROM votes WHERE user_id = %s AND arxiv_id = %s",
                                         (user_id, arxiv_id)).rowcount
            else:
                voted = want
            if voted:
                conn.execute("INSERT INTO votes (user_id, arxiv_id, created_at) VALUES (%s, %s, %s) "
                             "ON CONFLICT DO NOTHING", (user_id, arxiv_id, format_ts(at)))
            elif want is not None:
                conn.execute("DELETE FROM votes WHERE user_id = %s AND arxiv_id = %s", (user_id, arxiv_id))
            row = conn.execute(
                "UPDATE papers SET votes = (SELECT COUNT(*) FROM votes WHERE arxiv_id = %(a)s), "
                "seq = nextval('paper_seq') WHERE arxiv_id = %(a)s RETURNING votes, hf_upvotes", {"a": arxiv_id},
            ).fetchone()
            retrend(conn, [arxiv_id])
        assert row is not None  # the paper was there, under the content lock
        return voted, row[0], row[1]

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
