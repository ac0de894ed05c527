"""What the storage layer raises; services catch these, the CLI prints them."""

from __future__ import annotations

from dailypapers.errors import Unavailable


class StorageError(Exception):
    """A database problem the operator must fix (bad URL, schema out of date, ...)."""


class SchemaOutdated(StorageError):
    """The database is behind the code (or ahead of it)."""


class Conflict(StorageError):
    """A unique value (email, name) is taken; ``field`` names it."""

    def __init__(self, field: str):
        super().__init__(f"{field} is taken")
        self.field = field


class DatabaseUnavailable(StorageError, Unavailable):
    """The database server cannot be reached (down, restarting, network): worth retrying.

    A wrong password or database name is a plain StorageError: retrying cannot fix it."""

    def __init__(self, message: str, retry_after: int = 5):
        Unavailable.__init__(self, message, retry_after)
