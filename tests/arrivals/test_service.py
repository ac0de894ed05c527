"""The arrivals service over a real SQLite file and a real slice of arXiv arrivals and HF lists:
scoring (replayed for past days, the saved model for new ones), the field, triage, rules and the
members' upvote rule."""

import datetime as dt

import pytest

from dailypapers.arrivals.scoring import ScoringJobs
from dailypapers.arrivals.service import ArrivalService
from dailypapers.errors import Invalid, NotFound
from dailypapers.ingest import jobs
from dailypapers.models import Paper

UTC = dt.timezone.utc
FIELD = "cs.CV,cs.CL,cs.AI"


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def store(backend_store):
    """Every test here runs on SQLite and on PostgreSQL."""
    return backend_store


@pytest.fixture
def loaded(store, fixtures):
    jobs.ingest_jsonl(store, fixtures / "arrivals" / "arrivals.jsonl.gz")
    jobs.ingest_hf_daily(store, fixtures / "arrivals" / "lists")
    return store


def service(store, settings, *, now=dt.datetime(2025, 11, 8, 12, tzinfo=UTC), matcher=None, **changes):
    settings = settings.replace(**({"categories": FIELD} | changes))
    return ArrivalService(store, settings, clock=Clock(now), matcher=matcher)


def curator(store):
    at = dt.datetime(2025, 1, 1, tzinfo=UTC)
    return store.create_user("cora@example.org", "cora", None, "curator", at, verified_at=at)


def test_past_days_are_scored_by_what_came_before_them(loaded, settings):
    svc = service(loaded, settings)
    report = ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    assert report.scored > 300
    info = svc.model_info()
    assert info is not None and info.kind == "trained" and "trained on" in info.note
    first, later = svc.view(dt.date(2025, 10, 6)), svc.view(dt.date(2025, 10, 29))
    # the slice's first days have no finished labels yet: closeness to the bundled picks, said so
    assert first.entries and all(e.reasons[0].startswith("no history yet") for e in first.entries)
    assert later.entries and not any(e.reasons and e.reasons[0].startswith("no history") for e in later.entries)
    scores = [e.score for e in later.entries]
    assert scores == sorted(scores, reverse=True)
    # HF-only papers carry no arXiv categories: outside the field, so not arrivals here
    assert all(set(e.paper.categories) & set(FIELD.split(",")) for e in later.entries)
    # a second run has nothing left to score
    assert ScoringJobs(svc).score(since=dt.date(2025, 10, 1)).scored == 0


def test_the_ranker_puts_picked_papers_first_on_a_held_out_day(loaded, settings):
    svc = service(loaded, settings)
    ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    day = dt.date(2025, 10, 29)
    entries = svc.view(day, per_page=1000).entries
    picked = [e.listed_on is not None for e in entries]
    top, rest = picked[:10], picked[10:]
    assert sum(top) / len(top) > sum(rest) / max(1, len(rest))


def test_a_new_instance_without_history_falls_back_and_says_so(store, settings):
    store.ingest_batch([Paper(arxiv_id="2608.00001", title="Diffusion transformers for video generation",
                              abstract="We scale diffusion transformers.", authors=["A. B."],
                              categories=["cs.CV"], announced=dt.date(2026, 8, 20))])
    svc = service(store, settings, now=dt.datetime(2026, 8, 20, 12, tzinfo=UTC))
    ScoringJobs(svc).score()
    info = svc.model_info()
    assert info.kind == "seed" and "too few to learn from" in info.note
    [entry] = svc.view().entries
    assert entry.score is not None and entry.reasons[0].startswith("no history yet")


def test_weeks_of_arrivals_and_no_list_yet_are_ranked_by_closeness(store, settings, fixtures):
    jobs.ingest_jsonl(store, fixtures / "arrivals" / "arrivals.jsonl.gz")
    svc = service(store, settings)
    report = ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    assert report.scored == 412 and svc.model_info().kind == "seed"
    assert all(e.reasons[0].startswith("no history yet") for e in svc.view(dt.date(2025, 10, 30)).entries)


def test_the_view_filters_sorts_pages_and_refuses_bad_input(loaded, settings):
    svc = service(loaded, settings)
    ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    day = dt.date(2025, 10, 29)
    full = svc.view(day, per_page=1000)
    assert full.previous < day < full.next
    assert dict(full.categories)["cs.CV"] == sum("cs.CV" in e.paper.categories for e in full.entries)
    cv = svc.view(day, category="cs.CV", per_page=1000)
    assert cv.total == dict(full.categories)["cs.CV"] and all("cs.CV" in e.paper.categories for e in cv.entries)
    newest = svc.view(day, sort="newest", per_page=1000).entries
    assert [e.paper.arxiv_id for e in newest] == sorted((e.paper.arxiv_id for e in newest), reverse=True)
    page2 = svc.view(day, page=2, per_page=5)
    assert page2.entries == full.entries[5:10] and page2.pages == -(-full.total // 5)
    with pytest.raises(Invalid):
        svc.view(day, sort="best")
    with pytest.raises(Invalid):
        svc.view(day, page=0)
    assert svc.view().day == dt.date(2025, 10, 31)  # the newest day in the field, by default
    only_cl = service(loaded, settings, categories="cs.CL", cross_lists=False).view(day, per_page=1000)
    assert all(e.paper.categories[0] == "cs.CL" for e in only_cl.entries)


def test_triage_through_the_service(loaded, settings):
    svc = service(loaded, settings)
    ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    cora = curator(loaded)
    day = dt.date(2025, 10, 29)
    inbox = svc.inbox(cora, day)
    fresh = [e for e in inbox.entries if e.listed_on is None]
    entry = svc.decide(cora, day, fresh[0].paper.arxiv_id, "add")
    assert entry.decision == "added" and entry.listed_on == day
    with pytest.raises(Invalid, match="undo that first"):
        svc.decide(cora, day, fresh[0].paper.arxiv_id, "skip")
    listed = next(e for e in inbox.entries if e.listed_on is not None)
    with pytest.raises(Invalid, match="on the list of"):
        svc.decide(cora, day, listed.paper.arxiv_id, "add")
    with pytest.raises(NotFound):
        svc.decide(cora, dt.date(2025, 10, 27), fresh[1].paper.arxiv_id, "add")
    with pytest.raises(Invalid):
        svc.decide(cora, day, fresh[1].paper.arxiv_id, "delete")
    assert svc.undo(cora, day) == (fresh[0].paper.arxiv_id, "added")
    with pytest.raises(Invalid, match="Nothing to undo"):
        svc.undo(cora, day)
    at = dt.datetime(2025, 1, 1, tzinfo=UTC)
    member = loaded.create_user("m@example.org", "m", None, "member", at, verified_at=at)
    with pytest.raises(Exception, match="(?i)curator"):
        svc.inbox(member, day)


def test_top_k_rule_lists_the_best_unlisted_arrivals(loaded, settings):
    svc = service(loaded, settings)
    ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    cora = curator(loaded)
    with pytest.raises(Invalid):
        svc.add_rule(cora, "top", top_k=0)
    rule = svc.add_rule(cora, "top", top_k=5)
    day = dt.date(2025, 10, 30)
    before = svc.view(day, per_page=1000).entries
    expected = [e.paper.arxiv_id for e in before[:5] if e.listed_on is None and e.decision is None]
    listed = svc.apply_rules(day)
    assert [a for a, _ in listed] == expected and all(r == rule.label for _, r in listed)
    assert svc.apply_rules(day) == []  # idempotent
    log = loaded.curator_log()
    if expected:
        assert log[0].rule == rule.label and log[0].actor is None
        svc.undo_rule_action(cora, log[0].id)
        assert svc.apply_rules(day) == []  # taken off by a curator: not added again


def test_search_rule_uses_the_matcher(loaded, settings):
    day = dt.date(2025, 10, 30)
    seen = {}

    def matcher(query, ids):
        seen["query"], seen["ids"] = query, list(ids)
        return {i for i in ids if "video" in loaded.get_paper(i).title.lower()}

    svc = service(loaded, settings, matcher=matcher)
    ScoringJobs(svc).score(since=dt.date(2025, 10, 1))
    cora = curator(loaded)
    svc.add_rule(cora, "search", query="video")
    listed = svc.apply_rules(day)
    assert seen["query"] == "video" and seen["ids"]
    assert all("video" in loaded.get_paper(a).title.lower() for a, _ in listed)
    with pytest.raises(Invalid, match="Search is not available"):
        service(loaded, settings).add_rule(cora, "search", query="video")


def test_members_upvotes_list_an_arrival_once_enough(loaded, settings):
    svc = service(loaded, settings, arrival_list_votes=2)
    day = dt.date(2025, 10, 30)
    entry = next(e for e in svc.view(day, per_page=1000).entries if e.listed_on is None)
    assert not svc.member_voted(entry.paper.arxiv_id, 1)
    assert svc.member_voted(entry.paper.arxiv_id, 2)
    after = loaded.arrival_entry(entry.paper.arxiv_id)
    assert after.listed_on == day and after.decided_by == "2 member upvotes"
    assert not svc.member_voted(entry.paper.arxiv_id, 3)  # listed already
    off = service(loaded, settings, arrival_list_votes=0)
    other = next(e for e in off.view(day, per_page=1000).entries if e.listed_on is None)
    assert not off.member_voted(other.paper.arxiv_id, 50)


def test_train_saves_a_model_that_scores_a_new_day(loaded, settings):
    svc = service(loaded, settings, now=dt.datetime(2025, 10, 31, 12, tzinfo=UTC))
    info = ScoringJobs(svc).train(dt.date(2025, 10, 31))
    assert info.kind == "trained" and ScoringJobs(svc).model_path().exists() and info.positives >= 20
    report = ScoringJobs(svc).score(since=dt.date(2025, 10, 31))
    assert report.days == [dt.date(2025, 10, 31)] and report.scored > 0
    new_day = svc.view(dt.date(2025, 10, 31)).entries
    assert all(e.score is not None for e in new_day)
