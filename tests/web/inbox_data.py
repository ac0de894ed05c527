"""A site for the curator's inbox tests (HTTP and Chromium): the real slice of arXiv arrivals
(tests/fixtures/arrivals) ingested with the ingest jobs, Hugging Face's lists as they stood on
the morning of DAY (so DAY's arrivals are on no list yet), the search index synced (search rules
match against it), and every arrival scored by ArrivalService.score().

The clock is fixed at DAY 12:00 UTC; the field is the slice's cs.CV, cs.CL and cs.AI.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from argon2 import PasswordHasher
from webapp import database_url_of, open_data_store

from dailypapers.config import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "arrivals"
DAY = dt.date(2025, 10, 30)  # a Thursday: 14 arrivals in the field, none listed yet
NEXT_DAY = dt.date(2025, 10, 31)  # the newest arrival day
NOW = dt.datetime(2025, 10, 30, 12, 0, tzinfo=dt.timezone.utc)
PASSWORD = "quiet-harbour-lantern-47"


def make_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_key="test-secret-key-for-inbox-tests", base_url="http://testserver",
                    categories="cs.CV,cs.CL,cs.AI", arxiv_delay=0.0, database_url=database_url_of(data_dir))


def build_services_for(data_dir: Path, database_url: str | None = None):
    """The services over the folder's database (`database_url`: a PostgreSQL one, from now on)."""
    from dailypapers.app import build_services

    store = open_data_store(data_dir, database_url)
    # argon2id with small costs keeps the suite fast; the code path is the production one.
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    return build_services(make_settings(data_dir), store=store, embedder=False, arxiv=object(), clock=lambda: NOW,
                          hasher=hasher)


def build_inbox_data_dir(data_dir: Path, database_url: str | None = None) -> Path:
    """Ingest, index and score once; tests copy the folder and change their copy."""
    from dailypapers.arrivals.scoring import ScoringJobs
    from dailypapers.ingest.jobs import ingest_hf_daily, ingest_jsonl

    lists = data_dir.parent / f"{data_dir.name}-lists"
    lists.mkdir()
    for path in sorted((FIXTURES / "lists").glob("*.json.gz")):
        if path.name < DAY.isoformat():  # the lists published before DAY
            shutil.copy(path, lists / path.name)
    services = build_services_for(data_dir, database_url)
    store = services.store
    assert ingest_jsonl(store, FIXTURES / "arrivals.jsonl.gz").rejected == 0
    assert ingest_hf_daily(store, lists).rejected == 0
    services.search.sync()
    report = ScoringJobs(services.arrivals).score(since=DAY - dt.timedelta(days=2))
    assert DAY in report.days and report.scored > 0
    for name, role in (("cora", "curator"), ("mo", "member")):
        services.accounts.create_user(f"{name}@example.org", name, PASSWORD, role=role, verified=True,
                                      check_strength=False)
    store.close()
    return data_dir
