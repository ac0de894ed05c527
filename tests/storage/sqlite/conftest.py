"""What only the SQLite backend does (WAL, its file, its own connections) is tested on SQLite."""

import pytest

from dailypapers.storage.sqlite import SQLiteStore


@pytest.fixture
def store(settings):
    s = SQLiteStore(settings.data_dir / "dailypapers.db")
    s.migrate()
    yield s
    s.close()
