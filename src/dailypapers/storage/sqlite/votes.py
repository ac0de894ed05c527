"""Votes: a member's upvotes, with papers.votes and the trending key kept in step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dailypapers.models import StoredPaper
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.listings import retrend
from dailypapers.storage.sqlite.rows import PAPER_COLUMNS, chunks, format_ts, row_paper


class VoteQueries(SQLiteBase):
    def toggle_vote(self, user_id: int, arxiv_id: str, at: dt.datetime,
                    want: bool | None = None) -> tuple[bool, int, int] | None:
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
            retrend(conn, arxiv_id)
            votes, hf = conn.execute("SELECT votes, hf_upvotes FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        return voted, votes, hf

    def voted_ids(self, user_id: int, arxiv_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            rows = self.read(f"SELECT arxiv_id FROM votes WHERE user_id = ? AND arxiv_id IN ({marks})",
                             (user_id, *chunk))
            found.update(r[0] for r in rows)
        return found

    def count_votes(self, arxiv_id: str) -> int:
        return self.read("SELECT COUNT(*) FROM votes WHERE arxiv_id = ?", (arxiv_id,))[0][0]

    def user_upvotes(self, user_id: int, limit: int = 100) -> list[StoredPaper]:
        cols = ", ".join("p." + c for c in PAPER_COLUMNS)
        rows = self.read(
            f"SELECT {cols}, p.hf_upvotes, p.votes, p.num_comments, p.added_at, p.seq FROM votes v "
            "JOIN papers p ON p.arxiv_id = v.arxiv_id WHERE v.user_id = ? "
            "ORDER BY v.created_at DESC, v.rowid DESC LIMIT ?",
            (user_id, limit),
        )
        return [row_paper(r) for r in rows]

    def user_upvoted_ids(self, user_id: int, limit: int = 500) -> list[str]:
        """The papers a member upvoted, most recent first."""
        rows = self.read(
            "SELECT arxiv_id FROM votes WHERE user_id = ? ORDER BY created_at DESC, arxiv_id LIMIT ?",
            (user_id, limit),
        )
        return [r[0] for r in rows]

    def users_upvoted_ids(self, user_ids: Sequence[int], limit_each: int = 500) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for chunk in chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(chunk))
            for uid, aid in self.read(
                f"SELECT user_id, arxiv_id FROM votes WHERE user_id IN ({marks}) ORDER BY user_id, created_at DESC",
                chunk,
            ):
                ids = out.setdefault(uid, [])
                if len(ids) < limit_each:
                    ids.append(aid)
        return out
