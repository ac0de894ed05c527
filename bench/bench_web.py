"""Web throughput and latency over real HTTP, on the bundled HF Daily Papers data.

What it does:
1. builds a temporary data dir with the real CLI, as `make run` does: `dailypapers --data-dir X migrate`,
   `dailypapers --data-dir X ingest hf-daily <raw>` (580 days, 9.9k papers) and
   `dailypapers --data-dir X embed --import demo/embeddings.npz` (so search is hybrid);
2. starts `dailypapers --data-dir X serve --workers N` (N=2 by default: one per core here);
3. loads it from loopback with `wrk` when installed (else a bounded httpx.AsyncClient load), one
   scenario at a time, each with a warm-up:
   - `/`                         32 connections   target >= 500 req/s, p99 <= 100 ms, no errors
   - `/` as a signed-in member   32 connections   (reported) the same cached page with the member's
                                                  upvotes pressed and name in the header
   - `/api/daily_papers`         32 connections   target >= 800 req/s
   - `/papers/search?q=...`      16 connections   target p99 <= 150 ms (queries rotate through
                                                  shared/data/queries/topic_queries.txt, so a
                                                  query repeats within a run and may be served
                                                  from that worker's 60-s page cache)
   - the same, uncached          16 connections   (reported) 6,000 URLs (each query x 3 sorts x
                                                  2 pages) that no earlier request asked for
   - `/papers/2608.19880`        32 connections   (reported, no target)
4. prints a table and appends it to BENCHMARKS.md.

The load generator runs on the same machine as the server, so both share the cores: the figures
are a floor. Other jobs on a shared machine make them noisy.

    python bench/bench_web.py [--workers 2] [--duration 15] [--data ../shared/data] [--no-append]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_DATA, append_section, machine, percentile, run_wrk, table  # noqa: E402

DEMO_EMBEDDINGS = Path(__file__).resolve().parent.parent / "demo" / "embeddings.npz"

SCENARIOS = [
    # key, name, path (or "search"), connections, min req/s, max p99 ms
    ("home", "home /", "/", 32, 500, 100),
    # the same cached page as a signed-in member sees it: their upvotes pressed, their name in the header
    ("home-member", "home /, signed-in member", "/", 32, None, None),
    ("api", "API /api/daily_papers", "/api/daily_papers", 32, 800, None),
    ("search", "search /papers/search", "search", 16, None, 150),
    ("search-cold", "search, uncached URLs", "search-cold", 16, None, None),
    ("paper", "paper /papers/{id}", "/papers/2608.19880", 32, None, None),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(data_dir: Path, *args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), *args], check=True,
                   env=env, stdout=subprocess.DEVNULL)


def build(data_dir: Path, raw: Path, env: dict) -> float:
    """What `make run` builds: the HF archive plus the bundled embeddings (hybrid search)."""
    t = time.monotonic()
    cli(data_dir, "migrate", env=env)
    cli(data_dir, "ingest", "hf-daily", str(raw), env=env)
    if DEMO_EMBEDDINGS.exists():
        cli(data_dir, "embed", "--import", str(DEMO_EMBEDDINGS), "--limit", "0", env=env)
    return time.monotonic() - t


def start_server(data_dir: Path, port: int, workers: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                # every worker must be up: a few more requests
                for _ in range(workers * 4):
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- fallback: a bounded async httpx load -------------------------------------------------------------
async def _httpx_load(base: str, paths: list[str], connections: int, duration: float, max_requests: int,
                      headers: dict | None = None) -> dict:
    latencies: list[float] = []
    errors = 0
    count = 0
    stop = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10, headers=headers) as client:
        async def worker(seed: int):
            nonlocal errors, count
            rnd = random.Random(seed)
            while time.monotonic() < stop and count < max_requests:
                count += 1
                path = paths[rnd.randrange(len(paths))]
                t = time.perf_counter()
                try:
                    r = await client.get(path)
                    if r.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - t) * 1000)

        t0 = time.monotonic()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.monotonic() - t0
    return {"rps": len(latencies) / elapsed, "requests": len(latencies), "errors": errors,
            "p50": percentile(latencies, 50), "p90": percentile(latencies, 90), "p99": percentile(latencies, 99),
            "tool": "httpx"}


def run_load(base: str, paths: list[str], connections: int, duration: int, workdir: Path,
             cookie: str | None = None) -> dict:
    if shutil.which("wrk"):
        paths_file = None
        if len(paths) > 1:
            paths_file = workdir / f"paths-{connections}.txt"
            paths_file.write_text("\n".join(paths) + "\n")
        return run_wrk(base + paths[0], connections, duration, paths_file,
                       headers=(f"Cookie: {cookie}",) if cookie else ())
    return asyncio.run(_httpx_load(base, paths, connections, duration, max_requests=200_000,
                                   headers={"Cookie": cookie} if cookie else None))


MEMBER_PASSWORD = "quiet-harbour-lantern-47"


def member_cookie(data_dir: Path, base: str, env: dict) -> str:
    """A member made with the CLI, logged in through the form, with upvotes on a quarter of `/`."""
    subprocess.run([sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), "users", "create",
                    "bench@example.org", "bench", "--password-stdin"], input=MEMBER_PASSWORD + "\n", text=True,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    with httpx.Client(base_url=base, timeout=10) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"email": "bench@example.org", "password": MEMBER_PASSWORD, "csrf_token": token})
        if r.status_code >= 400:
            raise SystemExit(f"bench member could not log in: {r.status_code}")
        home = c.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
        for arxiv_id in re.findall(r'data-vote="([^"]+)"', home)[::4]:
            c.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": token, "vote": "1"})
        return "; ".join(f"{k}={v}" for k, v in c.cookies.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="reuse/keep this data dir instead of a temporary one")
    ap.add_argument("--only", choices=[sc[0] for sc in SCENARIOS],
                    help="run one scenario (no BENCHMARKS.md section)")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()

    raw = args.data / "hf-daily-papers" / "raw"
    queries = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_SECRET_KEY"] = "bench-secret"
    # One loopback address sends everything: lift its search limit, but keep the check (and its
    # shared store with several workers) on the path, with a 1-s window so the log stays short.
    env["DAILYPAPERS_RATE_SEARCH"] = "100000/1"
    tmp = Path(tempfile.mkdtemp(prefix="dp-bench-"))
    data_dir = args.keep or tmp / "data"
    try:
        if not (data_dir / "dailypapers.db").exists():
            secs = build(data_dir, raw, env)
            print(f"built {data_dir} in {secs:.1f} s", file=sys.stderr)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(data_dir, port, args.workers, env)
        rows = []
        failures = []
        cookie = None
        load_before = os.getloadavg()[0]
        try:
            for key, name, path, conns, min_rps, max_p99 in SCENARIOS:
                if args.only and key != args.only:
                    continue
                search_paths = ["/papers/search?q=" + quote_plus(q[:200]) for q in queries]
                if path == "search":
                    paths = search_paths
                elif path == "search-cold":
                    # 6,000 URLs no earlier request asked for: every one misses the page cache
                    paths = [f"/papers/search?q={quote_plus(q[:200])}&sort={sort}&page={page}"
                             for page in (1, 2) for sort in ("upvotes", "newest", "relevance") for q in queries]
                else:
                    paths = [path]
                if key == "home-member" and cookie is None:
                    cookie = member_cookie(data_dir, base, env)
                session = cookie if key == "home-member" else None
                # warm-up (caches, page cache, OS); the cold scenario warms up on other URLs
                run_load(base, search_paths if path == "search-cold" else paths, conns, args.warmup, tmp, session)
                res = run_load(base, paths, conns, args.duration, tmp, session)
                ok = res["errors"] == 0
                if min_rps and res["rps"] < min_rps:
                    ok = False
                if max_p99 and res["p99"] > max_p99:
                    ok = False
                target = ", ".join(x for x in (f">= {min_rps} req/s" if min_rps else "",
                                               f"p99 <= {max_p99} ms" if max_p99 else "") if x) or "-"
                rows.append([name, conns, round(res["rps"], 1), res["requests"], res["errors"], round(res["p50"], 2),
                             round(res["p90"], 2), round(res["p99"], 2), target, "yes" if ok else "NO", res["tool"]])
                if not ok:
                    failures.append(name)
                print(rows[-1], file=sys.stderr)
        finally:
            stop_server(proc)
        headers = ["scenario", "conns", "req/s", "requests", "errors", "p50 ms", "p90 ms", "p99 ms", "target", "met",
                   "client"]
        body = (
            table(headers, rows)
            + f"\n\n- server: `dailypapers serve --workers {args.workers}` (uvicorn), {args.duration} s per scenario "
            f"after a {args.warmup} s warm-up, loopback, load generator on the same machine ({machine()}).\n"
            "- data: the 580 bundled HF Daily Papers days (9.9k papers) and their bundled embeddings, as "
            "`make run` loads them: search is hybrid (each uncached query is embedded by the shipped model).\n"
            "- the machine was shared with other engineers' jobs while this ran: figures are noisy "
            f"(1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
            f"on {os.cpu_count()} cores).\n"
        )
        print(body)
        if not args.no_append and not args.only:
            append_section("Web: pages and API over HTTP", None, body)
        if failures:
            print("targets missed: " + ", ".join(failures), file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
