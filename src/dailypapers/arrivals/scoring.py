"""The arrivals ranker's jobs: train it on the site's history, and score the days nobody scored.

A day is scored once, by a model that knew only what came before it: the day's own model for new
arrivals, and for a backlog of older days (a first import, the bundled demo) a replay that refits
the ranker for each day in turn.

Run by `dailypapers arrivals train | score` and the scheduled jobs, never by a web worker: the
ranker loads scikit-learn and SciPy, about 90 MB a process that pages never need (they read the
stored scores through ArrivalService).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dailypapers.arrivals import ranker
from dailypapers.arrivals.evaluate import Replay
from dailypapers.arrivals.history import LABEL_WINDOW_DAYS, History, Pick
from dailypapers.arrivals.history import Arrival as HistoryArrival
from dailypapers.arrivals.service import MODEL_STATE, ArrivalService, ModelInfo
from dailypapers.models import Paper

HISTORY_DAYS = 730  # the ranker learns from the last two years of arrivals and lists
BACKFILL_DAYS = 90  # `score` looks this far back from the newest arrivals for days nobody scored
MODEL_FILE = "arrivals-ranker.pickle"


@dataclass(frozen=True)
class TrainReport:
    model: ModelInfo
    scored: int
    days: list[dt.date]
    listed: list[tuple[str, str]]  # (arxiv id, rule) the rules put on a list


class ScoringJobs:
    """Training and scoring for one site; the service gives the store, settings, clock and rules."""

    def __init__(self, service: ArrivalService):
        self.service = service

    def _history(self, today: dt.date) -> tuple[list[HistoryArrival], list[Pick]]:
        start = today - dt.timedelta(days=HISTORY_DAYS)
        arrivals = [HistoryArrival(p, p.announced) for p in self.service.store.papers_announced_between(start, today)
                    if p.announced and self.service.settings.in_field(p.categories)]
        picks = [Pick(paper, listing.day, paper.upvotes)
                 for listing, paper in self.service.store.listings_in_range(start, today + dt.timedelta(days=1))]
        return arrivals, picks

    def _embeddings(self, papers: Sequence[Paper]) -> dict[str, np.ndarray]:
        rows = self.service.store.embeddings_for([p.arxiv_id for p in papers])
        return {aid: np.frombuffer(vec, dtype="<f4") for aid, (_model, vec) in rows.items()}

    def model_path(self) -> Path:
        return self.service.settings.data_dir / MODEL_FILE

    def train(self, today: dt.date | None = None) -> ModelInfo:
        """Fit the ranker on the history up to `today` and save it for `score`."""
        today = today or self.service.today() + dt.timedelta(days=1)
        started = self.service.clock()
        arrivals, picks = self._history(today)
        history = History.of(arrivals, picks)
        vectors = self._embeddings([a.paper for a in arrivals] + [p.paper for p in picks])
        trained = ranker.train(history, today, embeddings=vectors or None)
        rows, _y, known = ranker.training_rows(sorted(history.before(today).arrivals, key=lambda a: a.day),
                                               history.picks, today)
        positives = sum(1 for label in known.values() if label.picked)
        finished = self.service.clock()
        info = ModelInfo("trained" if trained else "seed", today, finished, len(rows), len(picks), positives,
                         round((finished - started).total_seconds(), 1))
        self._save_model(trained)
        self.service.store.set_state(MODEL_STATE, json.dumps(info.as_json()))
        return info

    def _save_model(self, trained: ranker.Trained | None) -> None:
        path = self.model_path()
        if trained is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ranker-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(trained, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # a reader sees the old model or the new one, never half of one

    def _load_model(self) -> ranker.Trained | None:
        try:
            with open(self.model_path(), "rb") as f:
                trained = pickle.load(f)  # noqa: S301 - our own file, written by train() above
        except FileNotFoundError:
            return None
        except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError):
            return None  # written by another version of the ranker: the caller trains again
        return trained if isinstance(trained, ranker.Trained) else None

    def score(self, *, since: dt.date | None = None, on_day: Callable[[dt.date, int], None] | None = None
              ) -> TrainReport:
        """Score every arrival day from `since` on that has unscored papers, then apply the rules
        to the newest day. Trains first when no model was saved yet."""
        info = self.service.model_info()
        if info is None:
            info = self.train()
        if since is None:
            latest = self.service.latest_day()
            since = (latest or self.service.today()) - dt.timedelta(days=BACKFILL_DAYS)
        # Papers outside the field are never scored: a day waits only for those inside it.
        pending = [d for d in self.service.store.unscored_arrival_days(since)
                   if any(e.score is None for e in self.service._field_day(d))]
        scored = 0
        old = [d for d in pending if d < info.today]
        new = [d for d in pending if d >= info.today]
        if old:
            scored += self._replay(old, on_day)
        if new:
            trained = self._load_model()
            if trained is None and info.kind == "trained":
                info = self.train()  # the saved model is gone or from another version
                trained = self._load_model()
            for day in new:
                papers = [e.paper for e in self.service._field_day(day) if e.score is None]
                if trained is not None:
                    results, kind = trained.rank(papers, self._embeddings(papers)), "trained"
                else:
                    _arrivals, picks = self._history(day)
                    results, kind = ranker.rank_by_seed(papers, picks, ranker.load_seed_picks()), "seed"
                scored += self._save(day, results, kind)
                if on_day:
                    on_day(day, len(results))
        listed: list[tuple[str, str]] = []
        latest = self.service.latest_day()
        if latest is not None and latest in pending:
            listed = self.service.apply_rules(latest)
        return TrainReport(info, scored, pending, listed)

    def _save(self, day: dt.date, results: Sequence[ranker.Scored], kind: str) -> int:
        return self.service.store.save_arrival_scores([(s.arxiv_id, day, s.score, s.reasons) for s in results], kind,
                                              self.service.clock())

    def _replay(self, pending: Sequence[dt.date], on_day: Callable[[dt.date, int], None] | None) -> int:
        """Score past days, each by the ranker refitted on what came before that day only (the
        closeness to the bundled picks while that is too little to learn from)."""
        arrivals, picks = self._history(max(pending) + dt.timedelta(days=1))
        if not arrivals:
            return 0
        # No label is final before the window after the first arrival has closed.
        learnable = min(a.day for a in arrivals) + dt.timedelta(days=LABEL_WINDOW_DAYS + 1)
        replay = None
        later = [d for d in pending if d >= learnable]
        if later and picks:  # with no list at all there is nothing to learn from: closeness only
            vectors = self._embeddings([a.paper for a in arrivals] + [p.paper for p in picks])
            if ranker.embedding_coverage(vectors, [a.paper for a in arrivals]) < ranker.MIN_EMBEDDING_COVERAGE:
                vectors = {}
            replay = Replay.build(arrivals, picks, min(later), embeddings=vectors or None)
        by_day: dict[dt.date, list[Paper]] = {}
        for a in arrivals:
            by_day.setdefault(a.day, []).append(a.paper)
        seeds: list[Paper] | None = None
        scored = 0
        for day in sorted(pending):
            results: list[ranker.Scored] = []
            kind = "seed"
            if replay is not None and day in replay.by_day and day >= learnable:
                idx = replay.by_day[day]
                train_idx, y = replay.training(day)
                if ranker.MIN_POSITIVES <= int(y.sum()) < len(y):
                    model = ranker.fit(replay.features, train_idx, y)
                    values = model.scores(replay.features, idx)
                    reasons = ranker.explain_rows(model, replay.features, idx)
                    results = [ranker.Scored(replay.rows[i].paper.arxiv_id, float(v), why)
                               for v, i, why in zip(values, idx, reasons)]
                    kind = "trained"
            if kind == "seed" and by_day.get(day):
                seeds = seeds if seeds is not None else ranker.load_seed_picks()
                results = ranker.rank_by_seed(by_day[day], [p for p in picks if p.day < day], seeds)
            scored += self._save(day, results, kind)
            if on_day:
                on_day(day, len(results))
        return scored


__all__ = ["ScoringJobs", "TrainReport"]
