"""The load bench (bench/bench_load.py) run briefly, for correctness only (no timing asserted), and
the crash suite's server case: `dailypapers serve --workers 2` SIGKILLed under write load, on SQLite
and on PostgreSQL (a throwaway cluster, tests/pgcluster.py), with the same checks.

Both run the real server in its own processes on the fixture days (tests/fixtures/hf_raw) with
accounts that browse, search, call the API and vote, each behind its own X-Forwarded-For
(DAILYPAPERS_TRUSTED_PROXIES is loopback)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import crashcheck
import httpx
import pytest
from webapp import HF_RAW

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import bench_load  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    env = bench_load.base_env()
    return bench_load.prepare(root / "data", env, accounts=20, lists=HF_RAW, days=9), env


def test_a_short_load_run_has_no_errors_and_every_vote_accounted_for(site):
    site, env = site
    proc = bench_load.start_server(site.data_dir, bench_load.free_port(), env)
    base = f"http://127.0.0.1:{proc.args[proc.args.index('--port') + 1]}"
    try:
        # in a thread of its own: after the browser tests, Playwright's sync API keeps an event loop
        # running in this one for the rest of the session, and the bench calls asyncio.run()
        with ThreadPoolExecutor(1) as pool:
            tally = pool.submit(bench_load.run_load, site, base, duration=5, think=0.2).result()
    finally:
        log = bench_load.stop_server(proc)
    assert tally.errors == []
    assert "Traceback" not in log, log[-3000:]
    assert tally.acknowledged > 0 and sum(len(v) for v in tally.latencies.values()) > 50
    assert set(tally.latencies) >= {"home", "paper", "search", "api_search", "vote"}
    assert bench_load.vote_problems(site.data_dir / "dailypapers.db", tally) == []
    assert crashcheck.sqlite_problems(site.data_dir / "dailypapers.db") == []


def _acknowledged(db_url: str) -> set[tuple[str, str]]:
    return set(crashcheck.rows(db_url, "SELECT u.name, v.arxiv_id FROM votes v JOIN users u ON u.id = v.user_id"))


@pytest.fixture(scope="module")
def pg_site(tmp_path_factory, pg_cluster):
    """The same site on PostgreSQL (a fresh database of the session's throwaway cluster)."""
    url = pg_cluster.new_database()
    env = {**bench_load.base_env(), "DAILYPAPERS_DATABASE_URL": url}
    try:
        yield bench_load.prepare(tmp_path_factory.mktemp("load-pg") / "data", env, accounts=20, lists=HF_RAW,
                                 days=9), env
    finally:
        pg_cluster.drop_database(url)


def test_server_killed_under_write_load_keeps_every_acknowledged_write(site):
    site, env = site
    kill_under_write_load(site, env, f"sqlite:///{site.data_dir / 'dailypapers.db'}", "server under write load")


def test_server_on_postgres_killed_under_write_load_keeps_every_acknowledged_write(pg_site):
    site, env = pg_site
    kill_under_write_load(site, env, env["DAILYPAPERS_DATABASE_URL"], "server under write load, PostgreSQL")


def kill_under_write_load(site, env: dict, db_url: str, name: str) -> None:
    """Votes (set on, never off, so an acknowledged vote must stay) and new collections go to the server
    while it is SIGKILLed (supervisor and workers at once) at seeded random moments; after each kill
    the database passes its checks and holds every write a client got a 2xx for; the restarted server
    takes the same writes again and nothing is doubled."""
    env = {**env, "DAILYPAPERS_RATE_VOTE": "100000/60"}  # every vote of the rerun must be taken
    acked_votes: set[tuple[str, str]] = set()
    acked_collections: set[str] = set()
    tried = []
    for k, delay in enumerate(crashcheck.schedule("server-write-load", 0.5, 3.0)):
        port = bench_load.free_port()
        proc = bench_load.start_server(site.data_dir, port, env)
        stop = threading.Event()
        acked_now = {"votes": 0, "collections": 0}  # this round's

        def writer(n: int, port=port, stop=stop, k=k, acked_now=acked_now) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                              headers={"X-Forwarded-For": f"10.9.{k}.{n}"}) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    paper = site.ids[(n * 7 + i) % len(site.ids)]
                    auth = {"Authorization": f"Bearer {site.tokens[n]}"}
                    try:
                        if i % 4 != 1:
                            r = c.post(f"/api/papers/{paper}/upvote", json={"vote": True}, headers=auth)
                            if r.status_code == 200 and r.json()["voted"]:
                                acked_votes.add((site.names[n], paper))
                                acked_now["votes"] += 1
                        else:  # an append: acknowledged once, it must be there once
                            name = f"crash {k}-{n}-{i}"
                            r = c.post("/api/collections", json={"name": name}, headers=auth)
                            if r.status_code == 201:
                                acked_collections.add(name)
                                acked_now["collections"] += 1
                    except httpx.HTTPError:
                        pass  # the server died under this request: not acknowledged

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(site.tokens))]
        for t in threads:
            t.start()
        # the kill moment counts from the round's first acknowledged writes of both kinds, so that a slow
        # start on a loaded machine cannot leave a round with nothing acknowledged
        deadline = time.monotonic() + 60
        while not (acked_now["votes"] and acked_now["collections"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for t in threads:
            t.join()
        tried.append(round(delay, 2))
        assert crashcheck.problems(db_url) == []
        missing = acked_votes - _acknowledged(db_url)
        assert not missing, f"{len(missing)} acknowledged votes lost: {sorted(missing)[:5]}"
        stored = [r[0] for r in crashcheck.rows(db_url, "SELECT name FROM collections WHERE name LIKE 'crash %'")]
        assert not acked_collections - set(stored), "an acknowledged collection was lost"
        assert len(stored) == len(set(stored)), "a collection was stored twice"
    crashcheck.report(name, tried)
    assert acked_votes and acked_collections, "no write was acknowledged before the kills"

    # restart: the server takes the same votes again and holds one row each
    proc = bench_load.start_server(site.data_dir, bench_load.free_port(), env)
    port = proc.args[proc.args.index("--port") + 1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for n, (voter, paper) in enumerate(sorted(acked_votes)[:40]):
                token = site.tokens[site.names.index(voter)]
                r = c.post(f"/api/papers/{paper}/upvote", json={"vote": True},
                           headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": f"10.8.0.{n}"})
                assert r.status_code == 200 and r.json()["voted"] is True
    finally:
        log = bench_load.stop_server(proc)
    assert "Traceback" not in log, log[-3000:]
    assert crashcheck.problems(db_url) == []
    assert acked_votes <= _acknowledged(db_url)
    doubled = crashcheck.rows(db_url, "SELECT user_id, arxiv_id FROM votes GROUP BY user_id, arxiv_id "
                                      "HAVING COUNT(*) > 1")
    assert doubled == [], "a vote was stored twice"
