"""kill -9 in the middle of an ingest loses nothing committed and leaves no half paper."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import crashcheck

from dailypapers.storage.sqlite import SQLiteStore

N = 40_000


def write_big_file(path, fixtures):
    base = [json.loads(line) for line in (fixtures / "arxiv_daily_sample.jsonl").open()]
    with open(path, "w") as f:
        for i in range(N):
            record = dict(base[i % len(base)])
            record["id"] = f"2701.{i:05d}"  # new ids: a month arXiv has not reached
            f.write(json.dumps(record) + "\n")


def test_kill_9_mid_ingest_then_resume(tmp_path, fixtures):
    data_dir = tmp_path / "data"
    big = tmp_path / "big.jsonl"
    write_big_file(big, fixtures)
    cmd = [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir)]
    subprocess.run(cmd + ["migrate"], check=True, capture_output=True)
    db = data_dir / "dailypapers.db"

    proc = subprocess.Popen(cmd + ["ingest", "jsonl", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        conn = sqlite3.connect(db)
        try:
            committed = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        except sqlite3.OperationalError:
            committed = 0
        finally:
            conn.close()
        if committed >= 3000:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
    assert 0 < count < N
    assert count % 1000 == 0, "batches commit whole, so only whole batches are there"
    # No half-written paper: every stored row is complete.
    incomplete = conn.execute(
        "SELECT COUNT(*) FROM papers WHERE title = '' OR abstract = '' OR authors = '[]' OR published IS NULL"
    ).fetchone()[0]
    assert incomplete == 0
    conn.close()

    resumed = subprocess.run(cmd + ["ingest", "jsonl", str(big)], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    # Nothing committed before the kill is read again; the rest is added once.
    assert f"{N - count} added, 0 updated, 0 unchanged, 0 rejected" in resumed.stdout
    store = SQLiteStore(db)
    assert store.stats()["papers"] == N
    store.close()


# -- the crash suite: SIGKILL at seeded random points (tests/crashcheck.py), each then checked ----


def _kill_after(proc, seconds: float) -> bool:
    """SIGKILL `proc` after `seconds`; False when it had finished before."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def test_bulk_ingest_killed_at_random_points_loses_and_duplicates_nothing(tmp_path, fixtures):
    data_dir = tmp_path / "data"
    big = tmp_path / "big.jsonl"
    write_big_file(big, fixtures)
    cmd = [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir)]
    subprocess.run(cmd + ["migrate"], check=True, capture_output=True)
    db = data_dir / "dailypapers.db"
    tried, before = [], 0
    for delay in crashcheck.schedule("bulk-jsonl", 0.5, 4.0):
        proc = subprocess.Popen(cmd + ["ingest", "jsonl", str(big)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # the moment is counted from the first committed batch, so each kill lands mid-import
        deadline = time.monotonic() + 60
        while crashcheck.count(db, "SELECT COUNT(*) FROM papers") <= before and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if not _kill_after(proc, delay):
            break  # it finished: the rerun below finds nothing new
        tried.append(round(delay, 2))
        assert crashcheck.sqlite_problems(db) == []
        now = crashcheck.count(db, "SELECT COUNT(*) FROM papers")
        assert now >= before, "a committed batch was lost"
        assert now % 1000 == 0 and now <= N
        before = now
    crashcheck.report("bulk jsonl ingest", tried)
    assert tried, "the ingest finished before any kill"
    finished = proc.returncode == 0
    done = subprocess.run(cmd + ["ingest", "jsonl", str(big)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    if finished or before == N:
        # every batch was committed: a kill after the import was marked finished (during the index
        # sync) leaves the rerun reading the file again and finding it all unchanged; one before that
        # leaves it resuming at the end and reading nothing
        expected = {f"0 added, 0 updated, {N} unchanged", "0 added, 0 updated, 0 unchanged"}
    else:
        expected = {f"{N - before} added, 0 updated, 0 unchanged"}
    assert any(f"{e}, 0 rejected" in done.stdout for e in expected), done.stdout
    assert crashcheck.sqlite_problems(db) == []
    assert crashcheck.count(db, "SELECT COUNT(*) FROM papers") == N
    assert crashcheck.count(db, "SELECT COUNT(*) FROM (SELECT arxiv_id FROM listings GROUP BY day, arxiv_id "
                                "HAVING COUNT(*) > 1)") == 0


def test_oai_harvest_killed_at_random_points_resumes_to_the_same_papers(tmp_path, fixture_server, recorded):
    """The real `ingest arxiv-oai` against arXiv's recorded pages (2 x 1000 records, then 2), paced
    so that each kill lands somewhere in the harvest; pages commit whole with their token."""
    from test_arxiv_oai import serve_arxiv_chain

    serve_arxiv_chain(fixture_server, recorded)
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_ARXIV_OAI_URL=fixture_server.url + "/oai", DAILYPAPERS_ARXIV_DELAY="1.0")
    cmd = [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir)]
    subprocess.run(cmd + ["migrate"], check=True, capture_output=True, env=env)
    harvest = cmd + ["ingest", "arxiv-oai", "--format", "arXiv"]
    db = data_dir / "dailypapers.db"
    tried, before = [], 0
    for delay in crashcheck.schedule("oai", 0.1, 2.5):
        seen = len(fixture_server.requests)
        proc = subprocess.Popen(harvest, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while len(fixture_server.requests) == seen and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        if not _kill_after(proc, delay):
            break
        tried.append(round(delay, 2))
        assert crashcheck.sqlite_problems(db) == []
        now = crashcheck.count(db, "SELECT COUNT(*) FROM papers")
        assert now >= before and now in (0, 1000, 2000, 2002), now
        before = now
    crashcheck.report("oai-pmh harvest", tried)
    done = subprocess.run(harvest, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert crashcheck.sqlite_problems(db) == []
    assert crashcheck.count(db, "SELECT COUNT(*) FROM papers") == 2002
