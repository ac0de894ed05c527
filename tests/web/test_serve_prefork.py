"""`dailypapers serve --workers 2`: a supervisor that loads the query model once and forks the
workers (cli/serve.py). A real server process on a free port, with the packaged model and the
fixture papers embedded, so the workers run hybrid searches on the model the supervisor loaded.
A worker that dies is replaced; SIGTERM stops the supervisor and every worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from webapp import free_port

from dailypapers.search.embedder import load_embedder

CLI = Path(sys.executable).parent / "dailypapers"

pytestmark = pytest.mark.skipif(load_embedder() is None, reason="no packaged embedding model")


def children(pid: int) -> set[int]:
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.add(int(d))
    return out


def until(check, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


def test_forked_workers_search_with_the_shared_model_and_are_replaced(fresh_data_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_SECRET_KEY="test-secret-key-for-prefork", PYTHONUNBUFFERED="1")
    subprocess.run([str(CLI), "--data-dir", str(fresh_data_dir), "embed"], env=env, check=True,
                   capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    err = tmp_path / "stderr"
    with err.open("w") as f:
        proc = subprocess.Popen([str(CLI), "--data-dir", str(fresh_data_dir), "serve", "--port", str(port),
                                 "--workers", "2"], stdout=subprocess.DEVNULL, stderr=f, env=env)
    try:
        def up() -> bool:
            assert proc.poll() is None, err.read_text()
            try:
                return httpx.get(base + "/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        assert until(up, 60), err.read_text()
        assert until(lambda: len(children(proc.pid)) == 2), children(proc.pid)
        first = children(proc.pid)
        with httpx.Client(base_url=base, timeout=10) as c:
            for n, q in enumerate(["language model reasoning", "image generation", "robot learning",
                                   "speech recognition", "protein structure", "graph neural networks"]):
                page = c.get("/papers/search", params={"q": f"{q} {n}", "mode": "hybrid"})
                assert page.status_code == 200
                assert "Semantic search is not available" not in page.text
                assert "results are keyword matches only" not in page.text
                api = c.get("/api/papers/search", params={"q": q})
                assert api.status_code == 200 and isinstance(api.json(), list)

            assert c.get("/papers/new").status_code == 200
        # Pages read the stored arrival scores: no worker (nor the supervisor) maps the ranker's
        # scikit-learn or SciPy, ~90 MB a process (arrivals/scoring.py is the CLI's alone).
        for pid in first | {proc.pid}:
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert "/sklearn/" not in maps and "/scipy/" not in maps, pid

        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        assert until(lambda: victim not in children(proc.pid) and len(children(proc.pid)) == 2), err.read_text()
        assert until(up)
        assert httpx.get(base + "/papers/search", params={"q": "diffusion"}, timeout=10).status_code == 200

        workers = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, err.read_text()
        assert until(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
