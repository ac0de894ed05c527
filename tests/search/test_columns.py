"""The filter columns (the semantic leg's predicate): they must pass exactly the papers the lexical
index's filter clauses pass, and follow the store by seq like the indexes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from search_helpers import fixture_rows, load_papers, row_paper

from dailypapers.models import Listing, Organization, Paper
from dailypapers.search import columns as columns_module
from dailypapers.search.catchup import paper_key
from dailypapers.search.columns import FilterColumns
from dailypapers.search.lexical import LexicalIndex
from dailypapers.search.query import SearchFilters, parse_query
from dailypapers.storage.sqlite import SQLiteStore

ORGS = {0: Organization("google", "Google"), 1: Organization("NVIDIA"), 2: Organization("google", "Google")}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    path = tmp_path_factory.mktemp("columns")
    store = SQLiteStore(path / "db.sqlite")
    store.migrate()
    rows = fixture_rows()
    for n, org in ORGS.items():  # a few papers from organizations
        store.ingest_batch([row_paper(rows[n]).replace(organization=org)])
    load_papers(store, [r for n, r in enumerate(rows) if n not in ORGS])
    lexical = LexicalIndex(path / "index" / "lexical")
    lexical.sync(store)
    columns = FilterColumns(path / "index")
    assert columns.sync(store) == len(rows)
    yield store, lexical, columns
    lexical.close()
    store.close()


CASES = [
    ("", SearchFilters(has_code=True)),
    ("", SearchFilters(min_upvotes=20)),
    ("", SearchFilters(min_upvotes=0)),
    ("", SearchFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 3, 31))),
    ("", SearchFilters(date_to=dt.date(2024, 12, 31))),
    ("", SearchFilters(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))),
    ("", SearchFilters(category="cs.CV")),
    ("", SearchFilters(category="cs")),
    ("", SearchFilters(category="math.NT")),
    ("", SearchFilters(organization="GOOGLE")),
    ("", SearchFilters(organization="nobody")),
    ("", SearchFilters(has_code=True, category="cs.CL", date_from=dt.date(2024, 6, 1))),
    ("model cat:cs.CL cat:cs.LG", SearchFilters()),
    ("model year:2025", SearchFilters(min_upvotes=5)),
    ("model year:-2024", SearchFilters()),
]


@pytest.mark.parametrize("q, filters", CASES)
def test_the_columns_pass_what_the_lexical_index_passes(indexed, q, filters):
    _, lexical, columns = indexed
    parsed = parse_query(q) if q else None
    fq = lexical.filter_query(parsed, filters)
    want = sorted(lexical.keys_matching(fq, 10_000)) if fq is not None else None
    got = columns.passing(parsed, filters)
    assert got is not None
    assert sorted(got.keys().tolist()) == (want if want is not None else sorted(columns._current().base.keys.tolist()))


def test_text_restrictions_are_left_to_the_lexical_index(indexed):
    _, _, columns = indexed
    for q in ('author:lecun model', '"language model" agents', "robots -robot"):
        assert not columns.expressible(parse_query(q))
        assert columns.passing(parse_query(q), SearchFilters(has_code=True)) is None


def test_an_organization_filter_matches_its_papers(indexed):
    store, _, columns = indexed
    got = columns.passing(None, SearchFilters(organization="google"))
    rows = fixture_rows()
    assert sorted(got.keys().tolist()) == sorted(paper_key(rows[n]["arxiv_id"]) for n in (0, 2))


def keys_of(columns, filters) -> list[int]:
    return sorted(columns.passing(None, filters).keys().tolist())


def test_sync_follows_the_store(store, tmp_path, monkeypatch):
    store.ingest_batch([Paper("2501.00001", "A", "a", ["X"], categories=["cs.CL"]),
                        Paper("2501.00002", "B", "b", ["X"], categories=["cs.CV", "cs.AI"])])
    columns = FilterColumns(tmp_path / "index")
    assert columns.passing(None, SearchFilters(has_code=True)) is None  # not built yet
    assert columns.sync(store) == 2 and columns.sync(store) == 0
    assert keys_of(columns, SearchFilters(min_upvotes=5)) == []
    # a new listing (upvotes), a code link, a new paper: only the changed ones are read again, and
    # they go to the delta file
    store.ingest_batch([Paper("2501.00001", "A", "a", ["X"], categories=["cs.CL"], github_repo="https://github.com/a/b")],
                       [Listing("2501.00001", dt.date(2025, 1, 2), upvotes=9, source="hf")])
    store.ingest_batch([Paper("2501.00003", "C", "c", ["X"], categories=["math.NT"],
                              organization=Organization("Google"))])
    full = columns.file.stat().st_mtime_ns
    assert columns.sync(store) == 2
    assert columns.delta_file.exists() and columns.file.stat().st_mtime_ns == full
    assert len(columns) == 3 and columns.last_seq == store.max_seq()
    assert keys_of(columns, SearchFilters(min_upvotes=5)) == [paper_key("2501.00001")]
    assert keys_of(columns, SearchFilters(has_code=True)) == [paper_key("2501.00001")]
    assert keys_of(columns, SearchFilters(category="cs")) == sorted([paper_key("2501.00001"), paper_key("2501.00002")])
    assert keys_of(columns, SearchFilters(category="math")) == [paper_key("2501.00003")]
    assert keys_of(columns, SearchFilters(organization="google")) == [paper_key("2501.00003")]
    passing = columns.passing(None, SearchFilters(category="cs"))
    probe = np.array([paper_key("2501.00002"), paper_key("2501.00003"), paper_key("2501.00001")], dtype=np.uint64)
    assert passing.contains(probe).tolist() == [True, False, True]
    # past its share, the delta is folded into the full file
    monkeypatch.setattr(columns_module, "DELTA_MIN", 0)
    store.ingest_batch([], [Listing("2501.00002", dt.date(2025, 1, 3), upvotes=50, source="hf")])
    assert columns.sync(store) == 1
    assert not columns.delta_file.exists() and columns.file.stat().st_mtime_ns != full
    assert keys_of(columns, SearchFilters(min_upvotes=5)) == sorted([paper_key("2501.00001"), paper_key("2501.00002")])
    assert keys_of(columns, SearchFilters(has_code=True)) == [paper_key("2501.00001")]
    assert keys_of(columns, SearchFilters(organization="google")) == [paper_key("2501.00003")]
    # a rebuild gives the same columns
    before = {k: getattr(columns._current().base, k).copy() for k in ("keys", "upvotes", "has_code", "cat_ptr", "org")}
    columns.rebuild(store)
    after = columns._current().base
    for k, v in before.items():
        assert np.array_equal(getattr(after, k), v), k


def test_a_damaged_file_is_no_columns(tmp_path):
    columns = FilterColumns(tmp_path)
    for damaged in (b"", b"not columns", columns_module.MAGIC + b"\xff" * 8, columns_module.MAGIC + b"\x05" + b"\0" * 7):
        columns.file.write_bytes(damaged)
        assert columns.passing(None, SearchFilters(has_code=True)) is None and columns.last_seq == -1


def test_a_file_of_another_schema_or_cut_short_is_rebuilt(store, tmp_path, monkeypatch):
    store.ingest_batch([Paper("2501.00001", "A", "a", ["X"], categories=["cs.CL"], github_repo="https://github.com/a/b")])
    columns = FilterColumns(tmp_path)
    assert columns.sync(store) == 1
    whole = columns.file.read_bytes()
    columns.file.write_bytes(whole[:-8])  # the last array runs past the end
    assert columns.last_seq == -1
    columns.file.write_bytes(whole)
    monkeypatch.setattr(columns_module, "SCHEMA", columns_module.SCHEMA + 1)
    assert columns.last_seq == -1 and columns.sync(store) == 1  # rebuilt in the new schema
    assert keys_of(columns, SearchFilters(has_code=True)) == [paper_key("2501.00001")]


def test_the_columns_are_read_in_place_from_the_mapped_file(store, tmp_path):
    store.ingest_batch([Paper(f"2501.{n:05d}", "T", "a", ["X"], categories=["cs.CL", "math.NT"][: 1 + n % 2])
                        for n in range(50)])
    columns = FilterColumns(tmp_path)
    columns.sync(store)
    base = columns._current().base
    for name in ("keys", "upvotes", "day", "cat_ids"):
        arr = getattr(base, name)
        assert not arr.flags.owndata and not arr.flags.writeable, name  # a view of the mapping
    rows, starts = base.rows_by_category
    assert not rows.flags.owndata  # stored with the file, not made per process
    assert len(keys_of(columns, SearchFilters(category="math"))) == 25


def test_a_paper_changed_twice_in_one_sync_keeps_its_last_row(store, tmp_path):
    columns = FilterColumns(tmp_path)
    store.ingest_batch([Paper("2501.00001", "A", "a", ["X"], categories=["cs.CL"])])
    store.ingest_batch([Paper("2501.00002", "B", "b", ["X"], categories=["cs.CV"])])
    store.ingest_batch([Paper("2501.00001", "A", "a", ["X"], categories=["math.NT"], github_repo="https://github.com/a/b")])
    assert columns.sync(store) == 2 and len(columns) == 2
    assert keys_of(columns, SearchFilters(category="math")) == [paper_key("2501.00001")]
    assert keys_of(columns, SearchFilters(category="cs")) == [paper_key("2501.00002")]
    assert keys_of(columns, SearchFilters(has_code=True)) == [paper_key("2501.00001")]
