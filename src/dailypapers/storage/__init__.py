"""Storage: the Store interface and open_store(url).

SQLite is the embedded default; a PostgreSQL store is a second implementation
of the same protocol. Services depend on the protocol, never on a backend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Iterator, Protocol, Sequence

from dailypapers.models import Listing, Paper, StoredPaper


class StorageError(Exception):
    pass


class SchemaOutdated(StorageError):
    """The database is behind the code (or ahead of it)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str = "dailypapers.storage.migrations") -> list[Migration]:
    """Numbered SQL files, applied in order and never edited once released."""
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number, _, rest = name.partition("_")
        found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, m in enumerate(found, start=1):
        if m.version != expected:
            raise StorageError(f"migration numbers must be consecutive: expected {expected}, found {m.version}")
    return found


class Store(Protocol):
    """What services need from a database. Both backends pass the same tests."""

    # schema
    def migrate(self) -> list[Migration]: ...
    def schema_version(self) -> int: ...
    def check_schema(self) -> None: ...
    def close(self) -> None: ...

    # papers and listings
    def ingest_batch(
        self, papers: Sequence[Paper], listings: Sequence[Listing] = ()
    ) -> tuple[list[str], list[str]]: ...
    def get_paper(self, arxiv_id: str) -> StoredPaper | None: ...
    def get_papers(self, arxiv_ids: Sequence[str]) -> dict[str, StoredPaper]: ...
    def iter_papers(self, batch_size: int = 1000) -> Iterator[StoredPaper]: ...
    def papers_changed_since(self, seq: int, limit: int = 1000) -> list[tuple[int, StoredPaper]]: ...
    def max_seq(self) -> int: ...
    def listings_for_paper(self, arxiv_id: str) -> list[Listing]: ...
    def listings_between(self, start: dt.date, end: dt.date) -> list[Listing]: ...
    def listing_days(self) -> list[dt.date]: ...
    def stats(self) -> dict[str, int]: ...

    # embeddings
    def embedding_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]: ...
    def count_embedding_tasks(self, model_id: str) -> int: ...
    def put_embeddings(self, model_id: str, rows: Iterable[tuple[str, str, bytes]]) -> int: ...
    def iter_embeddings(self, model_id: str, batch_size: int = 5000) -> Iterator[list[tuple[str, bytes]]]: ...

    # small state (harvest checkpoints, index positions)
    def get_state(self, key: str) -> str | None: ...
    def set_state(self, key: str, value: str) -> None: ...

    # -- read models for the web (issue 4) --
    def day_listing(self, day: dt.date) -> list[tuple[Listing, StoredPaper]]: ...
    def listings_in_range(self, start: dt.date, end: dt.date) -> list[tuple[Listing, StoredPaper]]: ...
    def nearest_listing_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]: ...
    def latest_listing_day(self, on_or_before: dt.date | None = None) -> dt.date | None: ...
    def papers_by_org(self, name: str, limit: int = 50, offset: int = 0) -> tuple[list[StoredPaper], int]: ...
    def daily_papers_api(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        submitter: str | None = None,
        sort: str = "publishedAt",
        limit: int | None = 50,
        offset: int = 0,
    ) -> list[tuple[Listing, StoredPaper]]: ...
    def web_version(self) -> tuple: ...


def open_store(url: str) -> Store:
    if url.startswith("sqlite:///"):
        from dailypapers.storage.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        raise StorageError("the PostgreSQL backend is not available in this version")
    raise StorageError(f"unsupported database URL {url!r}: use sqlite:///PATH")
