"""The arrivals ranker: replay quality on several splits, and its speed.

Quality: `arrivals.evaluate` on each split, the product's ranker against TF-IDF +
logistic regression (two ways: tfidf_lr and tfidf_lr_text, see evaluate.py) and a seeded random
order in the same run (see evaluate.py for
what each test day may see). The ranker's features and settings were chosen on the
2025-11-01..2026-01-31 and 2026-02-01..2026-04-30 splits; 2025-08-01..2025-10-31 and
2026-05-01..end were not looked at while tuning.

Speed: retraining on all the history (57,852 arrivals, 9,881 list entries), and
ranking 1,000 arrivals with the trained model (median of --repeat runs).

    python bench/bench_picks.py [--data ../shared/data] [--repeat 20] [--split FROM..UNTIL ...]
                                [--embeddings bench/cache/corpus68k.npz] [--speed-only] [--no-append]

--embeddings gives every method the shipped model's vectors of all the papers, as an instance
has them (`python bench/embed_corpus.py --skip-scifact` writes that file, about 25 minutes).

Each split also reports the ranker's nDCG@20 minus TF-IDF + LR's, paired over the same test
days, with its standard error: a difference smaller than about two standard errors is noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from _report import DEFAULT_DATA, append_section, median, table

from dailypapers.arrivals import evaluate, ranker
from dailypapers.arrivals.history import History, read_arrivals, read_picks

SPLITS = ("2025-08-01..2025-10-31", "2025-11-01..2026-01-31", "2026-02-01..2026-04-30", "2026-05-01..end")
TUNED_ON = {"2025-11-01..2026-01-31", "2026-02-01..2026-04-30"}
TARGET_SPLIT = "2026-05-01..end"
TARGET_MARGIN = 0.10  # nDCG@20 over TF-IDF + LR
TARGET_RECALL = 0.70
RANK_BATCH = 1000


def parse_split(text: str) -> tuple[dt.date, dt.date | None]:
    start, _, end = text.partition("..")
    return dt.date.fromisoformat(start), None if end in ("", "end") else dt.date.fromisoformat(end)


def speed(arrivals, picks, repeat: int, embeddings=None) -> tuple[float, float, float]:
    """Seconds to retrain on everything; median ms to rank RANK_BATCH arrivals, wall clock and
    this process's CPU time (steadier than the wall clock when other jobs share the cores)."""
    history = History.of(arrivals, picks)
    today = max(a.day for a in arrivals) + dt.timedelta(days=1)
    start = time.perf_counter()
    trained = ranker.train(history, today, embeddings=embeddings)
    retrain = time.perf_counter() - start
    batch = [a.paper for a in sorted(arrivals, key=lambda a: a.day)[-RANK_BATCH:]]
    vectors = {p.arxiv_id: embeddings[p.arxiv_id] for p in batch if p.arxiv_id in embeddings} if embeddings else None
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        trained.rank(batch, vectors)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return retrain, median(times), median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--split", action="append", help="FROM..UNTIL (UNTIL may be 'end'); repeatable")
    parser.add_argument("--embeddings", type=Path, help="an .npz of ids and vectors (bench/embed_corpus.py)")
    parser.add_argument("--speed-only", action="store_true", help="time retraining and ranking, replay no split")
    parser.add_argument("--no-append", action="store_true", help="print, do not append to BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    arrivals = list(read_arrivals(args.data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"))
    picks = list(read_picks(args.data / "hf-daily-papers" / "raw"))
    embeddings = evaluate.load_embeddings(args.embeddings) if args.embeddings else None

    rows, notes = [], []
    for split in [] if args.speed_only else (args.split or SPLITS):
        test_from, test_until = parse_split(split)
        result = evaluate.evaluate(arrivals, picks, test_from, test_until, embeddings=embeddings)
        r = result["methods"]
        margin = r["ranker"]["ndcg@20"] - r["tfidf_lr"]["ndcg@20"]
        margin_text = r["ranker"]["ndcg@20"] - r["tfidf_lr_text"]["ndcg@20"]
        role = "tuning" if split in TUNED_ON else "held out"
        for method, m in r.items():
            met = ""
            if method == "ranker" and split == TARGET_SPLIT:
                ok = margin >= TARGET_MARGIN and m["recall@20"] >= TARGET_RECALL
                met = (f"{'yes' if ok else 'NO'} ({margin:+.3f} nDCG@20 over tfidf_lr; {margin_text:+.3f} over "
                       f"tfidf_lr_text, recall@20 {m['recall@20']:.3f})")
            pair = result["paired"].get(f"{method}-tfidf_lr")
            paired = (f"{pair['ndcg@20']['mean']:+.3f} ± {pair['ndcg@20']['se']:.3f}" if pair else "")
            rows.append([f"{result['test_from']}..{result['test_until']}", role, method, m["ndcg@20"],
                         m["recall@20"], m["p@10"], m["days"], paired, met])
        notes.append(f"{result['test_from']}..{result['test_until']}: {result['seconds']} s "
                     f"({result['days_without_picks']} days without picks skipped)")
        print(evaluate.format_table(result), flush=True)
        for name, pair in result["paired"].items():
            print(f"{name} paired over {pair['ndcg@20']['days']} days: nDCG@20 {pair['ndcg@20']['mean']:+.4f} "
                  f"± {pair['ndcg@20']['se']:.4f}, recall@20 {pair['recall@20']['mean']:+.4f} "
                  f"± {pair['recall@20']['se']:.4f}", flush=True)

    retrain, rank_ms, rank_cpu_ms = speed(arrivals, picks, args.repeat, embeddings)
    print(f"retrain {retrain:.1f} s; rank {RANK_BATCH} arrivals: median {rank_ms:.1f} ms "
          f"({rank_cpu_ms:.1f} ms CPU)", flush=True)
    headers = ["split", "role", "method", "nDCG@20", "recall@20", "P@10", "days",
               "nDCG@20 - TF-IDF+LR, paired over days (± SE)", "target met"]
    body = "" if args.speed_only else table(headers, rows)
    body += "\n\n" + table(
        ["speed", "value", "target"],
        [["retrain on all history (s)", round(retrain, 1), "< 120 s"],
         [f"rank {RANK_BATCH} arrivals, median of {args.repeat} (ms)", round(rank_ms, 1), "< 200 ms"],
         ["the same, CPU time of this process (ms)", round(rank_cpu_ms, 1), ""]],
    )
    body += (
        f"\n\nTarget on {TARGET_SPLIT}: the ranker beats TF-IDF + LR by >= {TARGET_MARGIN} nDCG@20 with "
        f"recall@20 >= {TARGET_RECALL}; 'target met' judges it against tfidf_lr, the stronger of the two "
        "baselines (categories and authors as columns of their own; tfidf_lr_text has them as words of one "
        "text, as arxiv-sanity-lite builds its features). Label: listed on Hugging Face within 7 days after "
        "arrival; gain log2(2 + upvotes); days without picks are skipped. Each test day retrains every method "
        "on the arrivals whose 7-day window closed before it. Embeddings: "
        + (f"{args.embeddings.name}, {len(embeddings):,} vectors of the shipped model" if embeddings else "none")
        + ". Replay times: " + "; ".join(notes) + f". 1-minute load average "
        f"{load:.1f} before the run, {os.getloadavg()[0]:.1f} after, on 2 shared cores: times are noisy."
    )
    if not args.no_append:
        append_section("Arrivals ranker: replay of Hugging Face's picks, and speed", None, body)


if __name__ == "__main__":
    main()
