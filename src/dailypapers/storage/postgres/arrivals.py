"""Arrivals: papers by announcement day, their scores, triage decisions and listing rules.

A decision and everything it changes (the listing, its pin, the curator log) commit in one
transaction; triage seqs are taken under the content lock, so they follow commit order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import orjson
import psycopg

from dailypapers.models import ArrivalEntry, ArrivalRule, Listing, StoredPaper
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.postgres.curation import log_action
from dailypapers.storage.postgres.listings import retrend
from dailypapers.storage.rows import P_COLUMNS, P_WIDTH, SELECT_PAPER, format_ts, listing_row, parse_ts, row_paper

_ENTRIES = (
    f"SELECT {P_COLUMNS}, s.score, s.reasons, t.decision, COALESCE(u.name, t.rule), "
    "(SELECT MIN(day) FROM listings l WHERE l.arxiv_id = p.arxiv_id AND NOT l.hidden) "
    "FROM papers p LEFT JOIN arrival_scores s ON s.arxiv_id = p.arxiv_id "
    "LEFT JOIN triage t ON t.arxiv_id = p.arxiv_id LEFT JOIN users u ON u.id = t.user_id "
)
_RULES = ("SELECT r.id, r.kind, r.top_k, r.query, u.name, r.created_at FROM arrival_rules r "
          "LEFT JOIN users u ON u.id = r.created_by ")
_NEXT_TRIAGE = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM triage)"


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _rule(r: Sequence) -> ArrivalRule:
    return ArrivalRule(id=r[0], kind=r[1], top_k=r[2], query=r[3], created_by=r[4], created_at=parse_ts(r[5]))


def _take_listing(conn: psycopg.Connection, arxiv_id: str, day: str, actor_id: int, at: dt.datetime,
                  detail: str) -> None:
    conn.execute("DELETE FROM listings WHERE day = %s AND arxiv_id = %s", (day, arxiv_id))
    retrend(conn, [arxiv_id])
    log_action(conn, actor_id, "remove", at, arxiv_id, dt.date.fromisoformat(day), detail)


class ArrivalQueries(PostgresBase):
    def _entries(self, where: str, params: Sequence) -> list[ArrivalEntry]:
        out = []
        for r in self.read(_ENTRIES + where, params):
            paper = row_paper(r[:P_WIDTH])
            score, reasons, decision, by, listed = r[P_WIDTH:]
            out.append(ArrivalEntry(paper=paper, day=paper.announced or dt.date.min, score=score,
                                    reasons=orjson.loads(reasons) if reasons else [], decision=decision,
                                    decided_by=by, listed_on=_day(listed)))
        return out

    def arrivals_on(self, day: dt.date) -> list[ArrivalEntry]:
        return self._entries("WHERE p.announced = %s ORDER BY s.score DESC NULLS LAST, p.arxiv_id DESC", (day,))

    def arrival_entry(self, arxiv_id: str) -> ArrivalEntry | None:
        return next(iter(self._entries("WHERE p.arxiv_id = %s AND p.announced IS NOT NULL", (arxiv_id,))), None)

    def arrival_day_neighbours(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        r = self.read("SELECT (SELECT MAX(announced) FROM papers WHERE announced < %(d)s), "
                      "(SELECT MIN(announced) FROM papers WHERE announced > %(d)s)", {"d": day})[0]
        return _day(r[0]), _day(r[1])

    def latest_arrival_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        return _day(self.read("SELECT MAX(announced) FROM papers WHERE %(d)s::date IS NULL OR announced <= %(d)s",
                              {"d": on_or_before})[0][0])

    def papers_announced_between(self, start: dt.date, end: dt.date) -> list[StoredPaper]:
        rows = self.read(f"{SELECT_PAPER} WHERE announced BETWEEN %s AND %s ORDER BY announced, arxiv_id",
                         (start, end))
        return [row_paper(r) for r in rows]

    def unscored_arrival_days(self, since: dt.date) -> list[dt.date]:
        rows = self.read("SELECT DISTINCT p.announced FROM papers p WHERE p.announced >= %s AND NOT EXISTS "
                         "(SELECT 1 FROM arrival_scores s WHERE s.arxiv_id = p.arxiv_id) ORDER BY p.announced",
                         (since,))
        return [dt.date.fromisoformat(r[0]) for r in rows]

    def save_arrival_scores(self, scores: Sequence[tuple[str, dt.date, float, list[str]]], model: str,
                            at: dt.datetime) -> int:
        with self.write() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO arrival_scores (arxiv_id, day, score, reasons, model, scored_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (arxiv_id) DO UPDATE SET day = excluded.day, "
                "score = excluded.score, reasons = excluded.reasons, model = excluded.model, "
                "scored_at = excluded.scored_at",
                [(a, d, float(s), orjson.dumps(r).decode(), model, format_ts(at)) for a, d, s, r in scores],
            )
        return len(scores)

    def decide_arrival(self, day: dt.date, arxiv_id: str, decision: str, *, actor_id: int | None,
                       rule: str | None = None, listing: Listing | None = None, at: dt.datetime,
                       over_skip: bool = False) -> str:
        """Record one triage decision and make it true on the lists, atomically (see the SQLite store)."""
        with self.write() as conn:
            row = conn.execute("SELECT decision FROM triage WHERE arxiv_id = %s", (arxiv_id,)).fetchone()
            previous = row[0] if row else None
            follows = (previous, decision) == ("added", "pinned") or (
                (previous, decision) == ("skipped", "added") and over_skip)
            if previous is not None and not follows:
                return "decided"
            made = False
            if decision == "skipped":
                log_action(conn, actor_id, "skip", at, arxiv_id, day, None, rule)
            else:
                on = conn.execute("SELECT MIN(day) FROM listings WHERE arxiv_id = %s AND NOT hidden",
                                  (arxiv_id,)).fetchone()
                listed_day = on[0] if on else None
                if listed_day is None:
                    if listing is None:
                        raise ValueError("a listing is needed to add a paper that is on no list")
                    if conn.execute("SELECT 1 FROM listings WHERE day = %s AND arxiv_id = %s",
                                    (listing.day, arxiv_id)).fetchone():
                        return "hidden"  # a curator hid it on that day: its row is still there
                    conn.execute("INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, "
                                 "num_comments, source, submitter_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                 listing_row(listing) + (actor_id,))
                    retrend(conn, [arxiv_id])
                    log_action(conn, actor_id, "add", at, arxiv_id, listing.day, None, rule)
                    listed_day, made = listing.day.isoformat(), True
                elif previous is None and decision == "added":
                    return "listed"
                if decision == "pinned":
                    conn.execute("UPDATE listings SET pinned = true WHERE day = %s AND arxiv_id = %s",
                                 (listed_day, arxiv_id))
                    log_action(conn, actor_id, "pin", at, arxiv_id, dt.date.fromisoformat(listed_day), None, rule)
            if previous in (None, "skipped"):
                conn.execute(
                    "INSERT INTO triage (arxiv_id, day, decision, previous, made_listing, user_id, rule, seq, "
                    f"created_at) VALUES (%s, %s, %s, NULL, %s, %s, %s, {_NEXT_TRIAGE}, %s) "
                    "ON CONFLICT (arxiv_id) DO UPDATE SET "
                    "day = excluded.day, decision = excluded.decision, previous = NULL, "
                    "made_listing = excluded.made_listing, user_id = excluded.user_id, rule = excluded.rule, "
                    "seq = excluded.seq, created_at = excluded.created_at",
                    (arxiv_id, day, decision, made, actor_id, rule, format_ts(at)),
                )
            else:  # added -> pinned
                conn.execute(f"UPDATE triage SET decision = %s, previous = %s, previous_seq = seq, "
                             f"previous_user_id = user_id, previous_rule = rule, user_id = %s, rule = %s, "
                             f"seq = {_NEXT_TRIAGE}, created_at = %s WHERE arxiv_id = %s",
                             (decision, previous, actor_id, rule, format_ts(at), arxiv_id))
        return "done"

    def undo_decision(self, day: dt.date, actor_id: int, at: dt.datetime) -> tuple[str, str] | None:
        with self.write() as conn:
            row = conn.execute(
                "SELECT arxiv_id, decision, previous, made_listing FROM triage WHERE day = %s AND user_id = %s "
                "AND decision != 'removed' ORDER BY seq DESC LIMIT 1", (day, actor_id),
            ).fetchone()
            if row is None:
                return None
            arxiv_id, decision, previous, made = row
            first = conn.execute("SELECT MIN(day) FROM listings WHERE arxiv_id = %s", (arxiv_id,)).fetchone()
            listed = first[0] if first else None
            if decision == "pinned" and listed:
                conn.execute("UPDATE listings SET pinned = false WHERE day = %s AND arxiv_id = %s", (listed, arxiv_id))
                log_action(conn, actor_id, "unpin", at, arxiv_id, dt.date.fromisoformat(listed), "undo")
            if decision in ("added", "pinned") and made and previous is None and listed:
                _take_listing(conn, arxiv_id, listed, actor_id, at, "undo")
            if decision == "skipped":
                log_action(conn, actor_id, "unskip", at, arxiv_id, day, "undo")
            if previous is not None:
                conn.execute(
                    "UPDATE triage SET decision = previous, seq = previous_seq, user_id = previous_user_id, "
                    "rule = previous_rule, previous = NULL, previous_seq = NULL, previous_user_id = NULL, "
                    "previous_rule = NULL WHERE arxiv_id = %s", (arxiv_id,))
            else:
                conn.execute("DELETE FROM triage WHERE arxiv_id = %s", (arxiv_id,))
        return arxiv_id, decision

    def undo_rule_action(self, action_id: int, actor_id: int, at: dt.datetime) -> str | None:
        with self.write() as conn:
            row = conn.execute("SELECT arxiv_id, day FROM curator_actions WHERE id = %s AND action = 'add' "
                               "AND rule IS NOT NULL", (action_id,)).fetchone()
            if row is None:
                return None
            arxiv_id, day = row
            if not conn.execute("SELECT 1 FROM listings WHERE day = %s AND arxiv_id = %s", (day, arxiv_id)).fetchone():
                return "gone"
            _take_listing(conn, arxiv_id, day, actor_id, at, f"undo of #{action_id}")
            conn.execute(
                "INSERT INTO triage (arxiv_id, day, decision, previous, made_listing, user_id, rule, seq, "
                f"created_at) VALUES (%s, %s, 'removed', NULL, false, %s, NULL, {_NEXT_TRIAGE}, %s) "
                "ON CONFLICT (arxiv_id) DO UPDATE SET decision = 'removed', previous = NULL, made_listing = false, "
                "user_id = excluded.user_id, "
                "rule = NULL, seq = excluded.seq, created_at = excluded.created_at",
                (arxiv_id, day, actor_id, format_ts(at)),
            )
        return "undone"

    def arrival_rules(self) -> list[ArrivalRule]:
        return [_rule(r) for r in self.read(_RULES + "WHERE r.deleted_at IS NULL ORDER BY r.id")]

    def add_arrival_rule(self, kind: str, top_k: int | None, query: str | None, *, actor_id: int,
                         at: dt.datetime) -> ArrivalRule:
        with self.write() as conn:
            new = conn.execute("INSERT INTO arrival_rules (kind, top_k, query, created_by, created_at) "
                               "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                               (kind, top_k, query, actor_id, format_ts(at))).fetchone()
            rule = _rule(conn.execute(_RULES + "WHERE r.id = %s", new).fetchone())  # type: ignore[arg-type]
            log_action(conn, actor_id, "rule", at, detail=f"created {rule.label}")
        return rule

    def delete_arrival_rule(self, rule_id: int, *, actor_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            done = conn.execute("UPDATE arrival_rules SET deleted_at = %s WHERE id = %s AND deleted_at IS NULL",
                                (format_ts(at), rule_id)).rowcount
            if done:
                log_action(conn, actor_id, "unrule", at, detail=f"deleted rule #{rule_id}")
        return bool(done)
