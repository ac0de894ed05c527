"""Ingest throughput and peak memory for bulk JSONL.

Throughput: the 57,852 papers of arxiv-daily-cs into a fresh SQLite database,
in-process, without embeddings; median of --repeat runs. The baseline, measured
in the same run, is parsing alone (gzip + JSON + records, no database), which
bounds what any storage could reach.

Memory: the same file replicated ten times with new ids (copy k maps id
YYMM.NNNNN to (30 + 2k + YY - 25)MM.NNNNN, unique across copies), ingested by
the real CLI in a subprocess; peak RSS from getrusage(RUSAGE_CHILDREN).

    python bench/bench_ingest.py [--data ../shared/data] [--repeat 3] [--skip-memory]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import DEFAULT_DATA, append_section, median, table

from dailypapers.ingest import snapshot
from dailypapers.ingest.jobs import ingest_jsonl
from dailypapers.storage.sqlite import SQLiteStore

COPIES = 10


def parse_only(path: Path) -> int:
    n = 0
    for item in snapshot.read(path):
        n += 1
    return n


def ingest_once(path: Path) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "db.sqlite")
        store.migrate()
        start = time.perf_counter()
        summary = ingest_jsonl(store, path)
        elapsed = time.perf_counter() - start
        store.close()
    return summary.added, elapsed


def replicate(src: Path, dst: Path, copies: int) -> int:
    lines = gzip.open(src, "rt", encoding="utf-8").read().splitlines()
    n = 0
    with gzip.open(dst, "wt", encoding="utf-8", compresslevel=1) as out:
        for k in range(copies):
            for line in lines:
                record = json.loads(line)
                yy, rest = record["id"][:2], record["id"][2:]
                record["id"] = f"{30 + 2 * k + int(yy) - 25:02d}{rest}"
                out.write(json.dumps(record) + "\n")
                n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    path = args.data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"

    parse_times, ingest_times, n = [], [], 0
    for _ in range(args.repeat):
        start = time.perf_counter()
        n = parse_only(path)
        parse_times.append(time.perf_counter() - start)
        added, elapsed = ingest_once(path)
        assert added == n, (added, n)
        ingest_times.append(elapsed)
    rows = [
        ["parse only (baseline)", n, median(parse_times), n / median(parse_times)],
        ["ingest into SQLite", n, median(ingest_times), n / median(ingest_times)],
    ]
    body = table(["step", "papers", "median s", "papers/s"], rows)

    if not args.skip_memory:
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "x10.jsonl.gz"
            total = replicate(path, big, COPIES)
            cmd = [sys.executable, "-m", "dailypapers", "--data-dir", str(Path(tmp) / "data")]
            subprocess.run(cmd + ["migrate"], check=True, capture_output=True)
            start = time.perf_counter()
            result = subprocess.run(cmd + ["ingest", "jsonl", str(big)], capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if result.returncode != 0:
                sys.exit(result.stderr)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        body += "\n\n" + table(
            ["file", "papers", "seconds", "papers/s", "peak RSS MB"],
            [[f"arxiv-daily-cs x{COPIES} (new ids)", total, elapsed, total / elapsed, peak_mb]],
        )
        body += f"\n\nTargets: >= 5,000 papers/s; peak RSS <= 300 MB for the x{COPIES} file."
    append_section("Ingest throughput and memory (issue 2)", "python bench/bench_ingest.py", body)


if __name__ == "__main__":
    main()
