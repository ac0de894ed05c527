"""Listings and the read models over them: days, ranges, orgs, the HF-style API, trending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

from dailypapers.models import Listing, StoredPaper
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.rows import LP_COLUMNS, SELECT_LP, SELECT_PAPER, parse_ts, row_listing, row_lp, row_paper
from dailypapers.trending import trending_key

# A paper's first visible listing time: its submission time, else midnight UTC of its day.
_FIRST_LISTED = (
    "(SELECT MIN(COALESCE(l.submitted_at, l.day::timestamptz)) FROM listings l "
    "WHERE l.arxiv_id = p.arxiv_id AND NOT l.hidden)"
)
_ORDER = "l.rank IS NULL, l.rank, l.arxiv_id"


def retrend(conn: psycopg.Connection, arxiv_ids: Sequence[str], *, only_changed: bool = False) -> int:
    """Recompute papers' first-listed time and trending key (inside a write); returns how many moved."""
    rows = conn.execute(
        f"SELECT p.arxiv_id, p.hf_upvotes + p.votes, {_FIRST_LISTED}, p.trending_score, p.listed_at "
        "FROM papers p WHERE p.arxiv_id = ANY(%s)",
        (list(arxiv_ids),),
    ).fetchall()
    updates = []
    for arxiv_id, upvotes, listed, old_key, old_listed in rows:
        first = parse_ts(listed)
        key = trending_key(upvotes, first)
        if not only_changed or key != old_key or first != parse_ts(old_listed):
            updates.append((key, first, arxiv_id))
    if updates:
        with conn.cursor() as cur:
            cur.executemany("UPDATE papers SET trending_score = %s, listed_at = %s WHERE arxiv_id = %s", updates)
    return len(updates)


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class ListingQueries(PostgresBase):
    _SELECT_LISTING = (
        "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source FROM listings"
    )

    def listings_for_paper(self, arxiv_id: str) -> list[Listing]:
        return [row_listing(r) for r in self.read(f"{self._SELECT_LISTING} WHERE arxiv_id = %s ORDER BY day",
                                                  (arxiv_id,))]

    def listings_between(self, start: dt.date, end: dt.date) -> list[Listing]:
        rows = self.read(f"{self._SELECT_LISTING} WHERE day BETWEEN %s AND %s ORDER BY day, rank NULLS FIRST",
                         (start, end))
        return [row_listing(r) for r in rows]

    def listing_days(self) -> list[dt.date]:
        return [dt.date.fromisoformat(r[0]) for r in self.read("SELECT DISTINCT day FROM listings ORDER BY day")]

    def day_listing(self, day: dt.date) -> list[tuple[Listing, StoredPaper]]:
        return [row_lp(r) for r in self.read(f"{SELECT_LP} WHERE l.day = %s ORDER BY {_ORDER}", (day,))]

    def listings_in_range(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        return self._visible_between(start, end)

    def _visible_between(self, start: dt.date, end: dt.date, extra: str = "") -> list[tuple[Listing, StoredPaper]]:
        rows = self.read(f"{SELECT_LP} WHERE l.day BETWEEN %s AND %s {extra}ORDER BY l.day, {_ORDER}", (start, end))
        return [row_lp(r) for r in rows]

    def nearest_listing_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        r = self.read(
            "SELECT (SELECT MAX(day) FROM listings WHERE day < %(d)s AND NOT hidden), "
            "(SELECT MIN(day) FROM listings WHERE day > %(d)s AND NOT hidden)", {"d": day},
        )[0]
        return _day(r[0]), _day(r[1])

    def latest_listing_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        r = self.read("SELECT MAX(day) FROM listings WHERE NOT hidden AND (%(d)s::date IS NULL OR day <= %(d)s)",
                      {"d": on_or_before})[0]
        return _day(r[0])

    def papers_by_org(self, name: str, limit: int = 50, offset: int = 0) -> tuple[list[StoredPaper], int]:
        total = self.read("SELECT COUNT(*) FROM papers WHERE org_name = %s", (name,))[0][0]
        rows = self.read(f"{SELECT_PAPER} WHERE org_name = %s ORDER BY published DESC NULLS LAST, arxiv_id DESC "
                         "LIMIT %s OFFSET %s", (name, limit, offset))
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
        """Listings for the HF-style API: newest day first, then most upvoted (see the SQLite store)."""
        rows = self.read(
            f"{SELECT_LP} WHERE (%(start)s::date IS NULL OR l.day >= %(start)s) "
            "AND (%(end)s::date IS NULL OR l.day <= %(end)s) "
            "AND (%(who)s::text IS NULL OR l.submitted_by = %(who)s) "
            f"ORDER BY l.day DESC, (p.hf_upvotes + p.votes) DESC, {_ORDER} LIMIT %(limit)s OFFSET %(offset)s",
            {"start": start, "end": end, "who": submitter, "limit": limit, "offset": offset},
        )
        return [row_lp(r) for r in rows]

    def digest_pool(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]:
        return self._visible_between(start, end, "AND NOT p.withdrawn ")

    # trending
    def refresh_trending(self, since: dt.date | None = None) -> int:
        ids = [r[0] for r in self.read(
            "SELECT DISTINCT arxiv_id FROM listings WHERE %(d)s::date IS NULL OR day >= %(d)s", {"d": since})]
        done = 0
        for i in range(0, len(ids), 1000):
            with self.write() as conn:
                done += retrend(conn, ids[i:i + 1000], only_changed=True)
        return done

    def trending_listings(self, start: dt.date | None, end: dt.date | None, limit: int = 50,
                          offset: int = 0) -> list[tuple[Listing, StoredPaper]]:
        """Papers by stored trending key, each with its earliest visible listing in [start, end]."""
        rows = self.read(
            f"SELECT {LP_COLUMNS} FROM papers p JOIN LATERAL (SELECT * FROM listings l2 WHERE l2.arxiv_id = p.arxiv_id "
            "AND NOT l2.hidden AND l2.day BETWEEN %s AND %s ORDER BY l2.day LIMIT 1) l ON true "
            "WHERE p.trending_score IS NOT NULL ORDER BY p.trending_score DESC, p.arxiv_id LIMIT %s OFFSET %s",
            (start or dt.date.min, end or dt.date.max, limit, offset),
        )
        return [row_lp(r) for r in rows]
