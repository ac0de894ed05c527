"""Listings and the read models over them: days, ranges, orgs, the HF-style API, trending."""

from __future__ import annotations

import datetime as dt
import sqlite3

from dailypapers.models import Listing, StoredPaper
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import (
    LP_COLUMNS,
    SELECT_LP,
    SELECT_PAPER,
    chunks,
    format_ts,
    parse_ts,
    row_listing,
    row_lp,
    row_paper,
)
from dailypapers.trending import trending_key


def retrend(conn: sqlite3.Connection, arxiv_id: str) -> None:
    """Recompute one paper's first-listed time and trending key (inside a write)."""
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


class ListingQueries(SQLiteBase):
    _SELECT_LISTING = (
        "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source FROM listings"
    )

    def listings_for_paper(self, arxiv_id: str) -> list[Listing]:
        rows = self.read(f"{self._SELECT_LISTING} WHERE arxiv_id = ? ORDER BY day", (arxiv_id,))
        return [row_listing(r) for r in rows]

    def listings_between(self, start: dt.date, end: dt.date) -> list[Listing]:
        rows = self.read(
            f"{self._SELECT_LISTING} WHERE day BETWEEN ? AND ? ORDER BY day, rank",
            (start.isoformat(), end.isoformat()),
        )
        return [row_listing(r) for r in rows]

    def listing_days(self) -> list[dt.date]:
        return [dt.date.fromisoformat(r[0]) for r in self.read("SELECT DISTINCT day FROM listings ORDER BY day")]

    # Read models: everything below serves dailypapers.papers.PaperService and the web layer.
    def day_listing(self, day: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """One day's list, in imported rank order."""
        rows = self.read(
            f"{SELECT_LP} WHERE l.day = ? AND l.hidden = 0 ORDER BY l.rank IS NULL, l.rank, l.arxiv_id",
            (day.isoformat(),),
        )
        return [row_lp(r) for r in rows]

    def listings_in_range(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """Every listing from start to end inclusive (a paper may appear on several days)."""
        return self._visible_between(start, end)

    def _visible_between(self, start: dt.date, end: dt.date, extra: str = "") -> list[tuple[Listing, StoredPaper]]:
        rows = self.read(
            f"{SELECT_LP} WHERE l.day BETWEEN ? AND ? AND l.hidden = 0 {extra}"
            "ORDER BY l.day, l.rank IS NULL, l.rank, l.arxiv_id",
            (start.isoformat(), end.isoformat()),
        )
        return [row_lp(r) for r in rows]

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
            f"{SELECT_PAPER} WHERE org_name = ? ORDER BY published IS NULL, published DESC, arxiv_id DESC "
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
        where, params = ["l.hidden = 0"], list[object]()
        if start is not None:
            where.append("l.day >= ?")
            params.append(start.isoformat())
        if end is not None:
            where.append("l.day <= ?")
            params.append(end.isoformat())
        if submitter is not None:
            where.append("l.submitted_by = ?")
            params.append(submitter)
        sql = SELECT_LP + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY l.day DESC, (p.hf_upvotes + p.votes) DESC, l.rank IS NULL, l.rank, l.arxiv_id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [row_lp(r) for r in self.read(sql, params)]

    def digest_pool(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        """Visible listings (not hidden by a curator) from start to end, earliest listing per paper first."""
        return self._visible_between(start, end, "AND p.withdrawn = 0 ")

    # trending
    def refresh_trending(self, since: dt.date | None = None) -> int:
        """Recompute trending keys of papers listed on or after `since` (all listed papers if None)."""
        if since is None:
            ids = [r[0] for r in self.read("SELECT DISTINCT arxiv_id FROM listings")]
        else:
            ids = [r[0] for r in self.read("SELECT DISTINCT arxiv_id FROM listings WHERE day >= ?",
                                           (since.isoformat(),))]
        done = 0
        for chunk in chunks(ids):
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

    def trending_listings(self, start: dt.date | None, end: dt.date | None, limit: int = 50,
                          offset: int = 0) -> list[tuple[Listing, StoredPaper]]:
        """Papers by stored trending key, each with its earliest visible listing in [start, end]."""
        lo = start.isoformat() if start else "0000-00-00"
        hi = end.isoformat() if end else "9999-99-99"
        rows = self.read(
            f"SELECT {LP_COLUMNS} FROM papers p CROSS JOIN listings l "
            "ON l.arxiv_id = p.arxiv_id AND l.hidden = 0 AND l.day = (SELECT MIN(l2.day) FROM listings l2 "
            "WHERE l2.arxiv_id = p.arxiv_id AND l2.hidden = 0 AND l2.day BETWEEN ? AND ?) "
            "WHERE p.trending_score IS NOT NULL ORDER BY p.trending_score DESC, p.arxiv_id LIMIT ? OFFSET ?",
            (lo, hi, limit, offset),
        )
        return [row_lp(r) for r in rows]
