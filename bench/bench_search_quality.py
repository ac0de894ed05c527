#!/usr/bin/env python3
"""Search quality for lexical, semantic and hybrid search, side by side in one run.

    python bench/bench_search_quality.py [--tune] [--known-items 2000] [--data ../shared/data] [--no-sentences]

1. SciFact **train** (809 judged queries, 5,183 abstracts): nDCG@10, recall@100, MRR@10 through
   dailypapers.search.eval (the real engine over a temporary store and indexes). Document vectors
   come from bench/cache (made by bench/embed_corpus.py or bench_embed.py with the same model) or
   are computed once and cached. ``--tune`` cross-validates (5 folds x 5 shuffles over queries)
   the fusions (RRF, weighted RRF, convex combinations of min-max or z-score normalized scores;
   then the fusion depth, scores over their maximum or their theoretical min-max, a semantic
   weight per query length, and the closest sentence's weight in the semantic score) and the
   BM25 title weight, and prints the mean held-out nDCG@10 of each: fusion.py's and lexical.py's
   constants come from it.
2. Topic queries: the 1,000 lines of queries/topic_queries.txt (HF ``ai_keywords``) over the HF
   papers that have keywords (6,325). Relevance rule: a paper is relevant to a query when one of
   its ai_keywords equals the query, ignoring case and spacing (binary; unjudged = not relevant,
   so the figures are lower bounds and favour literal matches). nDCG@10 over all queries and over
   the short ones (one or two words). ``--tune`` cross-validates the title-phrase bonus of short
   queries and their fusion weights on these queries.
3. Known-item search over the ~64k real papers (arXiv cs listings + HF daily papers), in the
   store/indexes of bench/cache/scale-64k (built by bench_search_latency.py's builder):
   * exact title -> rank 1, on a seeded random sample of papers; a different paper with the very
     same title at rank 1 counts as found (reported separately);
   * paraphrase -> top 10: for HF papers, the query is their ``ai_summary`` (HF's AI-written
     one-sentence restatement, which shares few exact words with the title) and, separately,
     their ``ai_keywords`` joined by spaces; neither field is indexed.
   Semantic figures need the real corpus vectors (bench/cache/corpus68k.npz); without them the
   known-item part is lexical only and says so.

``--no-sentences`` measures all three as served with the ``embed_sentences`` setting off: no
paper's closest sentence in its semantic score.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _search_corpus import CACHE, REPO, bench_embedder, load_corpus  # noqa: E402

MODES = ("lexical", "semantic", "hybrid")
ALPHAS = tuple(round(0.05 * i, 2) for i in range(0, 17))  # semantic weight of the convex fusions
RRF_GRID = tuple((k, w) for k in (10, 20, 40, 60, 100) for w in (0.5, 0.75, 1.0, 1.25, 1.5))
TITLE_GRID = (0.0, 0.1, 0.25, 0.4, 0.6, 1.0)
PHRASE_GRID = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
SHORT_WORDS = 2  # "short" topic queries in the report: one or two words


def say(msg: str) -> None:
    print(msg, flush=True)


def _vectors_cache(emb, *names: str) -> Path:
    for name in names:
        cand = CACHE / name
        if cand.exists():
            z = np.load(cand, allow_pickle=False)
            if "model_id" not in z.files or str(z["model_id"]) == emb.model_id:
                return cand
    say(f"no cached vectors for {emb.model_id}: embedding the corpus into {CACHE / names[-1]} (several minutes)")
    return CACHE / names[-1]


def topic_folder(data: Path, out: Path) -> Path:
    """A BEIR folder for the topic queries over the HF papers (written once, then reused).

    Corpus: every HF paper with ``ai_keywords`` (title, abstract). Queries: the lines of
    queries/topic_queries.txt. A paper is relevant (grade 1) to a query when one of its
    ai_keywords equals the query, ignoring case and spacing. Papers without keywords are left
    out, since nothing could mark them relevant.
    """
    if (out / "qrels" / "test.tsv").exists():
        return out
    norm = lambda s: " ".join(s.casefold().split())  # noqa: E731
    papers: dict[str, dict] = {}
    with gzip.open(data / "hf-daily-papers" / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("arxiv_id") and d["arxiv_id"] not in papers and d.get("ai_keywords"):
                papers[d["arxiv_id"]] = d
    by_kw: dict[str, list[str]] = {}
    for pid, d in papers.items():
        for k in dict.fromkeys(norm(k) for k in d["ai_keywords"]):
            by_kw.setdefault(k, []).append(pid)
    lines = (data / "queries" / "topic_queries.txt").read_text(encoding="utf-8").splitlines()
    queries = list(dict.fromkeys(q.strip() for q in lines if q.strip()))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "qrels").mkdir(parents=True)
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as f:
        for pid, d in papers.items():
            row = {"_id": pid, "title": " ".join(d["title"].split()), "text": " ".join(d["summary"].split())}
            f.write(json.dumps(row) + "\n")
    with open(tmp / "queries.jsonl", "w", encoding="utf-8") as f:
        for i, q in enumerate(queries):
            f.write(json.dumps({"_id": f"t{i}", "text": q}) + "\n")
    with open(tmp / "qrels" / "test.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for i, q in enumerate(queries):
            for pid in by_kw.get(norm(q), []):
                f.write(f"t{i}\t{pid}\t1\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def per_query_ndcg(ranked: dict, qrels: dict) -> dict:
    from dailypapers.search.eval import ndcg_at_k

    return {q: ndcg_at_k([d for d, _ in ranked[q]], qrels[q], 10) for q in qrels}


def fusion_grids(inputs: dict, qrels: dict) -> dict:
    """{fusion name: {params: {query: nDCG@10}}} for every fusion and parameter tried."""
    from dailypapers.search import fusion

    qrels = {q: r for q, r in qrels.items() if any(v > 0 for v in r.values())}

    def grid(fn, params):
        return {p: per_query_ndcg({q: fn(inputs[q], p) for q in qrels}, qrels) for p in params}

    ids = lambda items: [d for d, _ in items]  # noqa: E731
    out = {
        "RRF k=60, equal weights": grid(
            lambda x, p: fusion.rrf({"lexical": ids(x["lexical"]), "semantic": ids(x["semantic"])}, {}, 60), [None]),
        "weighted RRF (k, semantic weight)": grid(
            lambda x, p: fusion.rrf(
                {"lexical": ids(x["lexical"]), "semantic": ids(x["semantic"])}, {"lexical": 1.0, "semantic": p[1]}, p[0]
            ), RRF_GRID),
    }
    for norm in ("minmax", "zscore"):
        for completed, suffix in ((False, "missing = list minimum"), (True, "both scores for every candidate")):
            lk, sk = ("lexical+", "semantic+") if completed else ("lexical", "semantic")
            out[f"convex {norm}, {suffix} (semantic weight)"] = grid(
                lambda x, a, lk=lk, sk=sk, norm=norm: fusion.convex(
                    {"lexical": x[lk], "semantic": x[sk]}, {"lexical": 1 - a, "semantic": a}, norm
                ), ALPHAS)
    return out


DEPTH_GRID = (30, 50, 100, 200)
SENTENCE_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0)  # fusion.SENTENCE_WEIGHT's candidates
SENTENCE_ALPHAS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
LENGTH_CUT = 10  # words: "long" claims of SciFact against the shorter ones, for per-length weights


def truncated(x: dict, depth: int) -> tuple[dict, dict]:
    """Both completed score lists of one query as fusing each ranker's top ``depth`` would see them
    (``x`` from fusion_inputs at a larger depth: the completed scores of the union are all there)."""
    top = {d for name in ("lexical", "semantic") for d, _ in sorted(x[name], key=lambda t: -t[1])[:depth]}
    return ({d: s for d, s in x["lexical+"] if d in top}, {d: s for d, s in x["semantic+"] if d in top})


def fusion_variants(inputs: dict, qrels: dict, queries: dict) -> dict:
    """More fusions, cross-validated like fusion_grids: the fusion depth, scores divided by their
    maximum (a theoretical minimum of 0, Bruch et al.'s "TM2C2" for BM25 and cosine) or their
    theoretical min-max (the cosine's minimum -1) instead of min-max, and a semantic weight per
    query length. ``inputs`` at depth max(DEPTH_GRID)."""
    from dailypapers.search import fusion

    qrels = {q: r for q, r in qrels.items() if any(v > 0 for v in r.values())}
    cut = {q: {d: truncated(inputs[q], d) for d in DEPTH_GRID} for q in qrels}

    def by_max(scores: dict, lo: float = 0.0) -> list:
        hi = max(scores.values(), default=lo)
        return [(d, (s - lo) / (hi - lo) if hi - lo > 1e-12 else 1.0) for d, s in scores.items()]

    def convex(lex: dict, sem: dict, a: float, norm: str) -> list:
        if norm == "max":
            return _weighted(by_max(lex), by_max(sem), a)
        if norm == "tmm":  # Bruch et al.'s theoretical min-max: BM25's minimum 0, the cosine's -1
            return _weighted(by_max(lex), by_max(sem, -1.0), a)
        return fusion.convex({"lexical": list(lex.items()), "semantic": list(sem.items())},
                             {"lexical": 1 - a, "semantic": a}, norm)

    def ndcg(q: str, fused: list) -> float:
        from dailypapers.search.eval import ndcg_at_k

        return ndcg_at_k([d for d, _ in fused], qrels[q], 10)

    grid: dict = {}
    for d in DEPTH_GRID:
        for a in ALPHAS:
            grid[("minmax", d, a)] = {q: ndcg(q, convex(*cut[q][d], a, "minmax")) for q in qrels}
    for a in ALPHAS:
        grid[("max", 100, a)] = {q: ndcg(q, convex(*cut[q][100], a, "max")) for q in qrels}
        grid[("tmm", 100, a)] = {q: ndcg(q, convex(*cut[q][100], a, "tmm")) for q in qrels}
    out = {f"convex min-max, depth {d} (semantic weight)": {a: grid[("minmax", d, a)] for a in ALPHAS}
           for d in DEPTH_GRID}
    out["convex min-max, depth and weight chosen together"] = {
        (d, a): grid[("minmax", d, a)] for d in DEPTH_GRID for a in ALPHAS}
    out["convex, scores over their maximum (minimum 0), depth 100"] = {a: grid[("max", 100, a)] for a in ALPHAS}
    out["convex, theoretical min-max (BM25 from 0, cosine from -1), depth 100"] = {
        a: grid[("tmm", 100, a)] for a in ALPHAS}
    # the closest sentence's weight in the semantic score (fusion.with_sentences) and the semantic
    # weight, chosen together, at depth 100 (the completed lists of inputs hold every candidate's)
    lists = {}
    for q in qrels:
        lex, _ = cut[q][100]
        lists[q] = (list(lex.items()), [(d, s) for d, s in inputs[q]["cosine+"] if d in lex],
                    dict(inputs[q]["sentences"]))
    for w in SENTENCE_GRID:
        for a in SENTENCE_ALPHAS:
            grid[("sentences", w, a)] = {q: ndcg(q, fusion.convex(
                {"lexical": lists[q][0], "semantic": fusion.with_sentences(lists[q][1], lists[q][2], w)},
                {"lexical": 1 - a, "semantic": a})) for q in qrels}
    out["convex min-max, depth 100, closest-sentence weight and semantic weight chosen together"] = {
        (w, a): grid[("sentences", w, a)] for w in SENTENCE_GRID for a in SENTENCE_ALPHAS}
    long_q = {q for q in qrels if len(queries[q].split()) >= LENGTH_CUT}
    out[f"convex min-max, depth 100, a weight below / from {LENGTH_CUT} words"] = {
        (a, b): {q: grid[("minmax", 100, b if q in long_q else a)][q] for q in qrels}
        for a in ALPHAS for b in ALPHAS}
    return out


def _weighted(lex: list, sem: list, a: float) -> list:
    """A convex combination of already normalized scores (a paper missing from a list counts 0)."""
    ls, ss = dict(lex), dict(sem)
    order = list(dict.fromkeys([d for d, _ in lex] + [d for d, _ in sem]))
    fused = {d: (1 - a) * ls.get(d, 0.0) + a * ss.get(d, 0.0) for d in order}
    return sorted(fused.items(), key=lambda t: -t[1])


def cv_rows(grids: dict) -> list[list]:
    from dailypapers.search.eval import cross_validate

    rows = []
    for name, g in grids.items():
        r = cross_validate(g)
        n = len(next(iter(g.values())))
        best = max(g, key=lambda p: sum(g[p].values()))
        picked = ", ".join(f"{p} x{c}" for p, c in r["picked"].most_common(3))
        rows.append([name, r["mean"], r["sd"], picked, str(best), sum(g[best].values()) / n])
    return rows


CV_HEADERS = ["fusion / setting", "held-out nDCG@10 (mean)", "sd over folds", "picked on the training folds (of 25)",
              "best on all of train", "its nDCG@10"]


def lexical_grid(run, name: str, values, queries=None) -> dict:
    """{value: {query: nDCG@10}} of lexical search with lexical.<name> (or FIELD_WEIGHTS[title]) set."""
    from dailypapers.search import lexical
    from dailypapers.search.eval import ndcg_at_k
    from dailypapers.search.query import parse_query

    qrels = {q: r for q, r in run.qrels.items() if (queries is None or q in queries) and any(v > 0 for v in r.values())}
    saved = (dict(lexical.FIELD_WEIGHTS), lexical.TITLE_PHRASE_BOOST)
    out = {}
    try:
        for v in values:
            if name == "title":
                lexical.FIELD_WEIGHTS["title"] = v
            else:
                setattr(lexical, name, v)
            search = run.engine.lexical.search
            out[v] = {
                q: ndcg_at_k([h.arxiv_id for h in search(parse_query(run._q(run.queries[q])), None, 10)], qrels[q], 10)
                for q in qrels
            }
    finally:
        lexical.FIELD_WEIGHTS.clear()
        lexical.FIELD_WEIGHTS.update(saved[0])
        lexical.TITLE_PHRASE_BOOST = saved[1]
    return out


def scifact(args, emb, tune: bool) -> tuple[dict, list[str]]:
    from _report import table

    from dailypapers.search.eval import BeirRun

    cache = _vectors_cache(emb, "scifact.npz", f"scifact-eval-{emb.model_id}.npz", f"scifact-search-{emb.model_id}.npz")
    run = BeirRun(args.data / "scifact", embedder=emb, vectors_cache=cache, progress=say,
                  sentences=not args.no_sentences)
    notes = [f"SciFact vectors: {cache.name}; qrels {run.qrels_path.name} ({len(run.qrels)} queries)"
             + ("; sentence vectors off (the embed_sentences setting)" if args.no_sentences else "")]
    t = time.perf_counter()
    result = run.evaluate()
    say(f"SciFact evaluated in {time.perf_counter() - t:.0f} s: {json.dumps(result)}")
    if tune:
        rows = cv_rows(fusion_grids(run.fusion_inputs(), run.qrels))
        notes += ["", "Fusion, SciFact train, 5-fold cross-validation over queries x 5 shuffles (top 100 from "
                  "each ranker; convex weights are the semantic weight, lexical = 1 - it):", "",
                  table(CV_HEADERS, rows)]
        queries = {q: run.queries[q] for q in run.qrels}
        rows = cv_rows(fusion_variants(run.fusion_inputs(max(DEPTH_GRID)), run.qrels, queries))
        notes += ["", "More fusions, the same cross-validation (depth: candidates from each ranker, every "
                  "candidate scored by both; per length: a pair of semantic weights):", "", table(CV_HEADERS, rows)]
        rows = cv_rows({"BM25 title weight (text 1.0)": lexical_grid(run, "title", TITLE_GRID)})
        notes += ["", "Lexical, SciFact train, the same cross-validation:", "", table(CV_HEADERS, rows)]
        say("\n".join(notes))
    run.close()
    return result, notes


def topics(args, emb, tune: bool) -> tuple[dict, list[str]]:
    from _report import table

    from dailypapers.search.eval import BeirRun, score_run
    from dailypapers.search.lexical import is_short_query
    from dailypapers.search.query import parse_query

    folder = topic_folder(args.data, CACHE / "hf-topics")
    cache = _vectors_cache(emb, f"hf-topics-{emb.model_id}.npz") if emb else None
    run = BeirRun(folder, embedder=emb, vectors_cache=cache, progress=say, sentences=not args.no_sentences)
    short = {q for q in run.qrels if len(run.queries[q].split()) <= SHORT_WORDS}
    out: dict = {}
    for mode in MODES:
        if mode != "lexical" and not run.semantic:
            continue
        ranked, _ = run.rankings(mode)
        out[mode] = {
            "all": score_run(ranked, run.qrels)["ndcg@10"],
            "short": score_run(ranked, {q: run.qrels[q] for q in short})["ndcg@10"],
            "recall@100": score_run(ranked, run.qrels)["recall@100"],
        }
        say(f"topics, {mode}: {out[mode]}")
    notes = [f"Topic queries: {len(run.qrels)} judged ({len(short)} of one or two words) over {len(run.corpus)} "
             f"HF papers with ai_keywords; relevant = the query is one of the paper's ai_keywords."]
    if tune:
        sq = {q for q in run.qrels if is_short_query(parse_query(run._q(run.queries[q])))}
        grid = lexical_grid(run, "TITLE_PHRASE_BOOST", PHRASE_GRID, sq)
        rows = cv_rows({"title-phrase bonus of short queries": grid})
        notes += ["", f"Lexical, topic queries that are short (lexical.is_short_query: {len(sq)}), cross-validated:",
                  "", table(CV_HEADERS, rows)]
        if run.semantic:
            inputs = run.fusion_inputs()
            grids = fusion_grids(inputs, {q: run.qrels[q] for q in sq})
            rows = cv_rows({k: v for k, v in grids.items() if "both scores" in k})
            notes += ["", "Fusion weights of short queries (convex, min-max), on the same topic queries:", "",
                      table(CV_HEADERS, rows)]
        say("\n".join(notes))
    run.close()
    return out, notes


def known_items(args, emb) -> tuple[dict, list[str]]:
    from bench_search_latency import build

    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.sqlite import SQLiteStore

    workdir = CACHE / "scale-64k"
    info = build(workdir, 1, args.data, emb, rebuild=False)
    real = info.get("vectors_source", "").startswith("real")
    papers, _, hf = load_corpus(args.data)
    store = SQLiteStore(workdir / "db.sqlite")
    engine = SearchEngine(store, workdir / "index", emb if real else None, read_sentences=not args.no_sentences)
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
    ap.add_argument("--skip-topics", action="store_true")
    ap.add_argument("--skip-known", action="store_true")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--no-sentences", action="store_true",
                    help="search as with the embed_sentences setting off (no sentence vectors read)")
    args = ap.parse_args()
    emb, model_note = bench_embedder(args.model_dir)
    if emb is None:
        say("no embedding model: semantic and hybrid are skipped")
    from dailypapers.search import fusion, lexical

    body = [
        f"Model: {emb.model_id if emb else 'none'} ({model_note}). BM25 field weights {lexical.FIELD_WEIGHTS}, "
        f"short queries (<= {lexical.SHORT_QUERY_TOKENS} words) add the title phrase x{lexical.TITLE_PHRASE_BOOST}; "
        f"fusion {fusion.METHOD} ({fusion.NORM}), weights {fusion.CONVEX_WEIGHTS}, short queries "
        f"{fusion.CONVEX_WEIGHTS_SHORT}, depth {fusion.DEPTH}"
        + (f"; sentence vectors off (the embed_sentences setting): weights {fusion.CONVEX_WEIGHTS_COSINE}, short "
           f"queries {fusion.CONVEX_WEIGHTS_SHORT_COSINE}." if args.no_sentences else
           f"; each paper's closest sentence mixed in at {fusion.SENTENCE_WEIGHT} for the first fusion's top "
           f"{fusion.SENTENCE_DEPTH}, which uses the weights {fusion.CONVEX_WEIGHTS_COSINE} (short "
           f"{fusion.CONVEX_WEIGHTS_SHORT_COSINE})."),
        "",
    ]
    from _report import append_section, table

    if not args.skip_scifact and emb is not None:
        sf, notes = scifact(args, emb, args.tune)
        rows = [
            [m, *(sf[m].get(k, "-") for k in ("ndcg@10", "recall@100", "mrr@10", "p50_ms"))]
            for m in MODES
            if "skipped" not in sf[m]
        ]
        headers = ["mode", "nDCG@10", "recall@100", "MRR@10", "p50 ms (per_page=100)"]
        body += ["SciFact train:", "", table(headers, rows), ""]
        body += notes + [""]
    if not args.skip_topics:
        tp, notes = topics(args, emb, args.tune)
        rows = [[m, v["all"], v["short"], v["recall@100"]] for m, v in tp.items()]
        body += ["Topic queries (HF ai_keywords):", "",
                 table(["mode", "nDCG@10 (all)", "nDCG@10 (1-2 words)", "recall@100"], rows), ""]
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
