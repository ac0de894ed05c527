"""Numbered SQL migrations, applied in order and never edited once released."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from dailypapers.storage.errors import SchemaOutdated, StorageError


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


def check_version(current: int, latest: int, where: str) -> None:
    """Refuse a database behind the code (the fix: migrate) or ahead of it (the fix: upgrade)."""
    if current < latest:
        raise SchemaOutdated(f"the database {where} is at schema version {current}, this code needs {latest}: "
                             "run `dailypapers migrate` first")
    if current > latest:
        raise SchemaOutdated(f"the database {where} is at schema version {current}, newer than this code "
                             f"({latest}): upgrade dailypapers")


# Counts `dailypapers stats` prints, in one query both backends run.
STATS_KEYS = ("papers", "listings", "listing_days", "embeddings", "sentence_vectors", "users", "votes",
              "subscriptions")
# sentence_vectors: papers whose sentences the embedding job has done (an empty blob counts: no text
# to embed). A scan of the table's rows, not of their blobs' overflow pages (64k papers: ~60 ms).
STATS_SQL = (
    "SELECT (SELECT COUNT(*) FROM papers), (SELECT COUNT(*) FROM listings), "
    "(SELECT COUNT(DISTINCT day) FROM listings), (SELECT COUNT(*) FROM embeddings), "
    "(SELECT COUNT(*) FROM embeddings WHERE sentences IS NOT NULL), "
    "(SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM votes), (SELECT COUNT(*) FROM subscriptions)"
)
