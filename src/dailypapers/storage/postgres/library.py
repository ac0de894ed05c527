"""The library: members' collections (papers, members, private notes), reading states and list visits.

Collection writes are content (a public collection's page is cached by the content version);
reading states and visits are bookkeeping, applied per reader on the way out (web/personal.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

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
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.rows import format_ts, inserted, parse_ts

_MEMBER_COLLECTIONS = MEMBER_COLLECTIONS.format(p="%s")
_COLLECTION_PAPERS = COLLECTION_PAPERS.format(p="%s")
_COLLECTION_PAPERS_LIGHT = COLLECTION_PAPERS_LIGHT.format(p="%s")
_MEMBERS = MEMBERS_SELECT.format(p="%s")
_READING_LIST = READING_LIST.format(p="%s")


def _touch(conn: psycopg.Connection, collection_id: int, at: dt.datetime) -> None:
    conn.execute("UPDATE collections SET updated_at = %s WHERE id = %s", (format_ts(at), collection_id))


class LibraryQueries(PostgresBase):
    # -- collections -------------------------------------------------------
    def create_collection(self, owner_id: int, name: str, description: str, visibility: str,
                          at: dt.datetime) -> Collection:
        with self.write() as conn:
            row = conn.execute(
                "INSERT INTO collections (owner_id, name, description, visibility, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (owner_id, name, description, visibility, format_ts(at), format_ts(at))).fetchone()
        return inserted(self.get_collection(inserted(row)[0]))

    def get_collection(self, collection_id: int) -> Collection | None:
        rows = self.read(f"{COLLECTION_SELECT} WHERE c.id = %s", (collection_id,))
        return row_collection(rows[0]) if rows else None

    def collection_by_slug(self, slug: str) -> Collection | None:
        rows = self.read(f"{COLLECTION_SELECT} WHERE c.slug = %s", (slug,))
        return row_collection(rows[0]) if rows else None

    def update_collection(self, collection_id: int, *, name: str, description: str, visibility: str,
                          slug: str | None, at: dt.datetime) -> None:
        try:
            with self.write() as conn:
                conn.execute("UPDATE collections SET name = %s, description = %s, visibility = %s, slug = %s, "
                             "updated_at = %s WHERE id = %s",
                             (name, description, visibility, slug, format_ts(at), collection_id))
        except psycopg.errors.UniqueViolation:
            raise Conflict("slug") from None

    def delete_collection(self, collection_id: int) -> bool:
        with self.write() as conn:
            # ON DELETE CASCADE takes its papers, notes and members along
            return conn.execute("DELETE FROM collections WHERE id = %s", (collection_id,)).rowcount > 0

    def member_collections(self, user_id: int) -> list[Collection]:
        return [row_collection(r[:10], r[10]) for r in self.read(_MEMBER_COLLECTIONS, (user_id, user_id))]

    def collection_role(self, collection_id: int, user_id: int) -> str | None:
        rows = self.read("SELECT role FROM collection_members WHERE collection_id = %s AND user_id = %s",
                         (collection_id, user_id))
        return rows[0][0] if rows else None

    def collections_holding(self, user_id: int, arxiv_id: str) -> set[int]:
        rows = self.read(
            "SELECT cp.collection_id FROM collection_papers cp WHERE cp.arxiv_id = %s AND cp.collection_id IN "
            "(SELECT id FROM collections WHERE owner_id = %s UNION "
            "SELECT collection_id FROM collection_members WHERE user_id = %s)", (arxiv_id, user_id, user_id))
        return {r[0] for r in rows}

    # -- papers and notes ----------------------------------------------------
    def add_to_collection(self, collection_id: int, arxiv_ids: Sequence[str], user_id: int | None,
                          at: dt.datetime) -> list[str]:
        added = []
        with self.write() as conn:
            for arxiv_id in dict.fromkeys(arxiv_ids):
                cur = conn.execute(
                    "INSERT INTO collection_papers (collection_id, arxiv_id, added_by, added_at) "
                    "SELECT %s::bigint, arxiv_id, %s::bigint, %s::timestamptz FROM papers WHERE arxiv_id = %s "
                    "ON CONFLICT DO NOTHING",
                    (collection_id, user_id, format_ts(at), arxiv_id))
                if cur.rowcount:
                    added.append(arxiv_id)
            if added:
                _touch(conn, collection_id, at)
        return added

    def remove_from_collection(self, collection_id: int, arxiv_id: str, at: dt.datetime) -> bool:
        with self.write() as conn:
            gone = conn.execute("DELETE FROM collection_papers WHERE collection_id = %s AND arxiv_id = %s",
                                (collection_id, arxiv_id)).rowcount > 0
            # notes go with the paper: a note on a paper no longer in the list would never show
            conn.execute("DELETE FROM collection_notes WHERE collection_id = %s AND arxiv_id = %s",
                         (collection_id, arxiv_id))
            if gone:
                _touch(conn, collection_id, at)
        return gone

    def collection_papers(self, collection_id: int, reader_id: int | None = None, limit: int | None = None,
                          offset: int = 0, *, light: bool = False) -> list[CollectedPaper]:
        params = (reader_id, collection_id, limit, offset)  # LIMIT NULL: no limit
        if light:
            return [row_collected_light(r) for r in self.read(_COLLECTION_PAPERS_LIGHT, params)]
        return [row_collected(r) for r in self.read(_COLLECTION_PAPERS, params)]

    def set_collection_note(self, collection_id: int, arxiv_id: str, user_id: int, body: str | None,
                            at: dt.datetime) -> bool:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM collection_papers WHERE collection_id = %s AND arxiv_id = %s",
                            (collection_id, arxiv_id)).fetchone() is None:
                return False
            if body:
                conn.execute(
                    "INSERT INTO collection_notes (collection_id, arxiv_id, user_id, body, updated_at) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (collection_id, arxiv_id, user_id) DO UPDATE SET "
                    "body = excluded.body, updated_at = excluded.updated_at",
                    (collection_id, arxiv_id, user_id, body, format_ts(at)))
            else:
                conn.execute("DELETE FROM collection_notes WHERE collection_id = %s AND arxiv_id = %s AND user_id = %s",
                             (collection_id, arxiv_id, user_id))
        return True

    # -- members -------------------------------------------------------------
    def collection_members(self, collection_id: int) -> list[CollectionMember]:
        return [row_member(r) for r in self.read(_MEMBERS, (collection_id,))]

    def set_collection_member(self, collection_id: int, user_id: int, role: str, at: dt.datetime) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO collection_members (collection_id, user_id, role, added_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (collection_id, user_id) DO UPDATE SET role = excluded.role",
                (collection_id, user_id, role, format_ts(at)))

    def remove_collection_member(self, collection_id: int, user_id: int) -> bool:
        with self.write() as conn:
            gone = conn.execute("DELETE FROM collection_members WHERE collection_id = %s AND user_id = %s",
                                (collection_id, user_id)).rowcount > 0
            # a member who leaves takes their notes along: nobody else could ever read them
            conn.execute("DELETE FROM collection_notes WHERE collection_id = %s AND user_id = %s",
                         (collection_id, user_id))
        return gone

    # -- reading states (bookkeeping) -----------------------------------------
    def set_reading_state(self, user_id: int, arxiv_id: str, state: str | None, at: dt.datetime) -> bool:
        with self.write(content=False) as conn:
            if conn.execute("SELECT 1 FROM papers WHERE arxiv_id = %s", (arxiv_id,)).fetchone() is None:
                return False
            if state is None:
                conn.execute("DELETE FROM reading_states WHERE user_id = %s AND arxiv_id = %s", (user_id, arxiv_id))
            else:
                conn.execute(
                    "INSERT INTO reading_states (user_id, arxiv_id, state, updated_at) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (user_id, arxiv_id) DO UPDATE SET state = excluded.state, "
                    "updated_at = excluded.updated_at", (user_id, arxiv_id, state, format_ts(at)))
        return True

    def reading_states(self, user_id: int, arxiv_ids: Sequence[str]) -> dict[str, str]:
        rows = self.read("SELECT arxiv_id, state FROM reading_states WHERE user_id = %s AND arxiv_id = ANY(%s)",
                         (user_id, list(arxiv_ids)))
        return {r[0]: r[1] for r in rows}

    def reading_list(self, user_id: int, state: str, limit: int = 100,
                     offset: int = 0) -> list[tuple[ReadingState, StoredPaper]]:
        return [row_reading(r) for r in self.read(_READING_LIST, (user_id, state, limit, offset))]

    def count_reading_states(self, user_id: int) -> dict[str, int]:
        return dict(self.read("SELECT state, COUNT(*) FROM reading_states WHERE user_id = %s GROUP BY state",
                              (user_id,)))

    def hidden_ids(self, user_id: int, limit: int = 1000) -> list[str]:
        rows = self.read("SELECT arxiv_id FROM reading_states WHERE user_id = %s AND state = 'hidden' "
                         "ORDER BY updated_at DESC, arxiv_id LIMIT %s", (user_id, limit))
        return [r[0] for r in rows]

    def users_hidden_ids(self, user_ids: Sequence[int], limit_each: int = 1000) -> dict[int, list[str]]:
        rows = self.read(
            "SELECT user_id, arxiv_id FROM (SELECT user_id, arxiv_id, row_number() OVER (PARTITION BY user_id "
            "ORDER BY updated_at DESC, arxiv_id) AS n FROM reading_states WHERE state = 'hidden' AND "
            "user_id = ANY(%s)) r WHERE n <= %s ORDER BY user_id, n", (sorted(set(user_ids)), limit_each))
        out: dict[int, list[str]] = {}
        for uid, aid in rows:
            out.setdefault(uid, []).append(aid)
        return out

    def record_visit(self, user_id: int, kind: str, at: dt.datetime, gap: dt.timedelta) -> dt.datetime | None:
        rows = self.read("SELECT seen_at, previous_at FROM list_visits WHERE user_id = %s AND kind = %s",
                         (user_id, kind))
        if not rows:
            with self.write(content=False) as conn:
                conn.execute("INSERT INTO list_visits (user_id, kind, seen_at) VALUES (%s, %s, %s) "
                             "ON CONFLICT DO NOTHING", (user_id, kind, format_ts(at)))
            return None
        seen, previous = parse_ts(rows[0][0]), parse_ts(rows[0][1])
        if at - seen > gap:  # a new sitting: what was new last time is not new any more
            previous = seen
        elif at - seen < dt.timedelta(minutes=1):
            return previous  # a reload: no write
        with self.write(content=False) as conn:
            conn.execute("UPDATE list_visits SET seen_at = %s, previous_at = %s WHERE user_id = %s AND kind = %s",
                         (format_ts(at), format_ts(previous), user_id, kind))
        return previous
