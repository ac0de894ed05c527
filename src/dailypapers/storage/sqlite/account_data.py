"""A member's own data: the export, the address change and the deletion of an account
(the SQL and the rules are in storage/account_rows.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3

from dailypapers.models import AccountDeletion
from dailypapers.storage.account_rows import (
    COLLECTION_KEYS,
    COLLECTION_MEMBERS_SQL,
    COLLECTION_PAPERS_SQL,
    COLLECTIONS_SQL,
    EXPORT_SQL,
    GHOST_EMAIL,
    GHOST_NAME,
    HEIRS_SQL,
    SUBSCRIPTION_KEYS,
    SUBSCRIPTIONS_SQL,
    UNNAME_SQL,
    as_dicts,
    collections_with_papers,
)
from dailypapers.storage.errors import Conflict
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.listings import retrend
from dailypapers.storage.sqlite.rows import format_ts


def _ghost(conn: sqlite3.Connection, at: dt.datetime) -> int:
    row = conn.execute("SELECT id FROM users WHERE name = ?", (GHOST_NAME,)).fetchone()
    if row:
        return row[0]
    cur = conn.execute(
        "INSERT INTO users (email, name, password_hash, role, created_at, disabled_at, show_upvotes, "
        "show_submissions) VALUES (?, ?, NULL, 'member', ?, ?, 0, 0)",
        (GHOST_EMAIL, GHOST_NAME, format_ts(at), format_ts(at)))
    assert cur.lastrowid is not None
    return cur.lastrowid


class AccountDataQueries(SQLiteBase):
    def account_export(self, user_id: int) -> dict[str, list[dict]]:
        """The member's rows, section by section, JSON-ready (no secrets)."""
        out = {name: as_dicts(self.read(sql.format(p="?"), (user_id,)), keys) for name, sql, keys in EXPORT_SQL}
        email = self.read("SELECT email FROM users WHERE id = ?", (user_id,))
        out["subscriptions"] = as_dicts(self.read(SUBSCRIPTIONS_SQL.format(p="?"),
                                                  (user_id, email[0][0] if email else "")), SUBSCRIPTION_KEYS)
        collections = as_dicts(self.read(COLLECTIONS_SQL.format(p="?"), (user_id, user_id)), COLLECTION_KEYS)
        papers = []
        if collections:
            ids = ",".join("?" * len(collections))
            papers = self.read(COLLECTION_PAPERS_SQL.format(ids=ids), [c["id"] for c in collections])
        members = self.read(COLLECTION_MEMBERS_SQL.format(p="?"), (user_id,))
        out["collections"] = collections_with_papers(collections, papers, members)
        return out

    def set_email(self, user_id: int, email: str, at: dt.datetime) -> None:
        """A confirmed new address (verified by the confirmation); Conflict("email") if it is taken.
        The member's own subscription follows, unless another subscription holds the address."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE email = ? AND id <> ?", (email, user_id)).fetchone():
                raise Conflict("email")
            conn.execute("UPDATE users SET email = ?, verified_at = ? WHERE id = ?", (email, format_ts(at), user_id))
            conn.execute("UPDATE subscriptions SET email = ? WHERE user_id = ? AND NOT EXISTS "
                         "(SELECT 1 FROM subscriptions s WHERE s.email = ? AND s.user_id IS NOT ?)",
                         (email, user_id, email, user_id))

    def delete_account(self, user_id: int, at: dt.datetime) -> AccountDeletion | None:
        """Delete the member as account_rows.py describes, in one transaction; None if no such user."""
        with self.write() as conn:
            row = conn.execute("SELECT email FROM users WHERE id = ? AND name <> ?", (user_id, GHOST_NAME)).fetchone()
            if row is None:
                return None
            ghost = _ghost(conn, at)
            comments = conn.execute("UPDATE comments SET user_id = ? WHERE user_id = ?", (ghost, user_id)).rowcount
            for sql in UNNAME_SQL:
                conn.execute(sql.format(p="?"), (user_id,))
            voted = [r[0] for r in conn.execute("SELECT arxiv_id FROM votes WHERE user_id = ?", (user_id,))]
            conn.execute("DELETE FROM votes WHERE user_id = ?", (user_id,))
            for arxiv_id in voted:  # counts, the search filters' seq and trending, as a vote does
                conn.execute("UPDATE papers SET votes = (SELECT COUNT(*) FROM votes WHERE arxiv_id = ?), "
                             "seq = (SELECT MAX(seq) + 1 FROM papers) WHERE arxiv_id = ?", (arxiv_id, arxiv_id))
                retrend(conn, arxiv_id)
            subs = [r[0] for r in conn.execute(
                "SELECT id FROM subscriptions WHERE user_id = ? OR email = ?", (user_id, row[0]))]
            for sid in subs:
                conn.execute("DELETE FROM digest_sent_papers WHERE subscription_id = ?", (sid,))
                conn.execute("DELETE FROM digest_sends WHERE subscription_id = ?", (sid,))
                conn.execute("DELETE FROM subscriptions WHERE id = ?", (sid,))
            moved = []
            for cid, heir in conn.execute(HEIRS_SQL.format(p="?"), (user_id,)).fetchall():
                if heir is None:
                    continue
                conn.execute("UPDATE collections SET owner_id = ?, updated_at = ? WHERE id = ?",
                             (heir, format_ts(at), cid))
                conn.execute("DELETE FROM collection_members WHERE collection_id = ? AND user_id = ?", (cid, heir))
                moved.append((cid, conn.execute("SELECT name FROM users WHERE id = ?", (heir,)).fetchone()[0]))
            owned = conn.execute("SELECT COUNT(*) FROM collections WHERE owner_id = ?", (user_id,)).fetchone()[0]
            # sessions, tokens, the rest of the collections, notes, states and visits cascade
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return AccountDeletion(len(voted), comments, owned, moved, len(subs))
