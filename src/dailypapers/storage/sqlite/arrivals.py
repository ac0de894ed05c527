"""Arrivals: papers by announcement day, their scores, triage decisions and listing rules.

A decision and everything it changes (the listing, its pin, the curator log) commit in one
transaction, so the inbox, the lists and the log never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import orjson

from dailypapers.models import ArrivalEntry, ArrivalRule, Listing, StoredPaper
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.curation import log_action
from dailypapers.storage.sqlite.listings import retrend
from dailypapers.storage.sqlite.rows import (
    P_COLUMNS,
    P_WIDTH,
    SELECT_PAPER,
    format_ts,
    listing_row,
    parse_ts,
    row_paper,
)

_ENTRIES = (
    f"SELECT {P_COLUMNS}, s.score, s.reasons, t.decision, COALESCE(u.name, t.rule), "
    "(SELECT MIN(day) FROM listings l WHERE l.arxiv_id = p.arxiv_id AND l.hidden = 0) "
    "FROM papers p LEFT JOIN arrival_scores s ON s.arxiv_id = p.arxiv_id "
    "LEFT JOIN triage t ON t.arxiv_id = p.arxiv_id LEFT JOIN users u ON u.id = t.user_id "
)


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class ArrivalQueries(SQLiteBase):
    # -- reading ------------------------------------------------------------
    def _entries(self, where: str, params: Sequence) -> list[ArrivalEntry]:
        out = []
        for r in self.read(_ENTRIES + where, params):
            paper = row_paper(r[:P_WIDTH])
            score, reasons, decision, by, listed = r[P_WIDTH:]
            out.append(ArrivalEntry(
                paper=paper, day=paper.announced or dt.date.min, score=score,
                reasons=orjson.loads(reasons) if reasons else [], decision=decision, decided_by=by,
                listed_on=_day(listed),
            ))
        return out

    def arrivals_on(self, day: dt.date) -> list[ArrivalEntry]:
        """Every paper arXiv announced on `day`, best score first (unscored last)."""
        return self._entries("WHERE p.announced = ? ORDER BY s.score IS NULL, s.score DESC, p.arxiv_id DESC",
                             (day.isoformat(),))

    def arrival_entry(self, arxiv_id: str) -> ArrivalEntry | None:
        found = self._entries("WHERE p.arxiv_id = ? AND p.announced IS NOT NULL", (arxiv_id,))
        return found[0] if found else None

    def arrival_day_neighbours(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The nearest announcement days before and after `day`."""
        d = day.isoformat()
        before = self.read("SELECT MAX(announced) FROM papers WHERE announced < ?", (d,))[0][0]
        after = self.read("SELECT MIN(announced) FROM papers WHERE announced > ?", (d,))[0][0]
        return _day(before), _day(after)

    def latest_arrival_day(self, on_or_before: dt.date | None = None) -> dt.date | None:
        if on_or_before is None:
            return _day(self.read("SELECT MAX(announced) FROM papers")[0][0])
        return _day(self.read("SELECT MAX(announced) FROM papers WHERE announced <= ?",
                              (on_or_before.isoformat(),))[0][0])

    def papers_announced_between(self, start: dt.date, end: dt.date) -> list[StoredPaper]:
        rows = self.read(f"{SELECT_PAPER} WHERE announced BETWEEN ? AND ? ORDER BY announced, arxiv_id",
                         (start.isoformat(), end.isoformat()))
        return [row_paper(r) for r in rows]

    def unscored_arrival_days(self, since: dt.date) -> list[dt.date]:
        """Announcement days from `since` on with a paper the ranker has not scored."""
        rows = self.read(
            "SELECT DISTINCT p.announced FROM papers p LEFT JOIN arrival_scores s ON s.arxiv_id = p.arxiv_id "
            "WHERE p.announced >= ? AND s.arxiv_id IS NULL ORDER BY p.announced",
            (since.isoformat(),),
        )
        return [dt.date.fromisoformat(r[0]) for r in rows]

    # -- scores -------------------------------------------------------------
    def save_arrival_scores(self, scores: Sequence[tuple[str, dt.date, float, list[str]]], model: str,
                            at: dt.datetime) -> int:
        """Replace the stored scores of these arrivals (the new-papers page orders by them)."""
        now = format_ts(at)
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO arrival_scores (arxiv_id, day, score, reasons, model, scored_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (arxiv_id) DO UPDATE SET day = excluded.day, score = excluded.score, "
                "reasons = excluded.reasons, model = excluded.model, scored_at = excluded.scored_at",
                [(a, d.isoformat(), float(s), orjson.dumps(r).decode(), model, now) for a, d, s, r in scores],
            )
        return len(scores)

    # -- triage -------------------------------------------------------------
    def decide_arrival(self, day: dt.date, arxiv_id: str, decision: str, *, actor_id: int | None,
                       rule: str | None = None, listing: Listing | None = None, at: dt.datetime,
                       over_skip: bool = False) -> str:
        """Record one triage decision and make it true on the lists, atomically.

        "added" and "pinned" put the paper on `day`'s list (`listing`), unless it is on a list
        already: then "added" changes nothing and returns "listed", and "pinned" pins that
        listing. Returns "done", "listed", "hidden" when a curator hid the paper on `listing`'s day
        (neither a rule nor a click brings it back), or "decided" when the paper has a decision
        already (only added -> pinned may follow one; `over_skip` lets an addition follow a skip).
        A rule acts with actor_id None and its label.
        """
        with self.write() as conn:
            row = conn.execute("SELECT decision FROM triage WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
            previous = row[0] if row else None
            follows = (previous == "added" and decision == "pinned") or (
                previous == "skipped" and over_skip and decision == "added")
            if previous is not None and not follows:
                return "decided"
            made = 0
            if decision in ("added", "pinned"):
                on = conn.execute(
                    "SELECT day FROM listings WHERE arxiv_id = ? AND hidden = 0 ORDER BY day LIMIT 1", (arxiv_id,)
                ).fetchone()
                if on is None:
                    if listing is None:
                        raise ValueError("a listing is needed to add a paper that is on no list")
                    # A hidden listing is on no list a reader sees, but its row is there: inserting
                    # another would break the (day, arxiv_id) key (a 500, or a failed scoring job).
                    if conn.execute("SELECT 1 FROM listings WHERE day = ? AND arxiv_id = ?",
                                    (listing.day.isoformat(), arxiv_id)).fetchone():
                        return "hidden"
                    conn.execute(
                        "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, "
                        "num_comments, source, submitter_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        listing_row(listing) + (actor_id,),
                    )
                    retrend(conn, arxiv_id)
                    log_action(conn, actor_id, "add", at, arxiv_id, listing.day, None, rule)
                    listed_day = listing.day.isoformat()
                    made = 1
                elif previous is None and decision == "added":
                    return "listed"
                else:
                    listed_day = on[0]
                if decision == "pinned":
                    conn.execute("UPDATE listings SET pinned = 1 WHERE day = ? AND arxiv_id = ?",
                                 (listed_day, arxiv_id))
                    log_action(conn, actor_id, "pin", at, arxiv_id, dt.date.fromisoformat(listed_day), None, rule)
            else:
                log_action(conn, actor_id, "skip", at, arxiv_id, day, None, rule)
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM triage").fetchone()[0]
            if previous is None or previous == "skipped":
                conn.execute("DELETE FROM triage WHERE arxiv_id = ?", (arxiv_id,))
                conn.execute(
                    "INSERT INTO triage (arxiv_id, day, decision, previous, made_listing, user_id, rule, seq, "
                    "created_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                    (arxiv_id, day.isoformat(), decision, made, actor_id, rule, seq, format_ts(at)),
                )
            else:  # added -> pinned
                conn.execute(
                    "UPDATE triage SET decision = ?, previous = ?, previous_seq = seq, previous_user_id = user_id, "
                    "previous_rule = rule, user_id = ?, rule = ?, seq = ?, created_at = ? WHERE arxiv_id = ?",
                    (decision, previous, actor_id, rule, seq, format_ts(at), arxiv_id),
                )
        return "done"

    def undo_decision(self, day: dt.date, actor_id: int, at: dt.datetime) -> tuple[str, str] | None:
        """Take back this curator's newest decision of `day`: (arxiv_id, decision undone), or None."""
        with self.write() as conn:
            row = conn.execute(
                "SELECT arxiv_id, decision, previous, made_listing FROM triage WHERE day = ? AND user_id = ? "
                "AND decision != 'removed' ORDER BY seq DESC LIMIT 1",
                (day.isoformat(), actor_id),
            ).fetchone()
            if row is None:
                return None
            arxiv_id, decision, previous, made = row
            listed = conn.execute("SELECT day FROM listings WHERE arxiv_id = ? ORDER BY day LIMIT 1",
                                  (arxiv_id,)).fetchone()
            if decision == "pinned" and listed:
                conn.execute("UPDATE listings SET pinned = 0 WHERE day = ? AND arxiv_id = ?", (listed[0], arxiv_id))
                log_action(conn, actor_id, "unpin", at, arxiv_id, dt.date.fromisoformat(listed[0]), "undo")
            if decision in ("added", "pinned") and made and previous is None and listed:
                conn.execute("DELETE FROM listings WHERE day = ? AND arxiv_id = ?", (listed[0], arxiv_id))
                retrend(conn, arxiv_id)
                log_action(conn, actor_id, "remove", at, arxiv_id, dt.date.fromisoformat(listed[0]), "undo")
            if decision == "skipped":
                log_action(conn, actor_id, "unskip", at, arxiv_id, day, "undo")
            if previous is not None:
                # back to the addition the pin followed, in its place in the order, by whoever made it
                conn.execute(
                    "UPDATE triage SET decision = previous, seq = previous_seq, user_id = previous_user_id, "
                    "rule = previous_rule, previous = NULL, previous_seq = NULL, previous_user_id = NULL, "
                    "previous_rule = NULL WHERE arxiv_id = ?", (arxiv_id,))
            else:
                conn.execute("DELETE FROM triage WHERE arxiv_id = ?", (arxiv_id,))
        return arxiv_id, decision

    def undo_rule_action(self, action_id: int, actor_id: int, at: dt.datetime) -> str | None:
        """Take a paper a rule listed off that list; the paper is marked removed so no rule adds it
        again. Returns "undone", "gone" (no longer listed there), or None (no such rule action)."""
        with self.write() as conn:
            row = conn.execute(
                "SELECT arxiv_id, day FROM curator_actions WHERE id = ? AND action = 'add' AND rule IS NOT NULL",
                (action_id,),
            ).fetchone()
            if row is None:
                return None
            arxiv_id, day = row
            if conn.execute("DELETE FROM listings WHERE day = ? AND arxiv_id = ?", (day, arxiv_id)).rowcount == 0:
                return "gone"
            retrend(conn, arxiv_id)
            log_action(conn, actor_id, "remove", at, arxiv_id, dt.date.fromisoformat(day), f"undo of #{action_id}")
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM triage").fetchone()[0]
            conn.execute(
                "INSERT INTO triage (arxiv_id, day, decision, previous, made_listing, user_id, rule, seq, created_at) "
                "VALUES (?, ?, 'removed', NULL, 0, ?, NULL, ?, ?) ON CONFLICT (arxiv_id) DO UPDATE SET "
                "decision = 'removed', previous = NULL, made_listing = 0, user_id = excluded.user_id, rule = NULL, "
                "seq = excluded.seq, created_at = excluded.created_at",
                (arxiv_id, day, actor_id, seq, format_ts(at)),
            )
        return "undone"

    # -- rules --------------------------------------------------------------
    def _rule(self, r: Sequence) -> ArrivalRule:
        return ArrivalRule(id=r[0], kind=r[1], top_k=r[2], query=r[3], created_by=r[4], created_at=parse_ts(r[5]))

    def arrival_rules(self) -> list[ArrivalRule]:
        rows = self.read(
            "SELECT r.id, r.kind, r.top_k, r.query, u.name, r.created_at FROM arrival_rules r "
            "LEFT JOIN users u ON u.id = r.created_by WHERE r.deleted_at IS NULL ORDER BY r.id"
        )
        return [self._rule(r) for r in rows]

    def add_arrival_rule(self, kind: str, top_k: int | None, query: str | None, *, actor_id: int,
                         at: dt.datetime) -> ArrivalRule:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO arrival_rules (kind, top_k, query, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                (kind, top_k, query, actor_id, format_ts(at)),
            )
            rule_id = int(cur.lastrowid or 0)
            rule = self._rule(conn.execute(
                "SELECT r.id, r.kind, r.top_k, r.query, u.name, r.created_at FROM arrival_rules r "
                "LEFT JOIN users u ON u.id = r.created_by WHERE r.id = ?", (rule_id,)).fetchone())
            log_action(conn, actor_id, "rule", at, detail=f"created {rule.label}")
        return rule

    def delete_arrival_rule(self, rule_id: int, *, actor_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            done = conn.execute("UPDATE arrival_rules SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                                (format_ts(at), rule_id)).rowcount
            if done:
                log_action(conn, actor_id, "unrule", at, detail=f"deleted rule #{rule_id}")
        return bool(done)
