"""Arrivals for the web and browser tests: the real slice in tests/fixtures/arrivals (arXiv arrivals of
2025-10-06..31, Hugging Face's lists to 2025-11-07) ingested with the ingest jobs into a migrated
SQLite file and scored by ArrivalService.score(), plus a few made-up papers where the slice cannot
show something: 50 on one day (a second page), one with markup in its title, and two that arrive
after scoring. The site's field is cs.CL + cs.LG; the clock is Friday 2025-10-31 noon UTC.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from webapp import FIXTURES, make_app, make_settings, open_data_store

NOW = dt.datetime(2025, 10, 31, 12, 0, tzinfo=dt.timezone.utc)
LATEST = dt.date(2025, 10, 31)
BEFORE = dt.date(2025, 10, 30)
FIELD = "cs.CL,cs.LG"
SLICE = FIXTURES / "arrivals"
EVIL_ID = "2510.99001"
EVIL_TITLE = '<script>alert("x")</script> & <b>Bold</b> claims about “quotes”'
LATE_IDS = ("2510.99101", "2510.99102")  # arrive after the scoring job ran
FILLER = [f"2510.{90001 + i}" for i in range(50)]  # a second page on BEFORE


def record(arxiv_id: str, title: str, day: dt.date, categories=("cs.CL",)) -> dict:
    return {"id": arxiv_id, "title": title, "authors": ["Ada Lovelace", "Alan Turing"], "categories": list(categories),
            "abstract": f"{title}. A made-up abstract about language models and evaluation.",
            "first_listed": day.isoformat()}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return path


def build_arrivals_data_dir(data_dir: Path, database_url: str | None = None) -> Path:
    """`database_url`: load a PostgreSQL database instead of the folder's SQLite file."""
    from dailypapers.arrivals.scoring import ScoringJobs
    from dailypapers.arrivals.service import ArrivalService
    from dailypapers.ingest.jobs import ingest_hf_daily, ingest_jsonl
    from dailypapers.search.engine import SearchEngine

    extra = data_dir / "made-up"
    extra.mkdir(parents=True)
    store = open_data_store(data_dir, database_url)
    assert ingest_jsonl(store, SLICE / "arrivals.jsonl.gz").rejected == 0
    assert ingest_hf_daily(store, SLICE / "lists").rejected == 0
    made_up = [record(aid, f"Filler arrival number {i}", BEFORE) for i, aid in enumerate(FILLER)]
    made_up.append(record(EVIL_ID, EVIL_TITLE, LATEST, ("cs.CL", "cs.AI")))
    assert ingest_jsonl(store, write_jsonl(extra / "made-up.jsonl.gz", made_up)).added == len(made_up)
    report = ScoringJobs(ArrivalService(store, make_settings(data_dir, categories=FIELD), clock=lambda: NOW)).score()
    assert report.scored > 200
    late = [record(aid, f"Late arrival {aid}", LATEST) for aid in LATE_IDS]
    assert ingest_jsonl(store, write_jsonl(extra / "late.jsonl.gz", late)).added == 2
    SearchEngine(store, data_dir / "index", None).sync()
    store.close()
    return data_dir


def make_arrivals_app(data_dir: Path):
    """The app and its services over `data_dir`, with this data's clock and field."""
    return make_app(data_dir, clock=lambda: NOW, categories=FIELD)
