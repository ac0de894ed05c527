"""Moving data: `dailypapers migrate-data` (a real SQLite file into a real PostgreSQL database),
interrupted and resumed, checked table by table; and backup -> restore round trips.

Every table holds rows (tests/storage/populated.py). The CLI runs in a subprocess, as an operator
runs it; the interrupted copy is stopped after a few batches in process, or killed with SIGKILL.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from dailypapers.models import Listing
from dailypapers.storage import transfer
from dailypapers.storage.postgres import PostgresStore
from dailypapers.storage.sqlite import SQLiteStore

from .helpers import make
from .populated import DAY, ODD, T0, populate


def run_cli(*args: str, data_dir) -> subprocess.CompletedProcess:
    """The real `dailypapers` command in a subprocess, with no DAILYPAPERS_* settings but these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    return subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, env=env)


@pytest.fixture
def source(tmp_path):
    """A populated SQLite file (closed, so the CLI may open it too); returns its path."""
    path = tmp_path / "data" / "dailypapers.db"
    s = SQLiteStore(path)
    s.migrate()
    populate(s)
    s.close()
    return path


def empty_database(pg_cluster, name: str) -> str:
    """A database with no tables at all (what `createdb` makes)."""
    pg_cluster.sql(f"CREATE DATABASE {name}")
    return pg_cluster.url(name)


def assert_all_equal(report, at_least: int = 14) -> None:
    assert len(report) >= at_least
    different = [(c.table, c.source, c.target) for c in report if not c.same]
    assert different == []
    assert all(c.target.rows > 0 for c in report), [(c.table, c.target.rows) for c in report]


def test_every_table_is_planned_and_nothing_is_left_behind(source, pg_store):
    src = SQLiteStore(source)
    try:
        names = [t.name for t in transfer.plan(src, pg_store)]
        sqlite_tables = {r[0] for r in src.read("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        src.close()
    assert sqlite_tables - set(names) == {"schema_migrations"}
    # parents before the tables that reference them
    for parent, child in (("papers", "listings"), ("users", "listings"), ("users", "votes"), ("papers", "triage"),
                          ("subscriptions", "digest_sends"), ("digest_sends", "digest_sent_papers")):
        assert names.index(parent) < names.index(child)


def test_a_copy_stopped_after_a_few_batches_resumes_and_equals_the_source(source, pg_url):
    src, dst = SQLiteStore(source), PostgresStore(pg_url)
    try:
        first = transfer.copy_database(src, dst, batch_size=40, max_batches=4)
        assert not first.finished and sum(first.copied.values()) == 160
        assert dst.get_state(transfer.FINISHED_KEY) is None
        # what was committed stays; the next run starts after it, with another batch size
        second = transfer.copy_database(src, dst, batch_size=500)
        assert second.finished and second.resumed
        total, _ = transfer.rows_to_copy(src, dst, transfer.plan(src, dst))
        assert sum(first.copied.values()) + sum(second.copied.values()) == total
        assert_all_equal(transfer.compare(src, dst))

        # the records read back the same through the store protocols of both backends
        assert dst.get_paper(ODD.arxiv_id) == src.get_paper(ODD.arxiv_id)
        assert dst.get_paper(ODD.arxiv_id).title == ODD.title
        assert dst.day_listing(DAY) == src.day_listing(DAY)
        assert dst.curator_log(100) == src.curator_log(100)
        assert dst.paper_comments(ODD.arxiv_id, include_hidden=True) == src.paper_comments(
            ODD.arxiv_id, include_hidden=True)
        assert dst.arrivals_on(DAY) == src.arrivals_on(DAY)
        assert dst.get_state("arrivals.model") == src.get_state("arrivals.model")
        assert dst.papers_changed_since(0, 10_000) == src.papers_changed_since(0, 10_000)
        assert list(dst.iter_embeddings("minilm", after_seq=0)) == list(src.iter_embeddings("minilm", after_seq=0))

        # ids and sequences continue after the copied ones
        max_user = src.read("SELECT MAX(id) FROM users")[0][0]
        assert dst.create_user("new@example.org", "New", None, "member", T0).id == max_user + 1
        seq, emb_seq = src.max_seq(), src.max_embedding_seq()
        dst.ingest_batch([make(77)], [Listing("2608.00077", DAY, rank=1)])
        assert dst.max_seq() == seq + 1
        dst.put_embeddings("minilm", [("2608.00077", "h", b"\0" * 1536)])
        assert dst.max_embedding_seq() == emb_seq + 1
        max_vote = src.read("SELECT MAX(rowid) FROM votes")[0][0]
        dst.toggle_vote(max_user + 1, "2608.00077", T0)
        assert dst.read("SELECT MAX(id) FROM votes")[0][0] == max_vote + 1
        assert dst.add_comment("2608.00077", max_user + 1, "new", T0).id == src.read("SELECT MAX(id) FROM comments")[0][0] + 1
    finally:
        src.close()
        dst.close()


def test_a_killed_migrate_data_resumes_and_reports_every_table(source, pg_url, tmp_path):
    args = [sys.executable, "-m", "dailypapers", "--data-dir", str(tmp_path / "cli"), "migrate-data",
            "--from", f"sqlite:///{source}", "--to", pg_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    proc = subprocess.Popen([*args, "--batch-size", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)

    def copied() -> int:
        try:
            with psycopg.connect(pg_url) as conn:
                return conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        except psycopg.Error:
            return 0  # not migrated yet

    try:
        deadline = time.monotonic() + 120
        while copied() < 20 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT value FROM state WHERE key = %s", (transfer.FINISHED_KEY,)).fetchone() is None
    papers_at_kill = copied()
    assert 20 <= papers_at_kill < 200

    done = run_cli("migrate-data", "--from", f"sqlite:///{source}", "--to", pg_url, "--batch-size", "100",
                   data_dir=tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "resuming the copy of" in out
    for table in ("papers", "listings", "users", "sessions", "api_tokens", "votes", "comments", "curator_actions",
                  "subscriptions", "digest_sends", "digest_sent_papers", "embeddings", "arrival_scores",
                  "arrival_rules", "triage", "state"):
        line = next(line for line in out.splitlines() if line.startswith(table + " "))
        fields = line.split()
        assert fields[1] == fields[2] != "0" and fields[3] == fields[4] and fields[-1] == "ok", line
    assert "all equal" in out

    # run again: nothing left to copy, the same report
    again = run_cli("migrate-data", "--from", f"sqlite:///{source}", "--to", pg_url, data_dir=tmp_path / "cli")
    assert again.returncode == 0 and "all equal" in again.stdout, again.stderr


def test_a_target_that_is_not_empty_or_holds_another_copy_is_refused_in_one_line(source, pg_url, tmp_path):
    other = tmp_path / "other.db"
    s = SQLiteStore(other)
    s.migrate()
    s.ingest_batch([make(1)])
    s.close()
    cli = lambda *a: run_cli("migrate-data", *a, data_dir=tmp_path / "cli")  # noqa: E731

    assert cli("--from", f"sqlite:///{other}", "--to", pg_url).returncode == 0
    refused = cli("--from", f"sqlite:///{source}", "--to", pg_url)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "holds a copy of" in refused.stderr and str(other) in refused.stderr

    with psycopg.connect(pg_url) as conn:  # the copy's marks gone: a database that just holds rows
        conn.execute("DELETE FROM state WHERE key LIKE 'migrate_data:%'")
    refused = cli("--from", f"sqlite:///{source}", "--to", pg_url)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "is not empty (papers (1 rows)" in refused.stderr and "test-only-password" not in refused.stderr

    for args, message in ((("--from=postgresql://x/y", "--to", pg_url), "--from must be a sqlite:///PATH URL"),
                          (("--from", f"sqlite:///{source}", "--to", f"sqlite:///{other}"), "--to must be"),
                          (("--from", f"sqlite:///{tmp_path}/none.db", "--to", pg_url), "no SQLite database at"),
                          (("--from", f"sqlite:///{source}", "--to", pg_url.replace("test-only", "wrong")),
                           "password authentication failed")):
        bad = cli(*args)
        assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and message in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr


def test_postgres_backup_restores_into_a_fresh_database_equal_table_by_table(source, pg_url, pg_cluster, tmp_path):
    # a populated PostgreSQL database (written through the store, then used: new rows after the copy)
    src = SQLiteStore(source)
    dst = PostgresStore(pg_url)
    try:
        transfer.copy_database(src, dst)
        dst.toggle_vote(1, ODD.arxiv_id, T0 + dt.timedelta(days=1))
    finally:
        src.close()
        dst.close()
    dump = tmp_path / "dailypapers.dump"
    cli = lambda *a: run_cli(*a, data_dir=tmp_path / "cli")  # noqa: E731
    backed = cli("--database-url", pg_url, "backup", str(dump))
    assert backed.returncode == 0 and dump.stat().st_size > 0, backed.stderr

    fresh = empty_database(pg_cluster, f"restored_{os.getpid()}")
    restored = cli("--database-url", fresh, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout

    a, b = PostgresStore(pg_url), PostgresStore(fresh)
    try:
        assert_all_equal(transfer.compare(a, b), at_least=16)
        # the sequences came along: the restored database continues the numbering
        assert b.create_user("after@example.org", "After", None, "member", T0).id == \
            a.read("SELECT MAX(id) FROM users")[0][0] + 1
    finally:
        a.close()
        b.close()

    again = cli("--database-url", fresh, "restore", str(dump))
    assert again.returncode == 1 and "is not empty" in again.stderr and again.stderr.count("\n") == 1


def test_sqlite_backup_restores_into_a_new_data_folder(source, tmp_path):
    dump = tmp_path / "backup.db"
    url = f"sqlite:///{source}"
    assert run_cli("--database-url", url, "backup", str(dump), data_dir=tmp_path / "a").returncode == 0
    restored = run_cli("restore", str(dump), data_dir=tmp_path / "b")
    assert restored.returncode == 0, restored.stderr
    before = run_cli("--database-url", url, "stats", "--json", data_dir=tmp_path / "a").stdout
    assert run_cli("stats", "--json", data_dir=tmp_path / "b").stdout == before


def test_migrate_data_killed_at_random_points_resumes_to_an_equal_copy(source, pg_url, tmp_path):
    """The crash suite's migration case (tests/crashcheck.py): SIGKILL at seeded random moments of
    a slow copy (one row per batch), each followed by a restart; the copy only grows, and the last
    run finishes with every table equal to the source (rows and their checksums) and the counters
    beside the rows right."""
    import crashcheck

    s = SQLiteStore(source)  # more rows, so that the copy lasts long enough to be killed several times
    s.ingest_batch([make(n, arxiv_id=f"2609.{n:05d}") for n in range(3000)])
    s.close()
    args = [sys.executable, "-m", "dailypapers", "--data-dir", str(tmp_path / "cli"), "migrate-data",
            "--from", f"sqlite:///{source}", "--to", pg_url, "--batch-size", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}

    def copied() -> int:
        try:
            with psycopg.connect(pg_url) as conn:
                return sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                           for t in ("papers", "listings", "users", "votes", "comments", "embeddings"))
        except psycopg.Error:
            return 0

    tried, before = [], 0
    for delay in crashcheck.schedule("migrate-data", 0.0, 1.5):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 120
        while copied() <= before and proc.poll() is None:  # counted from this run's first new row
            assert time.monotonic() < deadline
            time.sleep(0.02)
        try:
            proc.wait(timeout=delay)
            break  # the copy finished first
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        tried.append(round(delay, 2))
        now = copied()
        assert now >= before, "rows the copy had committed were lost"
        before = now
    crashcheck.report("migrate-data sqlite -> postgres", tried)
    assert tried, "the copy finished before any kill"

    done = run_cli("migrate-data", "--from", f"sqlite:///{source}", "--to", pg_url, data_dir=tmp_path / "cli")
    assert done.returncode == 0, done.stderr
    assert "all equal" in done.stdout, done.stdout  # every table: the same rows and checksum
    with psycopg.connect(pg_url) as conn:
        off = conn.execute("SELECT p.arxiv_id FROM papers p LEFT JOIN votes v ON v.arxiv_id = p.arxiv_id "
                           "GROUP BY p.arxiv_id HAVING p.votes != COUNT(v.user_id)").fetchall()
        assert off == []
