"""What a server process's memory is made of under the load bench's mix: tracemalloc's Python heap
against the process's RSS, every 10 s, in one process.

bench/bench_load.py measures `serve --workers 2` from outside; this one runs the app in its own
process (uvicorn in a thread, built as a `serve` worker is: cli/serve.serving_app) with tracemalloc
on, and the load from a child process (bench_load.run_load), so that the heap it reports is the
server's alone. RSS growing while the heap stays flat is native memory: the allocator, or a native
library. `--malloc-arenas N` caps glibc's malloc arenas first, as `serve` does (the setting
malloc_arenas; 0: glibc's default). At the end, the largest holders of the Python heap by file.

    python bench/bench_load_heap.py [--duration 360] [--accounts 120] [--malloc-arenas 2]

Prints its figures; BENCHMARKS.md quotes them by hand (tracemalloc slows the server, so its request
rates are not the product's).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_load  # noqa: E402

LOAD = """
import pickle, sys
sys.path.insert(0, {bench!r})
import bench_load
site = pickle.loads(open({site!r}, "rb").read())
tally = bench_load.run_load(site, {base!r}, duration={duration}, think=1.0)
print("load:", sum(len(v) for v in tally.latencies.values()), "requests,", len(tally.errors), "errors")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=360.0)
    ap.add_argument("--accounts", type=int, default=120)
    ap.add_argument("--malloc-arenas", type=int, default=2)
    args = ap.parse_args()

    from dailypapers.cli.serve import tune_malloc

    capped = tune_malloc(args.malloc_arenas)  # first, as `serve` does
    import uvicorn

    from dailypapers.cli.serve import server_options, serving_app
    from dailypapers.config import load_settings

    env = bench_load.base_env()
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-heap-"))
    try:
        site = bench_load.prepare(tmp / "data", env, accounts=args.accounts,
                                  embeddings=bench_load.DEMO / "embeddings.npz")
        port = bench_load.free_port()
        settings = load_settings({"data_dir": tmp / "data", "port": port}, environ=env)
        tracemalloc.start(1)
        app = serving_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, **server_options(settings)))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.2)
        print(f"malloc arenas: {args.malloc_arenas if capped else 'glibc default'}; {args.accounts} accounts, "
              f"{args.duration:.0f} s", flush=True)
        stop = threading.Event()
        cache = app.state.site.cache

        def sample() -> None:
            t0 = time.monotonic()
            while not stop.wait(10):
                heap, _ = tracemalloc.get_traced_memory()
                print(f"{time.monotonic() - t0:4.0f} s  RSS {bench_load.rss_mb(os.getpid()):4.0f} MB  "
                      f"heap {heap / 2**20:4.0f} MB  page cache {len(cache)} entries {cache.bytes / 2**20:3.0f} MB  "
                      f"threads {threading.active_count()}", flush=True)

        threading.Thread(target=sample, daemon=True).start()
        pickled = tmp / "site.pickle"
        pickled.write_bytes(pickle.dumps(site))
        code = LOAD.format(bench=str(Path(__file__).resolve().parent), site=str(pickled),
                           base=f"http://127.0.0.1:{port}", duration=args.duration)
        subprocess.run([sys.executable, "-c", code], check=True)
        stop.set()
        print("the Python heap's largest holders (MB, blocks, file):")
        for stat in tracemalloc.take_snapshot().statistics("filename")[:10]:
            print(f"  {stat.size / 2**20:6.1f} {stat.count:8d} {stat.traceback[0].filename}")
        server.should_exit = True
        thread.join(30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
