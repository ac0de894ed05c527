#!/usr/bin/env python3
"""Where the CPU of one uncached search goes, on the served path (issue 13).

    python bench/bench_search_cpu.py --data-dir DIR [--n 400] [--path page|api] [--no-report]

DIR is a served data dir (``bench_web.py --scale 64k --keep DIR`` makes one). The app is built as a
worker builds it (``create_app``) and driven in this process through its ASGI interface (httpx's
ASGITransport: no sockets, so no server or load generator shares the measurement), one request
at a time, each a query nobody asked before (bench_web's never-repeated queries), so neither the
page cache nor the query-vector cache helps. Reported per search: the process's CPU (every
thread: the request, the semantic leg's helper thread, the in-process client), the same for
/healthz through the same client (the floor of client, middleware and routing), and the CPU
(``time.thread_time``, of the thread that ran it) of each stage, found by wrapping the functions
that do it. Stages nest (a search holds its legs), so they add up to more than the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_DATA, append_section, table  # noqa: E402

# (label, module, class or None, function): what each stage is
STAGES = (
    ("whole search (SearchEngine.search, request thread)", "dailypapers.search.engine", "SearchEngine", "search"),
    ("semantic leg (helper thread)", "dailypapers.search.engine", "SearchEngine", "_semantic_leg"),
    ("  query embedding (tokenizer + ONNX)", "dailypapers.search.embedder", "Embedder", "embed_query"),
    ("  vector index (HNSW, exact scoring)", "dailypapers.search.vectors", "VectorIndex", "search_keys"),
    ("BM25 (tantivy)", "dailypapers.search.lexical", "LexicalIndex", "search"),
    ("word counts of the keyword hits", "dailypapers.search.lexical", "LexicalIndex", "words_matched"),
    ("fusion lists (BM25 of semantic-only, cosines)", "dailypapers.search.engine", "SearchEngine", "_fusion_lists"),
    ("count check (count_containing)", "dailypapers.search.lexical", "LexicalIndex", "count_containing"),
    ("SQLite paper reads", "dailypapers.storage.sqlite", "SQLiteStore", "get_papers"),
    ("snippets", "dailypapers.search.engine", None, "snippet_html"),
    ("highlighted titles", "dailypapers.search.engine", None, "highlight_html"),
    ("page render (Jinja2)", "dailypapers.web.site", "Site", "render"),
)


def instrument(acc: collections.Counter) -> None:
    import importlib

    for label, module, cls, name in STAGES:
        owner = importlib.import_module(module)
        target = getattr(owner, cls) if cls else owner
        fn = getattr(target, name)

        def timed(*a, __fn=fn, __label=label, **k):
            t = time.thread_time()
            try:
                return __fn(*a, **k)
            finally:
                acc[__label] += time.thread_time() - t

        setattr(target, name, functools.wraps(fn)(timed))
        if cls is None:  # SearchHit's cached properties call the engine module's globals
            setattr(owner, name, getattr(target, name))


async def drive(app, paths: list[str], warm: list[str], acc: collections.Counter) -> tuple[float, float]:
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                 headers={"Accept-Encoding": "gzip"}) as c:
        for p in warm:
            await c.get(p)
        acc.clear()
        t = time.process_time()
        for _ in paths:
            await c.get("/healthz")
        floor = (time.process_time() - t) / len(paths)
        t = time.process_time()
        for p in paths:
            r = await c.get(p)
            if r.status_code != 200:
                raise SystemExit(f"{p}: HTTP {r.status_code}")
        return (time.process_time() - t) / len(paths), floor


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--path", choices=("page", "api"), default="page")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
    from bench_web import unique_queries

    from dailypapers.app import create_app
    from dailypapers.config import load_settings

    acc: collections.Counter = collections.Counter()
    instrument(acc)
    settings = load_settings().replace(data_dir=args.data_dir, rate_search="1000000/1")
    app = create_app(settings)
    topics = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    queries = unique_queries(topics, args.n + 20, seed=13)
    prefix = "/papers/search?q=" if args.path == "page" else "/api/papers/search?limit=20&q="
    paths = [prefix + quote_plus(q) for q in queries]
    load_before = os.getloadavg()[0]
    whole, floor = asyncio.run(drive(app, paths[20:], paths[:20], acc))
    searched = acc.pop("whole search (SearchEngine.search, request thread)", 0.0)
    n = args.n
    rows = [["process CPU per request, all threads (this process also runs the client)", round(whole * 1000, 2)],
            ["the same for /healthz (client, middleware, routing)", round(floor * 1000, 2)],
            ["whole search (SearchEngine.search, request thread)", round(searched / n * 1000, 2)]]
    rows += [[label, round(acc.get(label, 0.0) / n * 1000, 2)] for label, *_ in STAGES[1:]]
    text = (f"Data: {args.data_dir}; {args.n} never-repeated queries (after 20 to warm up) through the "
            f"{'search page' if args.path == 'page' else 'search API'}, in-process (ASGI), one at a time; CPU ms "
            "per search (stages: thread CPU of the thread that ran them, averaged over all requests; they "
            f"nest). 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
            f"{os.cpu_count()} cores: CPU time grows on a busy machine too (caches, hyper-threads).\n\n"
            + table(["what", "CPU ms per search"], rows))
    print(text)
    if not args.no_report:
        append_section("Search CPU per request, by stage", None, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
