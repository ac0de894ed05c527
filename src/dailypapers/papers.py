"""Read models for the site and the API: day lists, weeks, months, trending, organizations, paper pages.

PaperService is what the web handlers call (one method per page); it never renders anything and
holds no SQL: queries live in the store ("read models for the web" section).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dailypapers import citations
from dailypapers import days as days_mod
from dailypapers.clock import utcnow
from dailypapers.community.follows import author_parts, clean_name, fold, same_parts
from dailypapers.community.votes import refresh_trending_soon
from dailypapers.errors import Invalid, NotFound, Unavailable
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.models import Listing, Organization, StoredPaper
from dailypapers.storage import ListingStore, PaperViewStore
from dailypapers.trending import WINDOW_DAYS, trending_score

Clock = Callable[[], dt.datetime]

log = logging.getLogger(__name__)

SORTS = ("upvotes", "newest", "trending")
TRENDING_LIMIT = 50
PERIOD_PAGE_SIZE = 50  # papers per page of a week or month
VERSION_TTL = 0.25  # seconds a store version (one indexed row) is trusted before asking again
# An author's page reads at most this many papers with the surname (and first initial), newest
# first, before the name rule picks theirs: a bound on a page for a common surname.
AUTHOR_CANDIDATES = 2000
AUTHOR_NAME_CHARS = 200


# -- view records --------------------------------------------------------------
@dataclass
class Entry:
    """One paper on a list, with the listing that put it there (if any)."""

    paper: StoredPaper
    listing: Listing | None = None
    pinned: bool = False  # a curator pinned it on its list day, so it sits above the sort order

    @property
    def day(self) -> dt.date | None:
        return self.listing.day if self.listing else None

    @property
    def upvotes(self) -> int:
        return self.paper.upvotes

    @property
    def listed_at(self) -> dt.datetime | None:
        """When the paper went on the list (submission time, else the list day at midnight UTC)."""
        if self.listing is None:
            return self.paper.published
        if self.listing.submitted_at:
            return self.listing.submitted_at
        return dt.datetime.combine(self.listing.day, dt.time(), tzinfo=dt.timezone.utc)


@dataclass
class DayView:
    day: dt.date | None
    entries: list[Entry]
    sort: str = "upvotes"
    prev_day: dt.date | None = None
    next_day: dt.date | None = None
    requested: bool = False  # the reader asked for this day explicitly
    nearest: dt.date | None = None  # when empty: the closest day with papers
    today: dt.date | None = None
    latest: dt.date | None = None  # the latest day with papers, for a "Latest" link

    @property
    def empty(self) -> bool:
        return not self.entries


@dataclass
class PeriodView:
    kind: str  # "week" | "month"
    label: str
    start: dt.date
    end: dt.date
    entries: list[Entry]
    sort: str = "upvotes"
    prev_label: str | None = None  # the nearest earlier period with papers
    next_label: str | None = None  # the nearest later period with papers (none after the latest)
    nearest: dt.date | None = None
    latest_label: str | None = None  # the period of the latest day with papers
    last_day: dt.date | None = None  # the period's latest day with papers (its start when empty)
    total: int = 0  # papers in the whole period; `entries` holds one page of them
    page: int = 1
    per_page: int = PERIOD_PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class TrendingView:
    entries: list[Entry]
    start: dt.date | None
    end: dt.date | None


@dataclass
class OrgView:
    organization: Organization
    papers: list[StoredPaper]
    total: int
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


@dataclass
class AuthorView:
    name: str  # as asked, whitespace collapsed
    papers: list[StoredPaper]  # this page's, newest first
    total: int
    page: int
    per_page: int
    spellings: list[str]  # how the papers here write the name, most used first
    partial: bool = False  # more papers share the surname than AUTHOR_CANDIDATES: older ones unread

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


@dataclass
class PaperDetail:
    paper: StoredPaper
    listings: list[Listing]
    similar: list[Any] = field(default_factory=list)  # search SearchHit objects

    @property
    def first_listed(self) -> dt.date | None:
        return self.listings[0].day if self.listings else None


@dataclass
class ApiPage:
    items: list[Entry]
    has_next: bool


def recent_window(store: ListingStore, today: dt.date, days: int) -> tuple[dt.date, dt.date] | None:
    """(first, last) of the last `days` list days ending at the latest day with papers on or
    before `today` (the latest future-dated one when there is none); None without papers."""
    end = store.latest_listing_day(today) or store.latest_listing_day(None)
    if end is None:
        return None
    return end - dt.timedelta(days=days - 1), end


# -- the service ---------------------------------------------------------------
class PaperService:
    def __init__(self, store: PaperViewStore, settings, *, search=None, clock: Clock | None = None):
        self.store = store
        self.settings = settings
        self.search = search
        self.clock: Clock = clock or utcnow
        self._version: tuple | None = None
        self._version_at = 0.0
        self._version_writes = -1
        self._version_lock = threading.Lock()

    # -- time ----------------------------------------------------------------
    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return days_mod.list_day(self.now(), self.settings.day_rollover, self.settings.timezone)

    def version(self) -> tuple:
        """A cheap token that changes when list contents change: at once after a write by this
        process (a member sees their own vote), within VERSION_TTL after another process's."""
        t = time.monotonic()
        writes = self.store.content_writes
        if self._version is None or writes != self._version_writes or t - self._version_at > VERSION_TTL:
            with self._version_lock:
                if self._version is None or writes != self._version_writes or t - self._version_at > VERSION_TTL:
                    self._version = self.store.web_version()
                    self._version_at = t
                    self._version_writes = writes
        return self._version

    # -- sorting -------------------------------------------------------------
    @staticmethod
    def check_sort(sort: str | None, default: str = "upvotes") -> str:
        if not sort:
            return default
        if sort not in SORTS:
            raise Invalid(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        return sort

    def _reference_time(self, entries: Sequence[Entry]) -> dt.datetime:
        """'Now' for time decay: the clock, but never later than the newest listing in view
        (so an archive that stopped updating still ranks by recency within itself)."""
        now = self.now()
        newest = max((e.listed_at for e in entries if e.listed_at), default=None)
        if newest is not None:
            newest = newest + dt.timedelta(days=1)
            if newest < now:
                return newest
        return now

    def sort_entries(self, entries: list[Entry], sort: str) -> list[Entry]:
        ordered = self._sort_entries(entries, sort)
        # Papers a curator pinned on their list day go first, in sort order.
        if ordered:
            pins = self.store.pinned_listings({e.listing.day for e in ordered if e.listing})
            if pins:
                for e in ordered:
                    e.pinned = bool(e.listing and (e.listing.day, e.paper.arxiv_id) in pins)
                ordered.sort(key=lambda e: not e.pinned)
        return ordered

    def _sort_entries(self, entries: list[Entry], sort: str) -> list[Entry]:
        def rank(e: Entry) -> int:
            return e.listing.rank if e.listing and e.listing.rank is not None else 1 << 30

        if sort == "newest":
            def key(e: Entry):
                at = e.paper.published or e.listed_at
                return (-(at.timestamp() if at else 0), -e.upvotes, rank(e), e.paper.arxiv_id)

            return sorted(entries, key=key)
        if sort == "trending":
            ref = self._reference_time(entries)
            return sorted(
                entries,
                key=lambda e: (-trending_score(e.upvotes, e.listed_at, ref), -e.upvotes, e.paper.arxiv_id),
            )
        return sorted(entries, key=lambda e: (-e.upvotes, rank(e), e.paper.arxiv_id))

    @staticmethod
    def _dedupe(pairs: Sequence[tuple[Listing, StoredPaper]]) -> list[Entry]:
        """One entry per paper: its earliest listing in the range."""
        seen: dict[str, Entry] = {}
        for listing, paper in pairs:
            if paper.arxiv_id not in seen:
                seen[paper.arxiv_id] = Entry(paper, listing)
        return list(seen.values())

    def latest_day(self) -> dt.date | None:
        """The latest list day with papers, on or before today's (future-dated lists only: the
        latest of them). What "now" means for every list of recent papers."""
        window = recent_window(self.store, self.today(), 1)
        return window[1] if window else None

    def recent_days(self, days: int) -> tuple[dt.date, dt.date] | None:
        """The last `days` list days, ending at the latest day with papers (not at today's date,
        so an archive that stopped updating, or a weekend, still has recent papers); None when
        there are no papers. Trending, /for-you and anything else "recent" use this window."""
        return recent_window(self.store, self.today(), days)

    # -- pages ---------------------------------------------------------------
    def home(self, sort: str | None = None) -> DayView:
        """The latest day that has papers, on or before today's list day."""
        sort = self.check_sort(sort)
        today = self.today()
        day = self.store.latest_listing_day(today)
        if day is None:
            day = self.store.latest_listing_day(None)  # only future-dated lists exist
        if day is None:
            return DayView(day=None, entries=[], sort=sort, today=today)
        view = self.day(day, sort)
        view.requested = False
        return view

    def day(self, day: dt.date, sort: str | None = None) -> DayView:
        sort = self.check_sort(sort)
        entries = [Entry(p, l) for l, p in self.store.day_listing(day)]
        prev_day, next_day = self.store.nearest_listing_days(day)
        nearest = None
        if not entries:
            candidates = [d for d in (prev_day, next_day) if d is not None]
            if candidates:
                nearest = min(candidates, key=lambda d: (abs((d - day).days), d > day))
        latest = self.latest_day()
        return DayView(
            day=day, entries=self.sort_entries(entries, sort), sort=sort, prev_day=prev_day,
            next_day=next_day, requested=True, nearest=nearest, today=self.today(), latest=latest,
        )

    def week(self, label: str, sort: str | None = None, page: int = 1) -> PeriodView:
        start, end = days_mod.parse_week(label)
        return self._period("week", days_mod.week_label, start, end, sort, page)

    def month(self, label: str, sort: str | None = None, page: int = 1) -> PeriodView:
        start, end = days_mod.parse_month(label)
        return self._period("month", days_mod.month_label, start, end, sort, page)

    def _period(self, kind: str, label_of: Callable[[dt.date], str], start: dt.date, end: dt.date,
                sort: str | None, page: int) -> PeriodView:
        sort = self.check_sort(sort)
        if page < 1 or page > 10_000:
            raise Invalid("page must be between 1 and 10000")
        entries = self.sort_entries(self._dedupe(self.store.listings_in_range(start, end)), sort)
        before, _ = self.store.nearest_listing_days(start)
        _, after = self.store.nearest_listing_days(end)
        latest = self.latest_day()
        last_day = max((e.day for e in entries if e.day), default=start)
        view = PeriodView(
            kind=kind, label=label_of(start), start=start, end=end, entries=[], sort=sort,
            prev_label=label_of(before) if before else None, next_label=label_of(after) if after else None,
            nearest=None if entries else (before or after), latest_label=label_of(latest) if latest else None,
            last_day=last_day, total=len(entries), page=page,
        )
        if entries and page > view.pages:
            raise NotFound(f"page {page} of {view.label} is past the end (it has {view.pages})")
        view.entries = entries[(page - 1) * view.per_page : page * view.per_page]
        return view

    def trending(self, limit: int = TRENDING_LIMIT) -> TrendingView:
        """Papers listed in the last week of lists (up to today), by time-decayed upvotes."""
        window = self.recent_days(WINDOW_DAYS)
        if window is None:
            return TrendingView(entries=[], start=None, end=None)
        start, end = window
        # Ranked by the stored trending key (dailypapers.trending): an indexed
        # ORDER BY, no per-request scoring; keys of recent papers are refreshed in the background.
        refresh_trending_soon(self.store, self.today())
        pairs = self.store.trending_listings(start, end, limit)
        if pairs:  # none: keys not computed yet (fresh import): score here, below
            return TrendingView(entries=[Entry(p, l) for l, p in pairs], start=start, end=end)
        entries = self._dedupe(self.store.listings_in_range(start, end))
        return TrendingView(entries=self.sort_entries(entries, "trending")[:limit], start=start, end=end)

    def organization(self, name: str, page: int = 1, per_page: int = 30) -> OrgView:
        if page < 1 or page > 10_000:
            raise Invalid("page must be between 1 and 10000")
        papers, total = self.store.papers_by_org(name, per_page, (page - 1) * per_page)
        if total == 0:
            raise NotFound(f"no papers from an organization called {name!r}")
        org = next((p.organization for p in papers if p.organization), None) or Organization(name)
        if not papers:
            raise NotFound(f"page {page} of {name!r} is past the end")
        return OrgView(organization=org, papers=papers, total=total, page=page, per_page=per_page)

    def author(self, name: str, page: int = 1, per_page: int = 30) -> AuthorView:
        """An author's papers here, newest first, every spelling of the name merged by the follows
        rule (community/follows.py). The search index finds the papers with the surname and first
        initial; the rule keeps the ones with a matching author."""
        if page < 1 or page > 10_000:
            raise Invalid("page must be between 1 and 10000")
        name = clean_name(name)
        wanted = author_parts(name)
        if not wanted[0] or len(name) > AUTHOR_NAME_CHARS:
            raise NotFound("no such author")
        if self.search is None:
            raise Unavailable("author pages need the search index")
        ids, total = self.search.author_candidates(wanted[0], wanted[1][0] if wanted[1] else None,
                                                   AUTHOR_CANDIDATES)
        found = self.store.get_papers(ids)
        papers: list[StoredPaper] = []
        spellings: dict[str, int] = {}
        for arxiv_id in ids:
            p = found.get(arxiv_id)
            if p is None:
                continue
            # the surname, folded, is in any matching spelling: most names are skipped unparsed
            names = [a for a in p.authors if wanted[0] in fold(a) and same_parts(author_parts(a), wanted)]
            if names:
                papers.append(p)
                for a in names:
                    spellings[clean_name(a)] = spellings.get(clean_name(a), 0) + 1
        start = (page - 1) * per_page
        if page > 1 and start >= len(papers):
            raise NotFound(f"page {page} of {name!r} is past the end")
        return AuthorView(name=name, papers=papers[start:start + per_page], total=len(papers), page=page,
                          per_page=per_page, spellings=sorted(spellings, key=lambda s: -spellings[s]),
                          partial=total > len(ids))

    def paper(self, raw_id: str, *, similar: int = 5) -> PaperDetail:
        arxiv_id = self.canonical_id(raw_id)
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise NotFound(f"no paper {arxiv_id} here")
        hits: list[Any] = []
        if similar and self.search is not None:
            try:
                found = self.search.similar(arxiv_id, limit=similar)
                hits = list(found.results)
            except Exception:  # similar papers are a nicety; the page still works without them
                log.exception("similar papers for %s failed", arxiv_id)
                hits = []
        return PaperDetail(paper=paper, listings=self.store.listings_for_paper(arxiv_id), similar=hits)

    @staticmethod
    def canonical_id(raw_id: str) -> str:
        if not raw_id or len(raw_id) > 100:
            raise NotFound("not an arXiv id")
        try:
            return parse_arxiv_id(raw_id).id
        except BadArxivId:
            raise NotFound(f"{raw_id!r} is not an arXiv id") from None

    # -- citation exports (BibTeX, RIS, CSL-JSON: dailypapers.citations) ------------
    def cite_paper(self, raw_id: str, fmt: str) -> citations.Export:
        """One paper's citation file; NotFound for an id we do not hold."""
        citations.check_format(fmt)
        arxiv_id = self.canonical_id(raw_id)
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise NotFound(f"no paper {arxiv_id} here")
        return citations.export([paper], fmt, arxiv_id)

    def cite_day(self, day: dt.date, fmt: str, sort: str | None = None) -> citations.Export:
        """A day's list, in the order its page shows (`sort`, pinned papers first)."""
        citations.check_format(fmt)
        entries = self.day(day, sort).entries
        if not entries:
            raise NotFound(f"no papers were listed on {day.isoformat()}")
        return citations.export([e.paper for e in entries], fmt, f"dailypapers-{day.isoformat()}")

    def cite_search(self, request: Any, fmt: str) -> citations.Export:
        """The page of search results that `request` (a validated search.request.SearchRequest)
        shows, in its order."""
        citations.check_format(fmt)
        if self.search is None:
            raise Unavailable("search is not available here")
        results = self.search.search(request)
        name = "-".join(re.findall(r"[A-Za-z0-9]+", citations.ascii_fold(request.q)))[:60] or "results"
        page = f"-p{request.page}" if request.page > 1 else ""
        return citations.export([h.paper for h in results.results], fmt, f"dailypapers-search-{name}{page}")

    # -- API -----------------------------------------------------------------
    def api_daily(
        self,
        *,
        date: str | None = None,
        week: str | None = None,
        month: str | None = None,
        submitter: str | None = None,
        sort: str | None = None,
        page: int = 0,
        limit: int = 50,
    ) -> ApiPage:
        # Given together, date, week and month narrow to the days they share (none: an empty page).
        start = end = None
        for label, parse in ((date, lambda d: (days_mod.parse_day(d),) * 2), (week, days_mod.parse_week),
                             (month, days_mod.parse_month)):
            if label is not None:
                first, last = parse(label)
                start, end = max(start or first, first), min(end or last, last)
        if start is not None and end is not None and start > end:
            return ApiPage(items=[], has_next=False)
        sort = sort or "publishedAt"
        if sort not in ("publishedAt", "trending"):
            raise Invalid("sort must be publishedAt or trending")
        offset = page * limit
        if sort == "publishedAt":
            rows = self.store.daily_papers_api(start, end, submitter, sort, limit + 1, offset)
            entries = [Entry(p, l) for l, p in rows]
            return ApiPage(items=entries[:limit], has_next=len(entries) > limit)
        if submitter is None:  # the stored trending key
            pairs = self.store.trending_listings(start, end, limit + 1, offset)
            if pairs:  # none: keys not computed yet (fresh import): score here, below
                entries = [Entry(p, l) for l, p in pairs]
                return ApiPage(items=entries[:limit], has_next=len(entries) > limit)
        rows = self.store.daily_papers_api(start, end, submitter, sort, None, 0)
        entries = self.sort_entries(self._dedupe(rows), "trending")
        return ApiPage(items=entries[offset : offset + limit], has_next=len(entries) > offset + limit)

    def api_paper(self, raw_id: str) -> tuple[StoredPaper, list[Listing]]:
        arxiv_id = self.canonical_id(raw_id)
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            raise NotFound(f"no paper {arxiv_id} here")
        return paper, self.store.listings_for_paper(arxiv_id)


__all__ = [
    "PaperService", "Entry", "DayView", "PeriodView", "TrendingView", "OrgView", "AuthorView", "PaperDetail",
    "ApiPage", "AUTHOR_CANDIDATES",
    "SORTS", "trending_score", "recent_window", "PERIOD_PAGE_SIZE",
]
