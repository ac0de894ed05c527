"""Compose and send 10,000 personalized digests to a local SMTP sink; digests/s and peak memory.

Setup (not timed):
* papers: the real Hugging Face Daily Papers of the last 20 list days up to --date
  (../shared/data/hf-daily-papers/raw), ingested with the real importer; ~20 days x ~20 papers;
* embeddings of those papers: the real all-MiniLM-L6-v2 vectors shipped in demo/embeddings.npz
  (same model as the packaged embedder, so topics are also matched semantically: each distinct
  topic is embedded once per run), else bench/cache/corpus68k.npz, else synthetic 384-d unit
  vectors (one of 40 clusters + noise); the table says which;
* 10,000 confirmed subscribers: 70% with 1-5 topics drawn (Zipf-like) from the 1,000 real topic
  queries in ../shared/data/queries/topic_queries.txt, 20% members with "papers like the ones I
  upvoted" (5-30 upvotes each among the 20 days' papers, plus 0-2 topics), 10% trending only;
* the SMTP sink: aiosmtpd in its own process (as an MTA would be), counting and discarding.

Timed: the real CLI, `dailypapers digest send --period daily --date D` in a subprocess (process
start and imports included), sending over one SMTP connection with digest_rate unlimited and
digest_batch 100. Peak RSS of that process from getrusage(RUSAGE_CHILDREN). Between repeats the
send log and sent-papers tables are emptied, so each repeat does the same work. The sink must
report exactly N messages to N distinct recipients.

    python bench/bench_digests.py [--n 10000] [--repeat 3] [--date 2026-08-20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import DEFAULT_DATA, REPO, append_section, median, table

RUNNER = "from dailypapers.cli import main; main(prog_name='dailypapers')"

SINK = r'''
import asyncio, signal, sys
from aiosmtpd.controller import Controller
class Count:
    def __init__(self): self.n = 0; self.rcpts = set(); self.bytes = 0
    async def handle_DATA(self, server, session, envelope):
        self.n += 1; self.bytes += len(envelope.content); self.rcpts.update(envelope.rcpt_tos)
        return "250 OK"
h = Count()
c = Controller(h, hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "count":
        print(f"{h.n} {len(h.rcpts)} {h.bytes}", flush=True)
    elif cmd == "reset":
        h.n = 0; h.rcpts = set(); h.bytes = 0
        print("ok", flush=True)
    elif cmd == "quit":
        break
c.stop()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_papers(store, raw: Path, day: dt.date, days: int, tmp: Path) -> None:
    from dailypapers.ingest.jobs import ingest_hf_daily

    files = sorted(p for p in raw.glob("*.json.gz") if p.name[:10] <= day.isoformat())[-days:]
    folder = tmp / "hf"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    ingest_hf_daily(store, folder)


def load_vectors(store, ids: list[str], rng: np.random.Generator) -> str:
    rows = []
    source = "synthetic (40 clusters + noise)"
    for cache in (REPO / "demo" / "embeddings.npz", REPO / "bench" / "cache" / "corpus68k.npz"):
        if rows or not cache.exists():
            continue
        data = np.load(cache, allow_pickle=False)
        where = {str(a): i for i, a in enumerate(data["ids"])}
        model = str(data["model_id"])
        found = [(a, data["vectors"][where[a]].astype("<f4")) for a in ids if a in where]
        if len(found) >= 0.9 * len(ids):
            rows = found
            source = f"real ({model} from {cache.relative_to(REPO)}, {len(found)}/{len(ids)} papers)"
    if not rows:
        model = "bench-synthetic"
        centers = rng.standard_normal((40, 384)).astype(np.float32)
        for a in ids:
            v = centers[int(hashlib.sha1(a.encode()).hexdigest(), 16) % 40] + 0.6 * rng.standard_normal(384)
            rows.append((a, (v / np.linalg.norm(v)).astype("<f4")))
    store.put_embeddings(model, [(a, "bench", v.tobytes()) for a, v in rows])
    return source


def add_subscribers(store, n: int, paper_ids: list[str], topics: list[str], rng: random.Random) -> dict:
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(topics))]
    now = "2026-08-01T00:00:00Z"
    users, votes, subs = [], [], []
    kinds = {"topics": 0, "upvotes": 0, "trending": 0}
    for i in range(n):
        r = rng.random()
        user_id, include, chosen = None, 0, []
        if r < 0.7:
            kinds["topics"] += 1
            chosen = list(dict.fromkeys(rng.choices(topics, weights, k=rng.randint(1, 5))))
        elif r < 0.9:
            kinds["upvotes"] += 1
            user_id = len(users) + 1
            users.append((user_id, f"member{i}@example.org", f"member{i}", now, now))
            for aid in rng.sample(paper_ids, rng.randint(5, min(30, len(paper_ids)))):
                votes.append((user_id, aid, now))
            include = 1
            chosen = list(dict.fromkeys(rng.choices(topics, weights, k=rng.randint(0, 2))))
        else:
            kinds["trending"] += 1
        subs.append((f"reader{i:05d}@example.org", user_id, "daily", json.dumps(chosen), include, now, now,
                     secrets.token_urlsafe(16)))
    with store.write() as conn:
        conn.executemany("INSERT INTO users (id, email, name, role, verified_at, created_at) "
                         "VALUES (?, ?, ?, 'member', ?, ?)", users)
        conn.executemany("INSERT INTO votes (user_id, arxiv_id, created_at) VALUES (?, ?, ?)", votes)
        conn.executemany(
            "INSERT INTO subscriptions (email, user_id, frequency, topics, include_upvotes, confirmed_at, created_at, "
            "manage_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", subs)
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--date", default="2026-08-20")
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--no-report", action="store_true", help="Do not append to BENCHMARKS.md.")
    args = ap.parse_args()

    from dailypapers.storage.sqlite import SQLiteStore

    day = dt.date.fromisoformat(args.date)
    rng = random.Random(6)
    tmp = Path(tempfile.mkdtemp(prefix="bench-digests-"))
    data_dir = tmp / "data"
    store = SQLiteStore(data_dir / "dailypapers.db")
    store.migrate()
    t = time.perf_counter()
    load_papers(store, args.data / "hf-daily-papers" / "raw", day, args.days, tmp)
    ids = [r[0] for r in store.read("SELECT arxiv_id FROM papers ORDER BY arxiv_id")]
    vec_source = load_vectors(store, ids, np.random.default_rng(6))
    topics = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    kinds = add_subscribers(store, args.n, ids, topics, rng)
    pool = len(store.digest_pool(day, day))
    store.close()
    setup = time.perf_counter() - t
    print(f"setup {setup:.1f}s: {len(ids)} papers ({pool} on {day}), {args.n} subscribers {kinds}, "
          f"vectors {vec_source}", file=sys.stderr)

    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert sink.stdout.readline().strip() == "ready"

    def ask(cmd: str) -> str:
        sink.stdin.write(cmd + "\n")
        sink.stdin.flush()
        return sink.stdout.readline().strip()

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update({
        "DAILYPAPERS_SECRET_KEY": "bench-secret-key-0000000000", "DAILYPAPERS_BASE_URL": "https://papers.example.org",
        "DAILYPAPERS_SMTP_HOST": "127.0.0.1", "DAILYPAPERS_SMTP_PORT": str(port), "DAILYPAPERS_SMTP_SECURITY": "none",
        "DAILYPAPERS_MAIL_FROM": "Daily Papers <papers@example.org>", "DAILYPAPERS_DIGEST_RATE": "0",
        "DAILYPAPERS_DIGEST_BATCH": "100",
    })
    cmd = [sys.executable, "-c", RUNNER, "--data-dir", str(data_dir), "digest", "send", "--period", "daily",
           "--date", day.isoformat(), "--quiet"]
    rows, rates = [], []
    try:
        for rep in range(1, args.repeat + 1):
            if rep > 1:
                s = SQLiteStore(data_dir / "dailypapers.db")
                with s.write() as conn:
                    conn.execute("DELETE FROM digest_sent_papers")
                    conn.execute("DELETE FROM digest_sends")
                s.close()
                assert ask("reset") == "ok"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                raise SystemExit(f"digest send failed ({proc.returncode}): {proc.stderr}")
            n_msgs, n_rcpts, n_bytes = (int(x) for x in ask("count").split())
            assert n_msgs == n_rcpts, (n_msgs, n_rcpts)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rate = n_msgs / elapsed
            rates.append(rate)
            rss = after.ru_maxrss / 1024
            print(f"run {rep}: {proc.stdout.strip()} in {elapsed:.1f}s = {rate:.0f}/s", file=sys.stderr)
            rows.append([rep, n_msgs, round(elapsed, 2), round(rate, 1), round(cpu / n_msgs * 1000, 2),
                         round(n_bytes / n_msgs / 1024, 1), round(rss, 1)])
    finally:
        try:
            ask("quit")
        except (BrokenPipeError, OSError):
            pass
        sink.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)

    load = os.getloadavg()
    body = table(["run", "digests sent", "wall s", "digests/s", "sender CPU ms/digest", "KiB/message",
                  "peak RSS MiB (max so far)"], rows)
    body += (
        f"\n\nMedian: **{median(rates):.0f} digests/s** (target >= 100). {args.n} subscribers "
        f"({kinds['topics']} with topics, {kinds['upvotes']} members with upvote profiles, {kinds['trending']} "
        f"trending only); {len(ids)} real HF papers over {args.days} list days, {pool} on {day}; "
        f"embeddings: {vec_source}. Each run is the real CLI in a fresh process (start-up included), one SMTP "
        f"connection to an aiosmtpd sink in another process, digest_rate unlimited, batch 100. "
        f"Peak RSS is getrusage(RUSAGE_CHILDREN).ru_maxrss after each run: the largest `digest send` process so far "
        f"(the sink is not reaped until the end). "
        f"Load average during the run: {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} cores: "
        f"the machine is shared with other jobs, so expect noise."
    )
    print(body)
    if not args.no_report:
        append_section("Digests: compose + send 10,000 personalized digests", None, body)


if __name__ == "__main__":
    main()
