"""Several web nodes on one PostgreSQL database, with real `dailypapers serve` processes.

* Two nodes (different ports and data folders, so different search indexes and page caches)
  converge: a vote and a curator action made through node A, and a paper a job writes, show
  on node B's pages, API and search.
* Faults: a server started while PostgreSQL is down says so in one line per try and starts
  serving when it comes up; a server that loses PostgreSQL answers 503 with Retry-After, and
  recovers by itself when PostgreSQL is back (the real server is stopped and started).

Waits are bounded polls: they assert what the nodes end up showing, not how fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pgcluster import Cluster, find_bin_dir, free_port

from dailypapers.models import Listing, Paper
from dailypapers.storage.postgres import PostgresStore

CLI = Path(sys.executable).parent / "dailypapers"
SECRET = "shared-secret-key-for-every-node-0123456789"
DAY = dt.date(2026, 8, 20)
T0 = dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc)


class Node:
    """`dailypapers serve` on a port of its own, with its own data folder (indexes, caches)."""

    def __init__(self, name: str, url: str, tmp_path: Path, *, wait: bool = True):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.err = tmp_path / f"{name}.stderr"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        # Every node signs cookies with the same key; no embedding model: start-up stays quick.
        env.update(DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_SECRET_KEY=SECRET, PYTHONUNBUFFERED="1",
                   DAILYPAPERS_MODEL_DIR=str(tmp_path / "no-model"))
        with self.err.open("w") as err:
            self.proc = subprocess.Popen([str(CLI), "--data-dir", str(tmp_path / name), "serve", "--port",
                                          str(self.port)], stdout=subprocess.DEVNULL, stderr=err, env=env)
        if wait:
            self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        assert until(lambda: self.up(), seconds), self.err.read_text()

    def up(self) -> bool:
        assert self.proc.poll() is None, self.err.read_text()
        try:
            return httpx.get(self.base + "/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def until(check, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def paper(n: int, title: str) -> Paper:
    return Paper(arxiv_id=f"2608.{n:05d}", title=title, abstract=f"An abstract about {title.lower()}.",
                 authors=["Ada Lovelace"], version=1, categories=["cs.LG"], published=T0)


@pytest.fixture
def nodes(tmp_path):
    started: list[Node] = []

    def start(name: str, url: str, **kw) -> Node:
        node = Node(name, url, tmp_path, **kw)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def test_two_nodes_converge_on_votes_curation_and_new_papers(pg_url, nodes):
    # the job runner's view: papers on a list, a curator with a session and an API token
    store = PostgresStore(pg_url)
    try:
        store.ingest_batch([paper(1, "Sparse mixture routing"), paper(2, "Quantum annealing schedules")],
                           [Listing("2608.00001", DAY, rank=1, upvotes=5), Listing("2608.00002", DAY, rank=2)])
        curator = store.create_user("cur@example.org", "cur", None, "curator", T0, verified_at=T0)
        now = dt.datetime.now(dt.timezone.utc)
        store.create_session(hashlib.sha256(b"session-token").hexdigest(), curator.id, now,
                             now + dt.timedelta(days=1))
        store.create_api_token(curator.id, "test", hashlib.sha256(b"dp_api-token").hexdigest(), "api-tok", T0)

        a, b = nodes("a", pg_url), nodes("b", pg_url)
        # warm both nodes' page caches and search indexes first, so staleness would show
        voted = 'id="paper-2608.00001"'
        for node in (a, b):
            assert until(lambda n=node: httpx.get(n.base + "/api/papers/search?q=mixture").json() != [])
            assert "Quantum annealing" in httpx.get(f"{node.base}/papers/date/{DAY}").text
            assert voted not in httpx.get(node.base + "/papers/search?q=mixture&min_upvotes=6").text

        # 1. a vote through A: B's API and paper page show it
        r = httpx.post(a.base + "/api/papers/2608.00001/upvote", headers={"Authorization": "Bearer dp_api-token"})
        assert r.status_code == 200, r.text
        assert until(lambda: httpx.get(b.base + "/api/papers/2608.00001").json()["upvotes"] == 6)
        assert until(lambda: httpx.get(b.base + "/api/papers/search?q=mixture").json()[0]["paper"]["upvotes"] == 6)
        # B's own index: the upvote filter (a vote is a change of counts: no re-index) follows
        assert until(lambda: voted in httpx.get(b.base + "/papers/search?q=mixture&min_upvotes=6").text)
        assert until(lambda: voted in httpx.get(b.base + "/papers/search?q=cat:cs.LG&min_upvotes=6&sort=upvotes").text)

        # 2. a curator hides a listing through A's form: it leaves B's day page and API
        with httpx.Client(base_url=a.base, cookies={"dp_session": "session-token"}) as c:
            page = c.get(f"/curate?day={DAY}")
            assert page.status_code == 200 and "Quantum annealing" in page.text, page.text[:300]
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            r = c.post("/curate/hide", data={"day": DAY.isoformat(), "id": "2608.00002", "csrf_token": token})
            assert r.status_code in (200, 303), r.text
        assert until(lambda: "Quantum annealing" not in httpx.get(f"{b.base}/papers/date/{DAY}").text)
        assert until(lambda: [i["paper"]["id"] for i in httpx.get(b.base + f"/api/daily_papers?date={DAY}").json()]
                     == ["2608.00001"])

        # 3. a new paper (written by a job on the shared database) is found by search on both nodes
        store.ingest_batch([paper(3, "Holographic tensor networks")], [Listing("2608.00003", DAY, rank=3)])
        for node in (a, b):
            assert until(lambda n=node: [h["paper"]["id"] for h in
                                         httpx.get(n.base + "/api/papers/search?q=holographic").json()]
                         == ["2608.00003"])
            assert until(lambda n=node: "Holographic tensor" in httpx.get(f"{n.base}/papers/date/{DAY}").text)
    finally:
        store.close()


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, since it is stopped and started."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed")
        pytest.skip("PostgreSQL is not installed")
    cluster = Cluster(bin_dir)
    cluster.init()
    yield cluster
    cluster.destroy()


def test_a_node_waits_for_the_database_and_survives_losing_it(own_cluster, nodes, tmp_path):
    url = own_cluster.url()
    # down at start-up: one line per try, and it serves once PostgreSQL is up
    node = nodes("a", url, wait=False)
    assert until(lambda: "cannot be reached" in node.err.read_text(), 30), node.err.read_text()
    assert not node.up()
    own_cluster.start()
    store = PostgresStore(url)
    store.migrate()
    store.ingest_batch([paper(1, "Sparse mixture routing")], [Listing("2608.00001", DAY, rank=1)])
    store.close()
    node.wait_ready()
    first = node.err.read_text().splitlines()[0]
    assert "retrying in" in first and own_cluster.PASSWORD not in node.err.read_text()

    assert httpx.get(f"{node.base}/papers/date/{DAY}").status_code == 200
    own_cluster.stop()
    api = httpx.get(node.base + "/api/daily_papers?date=2026-08-21")
    page = httpx.get(node.base + "/papers/date/2026-08-22")
    for r in (api, page):
        assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    assert "unavailable" in page.text
    own_cluster.start()
    assert until(lambda: httpx.get(f"{node.base}/papers/date/{DAY}").status_code == 200, 30)
    assert "Sparse mixture" in httpx.get(f"{node.base}/papers/date/{DAY}").text
