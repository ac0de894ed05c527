"""Curation: listings added by members and curators, pins, hiding, removal, the curator log."""

from __future__ import annotations

import datetime as dt
import json as _json
import sqlite3
from collections.abc import Iterable

from dailypapers.clock import utcnow
from dailypapers.models import CuratedListing, CuratorAction, Listing, StoredPaper
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.listings import retrend
from dailypapers.storage.sqlite.rows import LP_COLUMNS, SELECT_LP, chunks, format_ts, listing_row, parse_ts, row_lp


def log_action(conn: sqlite3.Connection, actor_id: int | None, action: str, at: dt.datetime,
               arxiv_id: str | None = None, day: dt.date | None = None, detail: str | None = None,
               rule: str | None = None) -> int:
    cur = conn.execute(
        "INSERT INTO curator_actions (user_id, action, arxiv_id, day, detail, created_at, rule) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (actor_id, action, arxiv_id, day.isoformat() if day else None, detail, format_ts(at), rule),
    )
    return int(cur.lastrowid or 0)


class CurationQueries(SQLiteBase):
    def add_listing(self, listing: Listing, *, submitter_id: int | None, cap: int | None = None,
                    actor_id: int | None = None, at: dt.datetime | None = None) -> str:
        """Put a paper on a day's list, atomically checking duplicates and the submitter's cap.

        Returns "added", "duplicate" (already on that day) or "cap" (the member has `cap`
        submissions that day already). With actor_id the addition is logged as a curator action.
        """
        row = listing_row(listing)
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
            retrend(conn, listing.arxiv_id)
            if actor_id is not None:
                log_action(conn, actor_id, "add", at or utcnow(), listing.arxiv_id, listing.day, None)
        return "added"

    def count_submissions(self, user_id: int, day: dt.date) -> int:
        return self.read("SELECT COUNT(*) FROM listings WHERE submitter_id = ? AND day = ?",
                         (user_id, day.isoformat()))[0][0]

    def user_submissions(self, user_id: int, limit: int = 100) -> list[tuple[Listing, StoredPaper]]:
        rows = self.read(
            f"{SELECT_LP} WHERE l.submitter_id = ? ORDER BY l.day DESC, l.submitted_at DESC LIMIT ?",
            (user_id, limit),
        )
        return [row_lp(r) for r in rows]

    def set_listing_flags(self, day: dt.date, arxiv_id: str, *, actor_id: int, at: dt.datetime,
                          pinned: bool | None = None, hidden: bool | None = None) -> bool:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM listings WHERE day = ? AND arxiv_id = ?",
                            (day.isoformat(), arxiv_id)).fetchone() is None:
                return False
            if pinned is not None:
                conn.execute("UPDATE listings SET pinned = ? WHERE day = ? AND arxiv_id = ?",
                             (int(pinned), day.isoformat(), arxiv_id))
                log_action(conn, actor_id, "pin" if pinned else "unpin", at, arxiv_id, day, None)
            if hidden is not None:
                conn.execute("UPDATE listings SET hidden = ? WHERE day = ? AND arxiv_id = ?",
                             (int(hidden), day.isoformat(), arxiv_id))
                log_action(conn, actor_id, "hide" if hidden else "unhide", at, arxiv_id, day, None)
                retrend(conn, arxiv_id)
        return True

    def remove_listing(self, day: dt.date, arxiv_id: str, *, actor_id: int, at: dt.datetime) -> bool:
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
            log_action(conn, actor_id, "remove", at, arxiv_id, day, _json.dumps(dict(zip(keys, old))))
            retrend(conn, arxiv_id)
        return True

    def curated_day(self, day: dt.date) -> list[CuratedListing]:
        rows = self.read(
            f"SELECT {LP_COLUMNS}, l.pinned, l.hidden, l.submitter_id FROM listings l "
            "JOIN papers p ON p.arxiv_id = l.arxiv_id WHERE l.day = ? "
            "ORDER BY l.pinned DESC, (p.hf_upvotes + p.votes) DESC, l.arxiv_id",
            (day.isoformat(),),
        )
        out = []
        for r in rows:
            listing, paper = row_lp(r[:-3])
            out.append(CuratedListing(listing, paper, bool(r[-3]), bool(r[-2]), r[-1]))
        return out

    def pinned_listings(self, days: Iterable[dt.date]) -> set[tuple[dt.date, str]]:
        found: set[tuple[dt.date, str]] = set()
        day_list = sorted({d.isoformat() for d in days})
        for chunk in chunks(day_list):
            marks = ",".join("?" * len(chunk))
            for d, a in self.read(
                f"SELECT day, arxiv_id FROM listings WHERE pinned = 1 AND hidden = 0 AND day IN ({marks})", chunk
            ):
                found.add((dt.date.fromisoformat(d), a))
        return found
    def log_curator_action(self, actor_id: int | None, action: str, at: dt.datetime, *,
                           arxiv_id: str | None = None, day: dt.date | None = None, detail: str | None = None) -> None:
        with self.write() as conn:
            log_action(conn, actor_id, action, at, arxiv_id, day, detail)

    def curator_log(self, limit: int = 100, offset: int = 0) -> list[CuratorAction]:
        rows = self.read(
            "SELECT a.id, u.name, a.action, a.arxiv_id, a.day, a.detail, a.created_at, p.title, a.rule "
            "FROM curator_actions a "
            "LEFT JOIN users u ON u.id = a.user_id LEFT JOIN papers p ON p.arxiv_id = a.arxiv_id "
            "ORDER BY a.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [
            CuratorAction(id=r[0], actor=r[1], action=r[2], arxiv_id=r[3],
                          day=dt.date.fromisoformat(r[4]) if r[4] else None, detail=r[5], created_at=parse_ts(r[6]),
                          title=r[7], rule=r[8])
            for r in rows
        ]
