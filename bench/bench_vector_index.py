#!/usr/bin/env python3
"""Vector index choice on real embeddings: recall@10 against exact search, latency, size,
for usearch HNSW with float32 / float16 / int8 storage and several ef.

    python bench/bench_vector_index.py [--vectors bench/cache/corpus68k.npz] [--data ../shared/data]

Vectors: bench/cache/corpus68k.npz when present (all ~64k papers), else the random sample made by
``corpus-sample<N>-<model>.npz`` (real paper embeddings from the packaged model). Queries: the
topic queries of ../shared/data/queries/topic_queries.txt embedded with the packaged model
(real queries, real vectors). Exact = brute-force float32 cosine over the same vectors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_corpus import CACHE, REPO, bench_embedder  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--vectors", type=Path, default=None)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
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
    for dtype in ("f32", "f16", "i8"):
        index = Index(ndim=X.shape[1], metric="cos", dtype=dtype, connectivity=V.CONNECTIVITY,
                      expansion_add=V.EXPANSION_ADD)
        t = time.perf_counter()
        index.add(np.arange(len(X), dtype=np.uint64), X, threads=0)
        build = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            f = Path(tmp) / "i.usearch"
            index.save(str(f))
            size = f.stat().st_size / 2**20
            view = Index.restore(str(f), view=True)
            for ef in (64, 128, 256, 512, 1024):
                view.expansion_search = ef
                rec, times = [], []
                for q, truth in zip(Q, exact):
                    t = time.perf_counter()
                    m = view.search(q, 10, threads=1)
                    times.append((time.perf_counter() - t) * 1000)
                    rec.append(len(set(m.keys.tolist()) & truth) / 10)
                ex_rec = None
                if ef == 512:
                    ex_rec = float(np.mean([len(set(view.search(q, 10, exact=True).keys.tolist()) & tr) / 10
                                            for q, tr in zip(Q[:200], exact[:200])]))
                rows.append([dtype, ef, float(np.mean(rec)), float(np.median(times)), float(np.percentile(times, 99)),
                             round(size), round(build, 1), "-" if ex_rec is None else ex_rec])
                print(rows[-1], flush=True)
            del view
    from _report import append_section, table

    body = "\n".join([
        f"{len(X)} real paper vectors ({path.name}, model {str(z['model_id']) if 'model_id' in z.files else '?'}), "
        f"{len(Q)} real topic queries embedded by {emb.model_id} ({note}); exact = brute-force float32 "
        f"({brute_ms:.1f} ms/query here). HNSW M={V.CONNECTIVITY}, efConstruction={V.EXPANSION_ADD}, "
        "one thread per query.",
        "",
        table(["dtype", "ef", "recall@10", "p50 ms", "p99 ms", "file MB", "build s",
               "recall@10 exact scan (quantization alone)"], rows),
        "",
        f"Chosen: {V.DTYPE}, ef={V.EXPANSION_SEARCH} (src/dailypapers/search/vectors.py).",
    ])
    print(body)
    if not args.no_report:
        append_section("Vector index (usearch) on real embeddings", None, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
