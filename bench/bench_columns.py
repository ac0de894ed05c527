#!/usr/bin/env python3
"""The filter columns' build from a database, this tree's search/columns.py against a git
revision's, each in a fresh process: wall and CPU seconds, peak RSS (VmHWM) and the anonymous
part, the file's size.

    python bench/bench_columns.py --url postgresql://... [--baseline a9a78be] [--no-append]

The database is any store `open_store` takes (bench_backends.py --only arxiv3m --keep DIR leaves
a 3M-paper PostgreSQL cluster to point this at). The baseline's columns.py is loaded from
`git show REV:src/dailypapers/search/columns.py` into the same interpreter and package.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from _report import REPO, append_section, table  # noqa: E402

PATH = "src/dailypapers/search/columns.py"


def _status() -> dict[str, float]:
    out = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[k] = int(v.split()[0]) / 1024
    return out


def build(url: str, source: str, out_dir: str) -> None:
    """In a fresh process: build the columns with ``source`` (a file of columns.py) and print JSON."""
    import importlib.util
    import resource

    from dailypapers.storage import open_store

    spec = importlib.util.spec_from_file_location("dailypapers.search._columns_bench", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    store = open_store(url)
    before = _status()
    peak_anon = [before["RssAnon"]]

    def progress(done: int, total: int) -> None:
        peak_anon[0] = max(peak_anon[0], _status()["RssAnon"])

    wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    columns = module.FilterColumns(out_dir)
    papers = columns.rebuild(store, progress)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_anon[0] = max(peak_anon[0], _status()["RssAnon"])
    size = sum(f.stat().st_size for f in Path(out_dir).iterdir() if f.is_file())
    store.close()
    print(json.dumps({"papers": papers, "wall_s": wall, "cpu_s": after.ru_utime - cpu.ru_utime + after.ru_stime
                      - cpu.ru_stime, "before": before, "after": _status(), "peak_anon": peak_anon[0],
                      "file_mb": size / 2**20}), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the database (postgresql://... or sqlite:///...)")
    ap.add_argument("--baseline", default="HEAD", help="the git revision to compare with")
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--build", nargs=2, help=argparse.SUPPRESS)  # SOURCE OUT: one build, in its own process
    args = ap.parse_args()
    if args.build:
        build(args.url, *args.build)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "columns_baseline.py"
        old.write_bytes(subprocess.run(["git", "show", f"{args.baseline}:{PATH}"], cwd=REPO, check=True,
                                       capture_output=True).stdout)
        for label, source in ((f"baseline ({args.baseline})", old), ("this tree", REPO / PATH)):
            out = Path(tmp) / label.split()[0]
            done = subprocess.run([sys.executable, __file__, "--url", args.url, "--build", str(source), str(out)],
                                  stdout=subprocess.PIPE, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(label, r, flush=True)
            rows.append([label, f"{r['papers']:,}", round(r["wall_s"]), round(r["cpu_s"]),
                         f"{r['after']['VmHWM']:,.0f}", f"{r['before']['RssAnon']:,.0f}", f"{r['peak_anon']:,.0f}",
                         f"{r['after']['RssAnon']:,.0f}", round(r["file_mb"])])
    body = table(["columns.py", "papers", "wall s", "CPU s", "peak RSS MB (VmHWM)", "anon MB before",
                  "anon MB peak (sampled)", "anon MB after", "file MB"], rows)
    print(body)
    if not args.no_append:
        append_section("Filter columns: a fresh build from the database", None, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
