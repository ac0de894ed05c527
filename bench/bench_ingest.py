"""Ingest throughput and peak memory for bulk JSONL.

Throughput: the 57,852 papers of arxiv-daily-cs into a fresh SQLite database,
in-process, without embeddings; median of --repeat runs. The baseline, measured
in the same run, is parsing alone (gzip + JSON + records, no database), which
bounds what any storage could reach.

Memory: the same file replicated ten times with new ids (copy k maps id
YYMM.NNNNN to (30 + 2k + YY - 25)MM.NNNNN, unique across copies), ingested by
the real CLI in a subprocess, which also brings the search index up to date.
Peak RSS is sampled from /proc every 50 ms and split into anonymous memory (the
process's own) and file-backed pages (mapped index segments and libraries, which
the kernel can drop), and reported for the ingest and index phases apart.

    python bench/bench_ingest.py [--data ../shared/data] [--repeat 3] [--skip-memory]
"""

from __future__ import annotations

import argparse
import gzip
import json
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
    for _ in snapshot.read(path):
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


def sample_memory(proc: subprocess.Popen) -> dict[str, dict[str, float]]:
    """Peak memory of a running process, split at the moment its papers are all committed."""
    phases = {"ingest (stream + commit)": {}, "search index sync": {}}
    phase = "ingest (stream + commit)"
    while proc.poll() is None:
        try:
            status = open(f"/proc/{proc.pid}/status").read()
        except OSError:
            break
        now = {}
        for line in status.splitlines():
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                now[key] = int(line.split()[1]) / 1024
        # The command prints its summary line when the last batch is committed, then syncs.
        if phase.startswith("ingest") and proc.stdout and _ready(proc.stdout):
            phase = "search index sync"
        peak = phases[phase]
        for key, value in now.items():
            peak[key] = max(peak.get(key, 0.0), value)
        time.sleep(0.05)
    return phases


def _ready(stream) -> bool:
    import select

    return bool(select.select([stream], [], [], 0)[0])


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
            proc = subprocess.Popen(cmd + ["ingest", "jsonl", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            phases = sample_memory(proc)
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                sys.exit(proc.stderr.read().decode())
        rows = [
            [f"{phase} (x{COPIES}, {total:,} papers)", p["VmRSS"], p["RssAnon"], p["RssFile"]]
            for phase, p in phases.items()
        ]
        body += "\n\n" + table(["phase", "peak RSS MB", "anonymous MB", "file-backed MB"], rows)
        body += f"\n\nWhole command: {elapsed:.0f} s. Targets: >= 5,000 papers/s; peak RSS <= 300 MB."
    append_section("Ingest throughput and memory (issue 2)", "python bench/bench_ingest.py", body)


if __name__ == "__main__":
    main()
