"""Curators run the daily list: add, pin, hide or remove papers on any day.

Every action goes to the ``curator_actions`` audit table with who and when, in the same
transaction as the change itself. Hidden listings disappear from every list and API page but stay
in the database (and can be shown again); removed listings are deleted, and the audit row keeps a
copy of what was removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_curator
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import CuratedListing, CuratorAction, Listing, StoredPaper, User
from dailypapers.storage import CuratorStore


class CurationService:
    def __init__(self, store: CuratorStore, submissions, *, clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.submissions = submissions  # SubmissionService: id parsing and arXiv look-ups
        self.clock = clock or utcnow

    def day(self, curator: User | None, day: dt.date) -> list[CuratedListing]:
        require_curator(curator)
        return self.store.curated_day(day)

    def add(self, curator: User | None, text: str, day: dt.date) -> StoredPaper:
        """Put a paper on any day's list: no cap, no age limit (withdrawn papers still refused)."""
        curator = require_curator(curator)
        arxiv_id = self.submissions.parse(text)
        paper = self.submissions.fetch(arxiv_id)
        if paper.withdrawn:
            raise Invalid(f"{arxiv_id} has been withdrawn by its authors.")
        if not isinstance(paper, StoredPaper):
            self.store.ingest_batch([paper])
        now = self.clock()
        listing = Listing(arxiv_id=arxiv_id, day=day, submitted_by=curator.name, submitted_at=now, source="curator")
        outcome = self.store.add_listing(listing, submitter_id=curator.id, cap=None, actor_id=curator.id, at=now)
        if outcome == "duplicate":
            raise Invalid(f"{arxiv_id} is already on the list of {day:%Y-%m-%d}.")
        stored = self.store.get_paper(arxiv_id)
        assert stored is not None  # the listing just added references it, and papers are never deleted
        return stored

    def _flags(self, curator: User | None, day: dt.date, arxiv_id: str, **flags) -> StoredPaper:
        curator = require_curator(curator)
        if not self.store.set_listing_flags(day, arxiv_id, actor_id=curator.id, at=self.clock(), **flags):
            raise NotFound(f"{arxiv_id} is not on the list of {day:%Y-%m-%d}")
        return self._paper(arxiv_id)

    def _paper(self, arxiv_id: str) -> StoredPaper:
        paper = self.store.get_paper(arxiv_id)
        assert paper is not None  # a listing references it, and papers are never deleted
        return paper

    def pin(self, curator, day, arxiv_id, pinned: bool = True) -> StoredPaper:
        return self._flags(curator, day, arxiv_id, pinned=pinned)

    def hide(self, curator, day, arxiv_id, hidden: bool = True) -> StoredPaper:
        return self._flags(curator, day, arxiv_id, hidden=hidden)

    def remove(self, curator: User | None, day: dt.date, arxiv_id: str) -> StoredPaper:
        curator = require_curator(curator)
        if not self.store.remove_listing(day, arxiv_id, actor_id=curator.id, at=self.clock()):
            raise NotFound(f"{arxiv_id} is not on the list of {day:%Y-%m-%d}")
        return self._paper(arxiv_id)

    def listing(self, curator: User | None, day: dt.date, arxiv_id: str) -> CuratedListing:
        """One listing of a day, as a curator sees it (the remove confirmation names it)."""
        require_curator(curator)
        for row in self.store.curated_day(day):
            if row.paper.arxiv_id == arxiv_id:
                return row
        raise NotFound(f"{arxiv_id} is not on the list of {day:%Y-%m-%d}")

    def log(self, curator: User | None, limit: int = 100, offset: int = 0) -> list[CuratorAction]:
        require_curator(curator)
        return self.store.curator_log(limit, offset)


__all__ = ["CurationService"]
