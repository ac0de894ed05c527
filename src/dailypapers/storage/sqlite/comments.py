"""Comments, with papers.num_comments recounted in the same transaction."""

from __future__ import annotations

import datetime as dt
import json as _json
import sqlite3

from dailypapers.models import Comment
from dailypapers.storage.rows import COMMENT_SELECT, row_comment
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.curation import log_action
from dailypapers.storage.sqlite.rows import format_ts, inserted


class CommentQueries(SQLiteBase):
    _COMMENT_SELECT = COMMENT_SELECT
    _row_comment = staticmethod(row_comment)

    @staticmethod
    def _recount_comments(conn: sqlite3.Connection, arxiv_id: str) -> None:
        conn.execute(
            "UPDATE papers SET num_comments = (SELECT COUNT(*) FROM comments WHERE arxiv_id = ? "
            "AND deleted_at IS NULL AND hidden_at IS NULL) WHERE arxiv_id = ?",
            (arxiv_id, arxiv_id),
        )

    def add_comment(self, arxiv_id: str, user_id: int, body: str, at: dt.datetime) -> Comment:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO comments (arxiv_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                (arxiv_id, user_id, body, format_ts(at)),
            )
            comment_id = cur.lastrowid
            self._recount_comments(conn, arxiv_id)
        return inserted(self.get_comment(inserted(comment_id)))

    def get_comment(self, comment_id: int) -> Comment | None:
        rows = self.read(f"{self._COMMENT_SELECT} WHERE c.id = ?", (comment_id,))
        return self._row_comment(rows[0]) if rows else None

    def edit_comment(self, comment_id: int, body: str, at: dt.datetime) -> None:
        with self.write() as conn:
            conn.execute("UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND deleted_at IS NULL",
                         (body, format_ts(at), comment_id))

    def delete_comment(self, comment_id: int, at: dt.datetime) -> None:
        with self.write() as conn:
            row = conn.execute("SELECT arxiv_id FROM comments WHERE id = ?", (comment_id,)).fetchone()
            if row is None:
                return
            conn.execute("UPDATE comments SET deleted_at = COALESCE(deleted_at, ?) WHERE id = ?",
                         (format_ts(at), comment_id))
            self._recount_comments(conn, row[0])

    def set_comment_hidden(self, comment_id: int, hidden: bool, *, actor_id: int, at: dt.datetime) -> None:
        with self.write() as conn:
            row = conn.execute("SELECT arxiv_id FROM comments WHERE id = ?", (comment_id,)).fetchone()
            if row is None:
                return
            conn.execute("UPDATE comments SET hidden_at = ?, hidden_by = ? WHERE id = ?",
                         (format_ts(at) if hidden else None, actor_id if hidden else None, comment_id))
            self._recount_comments(conn, row[0])
            log_action(conn, actor_id, "hide_comment" if hidden else "unhide_comment", at, row[0], None,
                             _json.dumps({"comment_id": comment_id}))

    def paper_comments(self, arxiv_id: str, *, include_hidden: bool = False) -> list[Comment]:
        where = "" if include_hidden else " AND c.deleted_at IS NULL AND c.hidden_at IS NULL"
        rows = self.read(f"{self._COMMENT_SELECT} WHERE c.arxiv_id = ?{where} ORDER BY c.id", (arxiv_id,))
        return [self._row_comment(r) for r in rows]
