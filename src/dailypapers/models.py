"""Domain records shared by ingest, storage, search and the web layer.

They are plain dataclasses: storage maps them to rows, ingest builds them from
source formats, and nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Organization:
    name: str
    fullname: str | None = None
    avatar: str | None = None


@dataclass
class Paper:
    """One arXiv paper, keyed by its id without version."""

    arxiv_id: str
    title: str
    abstract: str
    authors: list[str]
    version: int | None = None  # None when the source does not say
    categories: list[str] = field(default_factory=list)
    published: dt.datetime | None = None  # arXiv v1 submission time
    updated: dt.datetime | None = None  # time of the latest version seen
    comment: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: Organization | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = field(default_factory=list)
    withdrawn: bool = False
    # When the source observed the enrichment fields; an older snapshot never overwrites a newer one.
    observed_at: dt.datetime | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    def replace(self, **changes) -> Paper:
        return dataclasses.replace(self, **changes)


@dataclass
class StoredPaper(Paper):
    """A paper as read back from storage, with community counters."""

    hf_upvotes: int = 0  # base count imported from Hugging Face
    votes: int = 0  # votes cast by members here
    num_comments: int = 0
    added_at: dt.datetime | None = None

    @property
    def upvotes(self) -> int:
        return self.hf_upvotes + self.votes


@dataclass
class Listing:
    """A paper's place on one day's list."""

    arxiv_id: str
    day: dt.date
    rank: int | None = None
    submitted_by: str | None = None
    submitted_at: dt.datetime | None = None
    upvotes: int = 0  # upvotes at import (Hugging Face's same-day count)
    num_comments: int = 0
    source: str = "manual"


class Outcome:
    """What an upsert did to one record; the ingest summary counts these."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
