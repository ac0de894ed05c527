"""Row mappers and SQL fragments of the library tables (collections, reading states), shared by
the SQLite and PostgreSQL stores like storage/rows.py. Fragments mark each parameter ``{p}``: each
backend formats in its own placeholder (``?`` or ``%s``)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from dailypapers.models import CollectedPaper, Collection, CollectionMember, ReadingState, StoredPaper
from dailypapers.storage.rows import P_COLUMNS, parse_ts, row_paper

COLLECTION_COLUMNS = (
    "c.id, c.owner_id, u.name, c.name, c.slug, c.description, c.visibility, c.created_at, c.updated_at, "
    "(SELECT COUNT(*) FROM collection_papers cp WHERE cp.collection_id = c.id)"
)
COLLECTION_SELECT = f"SELECT {COLLECTION_COLUMNS} FROM collections c JOIN users u ON u.id = c.owner_id"
# The member's own collections ('owner') and the ones they are a member of (with the role).
MEMBER_COLLECTIONS = (
    f"SELECT {COLLECTION_COLUMNS}, 'owner' FROM collections c JOIN users u ON u.id = c.owner_id "
    "WHERE c.owner_id = {p} UNION ALL "
    f"SELECT {COLLECTION_COLUMNS}, m.role FROM collection_members m JOIN collections c ON c.id = m.collection_id "
    "JOIN users u ON u.id = c.owner_id WHERE m.user_id = {p} ORDER BY 9 DESC, 1 DESC"
)
# cp.id: the order papers were added in; the reader's own note only.
COLLECTION_PAPERS = (
    f"SELECT cp.added_at, au.name, n.body, {P_COLUMNS} FROM collection_papers cp "
    "JOIN papers p ON p.arxiv_id = cp.arxiv_id LEFT JOIN users au ON au.id = cp.added_by "
    "LEFT JOIN collection_notes n ON n.collection_id = cp.collection_id AND n.arxiv_id = cp.arxiv_id "
    "AND n.user_id = {p} WHERE cp.collection_id = {p} ORDER BY cp.id DESC LIMIT {p} OFFSET {p}"
)
# The collection page shows only these: a thousand rows without abstracts read 4x faster.
COLLECTION_PAPERS_LIGHT = (
    "SELECT cp.added_at, au.name, n.body, p.arxiv_id, p.title, p.authors, p.published, p.hf_upvotes, p.votes "
    "FROM collection_papers cp JOIN papers p ON p.arxiv_id = cp.arxiv_id LEFT JOIN users au ON au.id = cp.added_by "
    "LEFT JOIN collection_notes n ON n.collection_id = cp.collection_id AND n.arxiv_id = cp.arxiv_id "
    "AND n.user_id = {p} WHERE cp.collection_id = {p} ORDER BY cp.id DESC LIMIT {p} OFFSET {p}"
)
MEMBERS_SELECT = (
    "SELECT m.user_id, u.name, m.role, m.added_at FROM collection_members m JOIN users u ON u.id = m.user_id "
    "WHERE m.collection_id = {p} ORDER BY u.name"
)
READING_LIST = (
    f"SELECT r.arxiv_id, r.state, r.updated_at, {P_COLUMNS} FROM reading_states r "
    "JOIN papers p ON p.arxiv_id = r.arxiv_id WHERE r.user_id = {p} AND r.state = {p} "
    "ORDER BY r.updated_at DESC, r.arxiv_id LIMIT {p} OFFSET {p}"
)


def row_collection(r: Sequence, role: str | None = None) -> Collection:
    return Collection(id=r[0], owner_id=r[1], owner=r[2], name=r[3], slug=r[4], description=r[5], visibility=r[6],
                      created_at=parse_ts(r[7]), updated_at=parse_ts(r[8]), paper_count=r[9], role=role)


def row_collected(r: Sequence) -> CollectedPaper:
    return CollectedPaper(paper=row_paper(r[3:]), added_at=parse_ts(r[0]), added_by=r[1], note=r[2])


def row_collected_light(r: Sequence) -> CollectedPaper:
    """A paper with its id, title, authors, date and upvotes only (abstract and the rest empty)."""
    paper = StoredPaper(arxiv_id=r[3], title=r[4], abstract="", authors=orjson.loads(r[5]), published=parse_ts(r[6]),
                        hf_upvotes=r[7], votes=r[8])
    return CollectedPaper(paper=paper, added_at=parse_ts(r[0]), added_by=r[1], note=r[2])


def row_member(r: Sequence) -> CollectionMember:
    return CollectionMember(user_id=r[0], name=r[1], role=r[2], added_at=parse_ts(r[3]))


def row_reading(r: Sequence) -> tuple[ReadingState, StoredPaper]:
    return ReadingState(r[0], r[1], parse_ts(r[2])), row_paper(r[3:])


__all__ = ["COLLECTION_SELECT", "MEMBER_COLLECTIONS", "COLLECTION_PAPERS", "COLLECTION_PAPERS_LIGHT", "MEMBERS_SELECT",
           "READING_LIST", "row_collection", "row_collected", "row_collected_light", "row_member", "row_reading"]
