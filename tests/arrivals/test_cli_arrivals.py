"""`dailypapers arrivals score | status` and the schedule, through the real command on the real slice
(on both backends: `cli` runs it with `--database-url` on PostgreSQL)."""

from __future__ import annotations

import json

from dailypapers.storage import open_store


def test_ingest_then_score_ranks_every_arrival_and_status_says_how(cli, fixtures):
    env = {"DAILYPAPERS_CATEGORIES": "cs.CV,cs.CL,cs.AI"}
    cli("migrate", check=True)
    cli("ingest", "jsonl", str(fixtures / "arrivals" / "arrivals.jsonl.gz"), check=True, env=env)
    cli("ingest", "hf-daily", str(fixtures / "arrivals" / "lists"), check=True, env=env)
    before = json.loads(cli("arrivals", "status", "--json", check=True, env=env).stdout)
    assert before == {"model": None, "latest_day": "2025-10-31"}
    out = cli("arrivals", "score", "--since", "2025-10-01", check=True, env=env).stdout
    assert "scored 412 arrivals on 19 days" in out
    status = json.loads(cli("arrivals", "status", "--json", check=True, env=env).stdout)
    assert status["model"]["kind"] == "trained" and status["model"]["positives"] > 20
    store = open_store(cli.db_url)
    try:
        assert store.read("SELECT COUNT(*) FROM arrival_scores")[0][0] == 412
        # every paper of the bulk file has the day it was first listed
        assert store.read("SELECT COUNT(*) FROM papers WHERE categories != '[]' AND announced IS NULL")[0][0] == 0
    finally:
        store.close()
    assert "scored 0 arrivals" in cli("arrivals", "score", "--since", "2025-10-01", check=True, env=env).stdout
    bad = cli("arrivals", "score", "--since", "2025-13-01", env=env)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_schedule_runs_the_ranker(cli):
    lines = cli("schedule", check=True).stdout.splitlines()
    jobs = [line.split("#")[0].split()[5:] for line in lines if not line.startswith(("#", "CRON_TZ"))]
    dp = ["dailypapers", "--data-dir", str(cli.data_dir)]
    assert dp + ["arrivals", "score"] in jobs and dp + ["arrivals", "train"] in jobs
