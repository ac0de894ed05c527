"""The storage tests run against both backends: `store` is a migrated SQLite file or a fresh
database on the session's real PostgreSQL server."""

import pytest

from dailypapers.storage.postgres import PostgresStore
from dailypapers.storage.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, settings):
    if request.param == "sqlite":
        s = SQLiteStore(settings.data_dir / "dailypapers.db")
        s.migrate()
    else:
        s = PostgresStore(request.getfixturevalue("pg_url"))
    yield s
    s.close()
