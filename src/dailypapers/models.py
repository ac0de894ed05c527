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
    announced: dt.date | None = None  # the day arXiv first listed it as new (ingest/announce.py)
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


# -- members and their community records --
@dataclass
class User:
    id: int
    email: str
    name: str
    role: str  # member | curator | admin
    created_at: dt.datetime
    verified_at: dt.datetime | None = None
    disabled_at: dt.datetime | None = None
    password_hash: str | None = None
    password_changed_at: dt.datetime | None = None
    show_upvotes: bool = True
    show_submissions: bool = True

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def is_curator(self) -> bool:
        return self.role in ("curator", "admin")


@dataclass
class SessionRecord:
    user: User
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


@dataclass
class ApiToken:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@dataclass
class Comment:
    id: int
    arxiv_id: str
    user_id: int
    author: str
    body: str
    created_at: dt.datetime
    edited_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    hidden_at: dt.datetime | None = None

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


@dataclass
class CuratorAction:
    id: int
    actor: str | None
    action: str
    arxiv_id: str | None
    day: dt.date | None
    detail: str | None
    created_at: dt.datetime
    title: str | None = None  # the paper's title, when the action names a paper we hold
    rule: str | None = None  # the rule that acted, when no person did

    @property
    def by(self) -> str:
        """Who acted: the curator's name, or the rule."""
        return self.actor or (f"rule: {self.rule}" if self.rule else "(deleted user)")


@dataclass
class CuratedListing:
    """A listing as a curator sees it: hidden ones included."""

    listing: Listing
    paper: StoredPaper
    pinned: bool
    hidden: bool
    submitter_id: int | None


# -- arrivals (arXiv's new papers in the instance's field) --
DECISIONS = ("added", "pinned", "skipped", "removed")


@dataclass
class ArrivalEntry:
    """One arrival of a day, with its predicted interest and what was decided about it."""

    paper: StoredPaper
    day: dt.date
    score: float | None = None  # None until the ranker has scored it
    reasons: list[str] = field(default_factory=list)
    decision: str | None = None  # one of DECISIONS
    decided_by: str | None = None  # a curator's name or a rule
    listed_on: dt.date | None = None  # the first list it is on, if any


@dataclass(frozen=True)
class ArrivalRule:
    id: int
    kind: str  # "top": the top K by predicted interest; "search": every arrival the query matches
    top_k: int | None
    query: str | None
    created_by: str | None
    created_at: dt.datetime

    @property
    def label(self) -> str:
        if self.kind == "top":
            return f"#{self.id} top {self.top_k} by predicted interest"
        return f"#{self.id} matches \u201c{self.query}\u201d"


# -- a reader's library: collections and reading states --
VISIBILITIES = ("private", "shared", "public")  # shared: the owner and its members; public: anyone reads
MEMBER_ROLES = ("editor", "viewer")  # besides the owner: editors add and remove papers, viewers read
READING_STATES = ("to_read", "read", "hidden")  # hidden: "not interested"


@dataclass
class Collection:
    id: int
    owner_id: int
    owner: str  # the owner's name
    name: str
    slug: str | None
    description: str
    visibility: str  # one of VISIBILITIES
    created_at: dt.datetime
    updated_at: dt.datetime
    paper_count: int = 0
    role: str | None = None  # the reader's role ("owner", "editor", "viewer") when listed for a member

    @property
    def ref(self) -> str:
        """How its public page is addressed: /c/<slug or id>."""
        return self.slug or str(self.id)


@dataclass
class CollectionMember:
    user_id: int
    name: str
    role: str  # one of MEMBER_ROLES
    added_at: dt.datetime


@dataclass
class CollectedPaper:
    """A paper in a collection, with who added it and the reader's own note (never another's)."""

    paper: StoredPaper
    added_at: dt.datetime
    added_by: str | None
    note: str | None = None


@dataclass
class ReadingState:
    arxiv_id: str
    state: str  # one of READING_STATES
    updated_at: dt.datetime


@dataclass
class AccountDeletion:
    """What deleting an account did (storage/account_rows.py lists the rules)."""

    votes_removed: int
    comments_kept: int  # now under the "[deleted member]" account
    collections_deleted: int
    collections_transferred: list[tuple[int, str]]  # (collection id, the editor who owns it now)
    subscriptions_removed: int


FOLLOW_KINDS = ("author", "org")
MUTE_KINDS = ("upvote",)  # what a member may stop For you from using without undoing it


@dataclass
class Follow:
    """A member follows an author (by name; community/follows.py merges the variants) or an organization."""

    id: int
    kind: str  # one of FOLLOW_KINDS
    name: str  # as followed: an author's name, an organization's name (its /orgs/ address)
    key: str  # author: surname and first initial (community/follows.author_key); org: the name
    created_at: dt.datetime


# -- email digests --
FREQUENCIES = ("daily", "weekly")
PERIODS = FREQUENCIES
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_FAILURES = 3  # a subscription is skipped after this many consecutive permanent (5xx) failures

# Send-log states. pending -> sending -> sent | failed; a 4xx puts it back to pending (with
# next_attempt_at); a row left in 'sending' by a killed process is "in doubt" (see send.py).
SEND_STATES = ("pending", "sending", "sent", "failed", "cancelled", "in_doubt")


@dataclass
class Subscription:
    id: int | None
    email: str
    user_id: int | None = None
    frequency: str = "daily"
    weekday: int | None = None  # 0 = Monday .. 6 = Sunday, for weekly digests
    skip_weekends: bool = False
    topics: list[str] = field(default_factory=list)
    include_upvotes: bool = False  # members: add "papers like the ones I upvoted"
    confirmed_at: dt.datetime | None = None
    unsubscribed_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    confirm_nonce: str | None = None  # one-time: the confirmation link carries it
    confirm_sent_at: dt.datetime | None = None
    manage_key: str | None = None  # manage/unsubscribe links carry it; a new one on each confirmation
    notice_sent_at: dt.datetime | None = None  # last "manage your subscription" email
    fail_count: int = 0  # consecutive permanent failures
    last_failure_at: dt.datetime | None = None
    last_error: str | None = None

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None

    @property
    def failing(self) -> bool:
        return self.fail_count >= MAX_FAILURES

    @property
    def schedule_label(self) -> str:
        if self.frequency == "weekly":
            day = WEEKDAYS[self.weekday] if self.weekday is not None else WEEKDAYS[0]
            return f"weekly, on {day}s"
        return "daily, on weekdays only" if self.skip_weekends else "daily"


@dataclass
class DigestEntry:
    """One paper in a digest and why it is there."""

    arxiv_id: str
    reasons: list[str]
    section: str = "trending"  # "trending" | "for_you"


@dataclass
class DigestSend:
    """One row of the send log: a digest for one subscriber and one period."""

    id: int | None
    subscription_id: int
    period_key: str
    status: str
    message_id: str
    entries: list[DigestEntry]
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    last_error: str | None = None
    created_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None


ALERT_MODES = ("none", "digest", "daily", "weekly")  # digest: a section of the member's next digest


@dataclass
class SavedSearch:
    """A member's saved search: its parameters (as /papers/search takes them), its own feed (the
    unguessable feed_key names it) and its email alert."""

    id: int | None
    user_id: int
    name: str
    params: dict[str, str]  # SearchRequest.params(): q, sort, mode, from, to, category, ...
    feed_key: str
    alert: str = "none"  # one of ALERT_MODES
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def q(self) -> str:
        return self.params.get("q", "")


@dataclass
class AlertSend:
    """One row of the saved-search alert log: one alert email for one saved search and period."""

    id: int | None
    saved_search_id: int
    period_key: str
    status: str  # one of SEND_STATES
    message_id: str
    arxiv_ids: list[str]
    attempts: int = 0
    last_error: str | None = None
    created_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
