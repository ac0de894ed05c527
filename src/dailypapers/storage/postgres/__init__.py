"""PostgreSQL store: the system of record for several web nodes on one database.

One class over one connection base (base.py: the pool, the content lock, migrations, the
content version with LISTEN/NOTIFY), its queries split into one module per entity like the
SQLite store's, with the row mappers both share (storage/rows.py). ``open_store`` returns it
for postgresql:// URLs.
"""

from __future__ import annotations

from dailypapers.storage.postgres.account_data import AccountDataQueries
from dailypapers.storage.postgres.accounts import AccountQueries
from dailypapers.storage.postgres.arrivals import ArrivalQueries
from dailypapers.storage.postgres.base import PostgresBase, connect_error, describe
from dailypapers.storage.postgres.comments import CommentQueries
from dailypapers.storage.postgres.curation import CurationQueries
from dailypapers.storage.postgres.digests import DigestQueries
from dailypapers.storage.postgres.embeddings import EmbeddingQueries
from dailypapers.storage.postgres.follows import FollowQueries
from dailypapers.storage.postgres.library import LibraryQueries
from dailypapers.storage.postgres.listings import ListingQueries
from dailypapers.storage.postgres.papers import PaperQueries
from dailypapers.storage.postgres.ratelog import RateLogQueries
from dailypapers.storage.postgres.saved import SavedSearchQueries
from dailypapers.storage.postgres.votes import VoteQueries


class PostgresStore(
    PaperQueries,
    ListingQueries,
    EmbeddingQueries,
    AccountQueries,
    VoteQueries,
    CommentQueries,
    CurationQueries,
    DigestQueries,
    RateLogQueries,
    ArrivalQueries,
    LibraryQueries,
    FollowQueries,
    SavedSearchQueries,
    AccountDataQueries,
    PostgresBase,
):
    """Implements dailypapers.storage.Store."""


__all__ = ["PostgresStore", "connect_error", "describe"]
