"""Numbered SQL migrations, applied in order and never edited once released."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from dailypapers.storage.errors import StorageError


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
