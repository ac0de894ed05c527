"""The loop every ingest source shares: batch, commit, count, report.

A source is an iterable of Item or Rejection. The pipeline commits papers and
their listings in batches, each batch one transaction, so a crash loses at most
the batch in flight and never leaves half a paper. Sources that can resume give
a checkpoint function: its (key, value) for the batch's last position is saved
in the same transaction as the batch.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from dailypapers.ingest.announce import stamp
from dailypapers.models import Listing, Outcome, Paper
from dailypapers.storage import PaperStore

BATCH_SIZE = 1000
MAX_REPORTED_REJECTIONS = 50


@dataclass
class Item:
    paper: Paper
    listing: Listing | None = None
    # Opaque position after this item (byte offset, token...), for resuming.
    position: object = None


@dataclass
class Rejection:
    where: str  # "file.jsonl:12" or "page 3, record oai:arXiv.org:1234.5678"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    listings_added: int = 0
    listings_updated: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def merge(self, other: IngestSummary) -> None:
        for name in ("added", "updated", "unchanged", "rejected", "listings_added", "listings_updated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + self.rejected

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "listings_added": self.listings_added,
            "listings_updated": self.listings_updated,
        }

    def line(self) -> str:
        text = (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected"
        )
        if self.listings_added or self.listings_updated:
            text += f"; listings: {self.listings_added} added, {self.listings_updated} updated"
        return text


class RejectionReporter:
    """Prints each rejection as one line naming where it was, up to a limit."""

    def __init__(self, stream: TextIO | None = None, limit: int = MAX_REPORTED_REJECTIONS):
        self.stream = stream if stream is not None else sys.stderr
        self.limit = limit
        self.seen = 0

    def __call__(self, rejection: Rejection) -> None:
        self.seen += 1
        if self.seen <= self.limit:
            print(f"rejected {rejection}", file=self.stream)
        elif self.seen == self.limit + 1:
            print("rejected: further rejections are counted but not printed", file=self.stream)


def run(
    store: PaperStore,
    source: Iterable[Item | Rejection],
    *,
    batch_size: int = BATCH_SIZE,
    on_reject: Callable[[Rejection], None] | None = None,
    checkpoint: Callable[[object], tuple[str, str]] | None = None,
    on_progress: Callable[[int], None] | None = None,
    holidays: Collection[dt.date] = (),
) -> IngestSummary:
    """Store `source` in batches; every paper from arXiv gets its announcement day on the way
    (ingest/announce.py, with arXiv's `holidays`)."""
    summary = IngestSummary()
    papers: list[Paper] = []
    listings: list[Listing] = []
    position: object = None

    def flush() -> None:
        if not papers and not listings:
            return
        state = checkpoint(position) if checkpoint and position is not None else None
        paper_outcomes, listing_outcomes = store.ingest_batch(papers, listings, state)
        for outcome in paper_outcomes:
            summary.count(outcome)
        summary.listings_added += listing_outcomes.count(Outcome.ADDED)
        summary.listings_updated += listing_outcomes.count(Outcome.UPDATED)
        if on_progress:
            on_progress(len(papers))
        papers.clear()
        listings.clear()

    for entry in source:
        if isinstance(entry, Rejection):
            summary.rejected += 1
            if len(summary.rejections) < MAX_REPORTED_REJECTIONS:
                summary.rejections.append(entry)
            if on_reject:
                on_reject(entry)
            continue
        papers.append(stamp(entry.paper, holidays))
        if entry.listing is not None:
            listings.append(entry.listing)
        if entry.position is not None:
            position = entry.position
        if len(papers) >= batch_size:
            flush()
    flush()
    return summary
