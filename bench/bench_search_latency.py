#!/usr/bin/env python3
"""Search latency in-process (p50/p95/p99) per mode at ~64k real papers and at 1M, plus the
resident memory of a server-like process at 1M.

    python bench/bench_search_latency.py [--scales 64k,1m] [--data ../shared/data]
    python bench/bench_search_latency.py --filter-paths [--scales 64k,1m] [--filter-queries 200]
    python bench/bench_search_latency.py --lexical-count [--scales 64k,1m] [--filter-queries 200]
    python bench/bench_search_latency.py --hybrid-ef [640,480,320,256] [--scales 64k,1m] [--queries 400]

Queries: the 1,000 topic queries of ../shared/data/queries/topic_queries.txt plus 20 one- and
two-word common terms ("transformer", "language model", ...), each timed once per mode through
SearchEngine.search(q, mode=..., per_page=20): query parsing, query embedding (the embedder's
LRU cache is cleared before each mode, and queries are unique within a mode), BM25, ANN,
fusion, fetching the 20 papers from SQLite and building highlighted snippets.

Corpus and scale: see bench/_search_corpus.py (1M = the ~64k real papers replicated with new ids,
vectors perturbed with sigma=0.02 Gaussian noise). The built stores and indexes are kept in
bench/cache/scale-<n>/ and reused by later runs (--rebuild to start over). When
bench/cache/corpus68k-sentences.npz exists (bench/embed_sentences.py), the real papers' vectors and
abstract sentence vectors go into the store's embeddings table, where search reads the sentences of
its candidates (at 1M the replicas have none, so they are read for about 1 in 16 candidates).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_corpus import (  # noqa: E402
    CACHE,
    REPO,
    bench_embedder,
    corpus_sentences,
    corpus_vectors,
    ingest,
    load_corpus,
    replica_vectors,
    store_sentences,
    synthetic_vectors,
)

COMMON = [
    "transformer", "language model", "diffusion", "reinforcement learning", "benchmark", "llm", "agents",
    "vision", "graph neural network", "attention", "reasoning", "robot", "segmentation", "video generation",
    "retrieval", "fine-tuning", "quantization", "speech", "multimodal", "dataset",
]


def say(msg: str) -> None:
    print(msg, flush=True)


def queries(data: Path) -> list[str]:
    qs = [q.strip() for q in (data / "queries" / "topic_queries.txt").read_text().splitlines() if q.strip()]
    return list(dict.fromkeys(qs + COMMON))


def build(workdir: Path, copies: int, data: Path, emb, rebuild: bool) -> dict:
    from dailypapers.search.engine import SearchEngine
    from dailypapers.search.vectors import VectorIndex
    from dailypapers.storage.sqlite import SQLiteStore

    if rebuild and workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    info_path = workdir / "build.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    store = SQLiteStore(workdir / "db.sqlite")
    store.migrate()
    papers, votes, _ = load_corpus(data)
    if info.get("papers") != len(papers) * copies:
        t = time.perf_counter()
        say(f"ingesting {len(papers)} x {copies} papers into {workdir}")
        info["papers"] = ingest(store, papers, votes, copies, say=say)
        info["ingest_s"] = round(time.perf_counter() - t, 1)
        info_path.write_text(json.dumps(info))
    engine = SearchEngine(store, workdir / "index", None)
    t = time.perf_counter()
    n = engine.lexical.sync(store, lambda d, tot: say(f"  lexical {d}") if d % 100_000 < 5000 else None)
    if n:
        info["lexical_s"] = round(time.perf_counter() - t, 1)
        info_path.write_text(json.dumps(info))
    t = time.perf_counter()
    if engine.columns.sync(store):
        info["columns_s"] = round(time.perf_counter() - t, 1)
        info_path.write_text(json.dumps(info))
    engine.close()

    real = corpus_vectors()
    source = "real (bench/cache/corpus68k.npz)" if real is not None else "synthetic clustered (corpus68k.npz not ready)"
    vidx = VectorIndex(workdir / "index" / "vectors", emb.dim)
    meta = vidx.meta
    wanted = {"source": source, "count": len(papers) * copies, "model_id": emb.model_id, "dtype": vidx.dtype}
    if any(meta.get(k) != v for k, v in wanted.items()):
        if real is not None:
            ids, vecs, model_id = real
            pos = {i: n for n, i in enumerate(ids)}
            missing = [p.arxiv_id for p in papers if p.arxiv_id not in pos]
            if missing:
                raise SystemExit(f"corpus68k.npz lacks {len(missing)} papers, e.g. {missing[:3]}")
            base = np.asarray(vecs, dtype=np.float32)[[pos[p.arxiv_id] for p in papers]]
            if model_id != emb.model_id:
                say(f"note: vectors made by {model_id}, queries embedded by {emb.model_id}")
        else:
            base = synthetic_vectors(len(papers), emb.dim)
        say(f"building the vector index: {len(papers) * copies} vectors, {source}")
        t = time.perf_counter()
        index, mapping = vidx._new_index(), {}
        base_ids = [p.arxiv_id for p in papers]
        for k in range(copies):
            ids_k = base_ids if k == 0 else [f"{i}-r{k}" for i in base_ids]
            vecs_k = replica_vectors(base, k)
            for s in range(0, len(ids_k), 20_000):
                vidx._add(index, mapping, ids_k[s : s + 20_000], vecs_k[s : s + 20_000])
            say(f"  vectors copy {k + 1}/{copies} ({time.perf_counter() - t:.0f} s)")
        vidx._save(index, mapping, {"model_id": emb.model_id, "last_seq": store.max_seq(), "source": source})
        info["vectors_s"] = round(time.perf_counter() - t, 1)
        info["vectors_source"] = source
        info_path.write_text(json.dumps(info))
        del index, mapping
        gc.collect()
    sentences = corpus_sentences()
    if real is not None and sentences is not None and info.get("sentences") != len(sentences[0]):
        # the base papers' own vectors and abstract sentences in the store (replicas have none:
        # their semantic score is their own cosine), as the embedding job leaves them
        say("storing the papers' vectors and abstract sentence vectors")
        ids, vecs, _ = real
        pos = {i: n for n, i in enumerate(ids)}
        info["sentences"] = store_sentences(store, papers, np.asarray(vecs)[[pos[p.arxiv_id] for p in papers]],
                                            emb.model_id)
        info_path.write_text(json.dumps(info))
    store.close()
    info["vectors_source"] = source
    info["sizes_mb"] = {
        "db": round((workdir / "db.sqlite").stat().st_size / 2**20),
        "lexical": round(sum(f.stat().st_size for f in (workdir / "index" / "lexical").glob("*")) / 2**20),
        "vectors": round(sum(f.stat().st_size for f in (workdir / "index" / "vectors").glob("*")) / 2**20),
    }
    return info


FILTER_CASES = ("cat:cs.CV", "has code", "one month", "upvotes>=20", "org:NVIDIA")


def filter_cases() -> dict:
    import datetime as dt

    from dailypapers.search.engine import SearchFilters

    return {
        "cat:cs.CV": SearchFilters(category="cs.CV"),
        "has code": SearchFilters(has_code=True),
        "one month": SearchFilters(date_from=dt.date(2025, 6, 1), date_to=dt.date(2025, 6, 30)),
        "upvotes>=20": SearchFilters(min_upvotes=20),
        "org:NVIDIA": SearchFilters(organization="NVIDIA"),
    }


# What one hybrid search spends its time on: (label, object path on the engine, method)
STAGES = [
    ("query embedding (helper thread)", "embedder", "embed_query"),
    ("vector index: HNSW / exact (helper thread)", "vectors", "search_keys"),
    ("BM25 top 200", "lexical", "search"),
    ("word counts of the keyword hits", "lexical", "words_matched"),
    ("BM25 of semantic-only candidates", "lexical", "scores_for"),
    ("keyword count check", "lexical", "count_containing"),
    ("SQLite paper reads", "store", "get_papers"),
    ("SQLite sentence vector reads", "store", "sentences_for"),
    ("closest sentences scored", "sentences", "best_similarities"),
    ("snippets", "module", "snippet_html"),
    ("highlighted titles", "module", "highlight_html"),
]


def search_page(engine, q: str, **kw):
    """One search as a page shows it: the results with their snippets and highlighted titles (made
    when first read, which the JSON API never does)."""
    res = engine.search(q[:250], per_page=20, **kw)
    for h in res.results:
        h.title_html, h.snippet_html  # noqa: B018 - made when first read
    return res


def _stage_owner(engine, path: str):
    """Where a stage's function lives: the engine module, the sentences module, or an engine part."""
    from dailypapers.search import engine as engine_module

    if path == "module":
        return engine_module
    if path == "sentences":
        return engine_module.sentences
    return getattr(engine, path)


def stage_breakdown(engine, emb, qs: list[str]) -> dict:
    """Per hybrid search: wall time, and the time inside each stage (STAGES). Stages in the helper
    thread overlap the others, so they add up to more than the wall time."""
    import functools
    import threading


    spent: dict[str, float] = dict.fromkeys([label for label, _, _ in STAGES], 0.0)
    lock = threading.Lock()
    originals = []
    for label, path, name in STAGES:
        owner = _stage_owner(engine, path)
        fn = getattr(owner, name)

        def timed(*a, _fn=fn, _label=label, **kw):
            t = time.perf_counter()
            try:
                return _fn(*a, **kw)
            finally:
                with lock:
                    spent[_label] += time.perf_counter() - t

        setattr(owner, name, functools.wraps(fn)(timed))
        originals.append((owner, name))
    emb._cache.clear()
    t = time.perf_counter()
    for q in qs:
        search_page(engine, q, mode="hybrid")
    wall = time.perf_counter() - t
    for (owner, name), (_, path, _) in zip(originals, STAGES):
        if path in ("module", "sentences"):
            setattr(owner, name, getattr(owner, name).__wrapped__)
        else:
            delattr(owner, name)  # back to the class's method
    out = {label: v / len(qs) * 1000 for label, v in spent.items()}
    out["wall (mean)"] = wall / len(qs) * 1000
    return out


def measure(workdir: Path, emb, qs: list[str], modes=("lexical", "semantic", "hybrid"), filters_n: int = 200,
            breakdown: bool = True) -> dict:
    from _report import percentile

    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.sqlite import SQLiteStore

    store = SQLiteStore(workdir / "db.sqlite")
    store.migrate()
    engine = SearchEngine(store, workdir / "index", emb)
    assert engine.semantic_available, engine.semantic_status()
    for q in qs[:20]:  # warm-up (page cache, first-call costs)
        engine.search(q, mode="hybrid")

    def timed(mode: str, queries: list[str], clear: bool = True, **kw) -> dict:
        if clear:
            emb._cache.clear()
        times, empty = [], 0
        for q in queries:
            t = time.perf_counter()
            res = search_page(engine, q, mode=mode, **kw)
            times.append((time.perf_counter() - t) * 1000)
            empty += not res.results
        return {"p50": percentile(times, 50), "p95": percentile(times, 95), "p99": percentile(times, 99),
                "mean": float(np.mean(times)), "n": len(times), "empty": empty}

    out = {}
    for mode in modes:
        out[mode] = timed(mode, qs)
        say(f"  {mode}: p50 {out[mode]['p50']:.1f} ms, p95 {out[mode]['p95']:.1f}, p99 {out[mode]['p99']:.1f}")
    # the same queries again: their vectors come from the embedder's LRU cache (no page cache here)
    out["hybrid, query vector cached"] = timed("hybrid", qs, clear=False)
    say(f"  hybrid, vector cached: p50 {out['hybrid, query vector cached']['p50']:.1f} ms")
    # filtered searches: how the semantic leg's filtering behaves (exact while few pass, EXACT_FILTER_RATIO;
    # else an HNSW search as deep as the share passing asks)
    for name, f in filter_cases().items():
        fq = engine.lexical.filter_query(None, f)
        passing = engine.lexical.count_matching(fq)
        for mode in ("semantic", "hybrid"):
            key = f"{mode} [{name}: {passing} pass]"
            out[key] = timed(mode, qs[:filters_n], filters=f)
            say(f"  {key}: p50 {out[key]['p50']:.1f} ms, p99 {out[key]['p99']:.1f}")
    if breakdown:
        out["breakdown"] = stage_breakdown(engine, emb, qs[:300])
        say(f"  breakdown: {json.dumps({k: round(v, 2) for k, v in out['breakdown'].items()})}")
    # embedding alone, for reference
    emb._cache.clear()
    times = []
    for q in qs:
        t = time.perf_counter()
        emb.embed_query(q)
        times.append((time.perf_counter() - t) * 1000)
    out["embed_query"] = {"p50": percentile(times, 50), "p95": percentile(times, 95), "p99": percentile(times, 99)}
    times = []
    for q in qs:
        t = time.perf_counter()
        emb.embed_query(q.upper())  # the same tokens: a cache hit
        times.append((time.perf_counter() - t) * 1000)
    out["embed_query, cached"] = {"p50": percentile(times, 50), "p95": percentile(times, 95),
                                  "p99": percentile(times, 99)}
    engine.close()
    store.close()
    return out


def query_precision(emb, qs: list[str], fp32_dir: Path, rounds: int = 3) -> dict:
    """Query embedding latency of the shipped int8 model against fp32 on this CPU (one thread, as the
    server runs it), interleaved query by query, and how close their query vectors are."""
    from _report import percentile

    from dailypapers.search.embedder import load_embedder

    fp32 = load_embedder(fp32_dir, threads=1)
    int8 = load_embedder(None, threads=1) or emb
    times: dict[str, list[float]] = {"int8": [], "fp32": []}
    for q in qs[:50]:
        int8._run(int8._tokenize([q]))
        fp32._run(fp32._tokenize([q]))
    for _ in range(rounds):
        for q in qs:
            for name, e in (("int8", int8), ("fp32", fp32)):
                ids = e._tokenize([q])
                t = time.perf_counter()
                e._run(ids)
                times[name].append((time.perf_counter() - t) * 1000)
    a = np.stack([int8.embed_query(q) for q in qs])
    b = np.stack([fp32.embed_query(q) for q in qs])
    cos = (a * b).sum(axis=1)
    tokens = [len(int8._tokenize([q])[0]) for q in qs]
    out = {name: {"p50": percentile(t, 50), "p90": percentile(t, 90), "p99": percentile(t, 99)}
           for name, t in times.items()}
    out["cosine"] = {"mean": float(cos.mean()), "min": float(cos.min())}
    out["tokens"] = {"median": float(np.median(tokens)), "max": int(max(tokens))}
    return out


def recall_check(
    workdir: Path, emb, qs: list[str], base: np.ndarray, base_ids: list[str], copies: int, real: bool
) -> dict:
    """Recall@10 of the HNSW index against exact (brute-force float32) search, per ef.

    With real vectors the queries are the real topic queries, embedded. With synthetic vectors,
    real queries would sit far from every synthetic point (all about equidistant: a meaningless
    worst case), so the queries are corpus vectors plus the same N(0, 0.02^2) noise instead.
    """
    from _report import percentile

    from dailypapers.search.vectors import EXPANSION_SEARCH, VectorIndex

    ids = [i if k == 0 else f"{i}-r{k}" for k in range(copies) for i in base_ids]
    full = np.concatenate([replica_vectors(base, k) for k in range(copies)])
    vidx = VectorIndex(workdir / "index" / "vectors", emb.dim)
    if real:
        sample = qs[:: max(1, len(qs) // 200)][:200]
        qv = np.stack([emb.embed_query(q) for q in sample]).astype(np.float32)
    else:
        rng = np.random.default_rng(7)
        qv = full[rng.integers(0, len(full), 200)] + rng.normal(0, 0.02, (200, full.shape[1])).astype(np.float32)
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    exact = []
    for s in range(0, len(qv), 50):
        sims = qv[s : s + 50] @ full.T
        top = np.argpartition(-sims, 10, axis=1)[:, :10]
        exact += [{ids[j] for j in row} for row in top]
    out = {}
    for ef in sorted({128, 256, 512, 1024, EXPANSION_SEARCH}):
        vidx.expansion_search = ef
        rec, times = [], []
        for q, truth in zip(qv, exact):
            t = time.perf_counter()
            got = {i for i, _ in vidx.search(q, 10)}
            times.append((time.perf_counter() - t) * 1000)
            rec.append(len(got & truth) / 10)
        out[ef] = {"recall@10": float(np.mean(rec)), "p50": percentile(times, 50), "p99": percentile(times, 99)}
        say(f"  ANN ef={ef}: recall@10 {out[ef]['recall@10']:.4f}, "
            f"p50 {out[ef]['p50']:.2f} ms, p99 {out[ef]['p99']:.2f} ms")
    t = time.perf_counter()
    for q in qv[:50]:
        np.argpartition(-(full @ q), 10)[:10]
    out["brute_force_f32_ms"] = (time.perf_counter() - t) / 50 * 1000
    say(f"  brute force float32 numpy: {out['brute_force_f32_ms']:.1f} ms/query")
    return out


HYBRID_EFS = "640,480,320,256"
SMALL_SIZES = "5k,10k,15k,20k,30k"


def small_index(emb, qs: list[str], sizes: list[int], rounds: int = 3) -> tuple[list[list], str]:
    """The vector search of the semantic leg (its top POOL_DEPTH) on small indexes, the HNSW graph
    against exact search of every vector (vectors.EXACT_INDEX_MAX), interleaved query by query.

    Vectors: SciFact's 5,183 real abstract vectors (bench/cache, made by bench_search_quality.py),
    past that replicated with N(0, 0.02^2) noise like the 1M corpus; synthetic without the cache.
    Queries: the first 200 topic queries, embedded once. Returns the rows [papers, search, p50, p95,
    p99 ms, recall@10 of the graph against exact] and where the vectors came from."""
    import tempfile

    from _report import percentile

    from dailypapers.search.engine import POOL_DEPTH
    from dailypapers.search.vectors import VectorIndex

    for path in (CACHE / "scifact.npz", *sorted(CACHE.glob(f"scifact-*{emb.model_id}.npz"))):
        cached = np.load(path) if path.exists() else None
        if cached is not None and str(cached.get("model_id", emb.model_id)) == emb.model_id:
            base = np.asarray(cached["vectors"], dtype=np.float32)
            source = (f"SciFact's real abstract vectors ({path.name}, {emb.model_id}), replicated with noise "
                      f"past {len(base):,}")
            break
    else:
        base = synthetic_vectors(5000, emb.dim)
        source = "synthetic clustered vectors (no SciFact vectors in bench/cache)"
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    qv = np.stack([emb.embed_query(q) for q in qs[:200]]).astype(np.float32)
    rows = []
    for n in sizes:
        vecs = np.concatenate([replica_vectors(base, k) for k in range(-(-n // len(base)))])[:n]
        with tempfile.TemporaryDirectory(prefix="dp-small-") as tmp:
            index = VectorIndex(Path(tmp) / "vectors", emb.dim)
            index.add([f"p{i}" for i in range(n)], vecs)
            times: dict[str, list[float]] = {"graph": [], "exact": []}
            recall = []
            for _ in range(rounds):
                for q in qv:
                    got = {}
                    for name, limit in (("graph", 0), ("exact", n)):  # interleaved: the same load for both
                        index.exact_index_max = limit
                        t = time.perf_counter()
                        got[name] = index.search_keys(q, POOL_DEPTH)
                        times[name].append((time.perf_counter() - t) * 1000)
                    recall.append(len({h[2] for h in got["graph"][:10]} & {h[2] for h in got["exact"][:10]}) / 10)
        for name, t in times.items():
            rows.append([n, name, percentile(t, 50), percentile(t, 95), percentile(t, 99),
                         float(np.mean(recall)) if name == "graph" else 1.0])
            say(f"  small index {n}: {name} p50 {rows[-1][2]:.2f} ms, p99 {rows[-1][4]:.2f} ms")
    return rows, source


def base_vectors(papers, emb) -> np.ndarray:
    real = corpus_vectors()
    if real is None:
        return synthetic_vectors(len(papers), emb.dim)
    ids, vecs, _ = real
    pos = {i: n for n, i in enumerate(ids)}
    return np.asarray(vecs, dtype=np.float32)[[pos[p.arxiv_id] for p in papers]]


def rss_probe(workdir: Path, model_dir: str | None, data: Path) -> None:
    """Run in a fresh process: open the engine as `serve` would, run every query, report memory."""
    from _report import mapped_index_mb

    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.sqlite import SQLiteStore

    emb, _ = bench_embedder(Path(model_dir) if model_dir else None)
    store = SQLiteStore(workdir / "db.sqlite")
    engine = SearchEngine(store, workdir / "index", emb)
    for mode in ("hybrid", "lexical", "semantic"):
        for q in queries(data):
            engine.search(q[:250], mode=mode)
        engine.similar(f"{store.read('SELECT arxiv_id FROM papers LIMIT 1')[0][0]}")
    status = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            status[k] = int(v.split()[0]) / 1024
    status["mapped"] = mapped_index_mb(workdir / "index")
    for line in open("/proc/self/smaps_rollup"):
        k, _, v = line.partition(":")
        if k in ("Pss", "Pss_Anon", "Pss_File"):
            status[k] = int(v.split()[0]) / 1024
    print(json.dumps(status))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--scales", default="64k,1m", help="comma list of 64k (the real corpus) and/or 1m")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--no-recall", action="store_true", help="skip the HNSW recall check (it holds every vector "
                    "in float32: 1.5 GB at 1M)")
    ap.add_argument("--queries", type=int, default=0, help="time only the first N queries (default: all)")
    ap.add_argument("--filter-queries", type=int, default=200)
    ap.add_argument("--fp32-model", type=Path, default=CACHE / "models" / "none-256",
                    help="an fp32 export of the model (scripts/convert_model.py --quantize none) to compare query "
                    "embedding latency with; skipped when absent")
    ap.add_argument("--small-index", nargs="?", const=SMALL_SIZES, default=None, metavar="SIZES",
                    help="only time the vector search of small indexes, graph against exact (comma list, "
                    f"default {SMALL_SIZES}), and append that section")
    ap.add_argument("--filter-paths", action="store_true",
                    help="only time the semantic leg's ways of searching the papers a filter passes, on the built "
                    "--scales (exact by the filter columns' masks, as served; exact by the list of their keys; "
                    "the HNSW search over-fetched), and append that section")
    ap.add_argument("--lexical-count", action="store_true",
                    help="only time the lexical leg's tantivy search with and without counting every match, on "
                    "the built --scales, unfiltered and with each filter, and append that section")
    ap.add_argument("--hybrid-ef", nargs="?", const=HYBRID_EFS, default=None, metavar="EFS",
                    help="only compare hybrid search's first pages with each HNSW beam of its vector leg (comma "
                    f"list, default {HYBRID_EFS}) against an exact vector leg, and time that leg at each, on the "
                    "built --scales, and append that section")
    ap.add_argument("--query-threads", type=int, default=1,
                    help="onnxruntime intra-op threads of the query model (default 1, as the server runs it; "
                    "0: onnxruntime's own choice, one per core)")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--rss-probe", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_probe:
        rss_probe(args.rss_probe, str(args.model_dir) if args.model_dir else None, args.data)
        return 0

    emb, model_note = bench_embedder(args.model_dir, threads=args.query_threads or None)
    if emb is None:
        say("no embedding model: cannot measure semantic or hybrid latency")
        return 1
    qs = queries(args.data)
    if args.queries:
        qs = qs[: args.queries]
    if args.small_index:
        return small_index_report(emb, qs, args)
    if args.filter_paths:
        return filter_paths_report(emb, qs[: args.filter_queries], args)
    if args.lexical_count:
        return lexical_count_report(qs[: args.filter_queries], args)
    if args.hybrid_ef:
        return hybrid_ef_report(emb, qs, args)
    say(f"{len(qs)} queries; model {emb.model_id} from {model_note}")
    results = {}
    precision = None
    if args.fp32_model and (args.fp32_model / "model.onnx").exists():
        precision = query_precision(emb, qs, args.fp32_model)
        say(f"query embedding int8 vs fp32: {json.dumps(precision)}")
    for scale in args.scales.split(","):
        papers_n = len(load_corpus(args.data)[0])
        copies = 1 if scale == "64k" else -(-1_000_000 // papers_n)
        workdir = CACHE / f"scale-{scale}"
        info = build(workdir, copies, args.data, emb, args.rebuild)
        say(f"{scale}: {info}")
        papers = load_corpus(args.data)[0]
        recall = {} if args.no_recall else recall_check(
            workdir, emb, qs, base_vectors(papers, emb), [p.arxiv_id for p in papers], copies,
            real=info["vectors_source"].startswith("real"),
        )
        lat = measure(workdir, emb, qs, filters_n=args.filter_queries)
        rss = None
        if scale == "1m":
            cmd = [sys.executable, __file__, "--rss-probe", str(workdir), "--data", str(args.data)]
            if args.model_dir:
                cmd += ["--model-dir", str(args.model_dir)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            try:
                rss = json.loads(out.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                say(out.stdout + out.stderr)
        results[scale] = {"info": info, "latency": lat, "rss": rss, "recall": recall}

    from _report import append_section, table

    rows = []
    for scale, r in results.items():
        for mode in ("lexical", "semantic", "hybrid", "hybrid, query vector cached", "embed_query",
                     "embed_query, cached"):
            m = r["latency"][mode]
            rows.append([scale, r["info"]["papers"], mode, m["p50"], m["p95"], m["p99"]])
    body = [
        f"Queries: {len(qs)} (../shared/data/queries/topic_queries.txt + {len(COMMON)} common terms), each once per "
        "mode, in-process through SearchEngine.search(per_page=20), including query embedding (cache cleared), "
        "BM25, ANN, fusion, the relevance rule, fetching 20 papers from SQLite and snippets; \"query vector "
        "cached\": the same queries again, their vectors in the embedder's LRU. Machine shared with other jobs: "
        "treat as upper bounds.",
        f"Model: {emb.model_id} ({model_note}; {args.query_threads or 'onnxruntime default'} intra-op "
        f"thread{'s' if args.query_threads != 1 else ''}). 1M = the real corpus replicated with new ids, vectors + "
        "N(0, 0.02^2) noise per component, renormalized (bench/_search_corpus.py).",
        "",
        table(["scale", "papers", "mode", "p50 ms", "p95 ms", "p99 ms"], rows),
        "",
    ]
    rrows = []
    for scale, r in results.items():
        for ef, m in r["recall"].items():
            if isinstance(m, dict):
                rrows.append([scale, ef, m["recall@10"], m["p50"], m["p99"]])
        if r["recall"]:
            brute = r["recall"]["brute_force_f32_ms"]
            body.append(f"- {scale}: brute-force float32 numpy top-10: {brute:.1f} ms/query")
    if rrows:
        from dailypapers.search.vectors import CONNECTIVITY, DTYPE, EXPANSION_ADD, EXPANSION_SEARCH

        body += ["", f"HNSW (usearch, {DTYPE}, M={CONNECTIVITY}, efConstruction={EXPANSION_ADD}; ef {EXPANSION_SEARCH} "
                 "is served) against exact float32 search, 200 queries (real "
                 "topic queries with real vectors; with synthetic vectors, perturbed corpus vectors; with replicas, "
                 "the exact top 10 is mostly near-duplicate copies, so this is a stress test of telling copies apart, "
                 "not a recall figure for real data: that one is in \"Vector index (usearch) on real embeddings\"):",
                 "", table(["scale", "ef", "recall@10", "ANN p50 ms", "ANN p99 ms"], rrows), ""]
    if precision is not None:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   "?")
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
        vnni = ", ".join(f for f in ("avx512_vnni", "avx_vnni", "amx_int8") if f" {f}" in flags) or "none"
        body += [f"Query embedding precision, shipped int8 against fp32 ({args.fp32_model}), one ONNX Runtime thread, "
                 f"{len(qs)} queries x 3 interleaved (median {precision['tokens']['median']:.0f} tokens, at most "
                 f"{precision['tokens']['max']}); CPU {cpu}, VNNI flags: {vnni}:", "",
                 table(["model", "p50 ms", "p90 ms", "p99 ms"],
                       [[name, precision[name]["p50"], precision[name]["p90"], precision[name]["p99"]]
                        for name in ("int8", "fp32")]),
                 "", f"- query vectors int8 vs fp32: cosine mean {precision['cosine']['mean']:.4f}, "
                 f"min {precision['cosine']['min']:.4f} (the int8 model's fidelity check on SciFact stays in "
                 "bench_embed.py and tests/search/test_embedder.py)", ""]
    frows = []
    for scale, r in results.items():
        for key, m in r["latency"].items():
            if "[" in key:
                frows.append([scale, key, m["p50"], m["p95"], m["p99"]])
    ftable = table(["scale", "mode [filter]", "p50 ms", "p95 ms", "p99 ms"], frows)
    body += [f"Filtered searches ({args.filter_queries} queries each):", "", ftable, ""]
    brows = []
    for scale, r in results.items():
        for label, v in r["latency"].get("breakdown", {}).items():
            brows.append([scale, label, round(v, 3)])
    if brows:
        body += ["Where one hybrid search spends its time (mean ms per search over 300 queries, uncached vectors; "
                 "the helper thread's stages overlap the others, so the stages add up to more than the wall time):",
                 "", table(["scale", "stage", "ms per search"], brows), ""]
    for scale, r in results.items():
        body.append(f"- {scale}: vectors {r['info'].get('vectors_source')}; on-disk MB {r['info'].get('sizes_mb')}; "
                    f"build s: ingest {r['info'].get('ingest_s')}, lexical {r['info'].get('lexical_s')}, "
                    f"vectors {r['info'].get('vectors_s')}")
        if r["rss"]:
            rs = r["rss"]
            body.append(
                f"- {scale} server-like process after all queries in all modes: VmRSS {rs.get('VmRSS', 0):.0f} MB "
                f"(anonymous {rs.get('RssAnon', 0):.0f} MB, file-backed mmaps {rs.get('RssFile', 0):.0f} MB, "
                f"shared between processes), peak {rs.get('VmHWM', 0):.0f} MB, PSS {rs.get('Pss', 0):.0f} MB; "
                "index files by kind (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in rs.get("mapped", {}).items())
            )
    print("\n".join(body))
    if not args.no_report:
        append_section("Search latency (in-process)", None, "\n".join(body))
    (CACHE / "search_latency.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


HNSW_WHEN_EXACT = 20  # queries timed the HNSW way where exact is served (over-fetching 100k+ takes seconds)


def filter_paths(workdir: Path, emb, qs: list[str]) -> list[list]:
    """Per filter, the vector search (top 200) of the papers passing, three ways, interleaved query by
    query: exact over the rows picked by the filter columns' masks (``VectorIndex.search_among``, as
    served while few pass), exact over the list of their keys (``search_keys(candidates=...)``, as
    served before), and the HNSW search over-fetched by the share passing (as served when many pass)."""
    from _report import percentile

    from dailypapers.search.engine import EXACT_FILTER_RATIO, OVERFETCH_MARGIN, SearchEngine
    from dailypapers.search.query import parse_query
    from dailypapers.storage.sqlite import SQLiteStore

    engine = SearchEngine(SQLiteStore(workdir / "db.sqlite"), workdir / "index", emb)
    vectors = engine.vectors
    size = len(vectors)
    qvecs = [emb.embed_query(parse_query(q[:250]).text) for q in qs]
    parsed = parse_query(None)
    rows = []
    for name, f in filter_cases().items():
        n = len(engine._passing(parsed, f))
        fetch = min(size, int(200 * OVERFETCH_MARGIN * size / max(n, 1)) + 1)
        t = time.perf_counter()
        vectors.search_among(qvecs[0], 200, engine._passing(parsed, f).parts)
        first = (time.perf_counter() - t) * 1000
        times: dict[str, list[float]] = {"masks": [], "keys": [], "hnsw": []}
        same = 0
        exact_served = n * n <= EXACT_FILTER_RATIO * size
        for at, v in enumerate(qvecs):
            found = {}
            for way in ("masks", "keys") if at % 2 else ("keys", "masks"):  # each goes first every other query
                t = time.perf_counter()
                passing = engine._passing(parsed, f)
                found[way] = (vectors.search_among(v, 200, passing.parts) if way == "masks"
                              else vectors.search_keys(v, 200, candidates=passing.keys()))
                times[way].append((time.perf_counter() - t) * 1000)
            same += found["masks"] == found["keys"]
            if exact_served and at >= HNSW_WHEN_EXACT:
                continue
            t = time.perf_counter()
            passing = engine._passing(parsed, f)
            cands = vectors.search_keys(v, fetch)
            passing.contains(np.fromiter((c[2] for c in cands), dtype=np.uint64, count=len(cands)))
            times["hnsw"].append((time.perf_counter() - t) * 1000)
        served = "exact (masks)" if exact_served else "HNSW"
        rows.append([f"{size:,}", name, f"{n:,}", served, round(first, 1)]
                    + [f"{percentile(times[k], 50):.2f} / {percentile(times[k], 99):.2f}" for k in times]
                    + [f"{same}/{len(qvecs)}"])
        say(f"  {rows[-1]}")
    engine.close()
    return rows


def built_scales(scales: str) -> list[Path] | None:
    """The cache folders of these scales (comma list), or None (said why) when one is not built."""
    workdirs = [CACHE / f"scale-{scale}" for scale in scales.split(",")]
    for workdir in workdirs:
        if not (workdir / "index").exists():
            say(f"{workdir} is not built: run this bench with --scales {workdir.name[len('scale-'):]} once first")
            return None
    return workdirs


def filter_paths_report(emb, qs: list[str], args) -> int:
    from _report import append_section, table

    workdirs = built_scales(args.scales)
    if workdirs is None:
        return 1
    rows = [row for workdir in workdirs for row in filter_paths(workdir, emb, qs)]
    body = [
        f"The semantic leg's search of the papers a filter passes (top 200, query vectors made beforehand, {len(qs)} "
        "topic queries, one thread), three ways interleaved query by query (the two exact ways taking turns to go "
        "first): exact over the rows the filter columns' masks pick (`search_among`), exact over the list of "
        "their keys (`search_keys(candidates=...)`), and the HNSW search over-fetched by the share passing, then "
        f"checked against the filter (only the first {HNSW_WHEN_EXACT} queries where exact is served: "
        "over-fetching 100k+ takes seconds). Each time includes "
        "working out the papers passing from the columns. \"first\": the first masked search of that filter "
        "(the first of all also maps the index file's rows). \"same\": queries where the two exact ways return "
        "the same list.",
        "",
        table(["papers", "filter", "passing", "served", "first ms", "exact, masks: p50 / p99 ms",
               "exact, keys: p50 / p99 ms", "HNSW over-fetched: p50 / p99 ms", "same"], rows),
        "",
    ]
    print("\n".join(body))
    if not args.no_report:
        append_section("Filtered semantic search: the ways to search the papers passing", None, "\n".join(body))
    return 0


def lexical_count(workdir: Path, qs: list[str]) -> list[list]:
    """The lexical leg's top POOL_DEPTH from tantivy, with and without the count of every match
    (``search_with_count(count=...)``), interleaved query by query, each way first every other query."""
    from _report import percentile

    from dailypapers.search.engine import POOL_DEPTH, SearchEngine, SearchFilters
    from dailypapers.search.query import parse_query
    from dailypapers.storage.sqlite import SQLiteStore

    engine = SearchEngine(SQLiteStore(workdir / "db.sqlite"), workdir / "index", None)
    rows = []
    for name, f in [("none", SearchFilters()), *filter_cases().items()]:
        times: dict[bool, list[float]] = {True: [], False: []}
        same = 0
        for at, q in enumerate(qs):
            parsed = parse_query(q[:250])
            found = {}
            for count in (True, False) if at % 2 else (False, True):
                t = time.perf_counter()
                found[count] = engine.lexical.search_with_count(parsed, f, POOL_DEPTH, count=count)[0]
                times[count].append((time.perf_counter() - t) * 1000)
            same += [h.arxiv_id for h in found[True]] == [h.arxiv_id for h in found[False]]
        rows.append([workdir.name, name]
                    + [f"{percentile(times[c], 50):.2f} / {percentile(times[c], 99):.2f}" for c in (True, False)]
                    + [f"{same}/{len(qs)}"])
        say(f"  {rows[-1]}")
    engine.close()
    return rows


def lexical_count_report(qs: list[str], args) -> int:
    from _report import append_section, table

    workdirs = built_scales(args.scales)
    if workdirs is None:
        return 1
    rows = [row for workdir in workdirs for row in lexical_count(workdir, qs)]
    body = [
        f"The lexical leg's search (tantivy, top 200, {len(qs)} topic queries) with and without the count of every "
        "match, interleaved query by query (each way first every other query). \"same\": queries where both ways "
        "return the same list.",
        "",
        table(["corpus", "filter", "with the count: p50 / p99 ms", "without: p50 / p99 ms", "same"], rows),
        "",
    ]
    print("\n".join(body))
    if not args.no_report:
        append_section("Lexical search: the cost of counting every match", None, "\n".join(body))
    return 0


def hybrid_ef(workdir: Path, emb, qs: list[str], efs: list[int]) -> list[list]:
    """Hybrid search's first page (20) with its vector leg exact (every vector scored) and through the
    graph at each beam, over the same queries; and the vector leg alone (top POOL_DEPTH) at each beam,
    the beams interleaved query by query."""
    from _report import percentile

    from dailypapers.search import engine as engine_module
    from dailypapers.search.engine import POOL_DEPTH, SearchEngine
    from dailypapers.search.query import parse_query
    from dailypapers.storage.sqlite import SQLiteStore

    engine = SearchEngine(SQLiteStore(workdir / "db.sqlite"), workdir / "index", emb)
    vectors = engine.vectors
    served_ef, served_exact = engine_module.HYBRID_EF, vectors.exact_index_max
    pages: dict[int, list[tuple[list[str], int]]] = {}
    try:
        for ef in [0, *efs]:  # 0: exact
            engine_module.HYBRID_EF = ef or served_ef
            vectors.exact_index_max = 1 << 62 if ef == 0 else served_exact
            pages[ef] = []
            for q in qs:
                res = engine.search(q[:250], mode="hybrid", per_page=20)
                pages[ef].append(([h.paper.arxiv_id for h in res.results], res.total))
    finally:
        engine_module.HYBRID_EF, vectors.exact_index_max = served_ef, served_exact
    qvecs = [emb.embed_query(parse_query(q[:250]).text) for q in qs]
    times: dict[int, list[float]] = {ef: [] for ef in efs}
    for at, v in enumerate(qvecs):
        for ef in efs[at % len(efs):] + efs[: at % len(efs)]:  # each beam goes first in turn
            t = time.perf_counter()
            vectors.search_keys(v, POOL_DEPTH, ef=ef)
            times[ef].append((time.perf_counter() - t) * 1000)
    engine.close()

    def share(ef: int, depth: int) -> float:
        return float(np.mean([len(set(got[:depth]) & set(want[:depth])) / len(want[:depth])
                              for (got, _), (want, _) in zip(pages[ef], pages[0]) if want]))

    rows = []
    for ef in efs:
        same = sum(got == want for (got, _), (want, _) in zip(pages[ef], pages[0]))
        same_total = sum(a == b for (_, a), (_, b) in zip(pages[ef], pages[0]))
        rows.append([workdir.name, ef, f"{share(ef, 10):.4f}", f"{share(ef, 20):.4f}", f"{same}/{len(qs)}",
                     f"{same_total}/{len(qs)}", f"{percentile(times[ef], 50):.2f} / {percentile(times[ef], 99):.2f}"])
        say(f"  {rows[-1]}")
    return rows


def hybrid_ef_report(emb, qs: list[str], args) -> int:
    from _report import append_section, table

    from dailypapers.search.engine import HYBRID_EF

    workdirs = built_scales(args.scales)
    if workdirs is None:
        return 1
    efs = [int(x) for x in args.hybrid_ef.split(",")]
    rows = [row for workdir in workdirs for row in hybrid_ef(workdir, emb, qs, efs)]
    body = [
        f"Hybrid search ({len(qs)} topic queries, first page of 20) with its vector leg searched through the HNSW "
        "graph at each beam (ef), against the same searches with an exact vector leg (every vector scored): the "
        "share of the exact top 10 and top 20 found, the queries whose page is the same in the same order, and "
        "those whose result count is the same. The vector leg alone (top 200, query vectors made beforehand), "
        f"the beams interleaved query by query. Served: engine.HYBRID_EF = {HYBRID_EF}.",
        "",
        table(["corpus", "ef", "top 10 found", "top 20 found", "same page", "same count", "vector leg p50 / p99 ms"],
              rows),
        "",
    ]
    print("\n".join(body))
    if not args.no_report:
        append_section("Hybrid search: the vector leg's beam", None, "\n".join(body))
    return 0


def small_index_report(emb, qs: list[str], args) -> int:
    from _report import append_section, table

    from dailypapers.search.vectors import EXACT_INDEX_MAX, EXPANSION_SEARCH

    sizes = [int(float(x.rstrip("k")) * 1000) if x.endswith("k") else int(x) for x in args.small_index.split(",")]
    rows, source = small_index(emb, qs, sizes)
    body = [
        f"The semantic leg's vector search (top 200) on small indexes: the HNSW graph (M=16, ef {EXPANSION_SEARCH}, "
        f"as served) against exact search of every vector read from the mapped file, the two interleaved query by "
        f"query, 200 topic queries x 3, one thread. Vectors: {source}. "
        f"Served: exact up to vectors.EXACT_INDEX_MAX = {EXACT_INDEX_MAX:,}.",
        "",
        table(["papers", "search", "p50 ms", "p95 ms", "p99 ms", "recall@10 against exact"], rows),
        "",
    ]
    print("\n".join(body))
    if not args.no_report:
        append_section("Exact search of a small index", None, "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
