"""Tune the "papers like the ones you upvoted" ranker of /for-you and the digests.

No real upvote logs exist, so members are simulated from real data: a member interested in an
AI keyword that Hugging Face attached to many papers (e.g. "reinforcement learning") upvoted the
papers with that keyword listed in the first --history days; the papers with that keyword in the
next --future days are the ones they would want. A two-interest member upvoted the papers of two
keywords. Each ranker orders the future pool (all papers listed in those days, minus nothing);
we report MAP, P@10 and R@10 averaged over members, and, for the centroid, how precise the label
"like papers you upvoted" is at each cosine threshold (UPVOTE_MATCH).

Rankers (numpy only):
* centroid -- cosine to the mean of the upvoted papers' unit vectors (what dailypapers uses);
* max-sim  -- the best cosine to any single upvoted paper (k-NN, k=1);
* top3     -- the mean of the 3 best cosines;
* ridge    -- a linear classifier like arxiv-sanity-lite's SVM: upvoted papers +1, the other
              history papers -1, ridge regression (closed form, lambda=1) on the embeddings.

Embeddings: the shipped model's fp32 ONNX export (bench/cache/models/none-256), computed here, or
with --vectors the bundled ones (demo/embeddings.npz: the int8 model the site ships).

"Not interested" (--hidden): does hiding papers improve the ranking, in the same run? Each member
was shown, during the history days, the history papers closest to their upvote centroid that they
had not upvoted; among the first SHOWN of those, they hid the first k that share none of their
keywords (the false positives a reader would dismiss). The future pool is then ranked by the
centroid's cosine minus W_HIDDEN x hidden_penalty (digests/foryou.py: the cosine to the hidden papers'
centroid) and compared with the centroid alone on the same members: MAP, P@10.

    python bench/tune_foryou.py [--history 60] [--future 20] [--min-papers 8] [--vectors demo/embeddings.npz]
                                [--hidden | --only-hidden]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from _report import DEFAULT_DATA, REPO, append_section, table


def load(data: Path, days: int):
    rows = []
    with gzip.open(data / "hf-daily-papers" / "hf_daily_papers.jsonl.gz", "rt") as f:
        for line in f:
            rows.append(json.loads(line))
    all_days = sorted({r["list_date"] for r in rows})[-days:]
    keep = set(all_days)
    seen, papers = set(), []
    for r in rows:
        if r["list_date"] in keep and r["arxiv_id"] not in seen:
            seen.add(r["arxiv_id"])
            papers.append(r)
    return all_days, papers


FLOOR = 0.5  # dailypapers.digests.foryou.UPVOTE_MATCH
SHOWN = 30  # history papers a simulated member looked at, best first by the centroid
HIDES = (5, 10, 20)  # how many of the off-interest ones they hid


def average_precision(ranked: list[int], relevant: set[int]) -> float:
    hits, total = 0, 0.0
    for k, i in enumerate(ranked, 1):
        if i in relevant:
            hits += 1
            total += hits / k
    return total / max(1, len(relevant))


def hidden_experiment(X, hist: list[int], fut: list[int], by_kw, members) -> str:
    """MAP and P@10 of the centroid ranker before and after the member's "not interested" clicks."""
    from dailypapers.digests.foryou import W_HIDDEN, hidden_penalty

    Xf = X[fut]
    has = np.ones(len(fut), dtype=bool)
    fut_set = set(fut)
    weights = sorted({W_HIDDEN / 2, W_HIDDEN, 2 * W_HIDDEN, 1.0})
    runs: dict = defaultdict(lambda: defaultdict(list))  # kind -> (k, w) -> [(ap, p10)]
    hid_counts: dict = defaultdict(list)
    for m in members:
        kind = "1 interest" if len(m) == 1 else "2 interests"
        liked = set().union(*(by_kw[k] for k in m))
        up = sorted(liked - fut_set)
        rel = {j for j, i in enumerate(fut) if i in liked}
        c = X[up].mean(axis=0)
        c /= np.linalg.norm(c)
        base = Xf @ c

        def score(s: np.ndarray, rel: set[int] = rel) -> tuple[float, float]:
            order = list(np.argsort(-s, kind="stable"))
            return average_precision(order, rel), len(set(order[:10]) & rel) / 10

        runs[kind][(0, 0.0)].append(score(base))
        upset = set(up)
        shown = sorted((i for i in hist if i not in upset), key=lambda i: -float(X[i] @ c))[:SHOWN]
        off = [i for i in shown if i not in liked]
        for k in HIDES:
            hidden = off[:k]
            hid_counts[k].append(len(hidden))
            penalty = hidden_penalty(Xf, has, X[hidden]) if hidden else np.zeros(len(fut))
            for w in weights:
                runs[kind][(k, w)].append(score(base - w * penalty))
    rows = []
    for kind in ("1 interest", "2 interests"):
        before = np.array(runs[kind][(0, 0.0)])
        for (k, w), vals in sorted(runs[kind].items()):
            a = np.array(vals)
            label = "before (no hides)" if k == 0 else f"{k} hides, W_HIDDEN={w:g}"
            d_map, d_p10 = a[:, 0].mean() - before[:, 0].mean(), a[:, 1].mean() - before[:, 1].mean()
            gain = "" if k == 0 else f"{d_map:+.3f} / {d_p10:+.3f}"
            rows.append([kind, label, len(vals), round(a[:, 0].mean(), 3), round(a[:, 1].mean(), 3), gain])
    t = table(["members", "ranking", "n", "MAP", "P@10", "change MAP / P@10"], rows)
    return (f"Centroid ranking of the future pool before and after \"not interested\": each member hid up to k "
            f"of the {SHOWN} history papers closest to their profile that share none of their keywords "
            f"(mean hides: {', '.join(f'{np.mean(v):.1f}' for v in hid_counts.values())}); the penalty is "
            f"digests/foryou.py's hidden_penalty; the site uses W_HIDDEN={W_HIDDEN:g}. Same members, same run."
            f"\n\n{t}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--history", type=int, default=60)
    ap.add_argument("--future", type=int, default=20)
    ap.add_argument("--min-papers", type=int, default=8)
    ap.add_argument("--model", type=Path, default=REPO / "bench" / "cache" / "models" / "none-256")
    ap.add_argument("--vectors", type=Path, default=None, help="bundled embeddings (.npz with ids, vectors)")
    ap.add_argument("--hidden", action="store_true", help="also measure \"not interested\" as a negative")
    ap.add_argument("--only-hidden", action="store_true", help="only that measure")
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()

    from dailypapers.search.embedder import document_text, load_embedder

    days, papers = load(args.data, args.history + args.future)
    if args.vectors is not None:
        bundled = np.load(args.vectors)
        index = {str(i): n for n, i in enumerate(bundled["ids"])}
        papers = [p for p in papers if p["arxiv_id"] in index]
    split = days[args.history]
    hist = [i for i, p in enumerate(papers) if p["list_date"] < split]
    fut = [i for i, p in enumerate(papers) if p["list_date"] >= split]
    cache = REPO / "bench" / "cache" / f"tune_foryou_{len(papers)}_{days[0]}_{days[-1]}.npy"
    if args.vectors is not None:
        V = bundled["vectors"].astype(np.float32)[[index[p["arxiv_id"]] for p in papers]]
        X = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    elif cache.exists():
        X = np.load(cache)
    else:
        emb = load_embedder(args.model)
        t = time.perf_counter()
        X = emb.embed([document_text(p["title"], p.get("summary") or "") for p in papers], batch_size=32)
        print(f"embedded {len(papers)} papers in {time.perf_counter() - t:.0f}s")
        np.save(cache, X)
    by_kw: dict[str, set[int]] = defaultdict(set)
    for i, p in enumerate(papers):
        for kw in p.get("ai_keywords") or []:
            by_kw[kw.lower()].add(i)
    fut_set = set(fut)
    interests = [kw for kw, ids in by_kw.items()
                 if len(ids - fut_set) >= 3 and len(ids & fut_set) >= 2 and len(ids) >= args.min_papers]
    interests.sort()
    members = [(kw,) for kw in interests]
    rng = np.random.default_rng(6)
    for _ in range(len(interests)):
        a, b = rng.choice(len(interests), 2, replace=False)
        members.append((interests[a], interests[b]))
    Xf = X[fut]
    model = args.vectors.name if args.vectors is not None else args.model.name
    described = (f"{len(papers)} real HF papers, {args.history} history + {args.future} future list days "
                 f"({days[0]} to {days[-1]}), {len(interests)} keyword interests with >= {args.min_papers} papers, "
                 f"{len(members)} simulated members; embeddings {model}.")
    if args.hidden or args.only_hidden:
        hidden_body = f"{described}\n\n{hidden_experiment(X, hist, fut, by_kw, members)}"
        print(hidden_body)
        if not args.no_report:
            append_section("For you: \"not interested\" as a negative (simulated members)", None, hidden_body)
        if args.only_hidden:
            return

    def rankers(up: list[int]):
        U = X[up]
        c = U.mean(axis=0)
        c /= np.linalg.norm(c)
        sims = Xf @ U.T
        srt = np.sort(sims, axis=1)
        neg = [i for i in hist if i not in set(up)]
        Xt = np.vstack([X[up], X[neg]])
        y = np.concatenate([np.ones(len(up)), -np.ones(len(neg))])
        w = np.linalg.solve(Xt.T @ Xt + 1.0 * np.eye(X.shape[1]), Xt.T @ y)
        return {
            "centroid": Xf @ c,
            "max-sim": srt[:, -1],
            "top3": srt[:, -3:].mean(axis=1),
            "ridge (SVM-like)": Xf @ w,
        }

    scores = defaultdict(lambda: defaultdict(list))
    thresholds = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60]
    label = {t: [0, 0, 0] for t in thresholds}  # labelled, labelled & relevant, relevant
    shares = [0.02, 0.05, 0.10, 0.20]
    rel_label = {t: [0, 0, 0] for t in shares}
    base_rate = np.mean([len({j for j, i in enumerate(fut) if any(i in by_kw[k] for k in m)}) / len(fut)
                         for m in members])
    for m in members:
        kind = "1 interest" if len(m) == 1 else "2 interests"
        up = sorted(set().union(*(by_kw[k] for k in m)) - fut_set)
        rel = {j for j, i in enumerate(fut) if any(i in by_kw[k] for k in m)}
        for name, s in rankers(up).items():
            order = list(np.argsort(-s))
            scores[kind][name].append((average_precision(order, rel), len(set(order[:10]) & rel) / 10,
                                       len(set(order[:10]) & rel) / len(rel)))
            if name == "centroid":
                for t in thresholds:
                    lab = set(np.flatnonzero(s >= t).tolist())
                    label[t][0] += len(lab)
                    label[t][1] += len(lab & rel)
                    label[t][2] += len(rel)
                for share in shares:  # relative: the top share of the pool, above the floor
                    cut = max(FLOOR, float(np.quantile(s, 1 - share)))
                    lab = set(np.flatnonzero(s >= cut).tolist())
                    rel_label[share][0] += len(lab)
                    rel_label[share][1] += len(lab & rel)
                    rel_label[share][2] += len(rel)
    rows = []
    for kind in ("1 interest", "2 interests"):
        for name, vals in scores[kind].items():
            a = np.array(vals)
            rows.append([kind, name, len(vals), round(a[:, 0].mean(), 3), round(a[:, 1].mean(), 3),
                         round(a[:, 2].mean(), 3)])
    t1 = table(["members", "ranker", "n", "MAP", "P@10", "R@10"], rows)
    t2 = table(["UPVOTE_MATCH", "labelled per member", "label precision", "label recall"],
               [[t, round(label[t][0] / len(members), 1), round(label[t][1] / max(1, label[t][0]), 3),
                 round(label[t][1] / max(1, label[t][2]), 3)] for t in thresholds])
    t3 = table(["UPVOTE_TOP_SHARE", "labelled per member", "label precision", "label recall"],
               [[t, round(rel_label[t][0] / len(members), 1), round(rel_label[t][1] / max(1, rel_label[t][0]), 3),
                 round(rel_label[t][1] / max(1, rel_label[t][2]), 3)] for t in shares])
    t2 += (f"\n\nRelative cut (the top share of the pool by cosine, and at least {FLOOR}); base rate of "
           f"relevant papers in the pool: {base_rate:.3f}:\n\n{t3}")
    body = (f"{described}\n\n{t1}\n\nCentroid label threshold "
            f"(all members):\n\n{t2}\n\nRelevance = sharing a Hugging Face ai_keyword, a strict proxy: "
            f"absolute figures are low; compare rankers with each other.")
    print(body)
    if not args.no_report:
        append_section("For you: upvote-profile rankers (simulated members)", None, body)


if __name__ == "__main__":
    main()
