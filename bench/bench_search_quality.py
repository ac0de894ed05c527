#!/usr/bin/env python3
"""Search quality for lexical, semantic and hybrid search, in the same run.

    python bench/bench_search_quality.py [--tune] [--known-items 2000] [--data ../shared/data]

1. SciFact **train** (809 judged queries, 5,183 abstracts): nDCG@10, recall@100, MRR@10 through
   dailypapers.search.eval (the real engine over a temporary store and indexes). Document vectors
   come from bench/cache (made by bench/embed_corpus.py or bench_embed.py with the same model) or
   are computed. ``--tune`` grid-searches the title weight of BM25 and the RRF weights on these
   rankings and prints the grid (fusion.py's constants come from it).
2. Known-item search over the ~64k real papers (arXiv cs listings + HF daily papers), in the
   store/indexes of bench/cache/scale-64k (built by bench_search_latency.py's builder):
   * exact title -> rank 1, on a seeded random sample of papers; a different paper with the very
     same title at rank 1 counts as found (reported separately);
   * paraphrase -> top 10: for HF papers, the query is their ``ai_summary`` (HF's AI-written
     one-sentence restatement, which shares few exact words with the title) and, separately,
     their ``ai_keywords`` joined by spaces; neither field is indexed.
   Semantic figures need the real corpus vectors (bench/cache/corpus68k.npz); without them the
   known-item part is lexical only and says so.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_corpus import CACHE, REPO, bench_embedder, load_corpus  # noqa: E402

TITLE_GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SEM_GRID = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)


def say(msg: str) -> None:
    print(msg, flush=True)


def scifact(args, emb, tune: bool) -> tuple[dict, list[str]]:
    from dailypapers.search import fusion, lexical
    from dailypapers.search.eval import BeirRun, score_run
    from dailypapers.search.query import parse_query

    folder = args.data / "scifact"
    cache = None
    for cand in (CACHE / "scifact.npz", CACHE / f"scifact-eval-{emb.model_id}.npz"):
        if cand.exists():
            z = np.load(cand, allow_pickle=False)
            if "model_id" not in z.files or str(z["model_id"]) == emb.model_id:
                cache = cand
                break
    if cache is None:
        cache = CACHE / f"scifact-search-{emb.model_id}.npz"
        say(f"no cached SciFact vectors for {emb.model_id}: embedding 5,183 documents into {cache}")
    run = BeirRun(folder, embedder=emb, vectors_cache=cache, progress=say)
    notes = [f"SciFact vectors: {cache.name}; qrels {run.qrels_path.name} ({len(run.qrels)} queries)"]
    t = time.perf_counter()
    result = run.evaluate()
    say(f"SciFact evaluated in {time.perf_counter() - t:.0f} s: {json.dumps(result)}")
    grid_lines = []
    if tune:
        saved = dict(lexical.FIELD_WEIGHTS)
        sem_run, _ = run.rankings("semantic", fusion.DEPTH)
        rows = []
        for tw in TITLE_GRID:
            lexical.FIELD_WEIGHTS["title"] = tw
            lex_run = {
                q: [h.arxiv_id
                    for h in run.engine.lexical.search(parse_query(run._q(run.queries[q])), None, fusion.DEPTH)]
                for q in run.qrels
            }
            lex_m = score_run(lex_run, run.qrels)
            row = [tw, lex_m["ndcg@10"]]
            for sw in SEM_GRID:
                fused = {
                    q: [d for d, _ in fusion.rrf({"lexical": lex_run[q], "semantic": sem_run[q]},
                                                 {"lexical": 1.0, "semantic": sw})]
                    for q in run.qrels
                }
                row.append(score_run(fused, run.qrels)["ndcg@10"])
            rows.append(row)
        lexical.FIELD_WEIGHTS.clear()
        lexical.FIELD_WEIGHTS.update(saved)
        from _report import table

        grid_lines = [
            "Tuning grid, SciFact train nDCG@10 (rows: BM25 title weight, abstract 1.0; columns: RRF semantic "
            "weight with lexical 1.0, k=60, top 100 from each):",
            "",
            table(["title w", "lexical"] + [f"hyb s={s}" for s in SEM_GRID], rows),
        ]
        say("\n".join(grid_lines))
    run.close()
    return result, notes + ([""] + grid_lines if grid_lines else [])


def known_items(args, emb) -> tuple[dict, list[str]]:
    from bench_search_latency import build

    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.sqlite import SQLiteStore

    workdir = CACHE / "scale-64k"
    info = build(workdir, 1, args.data, emb, rebuild=False)
    real = info.get("vectors_source", "").startswith("real")
    papers, _, hf = load_corpus(args.data)
    store = SQLiteStore(workdir / "db.sqlite")
    engine = SearchEngine(store, workdir / "index", emb if real else None)
    modes = ("lexical", "semantic", "hybrid") if real else ("lexical",)
    rng = random.Random(20260821)
    sample = rng.sample(papers, min(args.known_items, len(papers)))
    norm = lambda s: " ".join(s.casefold().split())  # noqa: E731
    out: dict = {}
    for mode in modes:
        strict = lenient = 0
        for p in sample:
            res = engine.search(p.title[:250], mode=mode, per_page=10)
            top = res.results[0].paper if res.results else None
            strict += top is not None and top.arxiv_id == p.arxiv_id
            lenient += top is not None and (top.arxiv_id == p.arxiv_id or norm(top.title) == norm(p.title))
        out.setdefault(mode, {})["title@1"] = lenient / len(sample)
        out[mode]["title@1_strict"] = strict / len(sample)
        say(f"known-item title, {mode}: {lenient}/{len(sample)} at rank 1 ({strict} the very paper)")
    para = [d for pid, d in hf.items() if d.get("ai_summary")]
    para = rng.sample(para, min(args.paraphrases, len(para)))
    kw = [d for d in para if " ".join(d.get("ai_keywords") or []).strip()]
    for mode in modes:
        hit_s = sum(
            d["arxiv_id"]
            in {h.paper.arxiv_id for h in engine.search(d["ai_summary"][:250], mode=mode, per_page=10).results}
            for d in para
        )
        hit_k = sum(
            d["arxiv_id"]
            in {h.paper.arxiv_id
                for h in engine.search(" ".join(d["ai_keywords"])[:250], mode=mode, per_page=10).results}
            for d in kw
        )
        out[mode]["summary@10"] = hit_s / max(1, len(para))
        out[mode]["keywords@10"] = hit_k / max(1, len(kw))
        say(f"paraphrase, {mode}: ai_summary {hit_s}/{len(para)}, ai_keywords {hit_k}/{len(kw)} in top 10")
    engine.close()
    store.close()
    notes = [
        f"Known-item corpus: {len(papers)} real papers; {len(sample)} sampled titles; {len(para)} HF papers "
        f"with ai_summary ({len(kw)} with ai_keywords). Vectors: {info.get('vectors_source')}."
    ]
    return out, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--known-items", type=int, default=2000)
    ap.add_argument("--paraphrases", type=int, default=1000)
    ap.add_argument("--skip-scifact", action="store_true")
    ap.add_argument("--skip-known", action="store_true")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
    emb, model_note = bench_embedder(args.model_dir)
    if emb is None:
        say("no embedding model: semantic and hybrid are skipped")
    from dailypapers.search import fusion, lexical

    body = [
        f"Model: {emb.model_id if emb else 'none'} ({model_note}). Field weights {lexical.FIELD_WEIGHTS}; "
        f"RRF k={fusion.RRF_K}, weights {fusion.WEIGHTS}, depth {fusion.DEPTH}.",
        "",
    ]
    from _report import append_section, table

    if not args.skip_scifact:
        sf, notes = scifact(args, emb, args.tune)
        rows = [
            [m, *(sf[m].get(k, "-") for k in ("ndcg@10", "recall@100", "mrr@10", "p50_ms"))]
            for m in ("lexical", "semantic", "hybrid")
            if "skipped" not in sf[m]
        ]
        headers = ["mode", "nDCG@10", "recall@100", "MRR@10", "p50 ms (per_page=100)"]
        body += ["SciFact train:", "", table(headers, rows), ""]
        body += notes + [""]
    if not args.skip_known:
        ki, notes = known_items(args, emb)
        rows = [
            [m, v["title@1"], v["title@1_strict"], v["summary@10"], v["keywords@10"]] for m, v in ki.items()
        ]
        body += [
            "Known-item search:", "",
            table(["mode", "exact title @1", "@1 (the very paper)", "ai_summary @10", "ai_keywords @10"], rows), "",
        ] + notes
    text = "\n".join(body)
    print(text)
    if not args.no_report:
        append_section("Search quality", None, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
