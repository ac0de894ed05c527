"""What only the PostgreSQL backend does: its migrations and schema check, one-line connection
errors, the content version across processes (NOTIFY), and correctness with concurrent writers
through several stores (as several nodes would hold), on a real server."""

import threading
import time

import psycopg
import pytest

from dailypapers.models import Listing
from dailypapers.storage import DatabaseUnavailable, SchemaOutdated, StorageError, load_migrations, open_store
from dailypapers.storage.postgres import PostgresStore
from dailypapers.storage.postgres.base import CONTENT_LOCK, MIGRATIONS, POOL_MIN_SERVING, WARM_UP
from dailypapers.storage.rows import parse_ts
from dailypapers.trending import trending_key

from ..helpers import T0, make


def wait_until(check, seconds: float = 10.0) -> bool:
    """Poll `check` until it holds (bounded); the assertion is on the outcome, not the time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_migrations_are_recorded_and_idempotent(pg_store):
    assert pg_store.schema_version() == load_migrations(MIGRATIONS)[-1].version
    assert pg_store.migrate() == []
    pg_store.check_schema()


def test_refuses_an_out_of_date_or_newer_schema(pg_cluster, pg_store):
    pg_cluster.sql("CREATE DATABASE empty_one")
    empty = PostgresStore(pg_cluster.url("empty_one"))
    try:
        with pytest.raises(SchemaOutdated, match="dailypapers migrate"):
            empty.check_schema()
        assert [m.version for m in empty.migrate()] == [m.version for m in load_migrations(MIGRATIONS)]
        empty.check_schema()
    finally:
        empty.close()
    with pg_store.write() as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    with pytest.raises(SchemaOutdated, match="newer"):
        pg_store.check_schema()


def test_concurrent_migrations_apply_each_once(pg_cluster):
    pg_cluster.sql("CREATE DATABASE racing")
    stores = [PostgresStore(pg_cluster.url("racing")) for _ in range(3)]
    applied: list = []
    threads = [threading.Thread(target=lambda s=s: applied.extend(s.migrate())) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m.version for m in applied) == [m.version for m in load_migrations(MIGRATIONS)]
    for s in stores:
        s.close()


def test_a_wrong_password_or_database_is_one_clear_line_and_not_retried(pg_cluster):
    for url, words in ((pg_cluster.url("postgres", password="wrong"), "password authentication failed"),
                       (pg_cluster.url("no_such_db"), "no_such_db")):
        with pytest.raises(StorageError) as bad:
            open_store(url)
        assert not isinstance(bad.value, DatabaseUnavailable)  # retrying cannot fix it
        assert words in str(bad.value) and "\n" not in str(bad.value)
        assert "wrong" not in str(bad.value) and pg_cluster.PASSWORD not in str(bad.value)
    with pytest.raises(StorageError, match="unsupported database URL"):
        open_store("mysql://x/y")


def test_an_unreachable_server_is_unavailable_not_fatal(pg_cluster):
    from pgcluster import free_port

    with pytest.raises(DatabaseUnavailable) as down:
        open_store(f"postgresql://postgres:secret@127.0.0.1:{free_port()}/x")
    assert "cannot be reached" in str(down.value) and "secret" not in str(down.value)


def test_another_stores_commits_reach_this_one_by_notify(pg_url):
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        v0 = b.web_version()  # starts b's listener
        assert wait_until(lambda: b.content_writes >= 1)  # the listener counts once when it connects
        seen = b.content_writes
        a.ingest_batch([make(1)])
        assert wait_until(lambda: b.content_writes > seen)
        assert b.web_version() > v0
    finally:
        a.close()
        b.close()


def test_fifty_voters_through_two_stores_leave_counts_equal_to_rows(pg_url):
    nodes = [PostgresStore(pg_url), PostgresStore(pg_url)]
    try:
        nodes[0].ingest_batch([make(1), make(2)])
        users = [nodes[0].create_user(f"v{i}@example.org", f"v{i}", None, "member", T0) for i in range(50)]
        start = threading.Barrier(50)
        errors: list = []

        def vote(i: int) -> None:
            node = nodes[i % 2]
            start.wait()
            try:
                for arxiv_id in ("2608.00001", "2608.00002", "2608.00001"):  # the last takes the first back
                    node.toggle_vote(users[i].id, arxiv_id, T0)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=vote, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for arxiv_id, expected in (("2608.00001", 0), ("2608.00002", 50)):
            rows = nodes[1].count_votes(arxiv_id)
            assert rows == expected == nodes[1].get_paper(arxiv_id).votes
        seqs = [seq for seq, _ in nodes[1].papers_changed_since(0)]
        assert len(seqs) == len(set(seqs))  # every change its own seq
    finally:
        for n in nodes:
            n.close()


def test_a_vote_recounts_when_its_paper_moves_before_the_content_lock(pg_url):
    """A vote counts before it takes the content lock; an import that changes the paper's HF count
    in between must not leave a stale count or trending key (the vote recounts under the lock)."""
    store = PostgresStore(pg_url)
    try:
        store.ingest_batch([make(1)], [Listing(arxiv_id="2608.00001", day=T0.date(), upvotes=5, source="hf")])
        user = store.create_user("v@example.org", "v", None, "member", T0)
        got: list = []
        with psycopg.connect(pg_url) as holder:
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (CONTENT_LOCK,))
            voter = threading.Thread(target=lambda: got.append(store.toggle_vote(user.id, "2608.00001", T0)))
            voter.start()
            waiting = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            assert wait_until(lambda: store.read(waiting)[0][0] == 1)  # counted, waiting for the lock
            holder.execute("UPDATE papers SET hf_upvotes = 40 WHERE arxiv_id = '2608.00001'")
            holder.commit()
            voter.join()
        assert got == [(True, 1, 40)]
        key, listed = store.read("SELECT trending_score, listed_at FROM papers WHERE arxiv_id = '2608.00001'")[0]
        assert key == pytest.approx(trending_key(41, parse_ts(listed)))
    finally:
        store.close()


def test_the_warm_up_runs_on_the_schema_and_writes_nothing(pg_url):
    # The pool swallows a failing warm-up (a database not migrated yet), so a renamed table or
    # function would quietly turn it into a no-op: each statement must run on the schema.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        before = conn.execute("SELECT COUNT(*) FROM rate_events").fetchone()
        for sql in WARM_UP:
            conn.execute(sql)
        assert conn.execute("SELECT COUNT(*) FROM rate_events").fetchone() == before


def test_a_serving_store_keeps_warm_connections_from_the_start(pg_cluster, pg_url):
    dbname = pg_url.rsplit("/", 1)[1]

    def connections() -> int:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            return admin.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s "
                                 "AND backend_type = 'client backend'", (dbname,)).fetchone()[0]

    store = open_store(pg_url, serving=True)
    try:
        assert connections() == POOL_MIN_SERVING
        assert store.get_paper("2608.99999") is None
    finally:
        store.close()
    job = open_store(pg_url)
    try:
        assert connections() == 1  # a job or command opens connections only as it needs them
    finally:
        job.close()


def test_a_database_not_migrated_yet_still_opens_and_migrates(pg_cluster):
    pg_cluster.sql("CREATE DATABASE bare_one")
    store = open_store(pg_cluster.url("bare_one"), serving=True)  # the warm-up fails on every connection
    try:
        assert [m.version for m in store.migrate()] == [m.version for m in load_migrations(MIGRATIONS)]
        store.check_schema()
    finally:
        store.close()


def test_rate_limits_are_shared_by_every_node(pg_url):
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        results = [s.rate_hit(["vote:ip:9.9.9.9"], 3, 60.0, 100.0 + i) for i, s in enumerate([a, b, a, b])]
        assert results[:3] == [None, None, None] and results[3] == pytest.approx(57.0)
    finally:
        a.close()
        b.close()


def test_a_lost_connection_is_unavailable_and_the_pool_recovers(pg_cluster, pg_url):
    store = PostgresStore(pg_url)
    try:
        store.ingest_batch([make(1)])
        dbname = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))
        # the pool notices the dead connections and opens new ones: no error reaches the caller
        assert store.get_paper("2608.00001") is not None
    finally:
        store.close()
