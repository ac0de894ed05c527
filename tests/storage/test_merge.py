"""The version and snapshot rules, as a pure function."""

import datetime as dt

from dailypapers.models import Organization, Paper
from dailypapers.storage.merge import merge_paper

T0 = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)


def paper(**kw) -> Paper:
    base = dict(arxiv_id="2608.00001", title="Title v1", abstract="Abstract v1", authors=["A"])
    base.update(kw)
    return Paper(**base)


def test_newer_version_replaces_arxiv_fields():
    merged = merge_paper(paper(version=1), paper(version=2, title="Title v2", abstract="Abstract v2"))
    assert (merged.version, merged.title, merged.abstract) == (2, "Title v2", "Abstract v2")


def test_older_version_never_overwrites_newer():
    stored = paper(version=3, title="Title v3")
    merged = merge_paper(stored, paper(version=2, title="Title v2"))
    assert (merged.version, merged.title) == (3, "Title v3")


def test_unknown_version_cannot_roll_back_but_fills_gaps():
    stored = paper(version=2, title="Title v2", comment=None)
    merged = merge_paper(stored, paper(version=None, title="old title", comment="12 pages"))
    assert merged.title == "Title v2" and merged.comment == "12 pages" and merged.version == 2


def test_enrichment_follows_the_newest_snapshot():
    day1, day2 = T0, T0 + dt.timedelta(days=6)
    stored = merge_paper(None, paper(github_stars=34, observed_at=day2, project_page="https://b"))
    older = paper(github_stars=12, observed_at=day1, project_page="https://a", organization=Organization("org"))
    merged = merge_paper(stored, older)
    assert merged.github_stars == 34 and merged.project_page == "https://b"
    assert merged.organization == Organization("org")  # an empty field is still filled
    assert merge_paper(merged, older) == merged  # idempotent


def test_published_date_only_moves_earlier():
    stored = paper(published=T0)
    assert merge_paper(stored, paper(published=T0 + dt.timedelta(days=1))).published == T0
    assert merge_paper(stored, paper(published=T0 - dt.timedelta(days=1))).published == T0 - dt.timedelta(days=1)
