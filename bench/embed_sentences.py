#!/usr/bin/env python3
"""Embed the titles and abstract sentences of the ~64k bench corpus with the shipped model, as the
embedding job does (dailypapers.search.sentences), and cache them in bench/cache/corpus68k-sentences.npz:
ids, counts (sentences per paper), rows (int8, one per sentence), model_id.

    python bench/embed_sentences.py [--data ../shared/data] [--threads 2]

About 35 minutes on 2 cores (563k titles and sentences). bench_search_latency.py's builder then stores them,
with the papers' own vectors, in bench/cache/scale-64k, where every search bench reads them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_corpus import CACHE, REPO, bench_embedder, load_corpus  # noqa: E402

from dailypapers.search import sentences  # noqa: E402

CHUNK = 2000  # papers embedded between progress lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--threads", type=int, default=2, help="onnxruntime threads (default: 2)")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    papers, _, _ = load_corpus(args.data)
    emb, what = bench_embedder(None, threads=args.threads)
    if emb is None:
        raise SystemExit("no embedding model")
    print(f"{len(papers)} papers, model {emb.model_id} ({what})", flush=True)
    ids, counts, chunks = [], [], []
    t = time.time()
    for s in range(0, len(papers), CHUNK):
        part = papers[s : s + CHUNK]
        split = [sentences.texts(p.title or "", p.abstract or "") for p in part]
        flat = [x for parts in split for x in parts]
        vecs = emb.embed(flat, batch_size=args.batch_size) if flat else np.zeros((0, emb.dim), np.float32)
        at = 0
        for p, parts in zip(part, split):
            blob = sentences.encode(vecs[at : at + len(parts)])
            at += len(parts)
            ids.append(p.arxiv_id)
            counts.append(len(parts))
            chunks.append(np.frombuffer(blob, np.int8).reshape(-1, emb.dim))
        print(f"{s + len(part)}/{len(papers)} papers, {sum(counts)} sentences, {time.time() - t:.0f} s", flush=True)
    out = CACHE / "corpus68k-sentences.npz"
    np.savez(out, ids=np.array(ids), counts=np.array(counts), rows=np.concatenate(chunks), model_id=emb.model_id)
    print(f"wrote {out} in {time.time() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
