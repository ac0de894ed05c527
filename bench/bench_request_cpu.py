#!/usr/bin/env python3
"""What a search request costs the server besides the search itself, in CPU (issue 13: "HTTP adds
3 ms or less over in-process").

    python bench/bench_request_cpu.py --data-dir DIR [--n 300] [--tree LABEL=SRC ...] [--workers 2]
                                      [--path page,api] [--with-search] [--dump FILE] [--no-report]

Each tree (``--tree base=/tmp/base/src --tree new=src``; default: this tree) is served by its own
uvicorn process, started as ``dailypapers serve`` starts a worker (``serving_app``, the same uvicorn
options, ``settings.workers`` as given so the rate limiter is the one that setting picks), with
one change: ``SearchEngine.search`` answers from a memo filled while warming up (each hit's
highlighted title and snippet made there, as the in-process side of bench_web.py's "what HTTP
adds" step counts them). So a measured request costs the server everything but the search:
uvicorn, the middleware (guard, rate limit, CSRF, security headers), routing, the handler, the
page render or JSON, gzip, and the page cache, which is emptied before the measured pass so
that every request misses it, as a query nobody asked before does.

Per request, the server process's CPU (every thread; read through its CPU clock, ns resolution)
from before the request is sent until the response has been read; one client (httpx, keep-alive,
gzip), one request at a time, the trees interleaved request by request (which goes first
alternates), so the machine's load falls on all of them alike. Medians over ``--n``
never-repeated queries (bench_web.py's unique_queries); with two trees or more, also the median of
the per-query differences between the first tree and each other one.

``--with-search``: no memo. Each server runs every search itself (warmed up on 20 other queries),
so the figures are the whole request, search included, as a worker spends it on a query nobody
asked before; the search's own variation makes them much noisier.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_DATA, append_section, median, percentile, table  # noqa: E402

PREFIX = {"page": "/papers/search?q=", "api": "/api/papers/search?limit=20&q="}
CLEAR = "/__bench/clear-page-cache"
THREADS = "/__bench/threads"


def process_cpu(pid: int) -> float:
    """Seconds of CPU `pid` has used, all its threads (Linux: the process's CPU clock)."""
    return time.clock_gettime((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)


def serve(data_dir: Path, port: int, workers: int, with_search: bool = False) -> None:
    """The server process: the app as a worker builds it (cli/serve.py), the search memoized
    unless `with_search`."""
    import uvicorn

    from dailypapers.cli.serve import server_options, serving_app
    from dailypapers.config import load_settings
    from dailypapers.search.engine import SearchEngine

    memo: dict[str, object] = {}
    search = SearchEngine.search

    def memoized(self, request, *a, **k):
        key = repr(request)
        if key not in memo:
            results = search(self, request, *a, **k)
            for hit in results.results:
                hit.title_html, hit.snippet_html  # noqa: B018 - made here, as the in-process probe does
            memo[key] = results
        return memo[key]

    if not with_search:
        SearchEngine.search = memoized  # type: ignore[method-assign]
    settings = load_settings().replace(data_dir=data_dir, rate_search="1000000/1", workers=workers,
                                       host="127.0.0.1", port=port)
    app = serving_app(settings)  # as a worker builds it: the index follower started, start-up objects frozen

    async def wrapper(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == CLEAR:
            app.state.site.cache.clear()
            # The memo's results are this bench's own long-lived objects (a server keeps no search
            # results, only rendered bytes): out of the collector's sight, as serving_app does with
            # what start-up built, so that full collections do not walk them.
            gc.collect()
            gc.freeze()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["path"] == THREADS:  # CPU seconds of each thread, by name
            cpu: dict[str, float] = {}
            for t in threading.enumerate():
                name = re.sub(r"_\d+$", "", t.name)  # the threads of one pool together
                cpu[name] = cpu.get(name, 0.0) + time.clock_gettime(time.pthread_getcpuclockid(t.ident))
            body = json.dumps(cpu).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    options = server_options(settings)
    uvicorn.run(wrapper, **options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(label: str, src: Path, data_dir: Path, workers: int, with_search: bool) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_SECRET_KEY"] = "bench-secret"
    env["PYTHONPATH"] = str(src.resolve())
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(data_dir), "--port", str(port),
                             "--workers", str(workers), *(["--with-search"] if with_search else [])],
                            env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server of {label} exited")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server of {label} did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--tree", action="append", default=[], help="LABEL=SRC (a src/ folder), repeatable")
    ap.add_argument("--workers", type=int, default=2, help="the setting (the rate limiter follows it); "
                    "one server process per tree whatever it is")
    ap.add_argument("--path", default="page,api")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--with-search", action="store_true", help="each server runs the searches (no memo)")
    ap.add_argument("--dump", type=Path, help="write every measurement (ms, bytes sent) here as JSON")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers, args.with_search)
        return 0
    if args.data_dir is None:
        ap.error("--data-dir is required")
    import httpx
    from bench_web import unique_queries

    trees = [tuple(t.split("=", 1)) for t in args.tree] or [("this tree", str(Path(__file__).parent.parent / "src"))]
    topics = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    queries = unique_queries(topics, args.n, seed=31)
    warm_queries = unique_queries(topics, 20, seed=32, avoid=set(queries))
    kinds = args.path.split(",")
    servers = [(label, *start(label, Path(src), args.data_dir, args.workers, args.with_search)) for label, src in trees]
    cpu: dict[tuple[str, str], list[float]] = {(label, kind): [] for label, *_ in servers for kind in kinds}
    sizes: dict[tuple[str, str], list[int]] = {key: [] for key in cpu}
    threads: dict[tuple[str, str], dict[str, float]] = {}
    load_before = os.getloadavg()[0]
    try:
        clients = {label: httpx.Client(base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"})
                   for label, _, base in servers}
        for kind in kinds:
            paths = [PREFIX[kind] + quote_plus(f"{q} {kind}") for q in queries]
            # warm up: fills each server's search memo (with the searches: on other queries, so that
            # no query vector or page is cached for the measured ones)
            warm = [PREFIX[kind] + quote_plus(f"{q} {kind}") for q in warm_queries] if args.with_search else paths
            for label, _, _ in servers:
                for p in warm:
                    r = clients[label].get(p)
                    if r.status_code != 200:
                        raise SystemExit(f"{label} {p}: HTTP {r.status_code}")
                clients[label].get(CLEAR)
            threads_before = {label: clients[label].get(THREADS).json() for label, _, _ in servers}
            for n, p in enumerate(paths):
                order = servers if n % 2 == 0 else servers[::-1]
                for label, proc, _ in order:
                    c = clients[label]
                    t = process_cpu(proc.pid)
                    r = c.get(p)
                    body = r.read()
                    cpu[(label, kind)].append((process_cpu(proc.pid) - t) * 1000)
                    sizes[(label, kind)].append(int(r.headers.get("content-length", len(body))))
                    if r.status_code != 200:
                        raise SystemExit(f"{label} {p}: HTTP {r.status_code}")
            for label, _, _ in servers:
                after = clients[label].get(THREADS).json()
                threads[(label, kind)] = {k: (v - threads_before[label].get(k, 0.0)) * 1000 / len(paths)
                                          for k, v in after.items()}
        floor = {}
        for label, proc, _ in servers:
            xs = []
            for _ in range(200):
                t = process_cpu(proc.pid)
                clients[label].get("/healthz").read()
                xs.append((process_cpu(proc.pid) - t) * 1000)
            floor[label] = median(xs)
    finally:
        for _, proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=30)
    if args.dump:
        args.dump.write_text(json.dumps({f"{label} {kind}": list(zip(cpu[(label, kind)], sizes[(label, kind)]))
                                         for label, kind in cpu}))
    rows = []
    for kind in kinds:
        for label, *_ in servers:
            xs = cpu[(label, kind)]
            rows.append([kind, label, round(median(xs), 3), round(percentile(xs, 10), 3),
                         round(percentile(xs, 90), 3), round(floor[label], 3), round(median(sizes[(label, kind)]))])
    # each tree against the first, query by query
    first = servers[0][0]
    for kind in kinds:
        for second, *_ in servers[1:]:
            d = [a - b for a, b in zip(cpu[(first, kind)], cpu[(second, kind)])]
            rows.append([kind, f"{first} - {second}, per query", round(median(d), 3), round(percentile(d, 10), 3),
                         round(percentile(d, 90), 3), "", ""])
    setup = ("each server running the searches itself (warmed up on 20 other queries); server CPU per request in "
             "ms, every thread, search included" if args.with_search else
             "after a warm-up pass that filled each server's search memo; page cache emptied before the measured "
             "pass; server CPU per request in ms, every thread, search excluded")
    text = (f"Data: {args.data_dir}; {args.n} never-repeated queries per response kind, each asked once of each "
            f"tree's server (the trees interleaved), {setup}; settings.workers = {args.workers}. 1-minute load "
            f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores.\n\n"
            + table(["response", "tree", "median", "p10", "p90", "/healthz median", "bytes sent, median"], rows))
    text += ("\n\nThe same requests by thread (mean CPU ms per request; the event loop is MainThread):\n\n"
             + table(["response", "tree", "thread", "CPU ms per request"],
                     [[kind, label, name, round(ms, 3)] for (label, kind), by in threads.items()
                      for name, ms in sorted(by.items(), key=lambda kv: -kv[1]) if ms >= 0.005]))
    print(text)
    if not args.no_report:
        append_section("Server CPU of a search request besides the search", None, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
