"""The curator's inbox: how long a day of arrivals takes to open and to triage, server side.

The bundled arrivals (demo/arrivals.jsonl.gz, 45 days of arXiv cs.CL/cs.AI/cs.CV) go into a fresh
SQLite file and are scored (no lists are loaded, so the ranker ranks by closeness to the bundled
picks: scoring cost is not what this measures). A curator then opens the busiest day's inbox over
HTTP through the real app (Starlette's TestClient: routing, CSRF, rendering, gzip, no network),
and decides on 150 of its arrivals as the keyboard script does (a JSON POST per key), undoing every
tenth. Reported: the inbox page (ms, median of --repeat loads), each decision's round trip (p50,
p99), and the server time for all 150: what stands between a curator and an empty inbox, beside
their reading time.

    python bench/bench_inbox.py [--repeat 20] [--decisions 150] [--no-append]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import re
import sys
import tempfile
import time
from pathlib import Path

from _report import append_section, median, percentile, table
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from dailypapers.app import build_services
from dailypapers.arrivals.scoring import ScoringJobs
from dailypapers.config import Settings
from dailypapers.ingest.jobs import ingest_jsonl
from dailypapers.storage.sqlite import SQLiteStore
from dailypapers.web.routes import build_app

REPO = Path(__file__).resolve().parent.parent
ARRIVALS = REPO / "demo" / "arrivals.jsonl.gz"
PASSWORD = "quiet-harbour-lantern-47"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--decisions", type=int, default=150)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = SQLiteStore(data / "dailypapers.db")
        store.migrate()
        settings = Settings(data_dir=data, secret_key="bench-inbox", base_url="http://testserver", arxiv_delay=0.0)
        services = build_services(settings, store=store, embedder=False, arxiv=object(),
                                  hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        ingest_jsonl(store, ARRIVALS)
        started = time.perf_counter()
        report = ScoringJobs(services.arrivals).score(since=dt.date(2000, 1, 1))
        scoring = time.perf_counter() - started
        services.accounts.create_user("cora@example.org", "cora", PASSWORD, role="curator", verified=True,
                                      check_strength=False)
        sizes = collections.Counter(p.announced for p in store.papers_announced_between(dt.date.min, dt.date.max))
        day, n = max(sizes.items(), key=lambda kv: kv[1])
        client = TestClient(build_app(services), base_url="http://testserver")
        token = _TOKEN.search(client.get("/login").text).group(1)
        client.post("/login", data={"email": "cora@example.org", "password": PASSWORD, "csrf_token": token,
                                    "next": "/"}, follow_redirects=False)
        page_ms = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            r = client.get(f"/curate/inbox/{day}", headers={"Accept-Encoding": "gzip"})
            page_ms.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.status_code
        token = _TOKEN.search(r.text).group(1)
        ids = [e.paper.arxiv_id for e in services.arrivals.view(day, per_page=10_000).entries]
        decide_ms = []
        actions = ("add", "skip", "skip", "pin", "skip")
        total = time.perf_counter()
        for i, arxiv_id in enumerate(ids[: args.decisions]):
            t = time.perf_counter()
            r = client.post("/curate/inbox/decide", data={"day": str(day), "arxiv_id": arxiv_id,
                                                          "action": actions[i % len(actions)], "csrf_token": token},
                            headers={"Accept": "application/json"})
            decide_ms.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (r.status_code, r.text[:200])
            if i % 10 == 9:
                t = time.perf_counter()
                client.post("/curate/inbox/undo", data={"day": str(day), "csrf_token": token},
                            headers={"Accept": "application/json"})
                decide_ms.append((time.perf_counter() - t) * 1000)
        total_s = time.perf_counter() - total
        store.close()
    rows = [
        [f"open the inbox of {day} ({n} arrivals)", args.repeat, f"{median(page_ms):.1f}",
         f"{percentile(page_ms, 99):.1f}"],
        ["one decision (add/pin/skip/undo, JSON)", len(decide_ms), f"{median(decide_ms):.1f}",
         f"{percentile(decide_ms, 99):.1f}"],
    ]
    body = (table(["step", "n", "p50 ms", "p99 ms"], rows)
            + f"\n\nAll {min(args.decisions, len(ids))} decisions and {len(decide_ms) - min(args.decisions, len(ids))} "
            f"undos: {total_s:.2f} s of server time. Scoring the {report.scored:,} bundled arrivals first: "
            f"{scoring:.1f} s. In-process through the real app (TestClient), SQLite.\n")
    print(body)
    if not args.no_append:
        append_section("Curator's inbox: open a day, triage 150 arrivals (bench_inbox.py)",
                       "python bench/bench_inbox.py " + " ".join(sys.argv[1:]), body)


if __name__ == "__main__":
    main()
