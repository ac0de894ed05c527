"""kill -9 in the middle of an ingest loses nothing committed and leaves no half paper."""

import json
import signal
import sqlite3
import subprocess
import sys
import time

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
