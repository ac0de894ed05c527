"""The composition root: every service is built here, once, from settings and the collaborators
passed in (tests pass a fixed clock, a cheap password hasher, a fake mailer or arXiv client)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict, Unpack

from argon2 import PasswordHasher
from starlette.applications import Starlette

from dailypapers.arrivals.service import ArrivalService
from dailypapers.clock import Clock, utcnow
from dailypapers.community.account_data import AccountDataService
from dailypapers.community.accounts import AccountService
from dailypapers.community.comments import CommentService
from dailypapers.community.curation import CurationService
from dailypapers.community.follows import FollowService
from dailypapers.community.library import LibraryService
from dailypapers.community.profiles import ProfileService
from dailypapers.community.ratelimit import Limits, limiter_for
from dailypapers.community.submissions import SubmissionService
from dailypapers.community.votes import VoteService
from dailypapers.config import Settings
from dailypapers.digests.foryou import ForYouService
from dailypapers.digests.saved import SavedSearchService
from dailypapers.digests.subscriptions import SubscriptionService
from dailypapers.ingest.arxiv_api import ArxivClient
from dailypapers.mail import Mailer, mailer_from_settings
from dailypapers.papers import PaperService
from dailypapers.search.embedder import Embedder, load_embedder
from dailypapers.search.engine import SearchEngine
from dailypapers.storage import Store, open_store
from dailypapers.web.routes import build_app


@dataclass(frozen=True)
class Services:
    """What the web layer calls. Built once per process by build_services; never extended later."""

    settings: Settings
    # settings.signing_key() once: in development it reads a file, and pages sign cookies per request
    signing_key: str
    store: Store
    search: SearchEngine
    embedder: Embedder | None  # None without a model folder: lexical search only
    mailer: Mailer
    arxiv: ArxivClient | None  # None: papers are never looked up on arXiv
    clock: Clock
    papers: PaperService
    arrivals: ArrivalService
    accounts: AccountService
    account_data: AccountDataService
    profiles: ProfileService
    votes: VoteService
    submissions: SubmissionService
    comments: CommentService
    curation: CurationService
    subscriptions: SubscriptionService
    foryou: ForYouService
    library: LibraryService
    saved: SavedSearchService
    follows: FollowService
    limits: Limits


class Collaborators(TypedDict, total=False):
    """What a caller may pass in instead of what settings would build; tests pass all of them."""

    store: Store
    embedder: Embedder | Literal[False]  # False: none (lexical search only)
    mailer: Mailer
    arxiv: ArxivClient | Literal[False]  # False: none (a paper this site lacks is refused)
    clock: Clock
    hasher: PasswordHasher


def build_services(settings: Settings, *, check_schema: bool = True, **given: Unpack[Collaborators]) -> Services:
    """Every service, built once, from settings and the collaborators given."""
    store = given.get("store") or open_store(settings.db_url, serving=True)
    embedder = given.get("embedder")
    mailer = given.get("mailer")
    arxiv: ArxivClient | Literal[False] | None = given.get("arxiv")
    clock = given.get("clock") or utcnow
    hasher = given.get("hasher")
    if check_schema:
        store.check_schema()
    if embedder is None:
        # Services embed queries: a few tokens each, where a second thread only adds hand-off and
        # spin-waiting that steals the core from the next request. Bulk `embed` uses every core.
        embedder = load_embedder(settings.model_dir, threads=1)  # None without a model folder
    query_embedder = embedder or None
    if mailer is None:
        mailer = mailer_from_settings(settings)
    if arxiv is False:
        arxiv = None
    elif arxiv is None:
        # Members and curators wait on this client: one bounded try, not ingest's patient retries.
        arxiv = ArxivClient(settings.arxiv_api_url, delay=settings.arxiv_delay,
                            timeout=settings.arxiv_submit_timeout, max_retries=0)
    search = SearchEngine(store, settings.index_dir, query_embedder, read_sentences=settings.embed_sentences)
    submissions = SubmissionService(store, settings, arxiv, clock=clock)
    arrivals = ArrivalService(store, settings, clock=clock, matcher=search.matching)
    accounts = AccountService(store, settings, mailer, clock=clock, hasher=hasher)
    return Services(
        settings=settings,
        signing_key=settings.signing_key(),
        store=store,
        search=search,
        embedder=query_embedder,
        mailer=mailer,
        arxiv=arxiv,
        clock=clock,
        papers=PaperService(store, settings, search=search, clock=clock),
        arrivals=arrivals,
        accounts=accounts,
        account_data=AccountDataService(store, accounts, settings, clock=clock),
        profiles=ProfileService(store),
        votes=VoteService(store, clock=clock, after_vote=arrivals.member_voted),
        submissions=submissions,
        comments=CommentService(store, clock=clock),
        curation=CurationService(store, submissions, clock=clock),
        subscriptions=SubscriptionService(store, settings, mailer, clock=clock),
        foryou=ForYouService(store, embedder=query_embedder, clock=clock),
        library=LibraryService(store, settings, arxiv, clock=clock),
        saved=SavedSearchService(store, search, settings, clock=clock),
        follows=FollowService(store, clock=clock),
        limits=limiter_for(settings, store),
    )


def create_app(settings: Settings, **given: Unpack[Collaborators]) -> Starlette:
    """Build the ASGI app. Refuses to start on an out-of-date schema."""
    return build_app(build_services(settings, **given))
