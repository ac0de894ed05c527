"""Row mappers and SQL fragments the entity modules share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

import orjson

from dailypapers.models import Listing, Organization, Paper, StoredPaper

T = TypeVar("T")

PAPER_COLUMNS = (
    "arxiv_id", "version", "title", "abstract", "authors", "categories", "primary_category",
    "published", "updated", "comment", "github_repo", "github_stars", "project_page",
    "org_name", "org_fullname", "org_avatar", "ai_summary", "ai_keywords", "withdrawn", "observed_at",
)
SELECT_PAPER = (
    "SELECT " + ", ".join(PAPER_COLUMNS) + ", hf_upvotes, votes, num_comments, added_at, seq FROM papers"
)
# Keeps IN (...) lists under SQLite's variable limit.
_CHUNK = 500


def format_ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    elif value.utcoffset():
        value = value.astimezone(dt.timezone.utc)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@overload
def parse_ts(value: str) -> dt.datetime: ...
@overload
def parse_ts(value: None) -> None: ...
def parse_ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def paper_row(p: Paper) -> tuple:
    org = p.organization
    return (
        p.arxiv_id, p.version, p.title, p.abstract, _dumps(p.authors),
        _dumps(p.categories), p.primary_category, format_ts(p.published), format_ts(p.updated),
        p.comment, p.github_repo, p.github_stars, p.project_page,
        org.name if org else None, org.fullname if org else None, org.avatar if org else None,
        p.ai_summary, _dumps(p.ai_keywords), int(p.withdrawn), format_ts(p.observed_at),
    )


def row_paper(r: Sequence) -> StoredPaper:
    org = Organization(r[13], r[14], r[15]) if r[13] else None
    return StoredPaper(
        arxiv_id=r[0], version=r[1], title=r[2], abstract=r[3], authors=orjson.loads(r[4]),
        categories=orjson.loads(r[5]), published=parse_ts(r[7]), updated=parse_ts(r[8]),
        comment=r[9], github_repo=r[10], github_stars=r[11], project_page=r[12],
        organization=org, ai_summary=r[16], ai_keywords=orjson.loads(r[17]), withdrawn=bool(r[18]),
        observed_at=parse_ts(r[19]), hf_upvotes=r[20], votes=r[21], num_comments=r[22], added_at=parse_ts(r[23]),
    )


def listing_row(item: Listing) -> tuple:
    return (
        item.day.isoformat(), item.arxiv_id, item.rank, item.submitted_by,
        format_ts(item.submitted_at), item.upvotes, item.num_comments, item.source,
    )


def row_listing(r: Sequence) -> Listing:
    return Listing(
        day=dt.date.fromisoformat(r[0]), arxiv_id=r[1], rank=r[2], submitted_by=r[3],
        submitted_at=parse_ts(r[4]), upvotes=r[5], num_comments=r[6], source=r[7],
    )


def inserted(value: T | None) -> T:
    """A row id (or row) this process just wrote, which SQLite always has: for the type checker."""
    if value is None:
        raise RuntimeError("a row just written is missing")
    return value


def chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


LP_COLUMNS = (
    "l.day, l.arxiv_id, l.rank, l.submitted_by, l.submitted_at, l.upvotes, l.num_comments, l.source, "
    + ", ".join("p." + c for c in PAPER_COLUMNS)
    + ", p.hf_upvotes, p.votes, p.num_comments, p.added_at, p.seq"
)
# "AND l.hidden = 0" keeps listings a curator hid off every list and API page.
SELECT_LP = f"SELECT {LP_COLUMNS} FROM listings l JOIN papers p ON p.arxiv_id = l.arxiv_id AND l.hidden = 0"


def row_lp(r: Sequence) -> tuple[Listing, StoredPaper]:
    return row_listing(r[:8]), row_paper(r[8:])
