"""`dailypapers embed` killed with SIGKILL at seeded random points (tests/crashcheck.py), then rerun:
every committed embedding stays, the database passes its checks, and the rerun embeds exactly the
papers still missing one, so that in the end every paper has one vector and the index serves them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import crashcheck
import pytest

from dailypapers.search.embedder import load_embedder

pytestmark = pytest.mark.skipif(load_embedder() is None, reason="no packaged embedding model")

N_PAPERS = 600  # embeddings commit every 256 papers (COMMIT_EVERY): three commits


def write_papers(path, fixtures) -> None:
    base = [json.loads(line) for line in (fixtures / "arxiv_daily_sample.jsonl").open()]
    with open(path, "w") as f:
        for i in range(N_PAPERS):
            record = dict(base[i % len(base)])
            record["id"] = f"2702.{i:05d}"
            record["title"] = f"{record['title']} (copy {i})"  # its own text, so its own vector
            record["abstract"] = record["abstract"][:200]  # short texts: a quicker run
            f.write(json.dumps(record) + "\n")


def test_embed_killed_at_random_points_then_rerun(tmp_path, fixtures):
    data_dir = tmp_path / "data"
    papers = tmp_path / "papers.jsonl"
    write_papers(papers, fixtures)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_EMBED_BATCH_SIZE"] = "16"
    cmd = [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir)]
    subprocess.run(cmd + ["migrate"], check=True, capture_output=True, env=env)
    subprocess.run(cmd + ["ingest", "jsonl", str(papers)], check=True, capture_output=True, env=env)
    db = data_dir / "dailypapers.db"
    vectors = "SELECT COUNT(*) FROM embeddings"
    tried, before = [], 0
    # Seconds from the start (some kills land while the model loads or before the first commit),
    # or the moment a run's first commit shows, whichever comes first: on a fast machine the
    # whole run may take less than the drawn moment, and a kill must still land mid-run.
    for delay in crashcheck.schedule("embed", 1.0, 10.0):
        proc = subprocess.Popen(cmd + ["embed"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        started, finished = time.monotonic(), False
        while True:
            if proc.poll() is not None:
                finished = True
                break
            now = crashcheck.count(db, vectors)
            if now >= N_PAPERS:  # its last commit: it is finishing, not a kill point
                proc.wait(timeout=300)
                finished = True
                break
            if time.monotonic() - started >= delay or now > before:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.02)
        if finished:
            before = crashcheck.count(db, vectors)
            break
        tried.append(round(time.monotonic() - started, 2))
        assert crashcheck.sqlite_problems(db) == []
        now = crashcheck.count(db, vectors)
        assert before <= now <= N_PAPERS, "a committed embedding was lost"
        before = now
        if now == N_PAPERS:  # the last commit landed between the count and the kill
            break
    crashcheck.report("embed", tried)
    assert tried, "embedding finished before any kill"

    done = subprocess.run(cmd + ["embed"], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert f"embedded {N_PAPERS - before} papers" in done.stdout  # only the missing ones
    assert crashcheck.sqlite_problems(db) == []
    assert crashcheck.count(db, vectors) == N_PAPERS
    assert crashcheck.count(db, "SELECT COUNT(*) FROM papers p LEFT JOIN embeddings e USING (arxiv_id) "
                                "WHERE e.arxiv_id IS NULL") == 0
    assert crashcheck.count(db, "SELECT COUNT(*) FROM embeddings WHERE sentences IS NULL") == 0
    again = subprocess.run(cmd + ["embed"], capture_output=True, text=True, timeout=300, env=env)
    assert "embedded 0 papers" in again.stdout
    assert "embedded the sentences of 0 papers" in again.stdout
    # the vector index, synced after the kills, holds every copy of a paper (one per 30 records)
    found = subprocess.run(cmd + ["search", "prosthetic vision face representation", "--mode", "semantic",
                                  "--limit", "100", "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert found.returncode == 0, found.stderr
    ids = {hit["id"] for hit in json.loads(found.stdout)["results"]}
    assert {f"2702.{i:05d}" for i in range(0, N_PAPERS, 30)} <= ids
