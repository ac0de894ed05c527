"""A member's own data: the export, the address change and the deletion of an account
(the SQL and the rules are in storage/account_rows.py)."""

from __future__ import annotations

import datetime as dt

import psycopg

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
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.postgres.listings import retrend
from dailypapers.storage.rows import format_ts


def _ghost(conn: psycopg.Connection, at: dt.datetime) -> int:
    row = conn.execute("SELECT id FROM users WHERE name = %s", (GHOST_NAME,)).fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO users (email, name, password_hash, role, created_at, disabled_at, show_upvotes, "
            "show_submissions) VALUES (%s, %s, NULL, 'member', %s, %s, false, false) RETURNING id",
            (GHOST_EMAIL, GHOST_NAME, format_ts(at), format_ts(at))).fetchone()
    assert row is not None
    return row[0]


class AccountDataQueries(PostgresBase):
    def account_export(self, user_id: int) -> dict[str, list[dict]]:
        """The member's rows, section by section, JSON-ready (no secrets)."""
        out = {name: as_dicts(self.read(sql.format(p="%s"), (user_id,)), keys) for name, sql, keys in EXPORT_SQL}
        email = self.read("SELECT email FROM users WHERE id = %s", (user_id,))
        out["subscriptions"] = as_dicts(self.read(SUBSCRIPTIONS_SQL.format(p="%s"),
                                                  (user_id, email[0][0] if email else "")), SUBSCRIPTION_KEYS)
        collections = as_dicts(self.read(COLLECTIONS_SQL.format(p="%s"), (user_id, user_id)), COLLECTION_KEYS)
        papers: list[tuple] = []
        if collections:
            papers = self.read(COLLECTION_PAPERS_SQL.format(ids="%s").replace("IN (%s)", "= ANY(%s)"),
                               ([c["id"] for c in collections],))
        members = self.read(COLLECTION_MEMBERS_SQL.format(p="%s"), (user_id,))
        out["collections"] = collections_with_papers(collections, papers, members)
        return out

    def set_email(self, user_id: int, email: str, at: dt.datetime) -> None:
        """A confirmed new address (verified by the confirmation); Conflict("email") if it is taken.
        The member's own subscription follows, unless another subscription holds the address."""
        try:
            with self.write() as conn:
                if conn.execute("SELECT 1 FROM users WHERE lower(email) = lower(%s) AND id <> %s",
                                (email, user_id)).fetchone():
                    raise Conflict("email")
                conn.execute("UPDATE users SET email = %s, verified_at = %s WHERE id = %s",
                             (email, format_ts(at), user_id))
                conn.execute("UPDATE subscriptions SET email = %s WHERE user_id = %s AND NOT EXISTS "
                             "(SELECT 1 FROM subscriptions s WHERE lower(s.email) = lower(%s) "
                             "AND s.user_id IS DISTINCT FROM %s)", (email, user_id, email, user_id))
        except psycopg.errors.UniqueViolation:  # taken by a concurrent change
            raise Conflict("email") from None

    def delete_account(self, user_id: int, at: dt.datetime) -> AccountDeletion | None:
        """Delete the member as account_rows.py describes, in one transaction; None if no such user."""
        with self.write() as conn:
            row = conn.execute("SELECT email FROM users WHERE id = %s AND name <> %s FOR UPDATE",
                               (user_id, GHOST_NAME)).fetchone()
            if row is None:
                return None
            ghost = _ghost(conn, at)
            comments = conn.execute("UPDATE comments SET user_id = %s WHERE user_id = %s", (ghost, user_id)).rowcount
            for sql in UNNAME_SQL:
                conn.execute(sql.format(p="%s"), (user_id,))
            voted = [r[0] for r in conn.execute("DELETE FROM votes WHERE user_id = %s RETURNING arxiv_id",
                                                (user_id,)).fetchall()]
            if voted:  # counts, the search filters' seq and trending, as a vote does
                conn.execute("UPDATE papers p SET votes = (SELECT COUNT(*) FROM votes v WHERE v.arxiv_id = "
                             "p.arxiv_id), seq = nextval('paper_seq') WHERE p.arxiv_id = ANY(%s)", (voted,))
                retrend(conn, voted)
            subs = [r[0] for r in conn.execute(
                "SELECT id FROM subscriptions WHERE user_id = %s OR lower(email) = lower(%s)",
                (user_id, row[0])).fetchall()]
            if subs:
                conn.execute("DELETE FROM digest_sent_papers WHERE subscription_id = ANY(%s)", (subs,))
                conn.execute("DELETE FROM digest_sends WHERE subscription_id = ANY(%s)", (subs,))
                conn.execute("DELETE FROM subscriptions WHERE id = ANY(%s)", (subs,))
            moved = []
            for cid, heir in conn.execute(HEIRS_SQL.format(p="%s"), (user_id,)).fetchall():
                if heir is None:
                    continue
                conn.execute("UPDATE collections SET owner_id = %s, updated_at = %s WHERE id = %s",
                             (heir, format_ts(at), cid))
                conn.execute("DELETE FROM collection_members WHERE collection_id = %s AND user_id = %s", (cid, heir))
                name = conn.execute("SELECT name FROM users WHERE id = %s", (heir,)).fetchone()
                moved.append((cid, name[0] if name else ""))
            owned = conn.execute("SELECT COUNT(*) FROM collections WHERE owner_id = %s", (user_id,)).fetchone()
            # sessions, tokens, the rest of the collections, notes, states and visits cascade
            conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
        return AccountDeletion(len(voted), comments, owned[0] if owned else 0, moved, len(subs))
