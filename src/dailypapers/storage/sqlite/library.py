"""The library: members' collections (papers, members, private notes), reading states and list visits.

Collection writes are content (a public collection's page is cached by the content version);
reading states and visits are bookkeeping, applied per reader on the way out (web/personal.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from dailypapers.models import CollectedPaper, Collection, CollectionMember, ReadingState, StoredPaper
from dailypapers.storage.errors import Conflict
from dailypapers.storage.library_rows import (
    COLLECTION_PAPERS,
    COLLECTION_PAPERS_LIGHT,
    COLLECTION_SELECT,
    MEMBER_COLLECTIONS,
    MEMBERS_SELECT,
    READING_LIST,
    row_collected,
    row_collected_light,
    row_collection,
    row_member,
    row_reading,
)
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import chunks, format_ts, inserted, parse_ts

_MEMBER_COLLECTIONS = MEMBER_COLLECTIONS.format(p="?")
_COLLECTION_PAPERS = COLLECTION_PAPERS.format(p="?")
_COLLECTION_PAPERS_LIGHT = COLLECTION_PAPERS_LIGHT.format(p="?")
_MEMBERS = MEMBERS_SELECT.format(p="?")
_READING_LIST = READING_LIST.format(p="?")


def _touch(conn: sqlite3.Connection, collection_id: int, at: dt.datetime) -> None:
    conn.execute("UPDATE collections SET updated_at = ? WHERE id = ?", (format_ts(at), collection_id))


class LibraryQueries(SQLiteBase):
    # -- collections -------------------------------------------------------
    def create_collection(self, owner_id: int, name: str, description: str, visibility: str,
                          at: dt.datetime) -> Collection:
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO collections (owner_id, name, description, visibility, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (owner_id, name, description, visibility, format_ts(at), format_ts(at)))
        return inserted(self.get_collection(inserted(cur.lastrowid)))

    def get_collection(self, collection_id: int) -> Collection | None:
        rows = self.read(f"{COLLECTION_SELECT} WHERE c.id = ?", (collection_id,))
        return row_collection(rows[0]) if rows else None

    def collection_by_slug(self, slug: str) -> Collection | None:
        rows = self.read(f"{COLLECTION_SELECT} WHERE c.slug = ?", (slug,))
        return row_collection(rows[0]) if rows else None

    def update_collection(self, collection_id: int, *, name: str, description: str, visibility: str,
                          slug: str | None, at: dt.datetime) -> None:
        with self.write() as conn:
            if slug is not None and conn.execute("SELECT 1 FROM collections WHERE slug = ? AND id <> ?",
                                                 (slug, collection_id)).fetchone():
                raise Conflict("slug")
            conn.execute("UPDATE collections SET name = ?, description = ?, visibility = ?, slug = ?, updated_at = ? "
                         "WHERE id = ?", (name, description, visibility, slug, format_ts(at), collection_id))

    def delete_collection(self, collection_id: int) -> bool:
        with self.write() as conn:
            # ON DELETE CASCADE takes its papers, notes and members along
            return conn.execute("DELETE FROM collections WHERE id = ?", (collection_id,)).rowcount > 0

    def member_collections(self, user_id: int) -> list[Collection]:
        return [row_collection(r[:10], r[10]) for r in self.read(_MEMBER_COLLECTIONS, (user_id, user_id))]

    def collection_role(self, collection_id: int, user_id: int) -> str | None:
        rows = self.read("SELECT role FROM collection_members WHERE collection_id = ? AND user_id = ?",
                         (collection_id, user_id))
        return rows[0][0] if rows else None

    def collections_holding(self, user_id: int, arxiv_id: str) -> set[int]:
        rows = self.read(
            "SELECT cp.collection_id FROM collection_papers cp WHERE cp.arxiv_id = ? AND cp.collection_id IN "
            "(SELECT id FROM collections WHERE owner_id = ? UNION "
            "SELECT collection_id FROM collection_members WHERE user_id = ?)", (arxiv_id, user_id, user_id))
        return {r[0] for r in rows}

    # -- papers and notes ----------------------------------------------------
    def add_to_collection(self, collection_id: int, arxiv_ids: Sequence[str], user_id: int | None,
                          at: dt.datetime) -> list[str]:
        added = []
        with self.write() as conn:
            for arxiv_id in dict.fromkeys(arxiv_ids):
                cur = conn.execute(
                    "INSERT OR IGNORE INTO collection_papers (collection_id, arxiv_id, added_by, added_at) "
                    "SELECT ?, arxiv_id, ?, ? FROM papers WHERE arxiv_id = ?",
                    (collection_id, user_id, format_ts(at), arxiv_id))
                if cur.rowcount:
                    added.append(arxiv_id)
            if added:
                _touch(conn, collection_id, at)
        return added

    def remove_from_collection(self, collection_id: int, arxiv_id: str, at: dt.datetime) -> bool:
        with self.write() as conn:
            gone = conn.execute("DELETE FROM collection_papers WHERE collection_id = ? AND arxiv_id = ?",
                                (collection_id, arxiv_id)).rowcount > 0
            # notes go with the paper: a note on a paper no longer in the list would never show
            conn.execute("DELETE FROM collection_notes WHERE collection_id = ? AND arxiv_id = ?",
                         (collection_id, arxiv_id))
            if gone:
                _touch(conn, collection_id, at)
        return gone

    def collection_papers(self, collection_id: int, reader_id: int | None = None, limit: int | None = None,
                          offset: int = 0, *, light: bool = False) -> list[CollectedPaper]:
        params = (reader_id, collection_id, -1 if limit is None else limit, offset)  # -1: no limit
        if light:
            return [row_collected_light(r) for r in self.read(_COLLECTION_PAPERS_LIGHT, params)]
        return [row_collected(r) for r in self.read(_COLLECTION_PAPERS, params)]

    def set_collection_note(self, collection_id: int, arxiv_id: str, user_id: int, body: str | None,
                            at: dt.datetime) -> bool:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM collection_papers WHERE collection_id = ? AND arxiv_id = ?",
                            (collection_id, arxiv_id)).fetchone() is None:
                return False
            if body:
                conn.execute(
                    "INSERT INTO collection_notes (collection_id, arxiv_id, user_id, body, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (collection_id, arxiv_id, user_id) DO UPDATE SET "
                    "body = excluded.body, updated_at = excluded.updated_at",
                    (collection_id, arxiv_id, user_id, body, format_ts(at)))
            else:
                conn.execute("DELETE FROM collection_notes WHERE collection_id = ? AND arxiv_id = ? AND user_id = ?",
                             (collection_id, arxiv_id, user_id))
        return True

    # -- members -------------------------------------------------------------
    def collection_members(self, collection_id: int) -> list[CollectionMember]:
        return [row_member(r) for r in self.read(_MEMBERS, (collection_id,))]

    def set_collection_member(self, collection_id: int, user_id: int, role: str, at: dt.datetime) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO collection_members (collection_id, user_id, role, added_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (collection_id, user_id) DO UPDATE SET role = excluded.role",
                (collection_id, user_id, role, format_ts(at)))

    def remove_collection_member(self, collection_id: int, user_id: int) -> bool:
        with self.write() as conn:
            gone = conn.execute("DELETE FROM collection_members WHERE collection_id = ? AND user_id = ?",
                                (collection_id, user_id)).rowcount > 0
            # a member who leaves takes their notes along: nobody else could ever read them
            conn.execute("DELETE FROM collection_notes WHERE collection_id = ? AND user_id = ?",
                         (collection_id, user_id))
        return gone

    # -- reading states (bookkeeping) -----------------------------------------
    def set_reading_state(self, user_id: int, arxiv_id: str, state: str | None, at: dt.datetime) -> bool:
        with self.write(content=False) as conn:
            if conn.execute("SELECT 1 FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone() is None:
                return False
            if state is None:
                conn.execute("DELETE FROM reading_states WHERE user_id = ? AND arxiv_id = ?", (user_id, arxiv_id))
            else:
                conn.execute(
                    "INSERT INTO reading_states (user_id, arxiv_id, state, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (user_id, arxiv_id) DO UPDATE SET state = excluded.state, "
                    "updated_at = excluded.updated_at", (user_id, arxiv_id, state, format_ts(at)))
        return True

    def reading_states(self, user_id: int, arxiv_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            found.update(self.read(f"SELECT arxiv_id, state FROM reading_states WHERE user_id = ? "
                                   f"AND arxiv_id IN ({marks})", (user_id, *chunk)))
        return found

    def reading_list(self, user_id: int, state: str, limit: int = 100,
                     offset: int = 0) -> list[tuple[ReadingState, StoredPaper]]:
        return [row_reading(r) for r in self.read(_READING_LIST, (user_id, state, limit, offset))]

    def count_reading_states(self, user_id: int) -> dict[str, int]:
        return dict(self.read("SELECT state, COUNT(*) FROM reading_states WHERE user_id = ? GROUP BY state",
                              (user_id,)))

    def hidden_ids(self, user_id: int, limit: int = 1000) -> list[str]:
        rows = self.read("SELECT arxiv_id FROM reading_states WHERE user_id = ? AND state = 'hidden' "
                         "ORDER BY updated_at DESC, arxiv_id LIMIT ?", (user_id, limit))
        return [r[0] for r in rows]

    def users_hidden_ids(self, user_ids: Sequence[int], limit_each: int = 1000) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for chunk in chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(chunk))
            for uid, aid in self.read(f"SELECT user_id, arxiv_id FROM reading_states WHERE state = 'hidden' AND "
                                      f"user_id IN ({marks}) ORDER BY user_id, updated_at DESC", chunk):
                ids = out.setdefault(uid, [])
                if len(ids) < limit_each:
                    ids.append(aid)
        return out

    def record_visit(self, user_id: int, kind: str, at: dt.datetime, gap: dt.timedelta) -> dt.datetime | None:
        rows = self.read("SELECT seen_at, previous_at FROM list_visits WHERE user_id = ? AND kind = ?",
                         (user_id, kind))
        if not rows:
            with self.write(content=False) as conn:
                conn.execute("INSERT OR IGNORE INTO list_visits (user_id, kind, seen_at) VALUES (?, ?, ?)",
                             (user_id, kind, format_ts(at)))
            return None
        seen, previous = parse_ts(rows[0][0]), parse_ts(rows[0][1])
        if at - seen > gap:  # a new sitting: what was new last time is not new any more
            previous = seen
        elif at - seen < dt.timedelta(minutes=1):
            return previous  # a reload: no write
        with self.write(content=False) as conn:
            conn.execute("UPDATE list_visits SET seen_at = ?, previous_at = ? WHERE user_id = ? AND kind = ?",
                         (format_ts(at), format_ts(previous), user_id, kind))
        return previous
