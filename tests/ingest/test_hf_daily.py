"""HF Daily Papers import: every archive format, bad input, idempotence."""

import datetime as dt
import gzip
import json

from dailypapers.ingest import hf_daily
from dailypapers.ingest.jobs import ingest_hf_daily
from dailypapers.ingest.pipeline import Item, Rejection


def test_reads_every_format_in_the_archive(store, fixtures):
    summary = ingest_hf_daily(store, fixtures / "hf_raw")
    assert summary.rejected == 0
    days = {d.isoformat() for d in store.listing_days()}
    # 2024-12-11 is a list of Python-repr strings; 2025-01-10 wraps them in {"status", "data"}.
    assert {"2024-12-11", "2025-01-10", "2026-08-21"} <= days
    counts = {}
    for path in sorted((fixtures / "hf_raw").glob("*.json.gz")):
        data = json.load(gzip.open(path))
        counts[path.name[:10]] = len(data["data"] if isinstance(data, dict) else data)
    for day, n in counts.items():
        assert len(store.listings_between(dt.date.fromisoformat(day), dt.date.fromisoformat(day))) == n


def test_keeps_upvotes_submitter_org_code_and_ai_fields(store, fixtures):
    ingest_hf_daily(store, fixtures / "hf_raw" / "2026-08-21.json.gz")
    p = store.get_paper("2608.19880")
    assert p.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert len(p.authors) == 17 and p.authors[0] == "Chengsong Huang"
    assert p.github_repo == "https://github.com/google-research/envharness" and p.github_stars == 8
    assert p.project_page == "https://envharness.com/"
    assert p.organization.name == "google" and p.organization.fullname == "Google"
    assert p.ai_summary.startswith("EnvHarness and EnvRigger") and "EnvRigger" in p.ai_keywords
    assert p.hf_upvotes == 163
    (listing,) = store.listings_for_paper("2608.19880")
    assert listing.day == dt.date(2026, 8, 21) and listing.submitted_by == "taesiri" and listing.upvotes == 163


def test_python_repr_days_parse(store, fixtures):
    items = list(hf_daily.read(fixtures / "hf_raw" / "2024-12-11.json.gz"))
    assert items and all(isinstance(i, Item) for i in items)
    assert items[0].paper.arxiv_id == "2412.07730" and items[0].listing.day == dt.date(2024, 12, 11)


def test_a_second_import_changes_nothing(store, fixtures):
    first = ingest_hf_daily(store, fixtures / "hf_raw")
    again = ingest_hf_daily(store, fixtures / "hf_raw")
    assert first.added > 0
    assert (again.added, again.updated, again.listings_added, again.listings_updated) == (0, 0, 0, 0)
    assert again.unchanged == first.total


def test_bad_input_is_reported_by_file_and_item_and_the_rest_goes_in(store, tmp_path, fixtures):
    good = json.load(gzip.open(fixtures / "hf_raw" / "2026-08-21.json.gz"))
    broken = [dict(good[0]), {"paper": {"id": "not-an-id", "title": "t", "summary": "s", "authors": []}},
              {"paper": {"id": "2608.00001", "summary": "no title", "authors": []}}, "{'paper': ", 42, good[1]]
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "2026-08-21.json").write_text(json.dumps(broken))
    (folder / "2026-08-22.json").write_text("[{not json")
    (folder / "2026-08-23.json").write_bytes(b'[{"paper": {"title": "\xff\xfe"}}]')
    summary = ingest_hf_daily(store, folder)
    assert summary.added == 2 and summary.rejected == 6
    messages = [str(r) for r in summary.rejections]
    assert any("2026-08-21.json: item 2" in m and "not an arXiv id" in m for m in messages)
    assert any("item 3" in m and "no title" in m for m in messages)
    assert any("item 4" in m and "Python-repr" in m for m in messages)
    assert any("2026-08-22.json" in m and "malformed JSON" in m for m in messages)
    assert any("2026-08-23.json" in m and "UTF-8" in m for m in messages)


def test_missing_path_is_a_clear_error(store, tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no such file"):
        ingest_hf_daily(store, tmp_path / "nope")


def test_rejection_str_names_the_place():
    assert str(Rejection("a.json: item 3", "no title")) == "a.json: item 3: no title"
