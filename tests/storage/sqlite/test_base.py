"""The connection base: WAL, migrations and the schema check, state, readers, the content version."""

import gc
import json
import os
import threading
from pathlib import Path

import pytest

from dailypapers.storage import SchemaOutdated, load_migrations
from dailypapers.storage.sqlite import SQLiteStore

from ..helpers import make


def test_uses_wal_and_records_migrations(store):
    mode = store.read("PRAGMA journal_mode")[0][0]
    assert mode == "wal"
    assert store.schema_version() == load_migrations()[-1].version
    assert store.migrate() == []  # idempotent
    store.check_schema()


def test_refuses_an_out_of_date_schema(tmp_path):
    s = SQLiteStore(tmp_path / "old.db")
    with pytest.raises(SchemaOutdated, match="dailypapers migrate"):
        s.check_schema()
    s.close()


def test_refuses_a_schema_newer_than_the_code(store):
    with store.write() as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')")
    with pytest.raises(SchemaOutdated, match="newer"):
        store.check_schema()


def test_state_is_a_small_key_value_table(store):
    assert store.get_state("k") is None
    store.set_state("k", "1")
    store.set_state("k", json.dumps({"token": "x"}))
    assert json.loads(store.get_state("k")) == {"token": "x"}


def test_readers_in_threads_see_committed_writes(store):
    store.ingest_batch([make(i) for i in range(1, 51)])
    counts = []

    def read():
        counts.append(store.stats()["papers"])

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [50] * 8


def _open_db_files(path) -> int:
    fd = Path("/proc/self/fd")
    return sum(1 for f in fd.iterdir() if os.path.realpath(f) == str(path.resolve()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_thread_reader_is_closed_when_its_thread_ends(store):
    """A server's worker threads come and go: each one's connection (its page cache) must go with it."""
    def threads(n: int) -> int:
        for _ in range(n):
            t = threading.Thread(target=store.stats)
            t.start()
            t.join()
        gc.collect()
        return _open_db_files(store.path)

    store.read("SELECT 1")
    # SQLite may hold one closed connection's file open while another connection has a lock on it
    before = threads(1)
    assert threads(30) == before
    assert len(store._all_readers) == 1  # this thread's


def test_web_version_moves_on_content_from_any_process_but_not_on_bookkeeping(store):
    other = SQLiteStore(store.path)  # another process's connection to the same file
    try:
        v0 = other.web_version()
        store.rate_hit(["search:ip:1.2.3.4"], 10, 60.0, 1000.0)
        assert other.web_version() == v0  # rate limits are not content
        store.ingest_batch([make(1)])
        v1 = other.web_version()
        assert v1 != v0
        with store.write(content=False) as conn:
            conn.execute("UPDATE papers SET added_at = added_at")
        assert other.web_version() == v1
    finally:
        other.close()
