"""Replay evaluation: would the ranker have put the community's picks at the top, day by day?

For each test day D: train on what was known on the morning of D, rank D's arrivals,
and score the ranking against the arrivals picked within LABEL_WINDOW_DAYS after D,
with gain log2(2 + upvotes). Metrics are averaged over the test days that have at
least one pick (a day without picks has no ranking to get right).

What "known on the morning of D" means here:

* training rows are arrivals whose label window closed before D (day + 7 < D), so
  every label used is final and none was decided on D or later;
* the features of every row, test rows included, count only lists dated before the
  row's own day (see ranker.featurize);
* the TF-IDF vocabulary and IDF are fitted once, on the texts of arrivals and picks
  dated before test_from, so no text from a test day shapes them either.

Methods run in the same call: the product's ranker; two baselines of TF-IDF + logistic
regression on title, abstract, categories and authors (what arxiv-sanity-lite does with an
SVM), `tfidf_lr` with each category and author a column of its own (an author's column is a
learned weight for that person, much of a track record) and `tfidf_lr_text` with them as words
of one text, as arxiv-sanity-lite builds its features; and a seeded random order. Each method
is also compared with `tfidf_lr`, the stronger baseline, day by day ("paired": the mean
difference over the same days and its standard error).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from dailypapers.arrivals import ranker
from dailypapers.arrivals.history import (
    LABEL_WINDOW_DAYS,
    Arrival,
    Label,
    Pick,
    labels,
    read_arrivals,
    read_picks,
)
from dailypapers.models import Paper

NDCG_AT = 20
RECALL_AT = 20
PRECISION_AT = 10
METHODS = ("ranker", "tfidf_lr", "tfidf_lr_text", "random")
BASELINE_ALPHA = 2e-5  # the baselines' regularisation, chosen on the same early split as the ranker's
# tfidf_lr_text's features: arxiv-sanity-lite's vectorizer settings (compute.py), over title, abstract,
# the authors' names and the categories as one text.
TEXT_BASELINE_TFIDF = dict(strip_accents="unicode", stop_words="english", ngram_range=(1, 2),
                           token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", max_features=20_000,
                           sublinear_tf=True, min_df=5, max_df=0.1, dtype=np.float32)


def baseline_text(paper: Paper) -> str:
    """What tfidf_lr_text reads of a paper: title, abstract, authors' names, categories (cs_CL)."""
    return " ".join([paper.title, paper.abstract, " ".join(paper.authors),
                     " ".join(c.replace(".", "_") for c in paper.categories)])


def gain(upvotes: int) -> float:
    return math.log2(2 + upvotes)


def ndcg_at(ranked_gains: Sequence[float], all_gains: Sequence[float], k: int) -> float:
    """nDCG@k: `ranked_gains` in ranked order (0 for non-picks); `all_gains` of every pick of the day."""
    dcg = sum(g / math.log2(r + 2) for r, g in enumerate(ranked_gains[:k]))
    ideal = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(all_gains, reverse=True)[:k]))
    return dcg / ideal if ideal > 0 else 0.0


def recall_at(ranked_relevant: Sequence[bool], total_relevant: int, k: int) -> float:
    return sum(ranked_relevant[:k]) / total_relevant if total_relevant else 0.0


def precision_at(ranked_relevant: Sequence[bool], k: int) -> float:
    return sum(ranked_relevant[:k]) / k


def day_metrics(scores: Sequence[float], upvotes: Sequence[int | None]) -> dict[str, float]:
    """Metrics of one day: `upvotes[i]` is None when arrival i was not picked."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    ranked = [upvotes[i] for i in order]
    relevant = [u is not None for u in ranked]
    ranked_gains = [gain(u) if u is not None else 0.0 for u in ranked]
    all_gains = [gain(u) for u in upvotes if u is not None]
    return {
        f"ndcg@{NDCG_AT}": ndcg_at(ranked_gains, all_gains, NDCG_AT),
        f"recall@{RECALL_AT}": recall_at(relevant, len(all_gains), RECALL_AT),
        f"p@{PRECISION_AT}": precision_at(relevant, PRECISION_AT),
    }


@dataclass
class Replay:
    """Everything fitted once for a replay; `scores(day, method)` ranks one day."""

    rows: list[Arrival]
    picks: list[Pick]
    features: ranker.Features
    truth: dict[str, Label]
    by_day: dict[dt.date, np.ndarray]
    days: np.ndarray
    test_from: dt.date
    seed: int = 0
    _text_baseline: sparse.csr_matrix | None = field(default=None, repr=False)

    @classmethod
    def build(cls, arrivals: Sequence[Arrival], picks: Sequence[Pick], test_from: dt.date, *,
              embeddings: Mapping[str, np.ndarray] | None = None, seed: int = 0) -> Replay:
        rows = sorted(arrivals, key=lambda a: a.day)
        picks = list(picks)
        before = [a for a in rows if a.day < test_from]
        texts = [ranker.paper_text(a.paper) for a in before]
        texts += [ranker.paper_text(p.paper) for p in picks if p.day < test_from]
        vectorizer = ranker.new_vectorizer().fit(texts)
        features = ranker.featurize(rows, picks, vectorizer, ranker.tag_vocabulary(before), embeddings)
        by_day: dict[dt.date, list[int]] = {}
        for i, a in enumerate(rows):
            by_day.setdefault(a.day, []).append(i)
        return cls(rows, picks, features, labels(rows, picks), {d: np.array(v) for d, v in by_day.items()},
                   np.array([a.day.toordinal() for a in rows]), test_from, seed)

    def text_baseline(self) -> sparse.csr_matrix:
        """tfidf_lr_text's rows, the vocabulary fitted on the arrivals before the test, once."""
        if self._text_baseline is None:
            vectorizer = TfidfVectorizer(**TEXT_BASELINE_TFIDF)
            vectorizer.fit([baseline_text(a.paper) for a in self.rows if a.day < self.test_from])
            self._text_baseline = vectorizer.transform([baseline_text(a.paper) for a in self.rows]).tocsr()
        return self._text_baseline

    def training(self, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose label window closed before `day`, labelled from the lists dated before it."""
        idx = np.nonzero(self.days + LABEL_WINDOW_DAYS < day.toordinal())[0]
        known = labels([self.rows[i] for i in idx], self.picks, known_before=day)
        return idx, np.array([known[self.rows[i].paper.arxiv_id].picked for i in idx], dtype=np.int8)

    def scores(self, day: dt.date, method: str, training: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        test = self.by_day.get(day, np.zeros(0, np.int64))
        if method == "random":
            return np.random.default_rng([self.seed, day.toordinal()]).random(len(test))
        train, y = training if training is not None else self.training(day)
        f = self.features
        if method == "ranker":
            return ranker.fit(f, train, y).scores(f, test)
        if method in ("tfidf_lr", "tfidf_lr_text"):
            x = sparse.hstack([f.text, f.tags], format="csr") if method == "tfidf_lr" else self.text_baseline()
            model = ranker.logistic_regression().set_params(alpha=BASELINE_ALPHA).fit(x[train], y)
            return model.decision_function(x[test])
        raise ValueError(f"unknown method {method!r}")

    def upvotes(self, day: dt.date) -> list[int | None]:
        """For each of the day's arrivals, its upvotes if picked within the window, else None."""
        out: list[int | None] = []
        for i in self.by_day.get(day, ()):
            label = self.truth[self.rows[i].paper.arxiv_id]
            out.append(label.upvotes if label.picked else None)
        return out


def evaluate(
    arrivals: Sequence[Arrival],
    picks: Sequence[Pick],
    test_from: dt.date,
    test_until: dt.date | None = None,
    *,
    embeddings: Mapping[str, np.ndarray] | None = None,
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    on_day: Callable[[dt.date], None] | None = None,
) -> dict:
    """Replay [test_from, test_until] and average each method's metrics over the days with picks.

    By default the test ends at the last day whose label window the lists fully cover.
    """
    started = time.perf_counter()
    picks = list(picks)
    if embeddings:
        coverage = ranker.embedding_coverage(embeddings, [a.paper for a in arrivals])
        if coverage < ranker.MIN_EMBEDDING_COVERAGE:
            raise ValueError(f"the embeddings cover {coverage:.0%} of the arrivals (at least "
                             f"{ranker.MIN_EMBEDDING_COVERAGE:.0%} needed): papers without a vector would stand out")
    last_list = max(p.day for p in picks)
    covered_until = last_list - dt.timedelta(days=LABEL_WINDOW_DAYS)
    test_until = min(test_until or covered_until, covered_until)
    replay = Replay.build(arrivals, picks, test_from, embeddings=embeddings, seed=seed)
    built = time.perf_counter() - started
    per_method: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    skipped = 0
    for day in sorted(d for d in replay.by_day if test_from <= d <= test_until):
        upvotes = replay.upvotes(day)
        if not any(u is not None for u in upvotes):
            skipped += 1
            continue
        training = replay.training(day)
        for m in methods:
            per_method[m].append(day_metrics(list(replay.scores(day, m, training)), upvotes))
        if on_day:
            on_day(day)
    result = {}
    for m, days in per_method.items():
        result[m] = {key: (sum(d[key] for d in days) / len(days) if days else 0.0) for key in
                     (f"ndcg@{NDCG_AT}", f"recall@{RECALL_AT}", f"p@{PRECISION_AT}")}
        result[m]["days"] = len(days)
    paired = {}
    if "tfidf_lr" in per_method:
        for m in (m for m in per_method if m != "tfidf_lr"):
            paired[f"{m}-tfidf_lr"] = {key: paired_difference([d[key] for d in per_method[m]],
                                                              [d[key] for d in per_method["tfidf_lr"]])
                                       for key in (f"ndcg@{NDCG_AT}", f"recall@{RECALL_AT}")}
    return {
        "test_from": test_from.isoformat(),
        "test_until": test_until.isoformat(),
        "days_without_picks": skipped,
        "arrivals": len(replay.rows),
        "picks": len(picks),
        "embeddings": bool(embeddings),
        "seconds": round(time.perf_counter() - started, 1),
        "setup_seconds": round(built, 1),
        "methods": result,
        "paired": paired,
    }


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Mean of a - b over the same days, with its standard error: whether a difference between
    two methods is larger than the day-to-day swing."""
    d = np.asarray(a, float) - np.asarray(b, float)
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("nan")
    return {"mean": float(d.mean()) if len(d) else 0.0, "se": se, "days": len(d)}


def load_embeddings(path: Path) -> dict[str, np.ndarray]:
    """Vectors from an .npz written by `dailypapers embed --export`, by arXiv id."""
    data = np.load(path, allow_pickle=False)
    return {str(i): v for i, v in zip(data["ids"], data["vectors"].astype(np.float32))}


def evaluate_files(arrivals_path: Path, lists_path: Path, test_from: dt.date, test_until: dt.date | None = None,
                   *, embeddings_path: Path | None = None) -> dict:
    arrivals = list(read_arrivals(arrivals_path))
    picks = list(read_picks(lists_path))
    if not arrivals or not picks:
        raise ValueError(f"nothing to replay: {len(arrivals)} arrivals, {len(picks)} picks")
    embeddings = load_embeddings(embeddings_path) if embeddings_path else None
    return evaluate(arrivals, picks, test_from, test_until, embeddings=embeddings)


def format_table(result: dict) -> str:
    lines = [(f"test days {result['test_from']}..{result['test_until']} "
              f"({result['days_without_picks']} without picks skipped), {result['seconds']} s"),
             f"{'method':<14}{'nDCG@20':>10}{'recall@20':>11}{'P@10':>8}{'days':>6}"]
    for name, m in result["methods"].items():
        lines.append(f"{name:<14}{m['ndcg@20']:>10.4f}{m['recall@20']:>11.4f}{m['p@10']:>8.4f}{m['days']:>6}")
    return "\n".join(lines)
