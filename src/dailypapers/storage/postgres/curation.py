"""Curation: listings added by members and curators, pins, hiding, removal, the curator log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import psycopg

from dailypapers.clock import utcnow
from dailypapers.models import CuratedListing, CuratorAction, Listing, StoredPaper
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.postgres.listings import retrend
from dailypapers.storage.rows import LP_COLUMNS, SELECT_LP, format_ts, listing_row, parse_ts, row_lp

_LISTING_KEYS = ("day", "arxiv_id", "rank", "submitted_by", "submitted_at", "upvotes", "num_comments", "source",
                 "pinned", "hidden", "submitter_id")


def log_action(conn: psycopg.Connection, actor_id: int | None, action: str, at: dt.datetime,
               arxiv_id: str | None = None, day: dt.date | None = None, detail: str | None = None,
               rule: str | None = None) -> int:
    row = conn.execute(
        "INSERT INTO curator_actions (user_id, action, arxiv_id, day, detail, created_at, rule) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (actor_id, action, arxiv_id, day, detail, format_ts(at), rule),
    ).fetchone()
    return int(row[0]) if row else 0


class CurationQueries(PostgresBase):
    def add_listing(self, listing: Listing, *, submitter_id: int | None, cap: int | None = None,
                    actor_id: int | None = None, at: dt.datetime | None = None) -> str:
        """Put a paper on a day's list, checking duplicates and the submitter's cap atomically (the
        content lock serializes additions). Returns "added", "duplicate" or "cap"."""
        row = listing_row(listing)
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM listings WHERE day = %s AND arxiv_id = %s", row[:2]).fetchone():
                return "duplicate"
            if cap is not None and submitter_id is not None and conn.execute(
                    "SELECT COUNT(*) FROM listings WHERE submitter_id = %s AND day = %s",
                    (submitter_id, row[0])).fetchone()[0] >= cap:  # type: ignore[index]
                return "cap"
            conn.execute(
                "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, "
                "source, submitter_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", row + (submitter_id,),
            )
            retrend(conn, [listing.arxiv_id])
            if actor_id is not None:
                log_action(conn, actor_id, "add", at or utcnow(), listing.arxiv_id, listing.day, None)
        return "added"

    def count_submissions(self, user_id: int, day: dt.date) -> int:
        return self.read("SELECT COUNT(*) FROM listings WHERE submitter_id = %s AND day = %s", (user_id, day))[0][0]

    def user_submissions(self, user_id: int, limit: int = 100) -> list[tuple[Listing, StoredPaper]]:
        rows = self.read(f"{SELECT_LP} WHERE l.submitter_id = %s ORDER BY l.day DESC, l.submitted_at DESC NULLS LAST "
                         "LIMIT %s", (user_id, limit))
        return [row_lp(r) for r in rows]

    def set_listing_flags(self, day: dt.date, arxiv_id: str, *, actor_id: int, at: dt.datetime,
                          pinned: bool | None = None, hidden: bool | None = None) -> bool:
        with self.write() as conn:
            found = conn.execute(
                "UPDATE listings SET pinned = COALESCE(%s, pinned), hidden = COALESCE(%s, hidden) "
                "WHERE day = %s AND arxiv_id = %s", (pinned, hidden, day, arxiv_id),
            ).rowcount
            if not found:
                return False
            if pinned is not None:
                log_action(conn, actor_id, "pin" if pinned else "unpin", at, arxiv_id, day, None)
            if hidden is not None:
                log_action(conn, actor_id, "hide" if hidden else "unhide", at, arxiv_id, day, None)
                retrend(conn, [arxiv_id])
        return True

    def remove_listing(self, day: dt.date, arxiv_id: str, *, actor_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            old = conn.execute("DELETE FROM listings WHERE day = %s AND arxiv_id = %s "
                               f"RETURNING {', '.join(_LISTING_KEYS)}", (day, arxiv_id)).fetchone()
            if old is None:
                return False
            # the removed row, as SQLite logs it (times as stored there, flags as 0/1)
            kept = dict(zip(_LISTING_KEYS, old))
            kept["submitted_at"] = format_ts(parse_ts(kept["submitted_at"]))
            kept["pinned"], kept["hidden"] = int(kept["pinned"]), int(kept["hidden"])
            log_action(conn, actor_id, "remove", at, arxiv_id, day, json.dumps(kept))
            retrend(conn, [arxiv_id])
        return True

    def curated_day(self, day: dt.date) -> list[CuratedListing]:
        rows = self.read(
            f"SELECT {LP_COLUMNS}, l.pinned, l.hidden, l.submitter_id FROM listings l "
            "JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE l.day = %s "
            "ORDER BY l.pinned DESC, (p.hf_upvotes + p.votes) DESC, l.arxiv_id", (day,),
        )
        return [CuratedListing(*row_lp(r[:-3]), bool(r[-3]), bool(r[-2]), r[-1]) for r in rows]

    def pinned_listings(self, days: Iterable[dt.date]) -> set[tuple[dt.date, str]]:
        rows = self.read("SELECT day, arxiv_id FROM listings WHERE pinned AND NOT hidden AND day = ANY(%s)",
                         (sorted(set(days)),))
        return {(dt.date.fromisoformat(d), a) for d, a in rows}

    def log_curator_action(self, actor_id: int | None, action: str, at: dt.datetime, *,
                           arxiv_id: str | None = None, day: dt.date | None = None, detail: str | None = None) -> None:
        with self.write() as conn:
            log_action(conn, actor_id, action, at, arxiv_id, day, detail)

    def curator_log(self, limit: int = 100, offset: int = 0) -> list[CuratorAction]:
        rows = self.read(
            "SELECT a.id, u.name, a.action, a.arxiv_id, a.day, a.detail, a.created_at, p.title, a.rule "
            "FROM curator_actions a LEFT JOIN users u ON u.id = a.user_id "
            "LEFT JOIN papers p ON p.arxiv_id = a.arxiv_id "
            "ORDER BY a.id DESC LIMIT %s OFFSET %s", (limit, offset),
        )
        return [CuratorAction(id=r[0], actor=r[1], action=r[2], arxiv_id=r[3],
                              day=dt.date.fromisoformat(r[4]) if r[4] else None, detail=r[5],
                              created_at=parse_ts(r[6]), title=r[7], rule=r[8]) for r in rows]
