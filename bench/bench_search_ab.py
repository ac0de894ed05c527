#!/usr/bin/env python3
"""Search latency of two source trees, interleaved in one run (a baseline and a change), in-process.

    git archive <rev> | tar -x -C /tmp/base          # the baseline's tree
    python bench/bench_search_ab.py --base /tmp/base [--rounds 8] [--n 100] [--modes hybrid,lexical]
                                    [--filters none,code] [--scale 64k | --data-dir DIR] [--no-report]
    python bench/bench_search_ab.py --base . --data-dir DIR --base-setting embed_sentences=false

The second form compares a setting with its default on one tree: the baseline's process reads its
settings (``--base-setting NAME=VALUE``, repeatable; only with ``--data-dir``, where the engine is
built from settings as the server builds it) from its environment.

Each tree runs in its own long-lived process (its own ``src`` first on the path), over its own
copy of the corpus: ``bench/cache/scale-<scale>`` for this tree and ``<base>/bench/cache/scale-<scale>`` for
the baseline (same database and vector index, each tree's own lexical index: the index format may
differ between trees; ``--prepare-base`` makes that copy, symlinking the vector index). With
``--data-dir`` both open the same data folder as the server would (it must suit both trees).

Rounds alternate the order of the two trees; each round runs ``--n`` new queries (topic queries
of ../shared/data, a different slice each round, each once, query-vector caches cleared) through
SearchEngine.search(per_page=20) and reads the page's snippets. Reported: the median over rounds
of each round's p50 and of its CPU time per search (this process only: helper threads included),
and the p99 of all rounds pooled. The machine is shared, so only the comparison within one run
means much.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_DATA, REPO, append_section, machine, percentile, settings_env, table  # noqa: E402

FILTERS = ("none", "code", "cv", "month", "up20", "org")


def worker(root: Path, target: str, data: Path) -> None:
    """One tree's process: reads 'mode offset n filter' lines, answers one JSON line each."""
    import datetime as dt

    sys.path[:0] = [str(root / "src"), str(root / "bench")]
    from dailypapers.search import engine as E  # noqa: N812 - the tree under test

    qs = [q.strip() for q in (data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    if target.startswith("data:"):
        from dailypapers.app import build_services
        from dailypapers.config import load_settings

        services = build_services(load_settings().replace(data_dir=Path(target[5:])))
        engine, emb = services.search, services.embedder
    else:
        from _search_corpus import CACHE, bench_embedder

        from dailypapers.storage.sqlite import SQLiteStore

        emb, _ = bench_embedder(None)
        store = SQLiteStore(CACHE / target / "db.sqlite")
        store.migrate()
        engine = E.SearchEngine(store, CACHE / target / "index", emb)
    cases = {"none": None, "code": E.SearchFilters(has_code=True), "cv": E.SearchFilters(category="cs.CV"),
             "month": E.SearchFilters(date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 30)),
             "up20": E.SearchFilters(min_upvotes=20)}
    try:
        cases["org"] = E.SearchFilters(organization="NVIDIA")
    except TypeError:  # a tree without the organization filter
        pass
    for q in qs[:20]:
        engine.search(q)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        mode, off, n, name = line.split()
        if name not in cases:
            print(json.dumps({"skip": True}), flush=True)
            continue
        kw = {"filters": cases[name]} if cases[name] is not None else {}
        emb._cache.clear()
        times = []
        cpu = time.process_time()
        for q in (qs * 4)[int(off): int(off) + int(n)]:
            t = time.perf_counter()
            res = engine.search(q[:250], mode=mode, per_page=20, **kw)
            for h in res.results:
                h.title_html, h.snippet_html  # noqa: B018 - what the page reads
            times.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"times": times, "cpu": (time.process_time() - cpu) / int(n) * 1000}), flush=True)


def prepare_base(base: Path, scale: str) -> None:
    """The baseline's copy of bench/cache/scale-<scale>: its database, the same vector index, its
    own lexical index and filter columns (built by the baseline's code; without the columns its
    filtered searches would take another way)."""
    src, dst = REPO / "bench" / "cache" / f"scale-{scale}", base / "bench" / "cache" / f"scale-{scale}"
    if (dst / "index" / "lexical" / "meta.json").exists() and (dst / "index" / "columns.bin").exists():
        return
    (dst / "index").mkdir(parents=True, exist_ok=True)
    if not (dst / "db.sqlite").exists():
        shutil.copy(src / "db.sqlite", dst / "db.sqlite")
        shutil.copy(src / "build.json", dst / "build.json")
    if not (dst / "index" / "vectors").exists():
        os.symlink(src / "index" / "vectors", dst / "index" / "vectors")
    code = ("import sys; sys.path.insert(0, 'src'); from dailypapers.storage.sqlite import SQLiteStore; "
            "from dailypapers.search.engine import SearchEngine; s = SQLiteStore(sys.argv[1]); s.migrate(); "
            "e = SearchEngine(s, sys.argv[2], None); e.lexical.sync(s); e.columns.sync(s)")
    subprocess.run([sys.executable, "-c", code, str(dst / "db.sqlite"), str(dst / "index")], cwd=base, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, help="the baseline's source tree (git archive of a revision)")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--modes", default="hybrid")
    ap.add_argument("--filters", default="none")
    ap.add_argument("--scale", default="64k")
    ap.add_argument("--data-dir", type=Path, help="both trees open this data folder (as the server does)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--prepare-base", action="store_true")
    ap.add_argument("--base-setting", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting (docs/settings.md) for the baseline's process; needs --data-dir")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), args.worker[1], args.data)
        return 0
    if args.base is None:
        ap.error("--base is required")
    base = args.base.resolve()
    if args.prepare_base and not args.data_dir:
        prepare_base(base, args.scale)
    target = f"data:{args.data_dir}" if args.data_dir else f"scale-{args.scale}"
    trees = {"baseline": base, "this tree": REPO}
    if not args.data_dir:  # a worker would open (and so create) an empty store and time searches of nothing
        for name, root in trees.items():
            if not (root / "bench" / "cache" / target / "db.sqlite").exists():
                ap.error(f"{name}: {root / 'bench' / 'cache' / target} is not built"
                         + (" (run with --prepare-base)" if name == "baseline" else
                            f" (run bench_search_latency.py --scales {args.scale} once)"))
    if args.base_setting and not args.data_dir:
        ap.error("--base-setting needs --data-dir")
    try:
        base_env = settings_env(args.base_setting)
    except ValueError as e:
        ap.error(f"--base-setting {e}")
    procs = {}
    for name, root in trees.items():
        env = dict(os.environ, PYTHONPATH=str(root / "src"), **(base_env if name == "baseline" else {}))
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(root), target, "--data", str(args.data)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=root)
        if not json.loads(procs[name].stdout.readline()).get("ready"):
            raise SystemExit(f"{name} did not start")
    load_before = os.getloadavg()[0]
    rows = []
    for mode in args.modes.split(","):
        for filt in args.filters.split(","):
            got: dict[str, dict] = {name: {"p50": [], "cpu": [], "all": []} for name in trees}
            for r in range(args.rounds):
                order = list(trees) if r % 2 == 0 else list(trees)[::-1]
                for name in order:
                    procs[name].stdin.write(f"{mode} {100 + r * args.n} {args.n} {filt}\n")
                    procs[name].stdin.flush()
                    out = json.loads(procs[name].stdout.readline())
                    if out.get("skip"):
                        continue
                    got[name]["p50"].append(percentile(out["times"], 50))
                    got[name]["cpu"].append(out["cpu"])
                    got[name]["all"] += out["times"]
            for name in trees:
                g = got[name]
                if not g["all"]:
                    rows.append([mode, filt, name, "-", "-", "-", "-"])
                    continue
                rows.append([mode, filt, name, round(statistics.median(g["p50"]), 2),
                             round(statistics.median(g["cpu"]), 2), round(percentile(g["all"], 99), 2), len(g["all"])])
            print(rows[-2:], flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    body = "\n".join([
        (f"Baseline: {base} with " + ", ".join(f"`{x}`" for x in args.base_setting) if args.base_setting
         else f"Baseline: {base} (a `git archive` of the revision before this change)")
        + f"; this tree: {REPO}. Corpus: "
        + (f"the data folder {args.data_dir}" if args.data_dir
           else f"bench/cache/scale-{args.scale} (each tree its own lexical index, the same vector index)")
        + f". {args.rounds} rounds of {args.n} new queries per tree, the two trees alternating; CPU is per search, "
        f"of that tree's process (helper threads included). Machine: {machine()}, shared (1-minute load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after).",
        "",
        table(["mode", "filter", "tree", "median p50 ms", "median CPU ms/search", "pooled p99 ms", "searches"], rows),
    ])
    print(body)
    if not args.no_report:
        append_section("Search latency, baseline against this tree (interleaved)", None, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
