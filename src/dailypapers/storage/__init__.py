"""Storage: open_store(url), the schema migrations, storage errors, and the store protocols.

SQLite is the embedded default; PostgreSQL (postgres/) is a second implementation of the same
protocols, for several web nodes on one database. Services depend on the narrow protocols in
protocols.py, never on a backend.
"""

from __future__ import annotations

from dailypapers.storage.errors import Conflict, DatabaseUnavailable, SchemaOutdated, StorageError
from dailypapers.storage.protocols import (
    AccountDataServiceStore,
    AccountDataStore,
    AccountStore,
    AlertStore,
    ArrivalsStore,
    ArrivalStore,
    CommentingStore,
    CommentStore,
    ComposerStore,
    CurationStore,
    CuratorStore,
    DigestStore,
    EmbeddingJobStore,
    EmbeddingStore,
    FollowServiceStore,
    FollowStore,
    ForYouStore,
    IngestStore,
    LibraryServiceStore,
    LibraryStore,
    ListingStore,
    PaperStore,
    PaperViewStore,
    RankerStore,
    RateLogStore,
    ReadingStore,
    SavedSearchStore,
    SavedServiceStore,
    SchemaStore,
    SearchStore,
    SendLogStore,
    StateStore,
    Store,
    SubmissionStore,
    SubscriptionStore,
    TrendingStore,
    VoteStore,
    VotingStore,
)
from dailypapers.storage.schema import Migration, load_migrations
from dailypapers.storage.sqlite import SQLiteStore


def open_store(url: str, *, serving: bool = False) -> Store:
    """``serving``: for a web process, which keeps a few warm PostgreSQL connections open from
    the start (SQLite opens one per thread either way)."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        # Imported here: psycopg is loaded only by instances that use PostgreSQL.
        from dailypapers.storage.postgres import PostgresStore
        from dailypapers.storage.postgres.base import POOL_MIN_SERVING

        return PostgresStore(url, pool_min=POOL_MIN_SERVING if serving else 1)
    raise StorageError(f"unsupported database URL {url.split('://')[0]}://...: use sqlite:///PATH or postgresql://...")


__all__ = [
    "AccountDataServiceStore",
    "AccountDataStore",
    "AccountStore",
    "ArrivalStore",
    "ArrivalsStore",
    "CommentStore",
    "CommentingStore",
    "ComposerStore",
    "Conflict",
    "DatabaseUnavailable",
    "CurationStore",
    "CuratorStore",
    "AlertStore",
    "DigestStore",
    "EmbeddingJobStore",
    "EmbeddingStore",
    "FollowServiceStore",
    "FollowStore",
    "ForYouStore",
    "IngestStore",
    "LibraryServiceStore",
    "LibraryStore",
    "ListingStore",
    "Migration",
    "PaperStore",
    "PaperViewStore",
    "RankerStore",
    "RateLogStore",
    "ReadingStore",
    "SavedSearchStore",
    "SavedServiceStore",
    "SchemaOutdated",
    "SchemaStore",
    "SearchStore",
    "SendLogStore",
    "StateStore",
    "StorageError",
    "Store",
    "SubmissionStore",
    "SubscriptionStore",
    "TrendingStore",
    "VoteStore",
    "VotingStore",
    "load_migrations",
    "open_store",
]
