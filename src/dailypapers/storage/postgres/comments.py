"""Comments, with papers.num_comments recounted in the same transaction."""

from __future__ import annotations

import datetime as dt
import json

import psycopg

from dailypapers.models import Comment
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.postgres.curation import log_action
from dailypapers.storage.rows import COMMENT_SELECT, format_ts, inserted, row_comment


def _recount(conn: psycopg.Connection, arxiv_id: str) -> None:
    conn.execute("UPDATE papers SET num_comments = (SELECT COUNT(*) FROM comments WHERE arxiv_id = %(a)s "
                 "AND deleted_at IS NULL AND hidden_at IS NULL) WHERE arxiv_id = %(a)s", {"a": arxiv_id})


class CommentQueries(PostgresBase):
    def add_comment(self, arxiv_id: str, user_id: int, body: str, at: dt.datetime) -> Comment:
        with self.write() as conn:
            row = conn.execute("INSERT INTO comments (arxiv_id, user_id, body, created_at) VALUES (%s, %s, %s, %s) "
                               "RETURNING id", (arxiv_id, user_id, body, format_ts(at))).fetchone()
            _recount(conn, arxiv_id)
        return inserted(self.get_comment(inserted(row)[0]))

    def get_comment(self, comment_id: int) -> Comment | None:
        rows = self.read(f"{COMMENT_SELECT} WHERE c.id = %s", (comment_id,))
        return row_comment(rows[0]) if rows else None

    def edit_comment(self, comment_id: int, body: str, at: dt.datetime) -> None:
        with self.write() as conn:
            conn.execute("UPDATE comments SET body = %s, edited_at = %s WHERE id = %s AND deleted_at IS NULL",
                         (body, format_ts(at), comment_id))

    def delete_comment(self, comment_id: int, at: dt.datetime) -> None:
        with self.write() as conn:
            row = conn.execute("UPDATE comments SET deleted_at = COALESCE(deleted_at, %s) WHERE id = %s "
                               "RETURNING arxiv_id", (format_ts(at), comment_id)).fetchone()
            if row is not None:
                _recount(conn, row[0])

    def set_comment_hidden(self, comment_id: int, hidden: bool, *, actor_id: int, at: dt.datetime) -> None:
        with self.write() as conn:
            row = conn.execute("UPDATE comments SET hidden_at = %s, hidden_by = %s WHERE id = %s RETURNING arxiv_id",
                               (format_ts(at) if hidden else None, actor_id if hidden else None, comment_id)).fetchone()
            if row is None:
                return
            _recount(conn, row[0])
            log_action(conn, actor_id, "hide_comment" if hidden else "unhide_comment", at, row[0], None,
                       json.dumps({"comment_id": comment_id}))

    def paper_comments(self, arxiv_id: str, *, include_hidden: bool = False) -> list[Comment]:
        rows = self.read(f"{COMMENT_SELECT} WHERE c.arxiv_id = %s AND (%s OR (c.deleted_at IS NULL AND "
                         "c.hidden_at IS NULL)) ORDER BY c.id", (arxiv_id, include_hidden))
        return [row_comment(r) for r in rows]
