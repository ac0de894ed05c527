"""Accounts: users, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dailypapers.models import ApiToken, SessionRecord, User
from dailypapers.storage.errors import Conflict
from dailypapers.storage.rows import TOKEN_COLUMNS, USER_COLUMNS, row_token, row_user
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import format_ts, inserted, parse_ts


class AccountQueries(SQLiteBase):
    _USER_COLUMNS = USER_COLUMNS
    _row_user = staticmethod(row_user)

    def _user_where(self, where: str, params: Sequence):
        rows = self.read(f"SELECT {self._USER_COLUMNS} FROM users WHERE {where}", params)
        return self._row_user(rows[0]) if rows else None

    def create_user(self, email: str, name: str, password_hash: str | None, role: str, at: dt.datetime,
                    verified_at: dt.datetime | None = None) -> User:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                raise Conflict("email")
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict("name")
            cur = conn.execute(
                "INSERT INTO users (email, name, password_hash, role, verified_at, created_at, password_changed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (email, name, password_hash, role, format_ts(verified_at), format_ts(at), format_ts(at)),
            )
            user_id = cur.lastrowid
        return inserted(self.get_user(inserted(user_id)))

    def get_user(self, user_id: int) -> User | None:
        return self._user_where("id = ?", (user_id,))

    def user_by_email(self, email: str) -> User | None:
        return self._user_where("email = ?", (email,))

    def user_by_name(self, name: str) -> User | None:
        return self._user_where("name = ?", (name,))

    def set_password(self, user_id: int, password_hash: str, at: dt.datetime, *, end_sessions: bool = True) -> None:
        with self.write() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                (password_hash, format_ts(at), user_id),
            )
            if end_sessions:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def rehash_password(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """Upgrade a hash to new parameters (same password): no session or link changes."""
        with self.write() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                         (new_hash, user_id, old_hash))

    def set_verified(self, user_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            cur = conn.execute("UPDATE users SET verified_at = ? WHERE id = ? AND verified_at IS NULL",
                               (format_ts(at), user_id))
            return cur.rowcount > 0

    def set_role(self, user_id: int, role: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))

    def set_disabled(self, user_id: int, at: dt.datetime | None) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (format_ts(at), user_id))
            if at is not None:
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
                conn.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                             (format_ts(at), user_id))

    def set_profile_visibility(self, user_id: int, show_upvotes: bool, show_submissions: bool) -> None:
        with self.write() as conn:
            conn.execute("UPDATE users SET show_upvotes = ?, show_submissions = ? WHERE id = ?",
                         (int(bool(show_upvotes)), int(bool(show_submissions)), user_id))

    # sessions
    def create_session(self, token_hash: str, user_id: int, at: dt.datetime, expires_at: dt.datetime) -> None:
        with self.write(content=False) as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash, user_id, format_ts(at), format_ts(at), format_ts(expires_at)),
            )

    def get_session(self, token_hash: str) -> SessionRecord | None:
        cols = ", ".join("u." + c.strip() for c in self._USER_COLUMNS.split(","))
        rows = self.read(
            f"SELECT s.created_at, s.last_seen_at, s.expires_at, {cols} FROM sessions s "
            "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (token_hash,),
        )
        if not rows:
            return None
        r = rows[0]
        return SessionRecord(user=self._row_user(r[3:]), created_at=parse_ts(r[0]), last_seen_at=parse_ts(r[1]),
                             expires_at=parse_ts(r[2]))

    def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        with self.write(content=False) as conn:
            conn.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (format_ts(at), token_hash))

    def delete_session(self, token_hash: str) -> None:
        with self.write(content=False) as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def purge_sessions(self, idle_before: dt.datetime, now: dt.datetime) -> int:
        with self.write(content=False) as conn:
            cur = conn.execute("DELETE FROM sessions WHERE last_seen_at < ? OR expires_at <= ?",
                               (format_ts(idle_before), format_ts(now)))
            return cur.rowcount

    # API tokens
    _TOKEN_COLUMNS = TOKEN_COLUMNS
    _row_token = staticmethod(row_token)

    def create_api_token(self, user_id: int, name: str, token_hash: str, prefix: str, at: dt.datetime) -> ApiToken:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, name, token_hash, prefix, format_ts(at)),
            )
            token_id = cur.lastrowid
        return self._row_token(self.read(f"SELECT {self._TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", (token_id,))[0])

    def api_token_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        cols = ", ".join("u." + c.strip() for c in self._USER_COLUMNS.split(","))
        tcols = ", ".join("t." + c.strip() for c in self._TOKEN_COLUMNS.split(","))
        rows = self.read(
            f"SELECT {tcols}, {cols} FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            (token_hash,),
        )
        if not rows:
            return None
        return self._row_token(rows[0][:7]), self._row_user(rows[0][7:])

    def touch_api_token(self, token_id: int, at: dt.datetime) -> None:
        # Bookkeeping, like a session's last-seen time: only the member's own settings page shows
        # it, so it does not drop every process's cached pages (issue 14).
        with self.write(content=False) as conn:
            conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (format_ts(at), token_id))

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self.read(
            f"SELECT {self._TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY id",
            (user_id,),
        )
        return [self._row_token(r) for r in rows]

    def revoke_api_token(self, user_id: int, token_id: int, at: dt.datetime) -> bool:
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                (format_ts(at), token_id, user_id),
            )
            return cur.rowcount > 0
