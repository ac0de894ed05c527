"""SQLite store: one file in WAL mode, one writer, pooled per-thread readers.

One class over one connection base (base.py), its queries split into one module per entity,
the way miniflux splits its store. ``open_store`` returns it for sqlite:/// URLs.
"""

from __future__ import annotations

from dailypapers.storage.errors import StorageError
from dailypapers.storage.sqlite.account_data import AccountDataQueries
from dailypapers.storage.sqlite.accounts import AccountQueries
from dailypapers.storage.sqlite.arrivals import ArrivalQueries
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.comments import CommentQueries
from dailypapers.storage.sqlite.curation import CurationQueries
from dailypapers.storage.sqlite.digests import DigestQueries
from dailypapers.storage.sqlite.embeddings import EmbeddingQueries
from dailypapers.storage.sqlite.follows import FollowQueries
from dailypapers.storage.sqlite.library import LibraryQueries
from dailypapers.storage.sqlite.listings import ListingQueries
from dailypapers.storage.sqlite.papers import PaperQueries
from dailypapers.storage.sqlite.ratelog import RATE_KEEP_SECONDS, RATE_SWEEP_EVERY, RateLogQueries
from dailypapers.storage.sqlite.rows import format_ts, parse_ts
from dailypapers.storage.sqlite.saved import SavedSearchQueries
from dailypapers.storage.sqlite.votes import VoteQueries


class SQLiteStore(
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
    SQLiteBase,
):
    """Implements dailypapers.storage.Store."""


__all__ = [
    "RATE_KEEP_SECONDS",
    "RATE_SWEEP_EVERY",
    "SQLiteStore",
    "StorageError",
    "format_ts",
    "parse_ts",
]
