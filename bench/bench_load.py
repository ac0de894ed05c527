"""Load: browsing, search, API calls and votes from many accounts against a real
`dailypapers serve --workers 2` on loopback, with every vote accounted for.

What it does:
1. a temporary data dir: `dailypapers migrate`, the last DAYS days of the bundled Hugging Face
   archive (demo/hf-daily) with their bundled embeddings (so search is hybrid, as in production),
   the search index built, and ACCOUNTS verified members, each with an API token and a session;
2. starts `dailypapers serve --workers 2` behind a trusted proxy address (DAILYPAPERS_TRUSTED_PROXIES
   is loopback): each account sends its own X-Forwarded-For, as 200 people behind the reverse proxy
   docs/deploy.md describes would, so the per-address limits apply per person. The limits are the
   defaults: a search-heavy account meets the search limit (429), which is expected and counted;
3. every account is one client that loops for DURATION seconds: a random action from the mix
   (browse pages as a member, search, the JSON API, feeds, and upvotes set on or off with
   `POST /api/papers/{id}/upvote`), then a think time (exponential, mean THINK s);
4. checks: zero responses other than 2xx and the expected 429s, and zero transport errors; every
   vote accounted for: for each (account, paper) the vote row exists exactly when the account's last
   acknowledged vote was "on", and each paper's papers.votes equals its vote rows; the RSS of the
   supervisor and the two workers at the start (after a warm-up), the middle and the end, and its
   slope in MB/min (least squares over a sample every 10 s, over the whole run and over its second
   half: flat is about 0);
5. prints p50/p99 per route and appends a dated section to BENCHMARKS.md.

    python bench/bench_load.py [--duration 60] [--accounts 200] [--think 1.0] [--warmup 30]
                               [--malloc-arenas N] [--no-append]

tests/web/test_load_short.py runs the same code for a few seconds, for correctness only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import append_section, percentile, table  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo"
TOPICS = ["language models", "diffusion", "reinforcement learning", "robot manipulation", "speech",
          "retrieval augmented generation", "vision transformer", "reasoning", "agents", "video generation",
          "protein", "graph neural network", "quantization", "benchmark", "multimodal"]
# (weight, route): what one click of an account does
KEEPALIVE_EXPIRY = 2.0  # seconds; well below uvicorn's timeout_keep_alive (5 s): see account()
MIX = [(10, "home"), (8, "day"), (4, "week"), (12, "paper"), (3, "trending"), (3, "org"), (12, "search"),
       (6, "api_daily"), (6, "api_search"), (6, "api_paper"), (4, "feed"), (26, "vote")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(secret: str = "bench-load-secret-key-0123456789") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_SECRET_KEY=secret, DAILYPAPERS_TRUSTED_PROXIES="127.0.0.1/32",
               PYTHONUNBUFFERED="1")
    return env


def cli(data_dir: Path, env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), *args], check=True,
                   env=env, capture_output=True)


@dataclass
class Site:
    data_dir: Path
    ids: list[str]
    days: list[str]
    orgs: list[str]
    tokens: list[str]  # API token per account
    sessions: list[str]  # session cookie per account
    names: list[str]


def prepare(data_dir: Path, env: dict, *, accounts: int, lists: Path | None = None, days: int = 60,
            embeddings: Path | None = None) -> Site:
    """The data dir: papers (the last `days` files of `lists`), their embeddings, the index, accounts."""
    lists = lists or DEMO / "hf-daily"
    raw = data_dir.parent / "lists"
    raw.mkdir(parents=True, exist_ok=True)
    for f in sorted(lists.glob("*.json*"))[-days:]:
        shutil.copy(f, raw / f.name)
    cli(data_dir, env, "migrate")
    cli(data_dir, env, "ingest", "hf-daily", str(raw))
    if embeddings is not None and embeddings.exists():
        cli(data_dir, env, "embed", "--import", str(embeddings), "--limit", "0")
    cli(data_dir, env, "reindex")

    from argon2 import PasswordHasher

    from dailypapers.community.accounts import AccountService
    from dailypapers.config import Settings
    from dailypapers.storage import open_store

    # PostgreSQL when the environment given names one (the crash suite's PostgreSQL case), else SQLite
    settings = Settings(data_dir=data_dir, secret_key=env["DAILYPAPERS_SECRET_KEY"],
                        database_url=env.get("DAILYPAPERS_DATABASE_URL"))
    store = open_store(settings.db_url)
    accounts_svc = AccountService(store, settings, None, hasher=PasswordHasher(time_cost=1, memory_cost=8192,
                                                                               parallelism=1))
    tokens, sessions, names = [], [], []
    for i in range(accounts):
        user = accounts_svc.create_user(f"load{i}@example.org", f"load{i}", None, verified=True)
        tokens.append(accounts_svc.create_api_token(user, "load")[1])
        sessions.append(accounts_svc.start_session(user))
        names.append(user.name)
    rows = store.read("SELECT l.arxiv_id, l.day FROM listings l ORDER BY l.day DESC")
    orgs = [r[0] for r in store.read("SELECT DISTINCT org_name FROM papers WHERE org_name IS NOT NULL LIMIT 50")]
    store.close()
    ids = list(dict.fromkeys(r[0] for r in rows))
    day_list = list(dict.fromkeys(str(r[1]) for r in rows))
    return Site(data_dir, ids, day_list, orgs, tokens, sessions, names)


def start_server(data_dir: Path, port: int, env: dict, workers: int = 2) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                if len(server_pids(proc.pid)) > workers:
                    return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("the server did not start in 180 s")


def stop_server(proc: subprocess.Popen) -> str:
    """SIGTERM the supervisor (it stops its workers); returns its stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.stderr.read().decode(errors="replace") if proc.stderr else ""


def server_pids(pid: int) -> list[int]:
    """The supervisor and its children (the workers)."""
    out = [pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d))
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list[str] = field(default_factory=list)
    votes: dict[tuple[str, str], bool] = field(default_factory=dict)  # (account, paper) -> last acknowledged
    in_doubt: set[tuple[str, str]] = field(default_factory=set)  # sent, no answer: either state is right
    acknowledged: int = 0


async def account(n: int, site: Site, base: str, tally: Tally, until: float, think: float, seed: int) -> None:
    rng = random.Random(seed * 1000 + n)
    routes = [r for _, r in MIX]
    weights = [w for w, _ in MIX]
    ip = f"10.{n // 250}.{n % 250}.{rng.randrange(1, 250)}"
    headers = {"X-Forwarded-For": ip, "User-Agent": f"bench-load/{n}"}
    cookies = {"dp_session": site.sessions[n]}
    # The client drops an idle connection well before the server's keep-alive timeout (uvicorn's 5 s),
    # as a reverse proxy's upstream keep-alive must: else a request sent as the server closes the
    # connection is lost in flight (the RFC 9112 9.3.1 race). A busy worker runs its close timer
    # late, after a request already arrived, so the margin is seconds, not milliseconds.
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=base, headers=headers, cookies=cookies, timeout=60,
                                 follow_redirects=False, limits=limits) as client:
        await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < until:
            route = rng.choices(routes, weights)[0]
            paper = rng.choice(site.ids[:400])
            method, url, kw = "GET", "/", {}
            if route == "day":
                url = f"/papers/date/{rng.choice(site.days[:20])}"
            elif route == "week":
                url = "/papers/week/" + _week(rng.choice(site.days[:40]))
            elif route == "paper":
                url = f"/papers/{paper}"
            elif route == "trending":
                url = "/papers/trending"
            elif route == "org" and site.orgs:
                url = f"/orgs/{quote(rng.choice(site.orgs), safe='')}"
            elif route == "search":
                url = f"/papers/search?q={quote(rng.choice(TOPICS))}&page={rng.randint(1, 3)}"
            elif route == "api_daily":
                url = f"/api/daily_papers?date={rng.choice(site.days[:20])}"
            elif route == "api_search":
                url = f"/api/papers/search?q={quote(rng.choice(TOPICS))}"
            elif route == "api_paper":
                url = f"/api/papers/{paper}"
            elif route == "feed":
                url = rng.choice(["/feeds/daily.xml", "/feeds/trending.atom", "/feeds/daily.json"])
            elif route == "vote":
                want = rng.random() < 0.7
                method, url = "POST", f"/api/papers/{paper}/upvote"
                kw = {"json": {"vote": want}, "headers": {"Authorization": f"Bearer {site.tokens[n]}"},
                      "cookies": {}}
            start = time.perf_counter()
            try:
                if kw.get("cookies") == {}:
                    kw.pop("cookies")
                    client.cookies.clear()
                    r = await client.request(method, url, **kw)
                    client.cookies.set("dp_session", site.sessions[n])
                else:
                    r = await client.request(method, url, **kw)
            except httpx.HTTPError as e:
                tally.errors.append(f"{route} {url}: {type(e).__name__} {e}")
                if route == "vote":
                    tally.in_doubt.add((site.names[n], paper))
                continue
            elapsed = (time.perf_counter() - start) * 1000
            tally.latencies[route].append(elapsed)
            tally.statuses[route][r.status_code] += 1
            if r.status_code == 429:
                pass  # a limit doing its job: counted, not an error
            elif r.status_code >= 300:
                tally.errors.append(f"{route} {method} {url}: {r.status_code} {r.text[:200]!r}")
            elif route == "vote":
                voted = r.json()["voted"]
                if voted != want:
                    tally.errors.append(f"vote {paper}: asked {want}, got {voted}")
                tally.votes[(site.names[n], paper)] = voted
                tally.in_doubt.discard((site.names[n], paper))
                tally.acknowledged += 1
            await asyncio.sleep(rng.expovariate(1 / think) if think > 0 else 0)


def _week(day: str) -> str:
    import datetime as dt

    y, w, _ = dt.date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def run_load(site: Site, base: str, *, duration: float, think: float, seed: int = 16,
             after: Tally | None = None) -> Tally:
    """Every account's loop for `duration` s. `after`: an earlier run on the same database, whose
    votes stand until this run changes them."""
    tally = Tally()
    if after is not None:
        tally.votes, tally.in_doubt = dict(after.votes), set(after.in_doubt)

    async def main() -> None:
        until = time.monotonic() + duration
        await asyncio.gather(*(account(n, site, base, tally, until, think, seed)
                               for n in range(len(site.tokens))))

    asyncio.run(main())
    return tally


def query(db: Path | str, sql: str) -> list[tuple]:
    """A read-only query on the SQLite file `db`, or on the PostgreSQL database at the URL `db`."""
    if isinstance(db, str) and db.startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(db) as pg:
            return [tuple(r) for r in pg.execute(sql).fetchall()]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def vote_problems(db: Path | str, tally: Tally) -> list[str]:
    """Every acknowledged vote is in the database, no other vote is, and the counters match the rows."""
    rows = set(query(db, "SELECT u.name, v.arxiv_id FROM votes v JOIN users u ON u.id = v.user_id "
                         "WHERE u.name LIKE 'load%'"))
    off = query(db, "SELECT p.arxiv_id, p.votes, COUNT(v.user_id) FROM papers p LEFT JOIN votes v "
                    "ON v.arxiv_id = p.arxiv_id GROUP BY p.arxiv_id, p.votes HAVING p.votes != COUNT(v.user_id) "
                    "LIMIT 5")
    expected = {key for key, on in tally.votes.items() if on} - tally.in_doubt
    rows = rows - tally.in_doubt
    problems = []
    if rows - expected:
        problems.append(f"{len(rows - expected)} vote rows no acknowledged vote left: {sorted(rows - expected)[:5]}")
    if expected - rows:
        problems.append(f"{len(expected - rows)} acknowledged votes missing: {sorted(expected - rows)[:5]}")
    if off:
        problems.append(f"papers.votes differs from the vote rows: {off}")
    return problems


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB): the growth per second over the whole run."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def summary_rows(tally: Tally, duration: float) -> list[list]:
    rows = []
    for route in sorted(tally.latencies):
        lat = tally.latencies[route]
        codes = tally.statuses[route]
        rows.append([route, len(lat), round(len(lat) / duration, 1), round(percentile(lat, 50), 1),
                     round(percentile(lat, 99), 1), codes.get(429, 0),
                     sum(c for s, c in codes.items() if s != 429 and s >= 300)])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between one account's clicks (s)")
    ap.add_argument("--days", type=int, default=60, help="days of the bundled archive to load")
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds of the same load before measuring")
    ap.add_argument("--malloc-arenas", type=int, default=None,
                    help="DAILYPAPERS_MALLOC_ARENAS for the server (default: the setting's default; 0: glibc's)")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()

    env = base_env()
    if args.malloc_arenas is not None:
        env["DAILYPAPERS_MALLOC_ARENAS"] = str(args.malloc_arenas)
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    proc = None
    try:
        data_dir = tmp / "data"
        t0 = time.monotonic()
        site = prepare(data_dir, env, accounts=args.accounts, days=args.days, embeddings=DEMO / "embeddings.npz")
        print(f"prepared {len(site.ids)} papers, {args.accounts} accounts in {time.monotonic() - t0:.0f} s",
              flush=True)
        port = free_port()
        proc = start_server(data_dir, port, env)
        base = f"http://127.0.0.1:{port}"
        # warm-up with the same mix: the page caches fill and the workers reach their serving size
        warm = run_load(site, base, duration=args.warmup, think=args.think, seed=args.seed + 1)
        pids = server_pids(proc.pid)
        rss_start = {pid: rss_mb(pid) for pid in pids}
        samples: list[list[float]] = []
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(10):
                samples.append([round(rss_mb(pid), 1) if Path(f"/proc/{pid}").exists() else 0.0 for pid in pids])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        tally = run_load(site, base, duration=args.duration, think=args.think, seed=args.seed, after=warm)
        sampling.set()
        rss_end = {pid: rss_mb(pid) for pid in pids if Path(f"/proc/{pid}").exists()}
        same_workers = sorted(server_pids(proc.pid)) == sorted(pids)
        log = stop_server(proc)
        proc = None
        problems = vote_problems(data_dir / "dailypapers.db", tally)
        tracebacks = log.count("Traceback")
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    total = sum(len(v) for v in tally.latencies.values())
    rows = summary_rows(tally, args.duration)
    rows.append(["all", total, round(total / args.duration, 1),
                 round(percentile([x for v in tally.latencies.values() for x in v], 50), 1),
                 round(percentile([x for v in tally.latencies.values() for x in v], 99), 1),
                 sum(r[5] for r in rows), sum(r[6] for r in rows)])
    body = table(["route", "requests", "req/s", "p50 ms", "p99 ms", "429", "errors"], rows)
    middle = samples[len(samples) // 2] if samples else [0.0] * len(pids)

    def per_minute(i: int, first: int = 0) -> float:
        return round(slope([(10.0 * (k + 1), row[i]) for k, row in enumerate(samples) if k >= first]) * 60, 2)

    rss = table(["process", "RSS start MB", "RSS middle MB", "RSS end MB", "slope MB/min", "slope, 2nd half"],
                [["supervisor" if pid == pids[0] else f"worker {pid}", round(rss_start[pid], 1),
                  middle[i], round(rss_end.get(pid, 0.0), 1), per_minute(i), per_minute(i, len(samples) // 2)]
                 for i, pid in enumerate(pids)])
    rss += "\n\nRSS MB every 10 s of the measured run (supervisor, workers): " + "; ".join(
        " / ".join(f"{v:.0f}" for v in row) for row in samples)
    votes_on = sum(1 for on in tally.votes.values() if on)
    verdict = [
        f"- load: {args.accounts} accounts, each one client looping for {args.duration:.0f} s with an exponential "
        f"think time of mean {args.think} s; mix (weights): " + ", ".join(f"{r} {w}" for w, r in MIX),
        f"- data: the last {args.days} days of demo/hf-daily ({len(site.ids)} papers) with their bundled embeddings;"
        " `serve --workers 2` on loopback, default rate limits, one X-Forwarded-For per account "
        "(DAILYPAPERS_TRUSTED_PROXIES=127.0.0.1/32); the load generator runs on the same 2 cores",
        f"- errors (not 2xx, not 429, or transport): {len(tally.errors)} (warm-up: {len(warm.errors)}); "
        f"server tracebacks: {tracebacks}",
        f"- votes: {tally.acknowledged} acknowledged, {len(tally.in_doubt)} in doubt (no answer); "
        f"{votes_on} (account, paper) pairs left on; "
        f"database check: {'; '.join(problems) if problems else 'vote rows = acknowledged votes = papers.votes'}",
        f"- workers replaced during the run: {'no' if same_workers else 'YES'}; measured after a "
        f"{args.warmup:.0f} s warm-up with the same load; client keep-alive expiry {KEEPALIVE_EXPIRY} s; "
        f"malloc arenas: {env.get('DAILYPAPERS_MALLOC_ARENAS', 'the default setting')}",
    ]
    report = "\n".join(verdict) + "\n\n" + body + "\n\n" + rss
    print(report)
    for e in (warm.errors + tally.errors)[:20]:
        print("error:", e)
    if not args.no_append:
        append_section(f"Load: {args.duration:.0f} s, {args.accounts} accounts, serve --workers 2", None, report)
    if warm.errors or tally.errors or problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
