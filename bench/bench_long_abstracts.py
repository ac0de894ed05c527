#!/usr/bin/env python3
"""Does the query model's 256-token cut cost search quality? (issue 13: hybrid >= 0.74 on SciFact.)

    python bench/bench_long_abstracts.py [--data ../shared/data] [--no-report]

The packaged model (all-MiniLM-L6-v2) embeds a paper's "title. abstract" cut at 256 tokens; 72% of
SciFact's abstracts and many arXiv ones are longer. On SciFact train (809 judged queries, 5,183
abstracts), one run compares the semantic leg and the hybrid ranking with these document vectors:

* ``cut 256``: the text cut at 256 tokens, as served (the baseline, in the same run);
* ``cut 512``: the same model reading up to 512 tokens (its position table's length);
* ``head, tail max``: a second vector for each text longer than 256 tokens, of the title and the
  rest of the abstract (from token 230, a little overlap), and a paper's cosine is the larger of
  its two (multi-vector retrieval);
* ``head, tail 0.8/0.2``: the two cosines mixed 0.8 / 0.2.

Every semantic list is exact (all vectors scored). The hybrid figure is the fusion as served
(``fusion.convex``, each leg's top ``fusion.DEPTH``, both scores for every candidate: BM25 for
papers only the semantic list found, the variant's cosine for papers only the keyword list found),
without the engine's relevance rule and exact-title rule, so it is the fusion's own figure. Also
reported: the share of texts over the cut, on SciFact and on the arXiv cs abstracts of
arxiv-daily-cs. Vectors are cached in bench/cache/scifact-long.npz (re-made when the model changes).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import append_section, table  # noqa: E402
from _search_corpus import CACHE, REPO, bench_embedder  # noqa: E402

CUT = 256  # the model's cut, as served
LONG_CUT = 512
TAIL_FROM = 230  # the tail vector starts at this token: some overlap with the head
TAIL_WEIGHT = 0.2
ARXIV_SAMPLE = 5000  # arXiv abstracts whose length is counted


def say(msg: str) -> None:
    print(msg, flush=True)


def texts_of(folder: Path) -> tuple[list[str], list[str], list[str]]:
    from dailypapers.search.embedder import document_text
    from dailypapers.search.eval import load_corpus

    corpus = load_corpus(folder)
    ids = list(corpus)
    return ids, [corpus[d][0] for d in ids], [document_text(*corpus[d]) for d in ids]


def token_counts(tokenizer, texts: list[str]) -> np.ndarray:
    tokenizer.no_truncation()
    try:
        return np.array([len(e.ids) for e in tokenizer.encode_batch(texts)])
    finally:
        tokenizer.enable_truncation(max_length=CUT)


def tails(tokenizer, titles: list[str], texts: list[str]) -> tuple[list[int], list[str]]:
    """(positions, texts) of the tails: the title and the text from token TAIL_FROM on, for every
    text longer than the cut."""
    from dailypapers.search.embedder import document_text

    tokenizer.no_truncation()
    try:
        rows, out = [], []
        for i, enc in enumerate(tokenizer.encode_batch(texts)):
            if len(enc.ids) > CUT:
                rows.append(i)
                out.append(document_text(titles[i], texts[i][enc.offsets[TAIL_FROM][0]:]))
        return rows, out
    finally:
        tokenizer.enable_truncation(max_length=CUT)


def embed_at(emb, texts: list[str], cut: int) -> np.ndarray:
    emb._tokenizer.enable_truncation(max_length=cut)
    try:
        return emb.embed(texts)
    finally:
        emb._tokenizer.enable_truncation(max_length=CUT)


def vectors(emb, ids: list[str], titles: list[str], texts: list[str]) -> dict[str, np.ndarray]:
    path = CACHE / "scifact-long.npz"
    if path.exists():
        z = np.load(path, allow_pickle=False)
        if str(z["model_id"]) == emb.model_id and list(z["ids"]) == ids:
            return {k: z[k] for k in ("head", "long", "tail_rows", "tail")}
    out: dict[str, np.ndarray] = {}
    for name, cut in (("head", CUT), ("long", LONG_CUT)):
        t = time.monotonic()
        say(f"embedding {len(texts)} texts cut at {cut} tokens")
        out[name] = embed_at(emb, texts, cut)
        say(f"  {time.monotonic() - t:.0f} s")
    rows, tail_texts = tails(emb._tokenizer, titles, texts)
    say(f"embedding {len(rows)} tails")
    out["tail_rows"], out["tail"] = np.array(rows, dtype=np.int64), emb.embed(tail_texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, ids=np.array(ids), model_id=np.array(emb.model_id), **out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--no-report", action="store_true", help="print only; do not append to BENCHMARKS.md")
    args = ap.parse_args()

    from dailypapers.search import fusion
    from dailypapers.search.catchup import paper_key
    from dailypapers.search.eval import BeirRun, ndcg_at_k
    from dailypapers.search.query import SearchFilters, parse_query

    emb, _ = bench_embedder(threads=None)  # every core: nothing here is timed
    folder = args.data / "scifact"
    ids, titles, texts = texts_of(folder)
    counts = token_counts(emb._tokenizer, texts)
    with gzip.open(args.data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz", "rt", encoding="utf-8") as f:
        arxiv = []
        for line in f:
            d = json.loads(line)
            arxiv.append(f"{' '.join(d['title'].split())}. {' '.join(d['abstract'].split())}")
            if len(arxiv) >= ARXIV_SAMPLE:
                break
    arxiv_counts = token_counts(emb._tokenizer, arxiv)
    vecs = vectors(emb, ids, titles, texts)

    # lexical lists from the real engine over a temporary store (no vectors: lexical only)
    run = BeirRun(folder, progress=say)
    qids = list(run.qrels)
    queries = emb.embed([run._q(run.queries[q]) for q in qids])
    head = queries @ vecs["head"].T
    tail = head.copy()
    tail[:, vecs["tail_rows"]] = queries @ vecs["tail"].T
    variants = {
        f"cut {CUT} (as served)": head,
        f"cut {LONG_CUT}": queries @ vecs["long"].T,
        "head, tail max": np.maximum(head, tail),
        f"head, tail {1 - TAIL_WEIGHT:.1f}/{TAIL_WEIGHT:.1f}": (1 - TAIL_WEIGHT) * head + TAIL_WEIGHT * tail,
    }
    keys = [paper_key(d) for d in ids]
    by_key = {k: i for i, k in enumerate(keys)}
    none = SearchFilters()
    sem_nd: dict[str, list[float]] = {name: [] for name in variants}
    hyb_nd: dict[str, list[float]] = {name: [] for name in variants}
    lex_nd = []
    for n, qid in enumerate(qids):
        rels = run.qrels[qid]
        parsed = parse_query(run._q(run.queries[qid]))
        lex, _ = run.engine.lexical.search_with_count(parsed, none, fusion.DEPTH, 0, count=False)
        lex_ids = [h.arxiv_id for h in lex]
        in_lex = set(lex_ids)
        lex_nd.append(ndcg_at_k(lex_ids, rels, 10))
        for name, scores in variants.items():
            s = scores[n]
            top = np.argsort(-s, kind="stable")[: fusion.DEPTH]
            sem_nd[name].append(ndcg_at_k([ids[j] for j in top], rels, 10))
            sem_only = [keys[j] for j in top if ids[j] not in in_lex]
            bm25 = run.engine.lexical.scores_for(parsed, none, sem_only)
            lex_l = [(h.arxiv_id, h.score) for h in lex] + [(ids[by_key[k]], bm25.get(k, 0.0)) for k in sem_only]
            in_sem = {ids[j] for j in top}
            sem_l = [(ids[j], float(s[j])) for j in top]
            sem_l += [(h.arxiv_id, float(s[by_key[h.key]])) for h in lex if h.arxiv_id not in in_sem]
            fused = fusion.convex({"lexical": lex_l, "semantic": sem_l})
            hyb_nd[name].append(ndcg_at_k([d for d, _ in fused], rels, 10))
    run.close()

    base = f"cut {CUT} (as served)"
    rows = []
    for name in variants:
        d_sem = np.array(sem_nd[name]) - np.array(sem_nd[base])
        d_hyb = np.array(hyb_nd[name]) - np.array(hyb_nd[base])
        se = d_hyb.std(ddof=1) / np.sqrt(len(d_hyb))
        rows.append([name, f"{np.mean(sem_nd[name]):.4f}", f"{d_sem.mean():+.4f}", f"{np.mean(hyb_nd[name]):.4f}",
                     f"{d_hyb.mean():+.4f} ± {se:.4f}"])
    body = "\n".join([
        f"- model: {emb.model_id}; SciFact train, {len(qids)} judged queries, {len(ids)} abstracts; "
        f"lexical alone (the engine's BM25, top {fusion.DEPTH}) {np.mean(lex_nd):.4f}",
        f"- texts over {CUT} tokens: SciFact {np.mean(counts > CUT):.1%} (median {int(np.median(counts))} tokens), "
        f"over {LONG_CUT} {np.mean(counts > LONG_CUT):.1%}; the first {len(arxiv_counts)} arXiv cs papers of "
        f"arxiv-daily-cs {np.mean(arxiv_counts > CUT):.1%} (median {int(np.median(arxiv_counts))} tokens)",
        "",
        table(["document vectors", "semantic nDCG@10", "semantic - as served", "hybrid nDCG@10 (fusion alone)",
               "hybrid - as served, paired (± SE)"], rows),
        "",
        "Semantic lists are exact. Hybrid is fusion.convex over each leg's top 100, both scores for every "
        "candidate, without the relevance and exact-title rules (so it differs a little from the served figure).",
    ])
    print(body)
    if not args.no_report:  # append_section adds the date, the revision and the machine
        append_section("Long abstracts and the model's 256-token cut (issue 13)",
                       "python bench/bench_long_abstracts.py", body)


if __name__ == "__main__":
    main()
