"""Arrivals in the store: announcement days, scores, triage decisions with undo, and rules."""

import datetime as dt

from dailypapers.models import Listing

from .helpers import T0, make

D1, D2, D3 = dt.date(2026, 8, 18), dt.date(2026, 8, 19), dt.date(2026, 8, 20)
AT = dt.datetime(2026, 8, 20, 12, tzinfo=dt.timezone.utc)


def _curator(store, name="cora"):
    return store.create_user(f"{name}@example.org", name, None, "curator", AT)


def _listing(arxiv_id, day, by="cora", source="curator"):
    return Listing(arxiv_id=arxiv_id, day=day, submitted_by=by, submitted_at=AT, source=source)


def _seed(store):
    store.ingest_batch([make(1, announced=D1), make(2, announced=D2), make(3, announced=D2),
                        make(4, announced=D2), make(5), make(6, announced=D3)])


def test_announcement_day_is_stored_and_a_later_report_wins(store):
    store.ingest_batch([make(1, announced=D1)])
    assert store.get_paper("2608.00001").announced == D1
    store.ingest_batch([make(1, announced=D2)])  # held back by moderation: the later day is true
    assert store.get_paper("2608.00001").announced == D2
    store.ingest_batch([make(1, announced=D1)])  # an earlier guess never moves it back
    assert store.get_paper("2608.00001").announced == D2
    store.ingest_batch([make(1)])  # a source that does not know keeps it
    assert store.get_paper("2608.00001").announced == D2


def test_arrivals_by_day_best_score_first_and_unscored_last(store):
    _seed(store)
    assert [e.paper.arxiv_id for e in store.arrivals_on(D2)] == ["2608.00004", "2608.00003", "2608.00002"]
    assert store.unscored_arrival_days(D1) == [D1, D2, D3]
    store.save_arrival_scores([("2608.00002", D2, 0.9, ["close to a recent pick"]),
                               ("2608.00003", D2, 0.1, [])], "trained", AT)
    entries = store.arrivals_on(D2)
    assert [e.paper.arxiv_id for e in entries] == ["2608.00002", "2608.00003", "2608.00004"]
    assert entries[0].score == 0.9 and entries[0].reasons == ["close to a recent pick"]
    assert entries[2].score is None
    assert store.unscored_arrival_days(D1) == [D1, D2, D3]
    assert store.unscored_arrival_days(D3) == [D3]
    assert store.arrival_day_neighbours(D2) == (D1, D3)
    assert store.arrival_day_neighbours(D1) == (None, D2)
    assert store.latest_arrival_day() == D3
    assert store.latest_arrival_day(D2) == D2
    assert [p.arxiv_id for p in store.papers_announced_between(D1, D2)] == [
        "2608.00001", "2608.00002", "2608.00003", "2608.00004"]
    assert store.arrival_entry("2608.00005") is None  # no announcement day: not an arrival


def test_add_pin_skip_and_undo_in_order(store):
    _seed(store)
    cora = _curator(store)
    assert store.decide_arrival(D2, "2608.00002", "added", actor_id=cora.id,
                                listing=_listing("2608.00002", D2), at=AT) == "done"
    entry = store.arrival_entry("2608.00002")
    assert (entry.decision, entry.decided_by, entry.listed_on) == ("added", "cora", D2)
    assert [p.arxiv_id for _, p in store.day_listing(D2)] == ["2608.00002"]
    # pinning an added paper pins its listing; anything else needs an undo first
    assert store.decide_arrival(D2, "2608.00002", "pinned", actor_id=cora.id, at=AT) == "done"
    assert store.decide_arrival(D2, "2608.00002", "skipped", actor_id=cora.id, at=AT) == "decided"
    assert store.pinned_listings([D2]) == {(D2, "2608.00002")}
    assert store.decide_arrival(D2, "2608.00003", "skipped", actor_id=cora.id, at=AT) == "done"

    assert store.undo_decision(D2, cora.id, AT) == ("2608.00003", "skipped")
    assert store.arrival_entry("2608.00003").decision is None
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00002", "pinned")
    assert store.pinned_listings([D2]) == set()
    assert store.arrival_entry("2608.00002").decision == "added"
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00002", "added")
    assert store.day_listing(D2) == []
    assert store.arrival_entry("2608.00002").decision is None
    assert store.undo_decision(D2, cora.id, AT) is None
    actions = [a.action for a in store.curator_log()]
    assert actions == ["remove", "unpin", "unskip", "skip", "pin", "add"]


def test_a_paper_already_on_a_list_is_not_added_twice(store):
    _seed(store)
    cora = _curator(store)
    store.ingest_batch([], [_listing("2608.00003", D3, by="hf", source="hf")])
    assert store.decide_arrival(D2, "2608.00003", "added", actor_id=cora.id,
                                listing=_listing("2608.00003", D2), at=AT) == "listed"
    # pinning pins the listing it has; undoing leaves that listing in place
    assert store.decide_arrival(D2, "2608.00003", "pinned", actor_id=cora.id,
                                listing=_listing("2608.00003", D2), at=AT) == "done"
    assert store.pinned_listings([D2, D3]) == {(D3, "2608.00003")}
    store.undo_decision(D2, cora.id, AT)
    assert [p.arxiv_id for _, p in store.day_listing(D3)] == ["2608.00003"]
    assert store.pinned_listings([D3]) == set()


def test_rule_additions_are_logged_as_the_rule_and_undone_for_good(store):
    _seed(store)
    cora = _curator(store)
    rule = store.add_arrival_rule("top", 2, None, actor_id=cora.id, at=AT)
    assert store.arrival_rules() == [rule] and rule.label.startswith(f"#{rule.id} top 2")
    assert store.decide_arrival(D2, "2608.00004", "added", actor_id=None, rule=rule.label,
                                listing=_listing("2608.00004", D2, by=None, source="rule"), at=AT) == "done"
    logged = store.curator_log()[0]
    assert (logged.action, logged.actor, logged.rule, logged.by) == ("add", None, rule.label, f"rule: {rule.label}")
    assert store.arrival_entry("2608.00004").decided_by == rule.label

    assert store.undo_rule_action(logged.id, cora.id, AT) == "undone"
    assert store.day_listing(D2) == []
    assert store.arrival_entry("2608.00004").decision == "removed"
    assert store.undo_rule_action(logged.id, cora.id, AT) == "gone"
    assert store.undo_rule_action(999_999, cora.id, AT) is None
    # removed for good: neither a rule nor the members' upvotes add it again
    assert store.decide_arrival(D2, "2608.00004", "added", actor_id=None, rule="3 member upvotes",
                                listing=_listing("2608.00004", D2, by=None, source="rule"), at=AT,
                                over_skip=True) == "decided"

    assert store.delete_arrival_rule(rule.id, actor_id=cora.id, at=AT)
    assert not store.delete_arrival_rule(rule.id, actor_id=cora.id, at=AT)
    assert store.arrival_rules() == []


def test_members_upvotes_may_override_a_skip_but_rules_may_not(store):
    _seed(store)
    cora = _curator(store)
    store.decide_arrival(D2, "2608.00002", "skipped", actor_id=cora.id, at=AT)
    listing = _listing("2608.00002", D2, by=None, source="rule")
    assert store.decide_arrival(D2, "2608.00002", "added", actor_id=None, rule="#1 top 5", listing=listing,
                                at=AT) == "decided"
    assert store.decide_arrival(D2, "2608.00002", "added", actor_id=None, rule="3 member upvotes",
                                listing=listing, at=AT, over_skip=True) == "done"
    assert store.arrival_entry("2608.00002").listed_on == D2


def test_published_time_is_unrelated_to_the_announcement_day(store):
    # a paper's first version time stays what arXiv says; the day is its own column
    store.ingest_batch([make(7, published=T0, announced=D3)])
    p = store.get_paper("2608.00007")
    assert (p.published, p.announced) == (T0, D3)


def test_undo_follows_the_order_of_decisions_and_leaves_a_rules_addition_to_the_rule(store):
    _seed(store)
    cora = _curator(store)
    for n in (2, 3):
        store.decide_arrival(D2, f"2608.0000{n}", "added", actor_id=cora.id,
                             listing=_listing(f"2608.0000{n}", D2), at=AT)
    store.decide_arrival(D2, "2608.00002", "pinned", actor_id=cora.id, at=AT)
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00002", "pinned")
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00003", "added")  # not 2 a second time
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00002", "added")

    store.decide_arrival(D2, "2608.00004", "added", actor_id=None, rule="#1 top 1",
                         listing=_listing("2608.00004", D2, by=None, source="rule"), at=AT)
    store.decide_arrival(D2, "2608.00004", "pinned", actor_id=cora.id, at=AT)
    assert store.undo_decision(D2, cora.id, AT) == ("2608.00004", "pinned")
    entry = store.arrival_entry("2608.00004")
    assert (entry.decision, entry.decided_by, entry.listed_on) == ("added", "#1 top 1", D2)
    assert store.undo_decision(D2, cora.id, AT) is None  # the rule's addition is not the curator's to undo


def test_a_paper_hidden_on_that_day_is_not_added_again(store):
    _seed(store)
    cora = _curator(store)
    store.ingest_batch([], [_listing("2608.00002", D2)])
    store.set_listing_flags(D2, "2608.00002", actor_id=cora.id, at=AT, hidden=True)
    assert store.decide_arrival(D2, "2608.00002", "added", actor_id=cora.id,
                                listing=_listing("2608.00002", D2), at=AT) == "hidden"
