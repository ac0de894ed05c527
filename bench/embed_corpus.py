#!/usr/bin/env python3
"""Embed the bench corpora with the SHIPPED model and cache the vectors in bench/cache/.

    nohup python bench/embed_corpus.py > bench/cache/embed_corpus.log 2>&1 &

Writes, in this order:
* bench/cache/scifact.npz: SciFact corpus (5,183 docs): ids, vectors (float16, n x dim), model_id
* bench/cache/corpus68k.npz: the arXiv cs papers (arxiv-daily-cs, fields id/title/abstract)
  plus the HF daily papers (fields arxiv_id/title/summary) not already among them, deduplicated
  by id: ids (str), vectors (float16, n x dim), model_id

The text embedded is dailypapers.search.embedder.document_text(title, abstract). Resumable: each
chunk of --chunk documents is written to bench/cache/chunks/<name>-<model_id>/ as soon as it is
done, and chunks already on disk (with matching ids) are skipped on restart.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from dailypapers.search.embedder import document_text, load_embedder  # noqa: E402

CACHE = REPO / "bench" / "cache"


def read_jsonl_gz(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def scifact_docs(data: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for d in read_jsonl_gz(data / "scifact" / "corpus.jsonl.gz"):
        ids.append(str(d["_id"]))
        texts.append(document_text(d.get("title") or "", d.get("text") or ""))
    return ids, texts


def corpus68k_docs(data: Path) -> tuple[list[str], list[str], int, int]:
    ids, texts, seen = [], [], set()
    for d in read_jsonl_gz(data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"):
        pid = str(d["id"]).strip()
        if pid in seen:
            continue
        seen.add(pid)
        ids.append(pid)
        texts.append(document_text(d.get("title") or "", d.get("abstract") or ""))
    n_arxiv = len(ids)
    for d in read_jsonl_gz(data / "hf-daily-papers" / "hf_daily_papers.jsonl.gz"):
        pid = str(d.get("arxiv_id") or "").strip()
        if not pid or pid in seen:
            continue
        seen.add(pid)
        ids.append(pid)
        texts.append(document_text(d.get("title") or "", d.get("summary") or ""))
    return ids, texts, n_arxiv, len(ids) - n_arxiv


def _atomic_savez(path: Path, **arrays) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def embed_resumable(name: str, ids: list[str], texts: list[str], emb, chunk: int,
                    batch_size: int, out: Path) -> None:
    from tqdm import tqdm

    chunk_dir = CACHE / "chunks" / f"{name}-{emb.model_id}"
    chunk_dir.mkdir(parents=True, exist_ok=True)
    n_chunks = (len(ids) + chunk - 1) // chunk
    todo = []
    for c in range(n_chunks):
        p = chunk_dir / f"chunk-{c:05d}.npz"
        lo, hi = c * chunk, min(len(ids), (c + 1) * chunk)
        if p.exists():
            try:
                with np.load(p) as z:
                    if list(z["ids"]) == ids[lo:hi] and z["vectors"].shape == (hi - lo, emb.dim):
                        continue
            except Exception:
                pass
            print(f"{p} does not match; re-embedding it", flush=True)
        todo.append(c)
    done_docs = len(ids) - sum(min(len(ids), (c + 1) * chunk) - c * chunk for c in todo)
    print(f"{name}: {len(ids)} docs in {n_chunks} chunks; {n_chunks - len(todo)} chunks already done",
          flush=True)
    t0 = time.perf_counter()
    with tqdm(total=len(ids), initial=done_docs, unit="doc", desc=name, mininterval=20,
              dynamic_ncols=True, file=sys.stderr) as bar:
        for c in todo:
            lo, hi = c * chunk, min(len(ids), (c + 1) * chunk)
            vec = emb.embed(texts[lo:hi], batch_size=batch_size)
            _atomic_savez(chunk_dir / f"chunk-{c:05d}.npz",
                          ids=np.array(ids[lo:hi]), vectors=vec.astype(np.float16))
            bar.update(hi - lo)
    secs = time.perf_counter() - t0
    parts = []
    for c in range(n_chunks):
        with np.load(chunk_dir / f"chunk-{c:05d}.npz") as z:
            parts.append(z["vectors"])
    vectors = np.concatenate(parts) if parts else np.zeros((0, emb.dim), np.float16)
    assert vectors.shape == (len(ids), emb.dim)
    _atomic_savez(out, ids=np.array(ids), vectors=vectors, model_id=np.array(emb.model_id))
    rate = (len(ids) - done_docs) / secs if secs > 0 and len(ids) > done_docs else float("nan")
    print(f"wrote {out}: {vectors.shape[0]} x {vectors.shape[1]} float16, model_id={emb.model_id}; "
          f"{secs:.0f} s this run ({rate:.1f} docs/s)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-scifact", action="store_true")
    ap.add_argument("--skip-corpus", action="store_true")
    args = ap.parse_args()
    data = args.data if args.data.is_absolute() else Path.cwd() / args.data

    emb = load_embedder(threads=args.threads)
    if emb is None:
        sys.exit("no packaged model in src/dailypapers/search/model; run scripts/convert_model.py first")
    print(f"model {emb.model_id} ({emb.quantization}, max_tokens {emb.max_tokens})", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)

    def up_to_date(path: Path, n: int) -> bool:
        if not path.exists():
            return False
        with np.load(path) as z:
            return str(z["model_id"]) == emb.model_id and z["vectors"].shape[0] == n

    if not args.skip_scifact:
        ids, texts = scifact_docs(data)
        out = CACHE / "scifact.npz"
        if up_to_date(out, len(ids)):
            print(f"{out} is up to date", flush=True)
        else:
            embed_resumable("scifact", ids, texts, emb, args.chunk, args.batch_size, out)
    if not args.skip_corpus:
        ids, texts, n_arxiv, n_hf = corpus68k_docs(data)
        print(f"corpus68k: {n_arxiv} arXiv cs papers + {n_hf} HF daily papers not among them", flush=True)
        out = CACHE / "corpus68k.npz"
        if up_to_date(out, len(ids)):
            print(f"{out} is up to date", flush=True)
        else:
            embed_resumable("corpus68k", ids, texts, emb, args.chunk, args.batch_size, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
