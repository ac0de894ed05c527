"""Member submissions: an arXiv id or URL goes on today's list, with metadata from arXiv.

Rules, each refused with its own message:
* the member is logged in, verified and not disabled;
* the text is an arXiv id or an arXiv / Hugging Face paper URL;
* arXiv knows the paper (the search API, through ``services.arxiv``) and it is not withdrawn;
* its first version is at most ``settings.submit_max_age_days`` old;
* it is not already on today's list;
* the member has fewer than ``settings.submit_daily_cap`` submissions on today's list.
The last two are checked inside the transaction that inserts the listing, so two racing
submissions cannot both pass. Today is ``days.list_day(now, day_rollover, timezone)``.
Curators add papers to any day through ``CurationService.add`` (no cap, no age limit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from dailypapers import days
from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_member
from dailypapers.errors import Invalid
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest.announce import stamp
from dailypapers.ingest.arxiv_api import ArxivError, ArxivTimeout
from dailypapers.models import Listing, Paper, StoredPaper, User
from dailypapers.storage import SubmissionStore


@dataclass
class Submitted:
    paper: StoredPaper
    day: dt.date


class SubmissionService:
    def __init__(self, store: SubmissionStore, settings, arxiv, *, clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.settings = settings
        self.arxiv = arxiv
        self.clock = clock or utcnow

    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return days.list_day(self.now(), self.settings.day_rollover, self.settings.timezone)

    def used_today(self, user: User) -> int:
        """How many papers the member submitted on today's list (the daily cap counts these)."""
        return self.store.count_submissions(user.id, self.today())

    @staticmethod
    def parse(text: str) -> str:
        text = (text or "").strip()
        if not text:
            raise Invalid("Enter an arXiv id (such as 2408.12345) or an arXiv URL.")
        try:
            return parse_arxiv_id(text[:300]).id
        except BadArxivId:
            raise Invalid(f"{text[:80]!r} is not an arXiv id or arXiv URL (for example 2408.12345 or "
                          "https://arxiv.org/abs/2408.12345).") from None

    def fetch(self, arxiv_id: str) -> Paper:
        """The paper from the store when known, else from the arXiv search API."""
        stored = self.store.get_paper(arxiv_id)
        if stored is not None and stored.published is not None:
            return stored
        if self.arxiv is None:
            raise Invalid("Looking papers up on arXiv is not configured on this site.")

        try:
            result = self.arxiv.fetch([arxiv_id])
        except ArxivTimeout:
            raise Invalid(f"arXiv did not answer in {self.arxiv.timeout:g} s; try again.") from None
        except ArxivError:
            raise Invalid("arXiv is not answering properly; try again in a few minutes.") from None
        if result.papers:
            return stamp(result.papers[0], self.settings.holidays)
        if result.rejected:
            raise Invalid(f"arXiv could not give us {arxiv_id}: {result.rejected[0][1]}")
        raise Invalid(f"arXiv has no paper {arxiv_id}. Check the id.")

    def check_paper(self, paper: Paper) -> None:
        if paper.withdrawn:
            raise Invalid(f"{paper.arxiv_id} has been withdrawn by its authors, so it cannot be submitted.")
        if paper.published is None:
            raise Invalid(f"arXiv does not say when {paper.arxiv_id} was published, so it cannot be submitted.")
        limit = self.settings.submit_max_age_days
        age = self.now() - paper.published
        if age > dt.timedelta(days=limit):
            raise Invalid(
                f"{paper.arxiv_id} was first published on {paper.published:%Y-%m-%d}, {age.days} days ago; "
                f"only papers from the last {limit} days can be submitted."
            )

    def submit(self, user: User | None, text: str) -> Submitted:
        user = require_member(user, what="submit papers")
        arxiv_id = self.parse(text)
        day = self.today()
        cap = self.settings.submit_daily_cap
        # Cheap refusals first (the transaction below checks again, atomically).
        if any(l.day == day for l in self.store.listings_for_paper(arxiv_id)):
            raise Invalid(f"{arxiv_id} is already on today's list ({day:%Y-%m-%d}).")
        if self.store.count_submissions(user.id, day) >= cap:
            raise Invalid(f"You have submitted {cap} papers today, the daily limit. Try again tomorrow.")
        paper = self.fetch(arxiv_id)
        self.check_paper(paper)
        if not isinstance(paper, StoredPaper):
            self.store.ingest_batch([paper])
        listing = Listing(arxiv_id=arxiv_id, day=day, submitted_by=user.name, submitted_at=self.now(),
                          source="member")
        outcome = self.store.add_listing(listing, submitter_id=user.id, cap=cap)
        if outcome == "duplicate":
            raise Invalid(f"{arxiv_id} is already on today's list ({day:%Y-%m-%d}).")
        if outcome == "cap":
            raise Invalid(f"You have submitted {cap} papers today, the daily limit. Try again tomorrow.")
        stored = self.store.get_paper(arxiv_id)
        assert stored is not None  # the listing just added references it, and papers are never deleted
        return Submitted(stored, day)


__all__ = ["SubmissionService", "Submitted"]
