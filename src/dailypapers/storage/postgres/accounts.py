"""Accounts: users, sessions and API tokens. Emails and names are unique whatever their case."""

from __future__ import annotations

import datetime as dt

import psycopg

from dailypapers.models import ApiToken, SessionRecord, User
from dailypapers.storage.errors import Conflict
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.rows import (
    TOKEN_COLUMNS,
    USER_COLUMNS,
    format_ts,
    inserted,
    parse_ts,
    prefixed,
    row_token,
    row_user,
)


class AccountQueries(PostgresBase):
    def _user_where(self, where: str, value) -> User | None:
        rows = self.read(f"SELECT {USER_COLUMNS} FROM users WHERE {where}", (value,))
        return row_user(rows[0]) if rows else None

    def create_user(self, email: str, name: str, password_hash: str | None, role: str, at: dt.datetime,
                    verified_at: dt.datetime | None = None) -> User:
        try:
            with self.write() as conn:
                row = conn.execute(
                    "INSERT INTO users (email, name, password_hash, role, verified_at, created_at, "
                    f"password_changed_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
                    (email, name, password_hash, role, format_ts(verified_at), format_ts(at), format_ts(at)),
                ).fetchone()
        except psycopg.errors.UniqueViolation as e:
            raise Conflict("email" if "users_email" in str(e.diag.constraint_name) else "name") from None
        return row_user(inserted(row))

    def get_user(self, user_id: int) -> User | None:
        return self._user_where("id = %s", user_id)

    def user_by_email(self, email: str) -> User | None:
        return self._user_where("lower(email) = lower(%s)", email)

    def user_by_name(self, name: str) -> User | None:
        return self._user_where("lower(name) = lower(%s)", name)

    def set_password(self, user_id: int, password_hash: str, at: dt.datetime, *, end_sessions: bool = True) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET password_hash = %s, password_changed_at = %s WHERE id = %s",
                         (password_hash, format_ts(at), user_id))
            if end_sessions:
                conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))

    def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET password_hash = %s WHERE id = %s AND password_hash = %s",
                         (new_hash, user_id, old_hash))

    def set_verified(self, user_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            return conn.execute("UPDATE users SET verified_at = %s WHERE id = %s AND verified_at IS NULL",
                                (format_ts(at), user_id)).rowcount > 0

    def set_role(self, user_id: int, role: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET role = %s WHERE id = %s", (role, user_id))

    def set_disabled(self, user_id: int, at: dt.datetime | None) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET disabled_at = %s WHERE id = %s", (format_ts(at), user_id))
            if at is not None:
                conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))
                conn.execute("UPDATE api_tokens SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL",
                             (format_ts(at), user_id))

    def set_profile_visibility(self, user_id: int, show_upvotes: bool, show_submissions: bool) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET show_upvotes = %s, show_submissions = %s WHERE id = %s",
                         (bool(show_upvotes), bool(show_submissions), user_id))

    # sessions: bookkeeping, shared by every node (a member signed in on one is signed in on all)
    def create_session(self, token_hash: str, user_id: int, at: dt.datetime, expires_at: dt.datetime) -> None:
        with self.write(content=False) as conn:
            conn.execute("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) "
                         "VALUES (%s, %s, %s, %s, %s)",
                         (token_hash, user_id, format_ts(at), format_ts(at), format_ts(expires_at)))

    def get_session(self, token_hash: str) -> SessionRecord | None:
        rows = self.read(f"SELECT s.created_at, s.last_seen_at, s.expires_at, {prefixed(USER_COLUMNS, 'u')} "
                         "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = %s", (token_hash,))
        if not rows:
            return None
        r = rows[0]
        return SessionRecord(user=row_user(r[3:]), created_at=inserted(parse_ts(r[0])),
                             last_seen_at=inserted(parse_ts(r[1])), expires_at=inserted(parse_ts(r[2])))

    def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        with self.write(content=False) as conn:
            conn.execute("UPDATE sessions SET last_seen_at = %s WHERE token_hash = %s", (format_ts(at), token_hash))

    def delete_session(self, token_hash: str) -> None:
        with self.write(content=False) as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = %s", (token_hash,))

    def purge_sessions(self, idle_before: dt.datetime, now: dt.datetime) -> int:
        with self.write(content=False) as conn:
            return conn.execute("DELETE FROM sessions WHERE last_seen_at < %s OR expires_at <= %s",
                                (format_ts(idle_before), format_ts(now))).rowcount

    # API tokens
    def create_api_token(self, user_id: int, name: str, token_hash: str, prefix: str, at: dt.datetime) -> ApiToken:
        with self.write() as conn:
            row = conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (%s, %s, %s, %s, %s) "
                f"RETURNING {TOKEN_COLUMNS}", (user_id, name, token_hash, prefix, format_ts(at)),
            ).fetchone()
        return row_token(inserted(row))

    def api_token_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        rows = self.read(
            f"SELECT {prefixed(TOKEN_COLUMNS, 't')}, {prefixed(USER_COLUMNS, 'u')} FROM api_tokens t "
            "JOIN users u ON u.id = t.user_id WHERE t.token_hash = %s AND t.revoked_at IS NULL", (token_hash,),
        )
        return (row_token(rows[0][:7]), row_user(rows[0][7:])) if rows else None

    def touch_api_token(self, token_id: int, at: dt.datetime) -> None:
        # Bookkeeping, like a session's last-seen time: only the member's own settings page shows
        # it, so it neither waits for the content lock nor drops every node's cached pages (it
        # was a content write in each voter's first vote: issue 14).
        with self.write(content=False) as conn:
            conn.execute("UPDATE api_tokens SET last_used_at = %s WHERE id = %s", (format_ts(at), token_id))

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self.read(f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = %s AND revoked_at IS NULL "
                         "ORDER BY id", (user_id,))
        return [row_token(r) for r in rows]

    def revoke_api_token(self, user_id: int, token_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            return conn.execute("UPDATE api_tokens SET revoked_at = %s WHERE id = %s AND user_id = %s "
                                "AND revoked_at IS NULL", (format_ts(at), token_id, user_id)).rowcount > 0
