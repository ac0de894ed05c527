"""The rate-limit log of SQLite: the processes sharing it take turns through a file lock."""

import fcntl
import multiprocessing
import os
import sqlite3
import threading

from dailypapers.storage.sqlite import SQLiteStore

KEY = ["list:ip:203.0.113.7"]


def test_a_check_waits_for_the_file_lock_and_goes_on_when_it_is_let_go(store):
    store.rate_hit(KEY, 10, 60.0, 1000.0)  # opens the log and its lock file
    lock_path = store.path.with_name(store.path.name + ".ratelimits.lock")
    fd = os.open(lock_path, os.O_RDWR)  # another open file: to flock, another process
    done = threading.Event()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (store.rate_hit(KEY, 10, 60.0, 1001.0), done.set()))
        worker.start()
        assert not done.wait(0.3)  # held elsewhere: the check waits
        fcntl.flock(fd, fcntl.LOCK_UN)
        assert done.wait(5)
        worker.join()
    finally:
        os.close(fd)
    assert store.rate_hit(KEY, 2, 60.0, 1002.0) == 58.0  # both checks were counted


def test_the_log_is_made_under_the_file_lock(tmp_path):
    """Two workers' first checks at once raced to switch a new log to WAL, and SQLite answered one
    "database is locked" at once (CI, 2026-12-04): a new log is set up by the lock's holder only."""
    store = SQLiteStore(tmp_path / "db.sqlite")
    log = tmp_path / "db.sqlite.ratelimits"
    fd = os.open(tmp_path / "db.sqlite.ratelimits.lock", os.O_RDWR | os.O_CREAT, 0o600)
    done = threading.Event()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: (store.rate_hit(KEY, 10, 60.0, 1000.0), done.set()))
        worker.start()
        assert not done.wait(0.3)
        assert not log.exists() or log.stat().st_size == 0  # nothing written while another holds the lock
        fcntl.flock(fd, fcntl.LOCK_UN)
        assert done.wait(5)
        worker.join()
    finally:
        os.close(fd)
        store.close()
    with sqlite3.connect(log) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _hits(path: str, n: int, limit: int) -> int:
    other = SQLiteStore(path)
    try:
        return sum(other.rate_hit(KEY, limit, 600.0, 1000.0 + i / 1000) is None for i in range(n))
    finally:
        other.close()


def test_two_processes_checking_at_once_let_through_exactly_the_limit(store):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        allowed = pool.starmap(_hits, [(str(store.path), 150, 200)] * 2)
    assert sum(allowed) == 200
    assert store.rate_hit(KEY, 200, 600.0, 1001.0) is not None  # the window is full
