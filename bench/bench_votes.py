"""Upvote round trips over real HTTP under concurrent voters, and a lost-vote check.

What it does:
1. a temporary data dir: `dailypapers migrate`, then PAPERS papers listed today and VOTERS verified
   members, each with a personal API token (written straight to the database);
2. starts the real server, `dailypapers --data-dir X serve` (one process: SQLite has one writer),
   with the vote rate limit raised out of the way;
3. VOTERS concurrent voters (one httpx.AsyncClient connection each, loopback) each send ROUNDS
   upvote toggles `POST /api/papers/{id}/upvote` (Authorization: Bearer) on random papers; the
   round trip is POST -> JSON with the new count. Each voter keeps a think time of THINK ms
   between clicks, so the traffic is bounded (about VOTERS / THINK clicks per second offered), and
   each voter's first click comes at a random moment within the first THINK ms (real voters do not
   all click at the same instant; starting them together measures one artificial 32-request burst);
4. checks zero lost votes: every reply's `voted` flips as the voter expects, and at the end each
   paper's stored count (papers.votes) equals COUNT(*) of its vote rows equals the number of voters
   whose last toggle left a vote;
5. prints a table and appends it to BENCHMARKS.md.

Target: p99 <= 20 ms at 32 concurrent voters, zero lost votes. The load generator shares the
machine's cores with the server (and, on a shared machine, with other jobs): figures are noisy.

    python bench/bench_votes.py [--voters 32] [--rounds 60] [--think 500] [--no-append]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import append_section, percentile, start_server, table  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(data_dir: Path, papers: int, voters: int, env: dict) -> tuple[list[str], list[str]]:
    subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), "migrate"], check=True,
                   env=env, capture_output=True)
    from argon2 import PasswordHasher

    from dailypapers import days
    from dailypapers.community.accounts import AccountService
    from dailypapers.config import Settings
    from dailypapers.models import Listing, Paper
    from dailypapers.storage.sqlite import SQLiteStore

    settings = Settings(data_dir=data_dir, secret_key=env["DAILYPAPERS_SECRET_KEY"])
    store = SQLiteStore(data_dir / "dailypapers.db")
    today = days.list_day(dt.datetime.now(dt.timezone.utc), settings.day_rollover, settings.timezone)
    ids = [f"2608.{90000 + i:05d}" for i in range(papers)]
    store.ingest_batch(
        [Paper(arxiv_id=a, title=f"Bench paper {a}", abstract="Bench.", authors=["A"]) for a in ids],
        [Listing(arxiv_id=a, day=today, upvotes=random.randrange(0, 50), source="hf") for a in ids],
    )
    store.refresh_trending()
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    accounts = AccountService(store, settings, None, hasher=hasher)
    tokens = []
    for i in range(voters):
        user = accounts.create_user(f"voter{i}@example.org", f"voter{i}", None, verified=True)
        tokens.append(accounts.create_api_token(user, "bench")[1])
    store.close()
    return ids, tokens


async def voter(client: httpx.AsyncClient, token: str, ids: list[str], rounds: int, think: float,
                state: dict[str, bool], lat: list[float], errors: list[str], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    # Voters arrive at random moments, as real ones do; starting all of them at the same instant
    # would measure a burst of 32 simultaneous requests that this load never otherwise produces.
    await asyncio.sleep(rng.uniform(0, think))
    for _ in range(rounds):
        arxiv_id = rng.choice(ids)
        t = time.perf_counter()
        r = await client.post(f"/api/papers/{arxiv_id}/upvote", headers=headers)
        lat.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            errors.append(f"{r.status_code} {r.text[:100]}")
            continue
        body = r.json()
        expected = not state.get(arxiv_id, False)
        if body["voted"] != expected:
            errors.append(f"{arxiv_id}: expected voted={expected}, got {body}")
        state[arxiv_id] = body["voted"]
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def floor(clients: list[httpx.AsyncClient], rounds: int, think: float) -> list[float]:
    """GET /healthz with the same voters' connections and pacing: what this machine gives a trivial request."""
    lat: list[float] = []

    async def one(client, rng):
        await asyncio.sleep(rng.uniform(0, think))
        for _ in range(rounds):
            t = time.perf_counter()
            await client.get("/healthz")
            lat.append((time.perf_counter() - t) * 1000)
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)

    await asyncio.gather(*(one(c, random.Random(i)) for i, c in enumerate(clients)))
    return lat


async def load(base: str, tokens: list[str], ids: list[str], rounds: int, think: float):
    lat: list[float] = []
    errors: list[str] = []
    states = [dict() for _ in tokens]
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in tokens]
    try:
        # warm-up: each voter opens its connection and its token is looked up once
        await asyncio.gather(*(c.get("/healthz") for c in clients))
        t0 = time.perf_counter()
        await asyncio.gather(*(
            voter(clients[i], tok, ids, rounds, think, states[i], lat, errors, random.Random(i))
            for i, tok in enumerate(tokens)
        ))
        wall = time.perf_counter() - t0
        base_lat = await floor(clients, max(10, rounds // 4), think)
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return lat, errors, states, wall, base_lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voters", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=60, help="toggles per voter")
    ap.add_argument("--papers", type=int, default=40, help="papers on today's list (fewer = more contention)")
    ap.add_argument("--think", type=float, default=500.0, help="mean ms between one voter's clicks")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-votes-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update({"DAILYPAPERS_SECRET_KEY": "bench-secret", "DAILYPAPERS_RATE_VOTE": "100000000/60",
                "PYTHONUNBUFFERED": "1"})
    server = None
    try:
        ids, tokens = prepare(tmp / "data", args.papers, args.voters, env)
        server, base = start_server(tmp / "data", port, env, tries=300)
        lat, errors, states, wall, base_lat = asyncio.run(load(base, tokens, ids, args.rounds, args.think / 1000))
        # zero lost votes: what the voters believe == what the database holds
        from dailypapers.storage.sqlite import SQLiteStore

        store = SQLiteStore(tmp / "data" / "dailypapers.db")
        expected = {a: sum(1 for s in states if s.get(a)) for a in ids}
        stored = {a: v for a, v in store.read("SELECT arxiv_id, votes FROM papers")}
        counted = {a: 0 for a in ids}
        counted.update({a: n for a, n in store.read("SELECT arxiv_id, COUNT(*) FROM votes GROUP BY arxiv_id")})
        store.close()
        lost = sum(abs(expected[a] - counted[a]) for a in ids)
        drift = sum(abs(stored[a] - counted[a]) for a in ids)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(lat)
    p50, p95, p99, mx = (percentile(lat, q) for q in (50, 95, 99, 100))
    ok = p99 <= 20 and lost == 0 and drift == 0 and not errors
    rows = [[args.voters, n, round(n / wall, 1), round(p50, 2), round(p95, 2), round(p99, 2), round(mx, 2),
             len(errors), lost, drift, "PASS" if ok else "FAIL"]]
    rows.append([f"{args.voters} (GET /healthz floor)", len(base_lat), "", round(percentile(base_lat, 50), 2),
                 round(percentile(base_lat, 95), 2), round(percentile(base_lat, 99), 2),
                 round(percentile(base_lat, 100), 2), "", "", "", "same load, trivial endpoint"])
    headers = ["voters", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
               "lost votes", "count drift", "target p99<=20ms, 0 lost"]
    out = table(headers, rows)
    print(out)
    if errors:
        print("first errors:", *errors[:5], sep="\n  ")
    notes = (
        f"Real server (`dailypapers serve`, 1 process, SQLite WAL) on loopback; {args.voters} voters, "
        f"{args.rounds} toggles each over {args.papers} papers, think time ~{args.think:g} ms; round trip = "
        "POST /api/papers/{id}/upvote (Bearer token) returning the new count. Lost votes: |voters' view - "
        "COUNT(votes)| summed over papers; count drift: |papers.votes - COUNT(votes)|. The load generator "
        "shares the 2 cores with the server, and the machine is shared with other jobs: figures are noisy."
    )
    if not args.no_append:
        append_section("Upvote round trip under concurrent voters (bench_votes.py)",
                       "python bench/bench_votes.py " + " ".join(sys.argv[1:]), out + "\n\n" + notes)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
