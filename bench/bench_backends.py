#!/usr/bin/env python3
"""SQLite and PostgreSQL side by side in one run: search quality, two nodes converging, votes
from 50 concurrent voters through two nodes, bulk ingest, pages from 1 and 2 nodes, and 32 voters
with a think time.

    python bench/bench_backends.py [--data ../shared/data] [--pg-url postgresql://...] [--trials 50]
                                   [--voters 50] [--rounds 40] [--skip-quality] [--no-append]
                                   [--only quality,nodes,ingest,pages,voters32,votestore,arxiv3m]
                                   [--connections 32] [--duration 10] [--think-voters 32]
                                   [--think-rounds 20] [--client aiohttp|httpx] [--ingest-repeat 1]
                                   [--store-votes 300]
                                   [--arxiv-papers 3000000] [--keep DIR] [--wait-vectors MIN]

1. **Search quality on both backends.** SciFact train (809 judged queries, 5,183 abstracts) through
   dailypapers.search.eval (what `dailypapers eval beir` runs): the corpus goes into a temporary
   SQLite file, then into an empty PostgreSQL database, each with its own lexical and vector index
   built from that store, and every query runs through SearchEngine.search in each mode. The same
   document vectors (bench/cache) and query model serve both. nDCG@10, recall@100, MRR@10 and the
   in-process p50 per mode and backend.
2. **Convergence between two nodes.** Two real `dailypapers serve` processes (their own ports and
   data folders, one PostgreSQL database). Each trial upvotes a paper through node A's API
   (Bearer token) and polls node B back to back until it shows the new count: on
   `/api/papers/{id}` (B's page cache, dropped by LISTEN/NOTIFY) and, in fewer trials, on
   `/api/papers/search` (B's own search index, caught up by its follower, which looks twice a
   second). Time from A's answer to the first answer from B that shows the vote; the poll itself
   takes one GET (its median is given as the resolution). Then a job writes new papers to the
   database: time until B's search API finds each (B answered the same search, empty, just before).
3. **Concurrent voters.** VOTERS voters, each with its own connection and token, toggle upvotes on
   40 papers as fast as the server answers (closed loop, ROUNDS each): through two PostgreSQL
   nodes (half the voters on each), through one PostgreSQL node, and through one SQLite node, one
   after the other in the same run. Votes/s, p50 and p99 of the round trip, and a check that each
   paper's count equals its vote rows equals what the voters believe.

4. **Bulk ingest** (`--only ingest`). The 58k arXiv cs papers (arxiv-daily-cs) through the real
   ingest job (`ingest_jsonl`) into an empty SQLite file, then an empty PostgreSQL database (new
   papers go in by COPY): papers/s, median of --ingest-repeat runs.
5. **Pages from 1 and 2 nodes** (`--only pages`). The bundled demo (HF Daily Papers) loaded into
   one PostgreSQL database with `migrate` and `ingest hf-daily`; `/` and `/api/daily_papers` under
   wrk from one node, then from two (one wrk per node at once, the connections split): req/s
   summed, p50/p99 of the worse node.
6. **32 voters with a think time** (`--only voters32`). Each voter waits a uniform 0.5-1 s before
   each click, half the voters on each of two nodes; then the same again with the other HTTP client
   (aiohttp by default, `--client httpx`: what the load generator adds); then the same voters closed
   loop; then one voter alone through one node (the per-vote floor on this machine). With each, the
   CPU time the two nodes, the PostgreSQL server and this script (the load generator) spent per vote
   (user + system, from /proc, over the part), and before them what the nodes and PostgreSQL use in
   5 s with no requests: on a shared machine the latencies move with the load, the CPU a vote costs
   much less. With the think time, the voters' first clicks (the nodes' first votes since they
   started) are also given apart from the others.
7. **A vote in the store** (`--only votestore`). One process, no HTTP: 300 sequential
   `toggle_vote` calls on 40 papers, each followed by the vote's rate-limit check (`rate_hit`, an
   address key and an account key), on a PostgreSQL database: p50/p99 of each, what the storage
   path costs a vote apart from the web and the load generator.
8. **All of arXiv** (`--only arxiv3m`, `--arxiv-papers N`, default 3,000,000). The ~64k real papers
   (bench/_search_corpus.py) replicated with new ids (`<id>-r<k>`) up to N, written to an empty
   PostgreSQL database through the real ingest path (`ingest_batch`, COPY) with their HF listings,
   and one embedding per paper (`put_embeddings`): the base vectors perturbed per copy with
   Gaussian noise (sigma 0.02, renormalized); the base vectors are the real ones when
   bench/cache/corpus68k.npz exists, else synthetic clustered ones (said in the report). Then a
   fresh node (a new process, an empty index folder) catches up from the database
   (`SearchEngine.sync`, as `serve`'s follower does) and times every hybrid search of the topic
   queries in-process (p50/p99), with the node's memory (peak during catch-up; resident after the
   searches, anonymous and file-backed) and the database's size on disk. The load and the catch-up
   run at the niceness this script was started with (run it under `nice -n 10`); the searches run
   at niceness 0 (the node and PostgreSQL reniced). Run with a smaller N to see how it scales.
   The load takes most of an hour at 3M: with `--keep DIR` the cluster stays in DIR after the run
   and a rerun with the same DIR and N skips the ingest and the embeddings (what it reuses is
   recorded in DIR/arxiv3m.json); the node's catch-up always starts from an empty index folder.

PostgreSQL: a throwaway cluster (tests/pgcluster.py: initdb in a temporary folder, a free port) with
the server's default durability (fsync and synchronous_commit on; the test suite turns them off),
unless --pg-url names a server where this script may create databases. The load generator, both
nodes and PostgreSQL share the machine's 2 cores (and other jobs on a shared machine): the tails
are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent / "tests"))
from _report import (  # noqa: E402
    DEFAULT_DATA,
    append_section,
    mapped_index_mb,
    median,
    percentile,
    start_server,
    table,
)

MODES = ("lexical", "semantic", "hybrid")
PARTS = ("quality", "nodes", "ingest", "pages", "voters32", "votestore", "arxiv3m")
# Parts run only when --only names them (hours of machine time).
HEAVY = ("arxiv3m",)
SECRET = "bench-backends-secret-key-0123456789abcdef"


def say(msg: str) -> None:
    print(msg, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- PostgreSQL ---------------------------------------------------------------------------------
class Server:
    """Where the databases come from: a throwaway cluster, durable as a server is by default, or
    the server --pg-url names."""

    def __init__(self, url: str | None, keep: Path | None = None):
        self.cluster = None
        self.keep = keep
        self.n = 0
        if url:
            self.admin = url
            return
        from pgcluster import Cluster, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql) and no --pg-url given")
        self.cluster = Cluster(bin_dir)
        if keep is None:
            self.cluster.init()
        else:  # the cluster lives in KEEP/cluster and outlives the run (--keep)
            shutil.rmtree(self.cluster.root, ignore_errors=True)
            self.cluster.root = keep / "cluster"
            self.cluster.data = self.cluster.root / "data"
            self.cluster.root.mkdir(parents=True, exist_ok=True)
            if self.cluster.as_user:
                import pwd

                owner = pwd.getpwnam("postgres")
                os.chown(self.cluster.root, owner.pw_uid, owner.pw_gid)
            if not (self.cluster.data / "PG_VERSION").exists():
                self.cluster.init()
        options = (f"-c listen_addresses=127.0.0.1 -p {self.cluster.port} "
                   f"-c unix_socket_directories={self.cluster.root} -c max_connections=300")
        self.cluster._run(str(bin_dir / "pg_ctl"), "-D", str(self.cluster.data), "-l",
                          str(self.cluster.root / "server.log"), "-w", "-t", "60", "-o", options, "start")
        self.admin = self.cluster.url()

    def version(self) -> str:
        with psycopg.connect(self.admin) as conn:
            return conn.execute("SHOW server_version").fetchone()[0].split()[0]

    def new_database(self) -> str:
        """A new, empty database; its postgresql:// URL."""
        self.n += 1
        name = f"bench_backends_{os.getpid()}_{self.n}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.database(name)

    def database(self, name: str) -> str:
        """The URL of an existing database of this server."""
        info = conninfo_to_dict(self.admin)
        auth = info.get("user", "") + (f":{info['password']}" if info.get("password") else "")
        return f"postgresql://{auth}@{info.get('host', 'localhost')}:{info.get('port', 5432)}/{name}"

    def close(self) -> None:
        if self.cluster is not None and self.keep is not None:
            self.cluster.stop()
        elif self.cluster is not None:
            self.cluster.destroy()


# -- 1. search quality ----------------------------------------------------------------------------
def quality(args, server: Server) -> tuple[list[list], list[str]]:
    from _search_corpus import bench_embedder
    from bench_search_quality import _vectors_cache

    from dailypapers.search.eval import BeirRun

    emb, model_note = bench_embedder()
    if emb is None:
        raise SystemExit("no embedding model: semantic and hybrid cannot run")
    cache = _vectors_cache(emb, "scifact.npz", f"scifact-eval-{emb.model_id}.npz",
                           f"scifact-search-{emb.model_id}.npz")
    results: dict[str, dict] = {}
    build: dict[str, float] = {}
    for backend in ("sqlite", "postgres"):
        url = server.new_database() if backend == "postgres" else None
        t = time.perf_counter()
        run = BeirRun(args.data / "scifact", embedder=emb, vectors_cache=cache, progress=say, database_url=url)
        build[backend] = time.perf_counter() - t
        try:
            results[backend] = run.evaluate(MODES)
        finally:
            run.close()
        say(f"{backend}: {results[backend]}")
    rows = []
    for mode in MODES:
        for backend in ("sqlite", "postgres"):
            m = results[backend][mode]
            rows.append([mode, backend, round(m["ndcg@10"], 4), round(m["recall@100"], 4), round(m["mrr@10"], 4),
                         round(m["p50_ms"], 1)])
        diff = results["postgres"][mode]["ndcg@10"] - results["sqlite"][mode]["ndcg@10"]
        rows.append([mode, "difference (postgres - sqlite)", round(diff, 4), "", "", ""])
    notes = [f"SciFact train, {results['sqlite']['lexical']['queries']} judged queries; vectors {cache.name}; "
             f"query model: {model_note}. Load (ingest + vectors + index build): SQLite "
             f"{build['sqlite']:.0f} s, PostgreSQL {build['postgres']:.0f} s."]
    return rows, notes


# -- 2 and 3: nodes -------------------------------------------------------------------------------
def prepare(url: str, papers: int, voters: int) -> tuple[list[str], list[tuple[int, str]]]:
    """Papers on today's list and verified voters with API tokens, written to the database."""
    from argon2 import PasswordHasher

    from dailypapers import days
    from dailypapers.community.accounts import AccountService
    from dailypapers.config import Settings
    from dailypapers.models import Listing, Paper
    from dailypapers.storage import open_store

    store = open_store(url)
    store.migrate()
    settings = Settings(data_dir=Path(tempfile.gettempdir()), secret_key=SECRET)
    today = days.list_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
    ids = [f"2608.{90000 + i:05d}" for i in range(papers)]
    store.ingest_batch(
        [Paper(arxiv_id=a, title=f"Bench paper zq{i}x", abstract="Bench.", authors=["A"]) for i, a in enumerate(ids)],
        [Listing(arxiv_id=a, day=today, upvotes=random.randrange(0, 50), source="hf") for a in ids],
    )
    store.refresh_trending()
    accounts = AccountService(store, settings, None, hasher=PasswordHasher(time_cost=1, memory_cost=8192,
                                                                           parallelism=1))
    tokens = []
    for i in range(voters):
        user = accounts.create_user(f"voter{i}@example.org", f"voter{i}", None, verified=True)
        tokens.append((user.id, accounts.create_api_token(user, "bench")[1]))
    store.close()
    return ids, tokens


class Nodes:
    def __init__(self, tmp: Path, url: str, count: int):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        env.update(DAILYPAPERS_DATABASE_URL=url, DAILYPAPERS_SECRET_KEY=SECRET, PYTHONUNBUFFERED="1",
                   DAILYPAPERS_RATE_VOTE="100000000/60", DAILYPAPERS_RATE_SEARCH="100000000/60",
                   DAILYPAPERS_RATE_LIST="100000000/60", DAILYPAPERS_RATE_PAPER="100000000/60",
                   DAILYPAPERS_MODEL_DIR=str(tmp / "no-model"))
        self.procs = []
        self.bases = []
        try:
            for i in range(count):
                proc, base = start_server(tmp / f"node{i}-{time.monotonic_ns()}", free_port(), env)
                self.procs.append(proc)
                self.bases.append(base)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except Exception:  # noqa: BLE001 - a node that does not stop is killed
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.procs = []


def converge(a: str, b: str, token: str, ids: list[str], trials: int, search_trials: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    api: list[float] = []
    search: list[float] = []
    poll: list[float] = []
    with httpx.Client(base_url=a, timeout=30) as ca, httpx.Client(base_url=b, timeout=30) as cb:
        for n in range(trials + search_trials):
            i = n % len(ids)
            arxiv_id = ids[i]
            before = cb.get(f"/api/papers/{arxiv_id}").json()["upvotes"]
            r = ca.post(f"/api/papers/{arxiv_id}/upvote", headers=headers)
            done = time.perf_counter()
            want = r.json()["upvotes"]
            assert want != before, (before, r.json())
            while True:
                t = time.perf_counter()
                if n < trials:
                    got = cb.get(f"/api/papers/{arxiv_id}").json()["upvotes"]
                else:
                    hits = cb.get("/api/papers/search", params={"q": f"zq{i}x"}).json()
                    got = hits[0]["paper"]["upvotes"] if hits else None
                end = time.perf_counter()
                poll.append(end - t)
                if got == want:
                    (api if n < trials else search).append((end - done) * 1000)
                    break
                if end - done > 30:
                    raise SystemExit(f"node B never showed the vote on {arxiv_id}")
    return {"api": api, "search": search, "poll_ms": median(poll) * 1000}


def converge_new_papers(url: str, b: str, trials: int) -> list[float]:
    """A job writes a new paper to the database; ms until node B's search API finds it. B has
    answered the same search (nothing found) just before, as a reader waiting for it would."""
    from dailypapers.models import Paper
    from dailypapers.storage import open_store

    store = open_store(url)
    found: list[float] = []
    try:
        with httpx.Client(base_url=b, timeout=30) as cb:
            for k in range(trials):
                word = f"freshpaper{k}w{os.getpid()}"
                assert cb.get("/api/papers/search", params={"q": word}).json() == []
                store.ingest_batch([Paper(arxiv_id=f"2609.{k:05d}", title=f"A study of {word}", abstract="New.",
                                          authors=["B"])])
                done = time.perf_counter()
                while not cb.get("/api/papers/search", params={"q": word}).json():
                    if time.perf_counter() - done > 120:
                        raise SystemExit(f"node B never found the new paper {word}")
                found.append((time.perf_counter() - done) * 1000)
                time.sleep(0.5)
    finally:
        store.close()
    return found


class _Clients:
    """One connection per voter. aiohttp by default: httpx spends 3.5-4.3 ms of CPU per request
    on this machine against aiohttp's 0.9-1.1 ms, and on 2 shared cores that is time the nodes
    wait for, inside every measured round trip (``--client httpx`` measures it the old way)."""

    def __init__(self, kind: str, bases: list[str], count: int):
        self.kind = kind
        if kind == "httpx":
            self.clients = [httpx.AsyncClient(base_url=bases[i % len(bases)], timeout=60) for i in range(count)]
        else:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=60)
            self.clients = [aiohttp.ClientSession(base_url=bases[i % len(bases)], timeout=timeout)
                            for i in range(count)]

    async def request(self, i: int, method: str, path: str, headers: dict | None = None,
                      parse: bool = True) -> tuple[int, object]:
        """(status, the JSON body of a 200 when ``parse``, else the text)."""
        if self.kind == "httpx":
            r = await self.clients[i].request(method, path, headers=headers)
            return r.status_code, r.json() if parse and r.status_code == 200 else r.text
        async with self.clients[i].request(method, path, headers=headers) as resp:
            return resp.status, await resp.json() if parse and resp.status == 200 else await resp.text()

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() if self.kind == "httpx" else c.close() for c in self.clients))


async def _voters(bases: list[str], tokens: list[str], ids: list[str], rounds: int, states: list[dict],
                  think: tuple[float, float] | None = None, client: str = "aiohttp"):
    lat: list[float] = []
    first: list[float] = []  # each voter's first click: the nodes' first requests after a start
    errors: list[str] = []
    clients = _Clients(client, bases, len(tokens))

    async def voter(i: int) -> None:
        rng = random.Random(i)
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        for k in range(rounds):
            if think:  # a reader between two clicks
                await asyncio.sleep(rng.uniform(*think))
            arxiv_id = rng.choice(ids)
            t = time.perf_counter()
            status, body = await clients.request(i, "POST", f"/api/papers/{arxiv_id}/upvote", headers)
            (first if k == 0 else lat).append((time.perf_counter() - t) * 1000)
            if status != 200:
                errors.append(f"{status} {str(body)[:100]}")
                continue
            if body["voted"] == states[i].get(arxiv_id, False):
                errors.append(f"{arxiv_id}: voted={body['voted']} twice")
            states[i][arxiv_id] = body["voted"]

    try:
        await asyncio.gather(*(clients.request(i, "GET", "/healthz", parse=False) for i in range(len(tokens))))
        t0 = time.perf_counter()
        await asyncio.gather(*(voter(i) for i in range(len(tokens))))
        wall = time.perf_counter() - t0
    finally:
        await clients.close()
    return lat, first, errors, states, wall


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process, its live descendants and the children it reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(c) for c in task.read_text().split()]
    return total


def vote_load(label: str, url: str, bases: list[str], voters: list[tuple[int, str]], ids: list[str],
              rounds: int, think: tuple[float, float] | None = None,
              cpu: tuple[list[int], int | None] | None = None, split: list[str] | None = None,
              client: str = "aiohttp") -> list:
    """``cpu``: (the nodes' pids, the postmaster's or None): CPU ms per vote is added to the row.
    ``split``: a line is added to it with the voters' first clicks apart from the others."""
    from dailypapers.storage import open_store

    store = open_store(url)
    try:  # what each voter starts from (earlier runs left votes), and the votes of everyone else
        states = [{a: True for a in store.voted_ids(uid, ids)} for uid, _ in voters]
        others = {a: store.count_votes(a) - sum(1 for s in states if s.get(a)) for a in ids}
    finally:
        store.close()
    used = [[_cpu_seconds(p) for p in cpu[0]], _cpu_seconds(cpu[1]) if cpu and cpu[1] else 0.0] if cpu else None
    client_cpu = time.process_time()
    rest, first, errors, states, wall = asyncio.run(
        _voters(bases, [t for _, t in voters], ids, rounds, states, think, client))
    lat = rest + first
    if split is not None and rest:
        split.append(f"{label}: each voter's first click p50 {percentile(first, 50):.1f}, max {max(first):.1f} ms; "
                     f"the other {len(rest)} clicks p50 {percentile(rest, 50):.1f}, p95 {percentile(rest, 95):.1f}, "
                     f"p99 {percentile(rest, 99):.1f} ms")
    if cpu and used:
        client_ms = (time.process_time() - client_cpu) * 1000 / max(1, len(lat))
        nodes_ms = sum(_cpu_seconds(p) - u for p, u in zip(cpu[0], used[0])) * 1000 / max(1, len(lat))
        pg_ms = (_cpu_seconds(cpu[1]) - used[1]) * 1000 / max(1, len(lat)) if cpu[1] else float("nan")
    store = open_store(url)
    try:
        expected = {a: others[a] + sum(1 for s in states if s.get(a)) for a in ids}
        stored = {p.arxiv_id: p.votes for p in store.get_papers(ids).values()}
        counted = {a: store.count_votes(a) for a in ids}
    finally:
        store.close()
    lost = sum(abs(expected[a] - counted[a]) for a in ids)
    drift = sum(abs(stored[a] - counted[a]) for a in ids)
    say(f"{label}: {len(lat) / wall:.0f} votes/s, p99 {percentile(lat, 99):.1f} ms, lost {lost}, drift {drift}, "
        f"errors {len(errors)} {errors[:3]}")
    row = [label, len(voters), len(lat), round(len(lat) / wall, 1), round(percentile(lat, 50), 1),
           round(percentile(lat, 95), 1), round(percentile(lat, 99), 1), len(errors), lost, drift]
    return row + [round(nodes_ms, 2), round(pg_ms, 2), round(client_ms, 2)] if cpu else row


def idle_cpu(cpu: tuple[list[int], int | None], seconds: float = 5.0) -> tuple[float, float]:
    """CPU ms per second the nodes and PostgreSQL spend with no requests (followers, listeners)."""
    nodes = sum(_cpu_seconds(p) for p in cpu[0])
    pg = _cpu_seconds(cpu[1]) if cpu[1] else 0.0
    time.sleep(seconds)
    return ((sum(_cpu_seconds(p) for p in cpu[0]) - nodes) * 1000 / seconds,
            (_cpu_seconds(cpu[1]) - pg) * 1000 / seconds if cpu[1] else float("nan"))


# -- 4. bulk ingest -------------------------------------------------------------------------------
def bulk_ingest(args, server: Server, tmp: Path) -> list:
    """The 58k arXiv cs papers through the real ingest job (ingest_jsonl), into an empty SQLite
    file and an empty PostgreSQL database, one after the other."""
    from dailypapers.ingest.jobs import ingest_jsonl
    from dailypapers.storage import open_store

    path = args.data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"
    rows = []
    for backend in ("sqlite", "postgres"):
        times, added = [], 0
        for _ in range(args.ingest_repeat):
            url = (server.new_database() if backend == "postgres"
                   else f"sqlite:///{tmp / f'ingest-{time.monotonic_ns()}.db'}")
            store = open_store(url)
            store.migrate()
            t = time.perf_counter()
            added = ingest_jsonl(store, path).added
            times.append(time.perf_counter() - t)
            store.close()
            say(f"ingest {backend}: {added} papers in {times[-1]:.1f} s")
        rows.append([backend, added, round(median(times), 1), round(added / median(times))])
    return rows


# -- 5. pages from 1 and 2 nodes ------------------------------------------------------------------
def _wrk_nodes(bases: list[str], path: str, connections: int, duration: int) -> dict:
    """One wrk per node at once, the connections split between them: summed req/s, worst p50/p99."""
    from concurrent.futures import ThreadPoolExecutor

    from _report import run_wrk

    per = max(1, connections // len(bases))
    with ThreadPoolExecutor(len(bases)) as pool:
        res = list(pool.map(lambda b: run_wrk(b + path, per, duration, threads=1), bases))
    return {"rps": sum(r["rps"] for r in res), "p50": max(r["p50"] for r in res),
            "p99": max(r["p99"] for r in res), "errors": sum(r["errors"] for r in res)}


def pages(args, server: Server, tmp: Path) -> list:
    """The bundled demo (HF Daily Papers, 9.9k papers) in one PostgreSQL database, loaded through
    the CLI; `/` and `/api/daily_papers` from 1 node, then from 2 nodes on that database."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    rows = []
    urls = [("PostgreSQL", server.new_database(), (1, 2)),
            ("SQLite", f"sqlite:///{tmp / 'sqlite-pages' / 'dailypapers.db'}", (1,))]
    for backend, url, counts in urls:
        for cmd in (["migrate"], ["ingest", "hf-daily", str(BENCH.parent / "demo" / "hf-daily")]):
            subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(tmp / "loader"),
                            "--database-url", url, *cmd], check=True, env=env, stdout=subprocess.DEVNULL)
        nodes = Nodes(tmp, url, max(counts))
        try:
            for path in ("/", "/api/daily_papers"):
                for count in counts:
                    bases = nodes.bases[:count]
                    _wrk_nodes(bases, path, args.connections, 3)  # warm-up
                    r = _wrk_nodes(bases, path, args.connections, args.duration)
                    say(f"{backend} {path} {count} node(s): {r}")
                    rows.append([path, backend, count, args.connections, round(r["rps"]), round(r["p50"], 1),
                                 round(r["p99"], 1), r["errors"]])
        finally:
            nodes.stop()
    return rows


# -- 7. a vote in the store ---------------------------------------------------------------------------
def vote_store(args, server: Server) -> list[list]:
    from dailypapers.storage import open_store

    url = server.new_database()
    ids, voters = prepare(url, args.papers, 1)
    uid = voters[0][0]
    store = open_store(url)
    votes: list[float] = []
    limits: list[float] = []
    try:
        now = dt.datetime.now(dt.timezone.utc)
        for i in range(args.store_votes):
            t = time.perf_counter()
            store.toggle_vote(uid, ids[i % len(ids)], now)
            votes.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            store.rate_hit([f"vote:ip:10.0.0.{i % 3}", f"vote:acct:{uid}"], 10**8, 60.0, time.time())
            limits.append((time.perf_counter() - t) * 1000)
    finally:
        store.close()
    return [[name, len(x), round(percentile(x, 50), 2), round(percentile(x, 99), 2)]
            for name, x in (("toggle_vote", votes), ("rate_hit (2 keys)", limits))]


# -- 8. all of arXiv ------------------------------------------------------------------------------
def _renice_tree(pid: int, value: int) -> None:
    """Set the niceness of a process and its descendants (the PostgreSQL server this script
    started: the postmaster and its backends)."""
    todo, seen = [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, p, value)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]


def _postmaster(server: Server) -> int | None:
    if server.cluster is None:
        return None
    return int((server.cluster.data / "postmaster.pid").read_text().split()[0])


def _memory() -> dict[str, float]:
    """This process's memory in MB (/proc/self/status)."""
    out = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[k] = int(v.split()[0]) / 1024
    return out


def demo_vectors(papers, emb):
    """Base vectors from the real embeddings shipped with the demo: a paper's own when it has one,
    else a random real one plus sigma-0.02 noise (renormalized). Synthetic vectors are no stand-in
    here: a real query sits far from all of them and the HNSW search explores far more."""
    import numpy as np
    from _search_corpus import REPLICA_SIGMA

    ids: list[str] = []
    vecs = []
    for name in ("embeddings.npz", "arrivals-embeddings.npz"):
        z = np.load(BENCH.parent / "demo" / name)
        if str(z["model_id"]) != emb.model_id:
            raise SystemExit(f"demo/{name} was made by {z['model_id']}, not {emb.model_id}")
        ids += [str(i) for i in z["ids"]]
        vecs.append(z["vectors"].astype(np.float32))
    real = np.concatenate(vecs)
    pos = {i: k for k, i in enumerate(ids)}
    rng = np.random.default_rng(14)
    own = np.array([pos.get(p.arxiv_id, -1) for p in papers])
    pick = np.where(own >= 0, own, rng.integers(0, len(real), len(papers)))
    base = real[pick] + np.where(own[:, None] >= 0, 0, rng.normal(0, REPLICA_SIGMA, (len(papers), real.shape[1])))
    base = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
    return base, int((own >= 0).sum())


def arxiv_load(args, url: str, state: dict, save) -> dict:
    """The replicated corpus and its embeddings into an empty PostgreSQL database. ``state`` holds
    what a kept run (--keep) already did, and ``save`` records each step as it finishes."""
    import numpy as np
    from _search_corpus import (
        CACHE,
        bench_embedder,
        ingest,
        load_corpus,
        replica_vectors,
    )

    from dailypapers.storage import open_store

    emb, _ = bench_embedder()
    if emb is None:
        raise SystemExit("no embedding model: the node cannot embed queries")
    papers, votes, _ = load_corpus(args.data)
    copies = -(-args.arxiv_papers // len(papers))
    store = open_store(url)
    if "ingest_s" not in state:
        store.migrate()
        t = time.perf_counter()
        state["papers"] = ingest(store, papers, votes, copies, batch=5000, say=say)
        state["ingest_s"] = time.perf_counter() - t
        save()
    else:
        say(f"  kept: {state['papers']:,} papers ingested in an earlier run")
    if "embed_s" not in state:
        real = CACHE / "corpus68k.npz"
        deadline = time.monotonic() + 60 * args.wait_vectors
        while not real.exists() and time.monotonic() < deadline:  # another job may be writing it
            time.sleep(20)
        if real.exists():
            z = np.load(real, allow_pickle=False)
            pos = {str(i): k for k, i in enumerate(z["ids"])}
            base = np.asarray(z["vectors"], dtype=np.float32)[[pos[p.arxiv_id] for p in papers]]
            source = "real (bench/cache/corpus68k.npz), perturbed per copy"
        else:
            base, have = demo_vectors(papers, emb)
            source = (f"real for {have:,} of the {len(papers):,} papers (the bundled demo/embeddings.npz and "
                      "demo/arrivals-embeddings.npz, the shipped model; bench/cache/corpus68k.npz was not there), "
                      "each other paper the real vector of a random one of those plus the same noise; "
                      "then perturbed per copy")
        t = time.perf_counter()
        for k in range(copies):
            vecs = replica_vectors(base, k).astype("<f4")
            ids = [p.arxiv_id if k == 0 else f"{p.arxiv_id}-r{k}" for p in papers]
            for s in range(0, len(ids), 5000):
                store.put_embeddings(emb.model_id, [(i, "bench", v.tobytes()) for i, v in
                                                    zip(ids[s : s + 5000], vecs[s : s + 5000])])
            if k % 5 == 4 or k == copies - 1:
                say(f"  embeddings copy {k + 1}/{copies} ({time.perf_counter() - t:.0f} s)")
        state["embed_s"] = time.perf_counter() - t
        state["vectors"] = source
        save()
    else:
        say(f"  kept: embeddings written in an earlier run ({state['vectors']})")
    store.close()
    return {"papers": state["papers"], "copies": copies, "ingest_s": state["ingest_s"], "embed_s": state["embed_s"],
            "vectors": state["vectors"]}


def arxiv_node(url: str, index_dir: str, data: str, postmaster: int | None) -> None:
    """Run in a fresh process: a node with an empty index folder catches up from the database,
    then every hybrid search of the topic queries is timed in-process. Prints one JSON line.
    glibc's malloc is tuned as `serve` tunes it (``tune_malloc`` with the setting's default), since
    a node's catch-up and searches run in a `serve` worker."""
    import json

    from _search_corpus import bench_embedder
    from bench_search_latency import queries, search_page

    from dailypapers.cli.serve import tune_malloc
    from dailypapers.config import Settings
    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage import open_store

    arenas = Settings().malloc_arenas
    tune_malloc(arenas)  # first: before another thread allocates
    emb, model_note = bench_embedder()
    store = open_store(url)
    engine = SearchEngine(store, index_dir, emb)
    stages: dict[str, list[float]] = {}
    t0 = time.perf_counter()

    shown = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter() - t0
        stages.setdefault(stage, [now, now])[1] = now
        if now - shown[0] >= 30:  # a catch-up of millions takes a while: show that it moves
            shown[0] = now
            m = _memory()
            print(f"  node catch-up {now:.0f} s: {stage} {done:,}/{total:,}, RSS {m['VmRSS']:,.0f} MB "
                  f"(anonymous {m['RssAnon']:,.0f}, file-backed {m['RssFile']:,.0f})", file=sys.stderr, flush=True)

    counts = engine.sync(progress)
    catch_up = time.perf_counter() - t0
    after_sync = _memory()
    # The searches at niceness 0, PostgreSQL too (the catch-up ran at the caller's).
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    if postmaster:
        _renice_tree(postmaster, 0)
    qs = queries(Path(data))
    for q in qs[:50]:  # warm-up: first touches of the mapped index files
        search_page(engine, q, mode="hybrid")
    emb._cache.clear()
    times = []
    for q in qs:
        t = time.perf_counter()
        search_page(engine, q, mode="hybrid")
        times.append((time.perf_counter() - t) * 1000)
    lexical = []
    for q in qs[:300]:
        t = time.perf_counter()
        search_page(engine, q, mode="lexical")
        lexical.append((time.perf_counter() - t) * 1000)
    engine.close()
    store.close()
    sizes = {name: round(sum(f.stat().st_size for f in (Path(index_dir) / name).rglob("*") if f.is_file()) / 2**20)
             for name in ("lexical", "vectors")}
    print(json.dumps({"catch_up_s": catch_up, "counts": counts, "stages": stages, "after_sync": after_sync,
                      "after_search": _memory(), "mapped_after_search": mapped_index_mb(index_dir),
                      "queries": len(times), "hybrid_p50": percentile(times, 50),
                      "hybrid_p95": percentile(times, 95), "hybrid_p99": percentile(times, 99),
                      "lexical_p50": percentile(lexical, 50), "lexical_p99": percentile(lexical, 99),
                      "index_mb": sizes, "model": model_note, "malloc_arenas": arenas}), flush=True)


def arxiv(args, server: Server, tmp: Path) -> tuple[list, list[str]]:
    import json
    import subprocess

    state: dict = {}
    state_file = args.keep / "arxiv3m.json" if args.keep else None
    if state_file is not None and state_file.exists():
        state = json.loads(state_file.read_text())
        if state.get("arxiv_papers") != args.arxiv_papers or "ingest_s" not in state:
            say(f"  --keep: {state_file} is for another size or an unfinished ingest: starting over")
            with contextlib.suppress(psycopg.Error), psycopg.connect(server.admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {state['database']}")
            state = {}
    if state:
        url = server.database(state["database"])
    else:
        url = server.new_database()
        state = {"arxiv_papers": args.arxiv_papers, "database": url.rsplit("/", 1)[1]}

    def save() -> None:
        if state_file is not None:
            state_file.write_text(json.dumps(state))

    save()
    load = arxiv_load(args, url, state, save)
    say(f"loaded: {load}")
    with psycopg.connect(url) as conn:
        db_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = conn.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN "
            "('papers', 'embeddings', 'listings') ORDER BY relname").fetchall()
    index_dir = tmp / "arxiv-node" / "index"
    t = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--arxiv-node", url, str(index_dir), str(args.data),
                           str(_postmaster(server) or 0)], stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit("the node failed (its error is above)")
    node = json.loads(done.stdout.strip().splitlines()[-1])
    say(f"node ({time.perf_counter() - t:.0f} s): {node}")
    n = load["papers"]
    stages = ", ".join(f"{k} {v[1] - v[0]:.0f} s" for k, v in node["stages"].items())
    rows = [
        ["papers (replicas of the real corpus)", f"{n:,}", ""],
        ["ingest (ingest_batch, COPY)", f"{load['ingest_s']:.0f} s", f"{n / load['ingest_s']:,.0f} papers/s"],
        ["embeddings written (put_embeddings)", f"{load['embed_s']:.0f} s", f"{n / load['embed_s']:,.0f} vectors/s"],
        ["database size", f"{db_bytes / 2**30:.2f} GiB",
         "; ".join(f"{name} {size / 2**30:.2f} GiB" for name, size in tables)],
        ["fresh node's catch-up (SearchEngine.sync)", f"{node['catch_up_s']:.0f} s", stages],
        ["node index on disk", f"{sum(node['index_mb'].values()):,} MB",
         f"lexical {node['index_mb']['lexical']:,} MB, vectors {node['index_mb']['vectors']:,} MB"],
        ["hybrid search in-process, p50 / p95 / p99", f"{node['hybrid_p50']:.1f} / {node['hybrid_p95']:.1f} / "
         f"{node['hybrid_p99']:.1f} ms", f"{node['queries']} queries (target p99 <= 100 ms)"],
        ["lexical search in-process, p50 / p99", f"{node['lexical_p50']:.1f} / {node['lexical_p99']:.1f} ms",
         "300 queries"],
        ["node peak RSS: during the catch-up / the process's", f"{node['after_sync']['VmHWM']:,.0f} / "
         f"{node['after_search']['VmHWM']:,.0f} MB", "target <= 3 GB"],
        ["node RSS after the searches", f"{node['after_search']['VmRSS']:,.0f} MB",
         f"anonymous {node['after_search']['RssAnon']:,.0f} MB, file-backed {node['after_search']['RssFile']:,.0f} MB"
         f" (after catch-up: {node['after_sync']['VmRSS']:,.0f} MB)"],
        ["of which index files, by kind", f"{sum(node['mapped_after_search'].values()):,.0f} MB",
         ", ".join(f"{k} {v:,.0f}" for k, v in node["mapped_after_search"].items())],
    ]
    notes = [f"{load['copies']} copies of the {n // load['copies']:,}-paper corpus; vectors: {load['vectors']}; "
             f"query model: {node['model']}; the node's glibc malloc tuned as `serve` tunes it (arenas "
             f"{node.get('malloc_arenas', 0)}, 0: glibc's defaults; cli/serve.tune_malloc)."]
    return rows, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--pg-url", help="A PostgreSQL server where this script may create databases "
                                     "[default: a throwaway cluster].")
    ap.add_argument("--trials", type=int, default=50, help="convergence trials on the paper API")
    ap.add_argument("--search-trials", type=int, default=20, help="convergence trials on the search API")
    ap.add_argument("--new-trials", type=int, default=10, help="convergence trials with a new paper")
    ap.add_argument("--voters", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=40, help="toggles per voter")
    ap.add_argument("--papers", type=int, default=40)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--only", default=",".join(p for p in PARTS if p not in HEAVY),
                    help=f"comma-separated parts to run, of {','.join(PARTS)} [default: all but "
                         f"{','.join(HEAVY)}]")
    ap.add_argument("--ingest-repeat", type=int, default=1, help="bulk ingest runs per backend (median)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections for the page figures")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--think-voters", type=int, default=32, help="voters with a think time (part voters32)")
    ap.add_argument("--think-rounds", type=int, default=20, help="clicks per voter with a think time")
    ap.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp",
                    help="the voters' HTTP client (part voters32 also runs the think row with the other one)")
    ap.add_argument("--store-votes", type=int, default=300, help="sequential votes for part votestore")
    ap.add_argument("--arxiv-papers", type=int, default=3_000_000, help="papers for part arxiv3m")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="part arxiv3m: keep the PostgreSQL cluster in DIR after the run, and reuse what an "
                         "earlier run with the same DIR and --arxiv-papers loaded (ingest and embeddings skipped)")
    ap.add_argument("--wait-vectors", type=float, default=0, metavar="MIN",
                    help="part arxiv3m: wait up to MIN minutes for bench/cache/corpus68k.npz before writing "
                         "the embeddings (another job may be making it)")
    ap.add_argument("--arxiv-node", nargs=4, metavar=("URL", "INDEX", "DATA", "POSTMASTER"),
                    help=argparse.SUPPRESS)  # part arxiv3m's node, in its own process
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    if args.arxiv_node:
        url, index, data, postmaster = args.arxiv_node
        arxiv_node(url, index, data, int(postmaster))
        return
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        ap.error(f"unknown parts: {parts - set(PARTS)}")

    tmp = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    if args.keep is not None:
        args.keep = args.keep.resolve()
        args.keep.mkdir(parents=True, exist_ok=True)
    server = Server(args.pg_url, args.keep)
    load_before = os.getloadavg()
    sections: list[str] = []
    try:
        pg_version = server.version()
        say(f"PostgreSQL {pg_version}")
        if "quality" in parts and not args.skip_quality:
            rows, notes = quality(args, server)
            sections.append("**Search quality, SciFact train, both backends in one run** (`dailypapers eval beir` "
                            "code path):\n\n" + table(["mode", "backend", "nDCG@10", "R@100", "MRR@10",
                                                       "p50 ms in-process"], rows) + "\n\n" + " ".join(notes))

        if "ingest" in parts:
            rows = bulk_ingest(args, server, tmp)
            sections.append(
                "**Bulk ingest of the 58k arXiv cs papers** (`arxiv_cs_papers_dedup.jsonl.gz` through the real "
                "ingest job, `ingest_jsonl`, into an empty database; PostgreSQL writes new papers by COPY; "
                f"median of {args.ingest_repeat} run(s) per backend):\n\n"
                + table(["backend", "papers", "seconds", "papers/s"], rows))
        if "pages" in parts:
            rows = pages(args, server, tmp)
            sections.append(
                "**Pages from 1 and 2 nodes on one PostgreSQL database, and from 1 SQLite node** (the bundled "
                "demo, 9.9k HF papers, loaded with `migrate` + `ingest hf-daily`; each node 1 worker; wrk, "
                f"{args.connections} connections split between the nodes, one wrk per node at once, "
                f"{args.duration} s after a 3 s warm-up; req/s summed over the nodes, p50/p99 the worse node's):"
                "\n\n"
                + table(["path", "backend", "nodes", "connections", "req/s", "p50 ms", "p99 ms", "errors"], rows))
        if "votestore" in parts:
            rows = vote_store(args, server)
            sections.append(
                f"**A vote in the store, PostgreSQL** (one process, no HTTP; {args.store_votes} sequential toggles on "
                f"{args.papers} papers, each followed by its rate-limit check):\n\n"
                + table(["call", "calls", "p50 ms", "p99 ms"], rows))
        if "arxiv3m" in parts:
            rows, notes = arxiv(args, server, tmp)
            sections.append(
                f"**All of arXiv, scaled: {args.arxiv_papers:,} papers on PostgreSQL plus one node's index** (the "
                "real corpus replicated with new ids and perturbed vectors; a fresh node catches up from the "
                "database, then searches in-process):\n\n" + table(["figure", "value", "detail"], rows)
                + "\n\n" + " ".join(notes))
        if "voters32" in parts:
            url = server.new_database()
            ids, tokens = prepare(url, args.papers, args.think_voters)
            nodes = Nodes(tmp, url, 2)
            cpu = ([p.pid for p in nodes.procs], _postmaster(server))
            try:
                idle = idle_cpu(cpu)
                split: list[str] = []
                think = vote_load(f"PostgreSQL, 2 nodes, think 0.5-1 s ({args.client})", url, nodes.bases, tokens,
                                  ids, args.think_rounds, think=(0.5, 1.0), cpu=cpu, split=split, client=args.client)
                other = "httpx" if args.client == "aiohttp" else "aiohttp"
                # the same load from the other client: what the load generator itself adds to a round trip
                think_other = vote_load(f"PostgreSQL, 2 nodes, think 0.5-1 s ({other})", url, nodes.bases, tokens,
                                        ids, args.think_rounds, think=(0.5, 1.0), cpu=cpu, split=split, client=other)
                closed = vote_load(f"PostgreSQL, 2 nodes, closed loop ({args.client})", url, nodes.bases, tokens,
                                   ids, args.think_rounds, cpu=cpu, client=args.client)
                # the floor: what one vote costs with nobody else voting
                alone = vote_load(f"PostgreSQL, 1 voter alone, 1 node, sequential ({args.client})", url,
                                  nodes.bases[:1], tokens[:1], ids, args.think_rounds * 10, cpu=cpu,
                                  client=args.client)
            finally:
                nodes.stop()
            sections.append(
                f"**Upvotes from {args.think_voters} concurrent voters through 2 nodes** ({args.think_rounds} "
                f"toggles each on {args.papers} papers; half the voters on each node. With a think time each "
                "voter waits a uniform 0.5-1 s before each click, as a reader does; closed loop: it clicks again "
                "as soon as it has its answer; then one voter alone, clicking again at once, "
                f"{args.think_rounds * 10} times):\n\n"
                + table(["through", "voters", "votes", "votes/s", "p50 ms", "p95 ms", "p99 ms", "errors", "lost",
                         "drift", "CPU ms/vote, nodes", "CPU ms/vote, PostgreSQL", "CPU ms/vote, load generator"],
                        [think, think_other, closed, alone])
                + f"\n\nWith no requests the two nodes use {idle[0]:.1f} ms of CPU per second and PostgreSQL "
                f"{idle[1]:.1f} (the index followers' looks, the listeners); that is in the CPU per vote above. "
                f"The first clicks are the nodes' first votes since they started, {args.think_voters} of them "
                f"within half a second: {'; '.join(split)}.")
        if "nodes" in parts:
            url = server.new_database()
            ids, tokens = prepare(url, args.papers, args.voters)
            nodes = Nodes(tmp, url, 2)
            try:
                conv = converge(nodes.bases[0], nodes.bases[1], tokens[0][1], ids, args.trials, args.search_trials)
                fresh = converge_new_papers(url, nodes.bases[1], args.new_trials)
                two = vote_load("PostgreSQL, 2 nodes", url, nodes.bases, tokens, ids, args.rounds)
                one_pg = vote_load("PostgreSQL, 1 node", url, nodes.bases[:1], tokens, ids, args.rounds)
            finally:
                nodes.stop()
            rows = [["a vote, in B's paper API (page cache, NOTIFY)", len(conv["api"]), round(median(conv["api"]), 1),
                     round(percentile(conv["api"], 99), 1), round(max(conv["api"]), 1)],
                    ["a vote, in B's search API", len(conv["search"]), round(median(conv["search"]), 1),
                     round(percentile(conv["search"], 99), 1), round(max(conv["search"]), 1)],
                    ["a new paper (a job's commit), in B's search API (B's index, follower)", len(fresh),
                     round(median(fresh), 1), round(percentile(fresh, 99), 1), round(max(fresh), 1)]]
            sections.append(
                "**Convergence between two nodes: a vote through node A, or a new paper, seen on node B** "
                "(2 `serve` processes, 1 PostgreSQL database; "
                "ms from A's answer, or the job's commit, to B's first answer showing it; one poll GET takes "
                f"{conv['poll_ms']:.1f} ms (median), the resolution):\n\n"
                + table(["seen on", "trials", "median ms", "p99 ms", "max ms"], rows))

            sqlite_dir = tmp / "sqlite-node"
            sqlite_url = f"sqlite:///{sqlite_dir / 'dailypapers.db'}"
            ids, tokens = prepare(sqlite_url, args.papers, args.voters)
            node = Nodes(tmp, sqlite_url, 1)
            try:
                one_sqlite = vote_load("SQLite, 1 node", sqlite_url, node.bases, tokens, ids, args.rounds)
            finally:
                node.stop()
            sections.append(
                f"**{args.voters} concurrent voters, closed loop** ({args.rounds} toggles each on {args.papers} "
                "papers, "
                "POST /api/papers/{id}/upvote with a Bearer token, each voter clicking again as soon as it has its "
                "answer; lost = |what voters believe - vote rows|, drift = |papers.votes - vote rows|):\n\n"
                + table(["through", "voters", "votes", "votes/s", "p50 ms", "p95 ms", "p99 ms", "errors", "lost",
                         "drift"], [two, one_pg, one_sqlite]))
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    body = "\n\n".join(sections) + (
        f"\n\nPostgreSQL {pg_version} ({'a throwaway cluster' if args.pg_url is None else 'the server of --pg-url'})"
        ", default durability (fsync, synchronous_commit on); nodes: 1 worker each, no embedding model loaded (the "
        "quality part loads it in-process). Load average before/after the run: "
        f"{load_before[0]:.1f} / {load_after[0]:.1f} on 2 cores shared with other jobs, so the tails are "
        "pessimistic."
    )
    if not args.no_append:
        append_section("SQLite and PostgreSQL side by side (bench_backends.py)",
                       "python bench/bench_backends.py " + " ".join(sys.argv[1:]), body)
    else:
        print(body)


if __name__ == "__main__":
    main()
