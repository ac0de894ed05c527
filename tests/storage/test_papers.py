"""Papers: ingest batches, outcomes, seq for the search index, listings and the HF base count."""

import datetime as dt
import sqlite3

import psycopg
import pytest

from dailypapers.models import Listing, Organization, Outcome, Paper

from .helpers import T0, make


def test_round_trips_every_paper_field(store):
    p = make(
        1, comment="10 pages", github_repo="https://github.com/a/b", github_stars=5,
        project_page="https://p", organization=Organization("google", "Google", "https://a.png"),
        ai_summary="Summary", ai_keywords=["LLM", "RL"], updated=T0 + dt.timedelta(days=2), version=2,
    )
    assert store.ingest_batch([p]) == ([Outcome.ADDED], [])
    got = store.get_paper(p.arxiv_id)
    for field in Paper.__dataclass_fields__:
        assert getattr(got, field) == getattr(p, field), field
    assert got.primary_category == "cs.CL" and got.authors == ["Ada Lovelace", "Alan Turing"]


def test_outcomes_and_version_rules(store):
    assert store.ingest_batch([make(1, version=2)])[0] == [Outcome.ADDED]
    assert store.ingest_batch([make(1, version=2)])[0] == [Outcome.UNCHANGED]
    assert store.ingest_batch([make(1, version=1, title="Old")])[0] == [Outcome.UNCHANGED]
    assert store.ingest_batch([make(1, version=3, title="New")])[0] == [Outcome.UPDATED]
    got = store.get_paper("2608.00001")
    assert (got.version, got.title) == (3, "New")


def test_changed_papers_bump_seq_for_the_search_index(store):
    store.ingest_batch([make(1), make(2)])
    first = store.max_seq()
    store.ingest_batch([make(2, version=2, title="Changed"), make(3)])
    changed = store.papers_changed_since(first)
    assert sorted(p.arxiv_id for _, p in changed) == ["2608.00002", "2608.00003"]
    assert len({seq for seq, _ in changed}) == 2  # one seq per changed paper: pages never split a seq
    assert [p.arxiv_id for _, p in store.papers_changed_since(first, limit=1)] == [changed[0][1].arxiv_id]
    store.ingest_batch([make(2, version=2, title="Changed")])
    assert store.max_seq() == changed[-1][0]  # unchanged papers do not move


def test_text_changed_since_tells_a_change_of_counts_from_one_of_text(store):
    day = dt.date(2026, 8, 20)
    ids = ["2608.00001", "2608.00002"]
    store.ingest_batch([make(1), make(2)], [Listing(arxiv_id=i, day=day, upvotes=3, source="hf") for i in ids])
    assert store.text_changed_since(0, ids) == set(ids)
    first = store.max_seq()
    assert store.text_changed_since(first, ids) == set()  # an index at `first` has their text
    ada = store.create_user("ada@example.org", "ada", "hash", "member", T0, verified_at=T0)
    store.toggle_vote(ada.id, "2608.00001", T0)
    store.ingest_batch([], [Listing(arxiv_id="2608.00002", day=day, upvotes=9, source="hf")])
    counted = store.max_seq()
    assert [p.arxiv_id for _, p in store.papers_changed_since(first)] == ids  # both moved...
    assert store.text_changed_since(first, ids) == set()  # ...by their counts alone
    store.toggle_vote(ada.id, "2608.00001", T0)
    store.ingest_batch([make(2, version=2, title="A new title")])
    assert store.text_changed_since(counted, ids) == {"2608.00002"}
    store.toggle_vote(ada.id, "2608.00002", T0)  # a vote after the new title leaves it news
    assert store.text_changed_since(counted, ids) == {"2608.00002"}
    assert store.text_changed_since(store.max_seq(), ids) == set()


def test_a_new_hf_upvote_count_bumps_seq_so_the_index_filter_follows(store):
    day = dt.date(2026, 8, 20)
    store.ingest_batch([make(1), make(2)], [Listing(arxiv_id="2608.00001", day=day, upvotes=3, source="hf"),
                                            Listing(arxiv_id="2608.00002", day=day, upvotes=5, source="hf")])
    first = store.max_seq()
    # a later snapshot of the same day: paper 1 gained upvotes, paper 2 did not
    store.ingest_batch([], [Listing(arxiv_id="2608.00001", day=day, upvotes=40, source="hf"),
                            Listing(arxiv_id="2608.00002", day=day, upvotes=5, source="hf")])
    changed = store.papers_changed_since(first)
    assert [(p.arxiv_id, p.hf_upvotes) for _, p in changed] == [("2608.00001", 40)]
    # a listing change that leaves the best count where it was moves nothing
    store.ingest_batch([], [Listing(arxiv_id="2608.00001", day=dt.date(2026, 8, 21), upvotes=7, source="hf")])
    assert store.max_seq() == changed[-1][0]


def test_new_text_drops_the_stale_embedding(store):
    store.ingest_batch([make(1)])
    store.put_embeddings("m", [("2608.00001", "h", b"\0" * 8)])
    assert store.count_embedding_tasks("m") == 0
    store.ingest_batch([make(1, version=2, abstract="A new abstract")])
    assert store.count_embedding_tasks("m") == 1


def test_listings_and_the_hf_base_count(store):
    store.ingest_batch([make(1)], [Listing("2608.00001", dt.date(2026, 8, 20), rank=1, upvotes=7, source="hf")])
    _, outcomes = store.ingest_batch(
        [make(1)], [Listing("2608.00001", dt.date(2026, 8, 21), rank=2, upvotes=12, source="hf")]
    )
    assert outcomes == [Outcome.ADDED]
    assert store.get_paper("2608.00001").hf_upvotes == 12
    assert [item.day for item in store.listings_for_paper("2608.00001")] == [dt.date(2026, 8, 20), dt.date(2026, 8, 21)]
    assert store.listing_days() == [dt.date(2026, 8, 20), dt.date(2026, 8, 21)]
    assert store.stats()["listing_days"] == 2


def test_a_failed_batch_writes_nothing(store):
    bad = Listing("2608.99999", dt.date(2026, 8, 20))  # no such paper: foreign key fails
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation)):
        store.ingest_batch([make(1), make(2)], [bad])
    assert store.stats()["papers"] == 0


def test_iterates_all_papers_in_batches(store):
    store.ingest_batch([make(i) for i in range(1, 26)])
    assert len(list(store.iter_papers(batch_size=7))) == 25
