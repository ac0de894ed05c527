"""What an instance knows about its past: the arrivals it saw and the ones its community picked.

An arrival is a paper on the day it first appeared in arXiv's "new" listing. A
pick is a paper put on the community's daily list, with its upvotes. An
arrival counts as picked when it was listed within LABEL_WINDOW_DAYS after it
arrived, so its label is only final once that window has closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dailypapers.ingest import hf_daily, snapshot
from dailypapers.ingest.announce import stamp
from dailypapers.ingest.pipeline import Rejection
from dailypapers.models import Paper

LABEL_WINDOW_DAYS = 7
MIN_POSITIVES = 20  # fewer picked arrivals than this: the ranker falls back on the bundled picks


@dataclass(frozen=True)
class Arrival:
    paper: Paper
    day: dt.date


@dataclass(frozen=True)
class Pick:
    """A paper on the community's list of `day` (any paper, not only one of our arrivals)."""

    paper: Paper
    day: dt.date
    upvotes: int = 0


@dataclass(frozen=True)
class Label:
    picked: bool
    upvotes: int = 0
    day: dt.date | None = None  # the list it was first put on


def window_closed(arrival_day: dt.date, today: dt.date) -> bool:
    """Whether every list that can make this arrival a pick came out before `today`."""
    return arrival_day + dt.timedelta(days=LABEL_WINDOW_DAYS) < today


def labels(
    arrivals: Iterable[Arrival], picks: Iterable[Pick], *, known_before: dt.date | None = None
) -> dict[str, Label]:
    """Each arrival's label from the picks (those dated before `known_before` only, when given)."""
    by_id: dict[str, list[Pick]] = {}
    for pick in picks:
        if known_before is None or pick.day < known_before:
            by_id.setdefault(pick.paper.arxiv_id, []).append(pick)
    out: dict[str, Label] = {}
    for a in arrivals:
        hits = [p for p in by_id.get(a.paper.arxiv_id, ()) if 0 <= (p.day - a.day).days <= LABEL_WINDOW_DAYS]
        if hits:
            out[a.paper.arxiv_id] = Label(True, max(p.upvotes for p in hits), min(p.day for p in hits))
        else:
            out[a.paper.arxiv_id] = Label(False)
    return out


def arrival_day(paper: Paper) -> dt.date | None:
    """The day the paper was first listed, as recorded or derived from its submission time."""
    return stamp(paper).announced


def read_arrivals(path: Path) -> Iterator[Arrival]:
    """Arrivals from bulk JSONL (arxiv-daily-cs or the Kaggle snapshot); rejected rows are skipped."""
    for item in snapshot.read(path):
        if isinstance(item, Rejection):
            continue
        day = arrival_day(item.paper)
        if day is not None:
            yield Arrival(item.paper, day)


def read_picks(path: Path) -> Iterator[Pick]:
    """Picks from Hugging Face /api/daily_papers responses (a file or a folder of them)."""
    for item in hf_daily.read(path):
        if not isinstance(item, Rejection) and item.listing is not None:
            yield Pick(item.paper, item.listing.day, item.listing.upvotes)


@dataclass(frozen=True)
class History:
    arrivals: tuple[Arrival, ...]
    picks: tuple[Pick, ...]

    @classmethod
    def of(cls, arrivals: Iterable[Arrival], picks: Iterable[Pick]) -> History:
        return cls(tuple(arrivals), tuple(picks))

    def before(self, today: dt.date) -> History:
        """What an instance knew on the morning of `today`."""
        return History(
            tuple(a for a in self.arrivals if a.day < today), tuple(p for p in self.picks if p.day < today)
        )
