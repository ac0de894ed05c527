#!/usr/bin/env python3
"""Vector index choice on real embeddings: recall@10 against exact search, latency, size,
for usearch HNSW with float32 / float16 / int8 storage and several ef.

Two int8 kinds: ``i8`` is usearch's own cast (the normalized vector times a fixed 127), ``i8s`` is
what the product stores (vectors.quantize: each vector scaled so that its largest component is 127,
and the query quantized the same way).

    python bench/bench_vector_index.py [--vectors bench/cache/corpus68k.npz] [--data ../shared/data]
    python bench/bench_vector_index.py --scale 1000000 [--configs f16:16:128,f16:16:64,i8s:16:128]

Vectors: bench/cache/corpus68k.npz when present (all ~64k papers), else the random sample made by
``corpus-sample<N>-<model>.npz`` (real paper embeddings from the packaged model). Queries: the
topic queries of ../shared/data/queries/topic_queries.txt embedded with the packaged model
(real queries, real vectors). Exact = brute-force float32 cosine over the same vectors.

``--scale N``: how the build scales, for a fresh node's catch-up. The real vectors (corpus68k.npz,
else the real ones shipped in demo/) replicated up to N with bench/_search_corpus.py's
``replica_vectors`` (new copies, sigma-0.02 noise, renormalized), then for each configuration
``dtype:connectivity:expansion_add`` an index built as the catch-up builds it (batches of
``--batch`` vectors, ``add(..., threads=cores)``): build wall and CPU seconds, vectors/s, the
index's memory, recall@10 against exact float32 search over all N at several ef, and the search
p50/p99 at the index's ef (one thread a query).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import append_section, table  # noqa: E402
from _search_corpus import CACHE, REPO, bench_embedder  # noqa: E402


def _kind(dtype: str):
    """(usearch dtype, how vectors and queries are handed to it) for a row of the table."""
    from dailypapers.search.vectors import quantize

    if dtype == "i8s":
        return "i8", quantize
    return dtype, lambda v: np.ascontiguousarray(v, dtype=np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--vectors", type=Path, default=None)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--scale", type=int, default=0, metavar="N", help="build configurations at N vectors")
    ap.add_argument("--configs", default="f16:16:128,i8s:16:128,f16:16:64,i8s:16:64,i8:16:64",
                    help="--scale: dtype:connectivity:expansion_add, comma-separated")
    ap.add_argument("--batch", type=int, default=100_000, help="--scale: vectors per add() call")
    ap.add_argument("--efs", default="128,256,512", help="--scale: the search beams to measure recall at")
    args = ap.parse_args()
    if args.scale:
        return scale(args)
    from dailypapers.search import vectors as V

    Index = V.usearch_index_class()  # onnxruntime first: the other order crashes (see vectors.py)

    path = args.vectors
    if path is None:
        found = [CACHE / "corpus68k.npz"] + sorted(CACHE.glob("corpus-sample*.npz"), reverse=True)
        path = next((p for p in found if p.exists()), None)
    if path is None:
        print("no real corpus vectors in bench/cache (corpus68k.npz or corpus-sample*.npz)")
        return 1
    z = np.load(path, allow_pickle=False)
    X = np.asarray(z["vectors"], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    emb, note = bench_embedder()
    qs = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    qs = qs[: args.queries]
    Q = np.stack([emb.embed_query(q) for q in qs]).astype(np.float32)
    sims = Q @ X.T
    exact = [set(np.argpartition(-row, 10)[:10].tolist()) for row in sims]
    t = time.perf_counter()
    for q in Q[:100]:
        np.argpartition(-(X @ q), 10)[:10]
    brute_ms = (time.perf_counter() - t) / 100 * 1000
    rows = []
    for dtype in ("f32", "f16", "i8", "i8s"):
        kind, prep = _kind(dtype)
        index = Index(ndim=X.shape[1], metric="cos", dtype=kind, connectivity=V.CONNECTIVITY,
                      expansion_add=V.EXPANSION_ADD)
        t = time.perf_counter()
        index.add(np.arange(len(X), dtype=np.uint64), prep(X), threads=0)
        build = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "i.usearch"
            index.save(str(f))
            size = f.stat().st_size / 2**20
            view = Index.restore(str(f), view=True)
            for ef in (64, 128, 256, 512, 640, 768, 1024):
                view.expansion_search = ef
                rec, times = [], []
                for q, truth in zip(Q, exact):
                    t = time.perf_counter()
                    m = view.search(prep(q), 10, threads=1)
                    times.append((time.perf_counter() - t) * 1000)
                    rec.append(len(set(m.keys.tolist()) & truth) / 10)
                ex_rec = None
                if ef == 512:
                    ex_rec = float(np.mean([len(set(view.search(prep(q), 10, exact=True).keys.tolist()) & tr) / 10
                                            for q, tr in zip(Q[:200], exact[:200])]))
                rows.append([dtype, ef, float(np.mean(rec)), float(np.median(times)), float(np.percentile(times, 99)),
                             round(size), round(build, 1), "-" if ex_rec is None else ex_rec])
                print(rows[-1], flush=True)
            del view
    body = "\n".join([
        f"{len(X)} real paper vectors ({path.name}, model {str(z['model_id']) if 'model_id' in z.files else '?'}), "
        f"{len(Q)} real topic queries embedded by {emb.model_id} ({note}); exact = brute-force float32 "
        f"({brute_ms:.1f} ms/query here). HNSW M={V.CONNECTIVITY}, efConstruction={V.EXPANSION_ADD}, "
        "one thread per query.",
        "",
        table(["dtype", "ef", "recall@10", "p50 ms", "p99 ms", "file MB", "build s",
               "recall@10 exact scan (quantization alone)"], rows),
        "",
        f"Chosen: {V.DTYPE} scaled per vector (the i8s rows), ef={V.EXPANSION_SEARCH} "
        "(src/dailypapers/search/vectors.py).",
    ])
    print(body)
    if not args.no_report:
        append_section("Vector index (usearch) on real embeddings", None, body)
    return 0


def _real_vectors(path: Path | None) -> tuple[np.ndarray, str]:
    if path is None and (CACHE / "corpus68k.npz").exists():
        path = CACHE / "corpus68k.npz"
    if path is not None:
        X = np.asarray(np.load(path, allow_pickle=False)["vectors"], dtype=np.float32)
        name = path.name
    else:
        X = np.concatenate([np.load(REPO / "demo" / n)["vectors"].astype(np.float32)
                            for n in ("embeddings.npz", "arrivals-embeddings.npz")])
        name = "demo/embeddings.npz + demo/arrivals-embeddings.npz"
    return X / np.linalg.norm(X, axis=1, keepdims=True), name


def scale(args) -> int:
    import os
    import resource

    from _search_corpus import replica_vectors

    from dailypapers.search import vectors as V

    Index = V.usearch_index_class()
    base, name = _real_vectors(args.vectors)
    n = args.scale
    X = np.concatenate([replica_vectors(base, k) for k in range(-(-n // len(base)))])[:n]
    emb, note = bench_embedder()
    qs = [q.strip() for q in (args.data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    Q = np.stack([emb.embed_query(q) for q in qs[: args.queries]]).astype(np.float32)
    Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    truth = []
    for s in range(0, len(Q), 50):  # exact float32 top-10 over all N
        sims = Q[s : s + 50] @ X.T
        truth += [set(np.argpartition(-row, 10)[:10].tolist()) for row in sims]
    del sims
    threads = os.cpu_count() or 1
    efs = [int(e) for e in args.efs.split(",")]
    rows = []
    for config in args.configs.split(","):
        dtype, conn, efa = config.split(":")
        kind, prep = _kind(dtype)
        index = Index(ndim=X.shape[1], metric="cos", dtype=kind, connectivity=int(conn), expansion_add=int(efa))
        wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        for s in range(0, n, args.batch):
            index.add(np.arange(s, min(n, s + args.batch), dtype=np.uint64), prep(X[s : s + args.batch]),
                      threads=threads)
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
        recalls = {}
        for ef in efs:
            index.expansion_search = ef
            times = []
            rec = []
            for q, tr in zip(Q, truth):
                t = time.perf_counter()
                m = index.search(prep(q), 10, threads=1)
                times.append((time.perf_counter() - t) * 1000)
                rec.append(len(set(m.keys.tolist()) & tr) / 10)
            recalls[ef] = (float(np.mean(rec)), float(np.median(times)), float(np.percentile(times, 99)))
        rows.append([dtype, int(conn), int(efa), round(wall), round(cpu_s), round(n / wall), round(n / cpu_s),
                     round(index.memory_usage / 2**20)]
                    + [f"{recalls[ef][0]:.3f} ({recalls[ef][1]:.2f} / {recalls[ef][2]:.2f})" for ef in efs])
        print(rows[-1], f"load {os.getloadavg()[0]:.1f}", flush=True)
        del index
    body = "\n".join([
        f"{n:,} vectors: the {len(base):,} real vectors of {name} replicated (bench/_search_corpus.py "
        f"replica_vectors: each copy sigma-0.02 noise, renormalized); {len(Q)} real topic queries embedded by "
        f"{emb.model_id} ({note}); recall@10 against exact float32 search over all {n:,}. Built as a fresh node's "
        f"catch-up does: add() in batches of {args.batch:,} with threads={threads}. Load average at "
        f"the end {os.getloadavg()[0]:.1f} on {threads} shared cores: wall times are inflated, CPU seconds less so.",
        "",
        table(["dtype", "M", "ef add", "build s", "build CPU s", "vectors/s", "vectors/CPU-s", "memory MB"]
              + [f"recall@10 ef{ef} (p50 / p99 ms)" for ef in efs], rows),
    ])
    print(body)
    if not args.no_report:
        append_section(f"Vector index build at {n:,} vectors (fresh node's catch-up)",
                       "python bench/bench_vector_index.py " + " ".join(sys.argv[1:]), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
