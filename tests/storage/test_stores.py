"""What every backend must do the same, run on SQLite and on a real PostgreSQL server: accounts,
votes, comments, curation, listings and trending, embeddings, digests, rate limits, run locks."""

import datetime as dt

import pytest

from dailypapers.models import DigestEntry, DigestSend, Listing, Subscription
from dailypapers.storage import Conflict, StorageError

from .helpers import T0, make

DAY = dt.date(2026, 8, 20)


@pytest.fixture
def seeded(store):
    store.ingest_batch([make(i) for i in range(1, 4)],
                       [Listing(f"2608.{i:05d}", DAY, rank=i, upvotes=10 * i, source="hf") for i in range(1, 4)])
    return store


def member(store, name="ada", role="member"):
    return store.create_user(f"{name}@example.org", name, "hash", role, T0, verified_at=T0)


def test_accounts_sessions_and_tokens(store):
    ada = member(store)
    assert store.user_by_email("ADA@example.org").id == ada.id  # emails match whatever their case
    assert store.user_by_name("Ada").id == ada.id
    with pytest.raises(Conflict) as taken:
        store.create_user("Ada@Example.org", "other", None, "member", T0)
    assert taken.value.field == "email"
    with pytest.raises(Conflict) as taken:
        store.create_user("new@example.org", "ADA", None, "member", T0)
    assert taken.value.field == "name"
    store.create_session("h1", ada.id, T0, T0 + dt.timedelta(days=30))
    got = store.get_session("h1")
    assert got.user.id == ada.id and got.expires_at == T0 + dt.timedelta(days=30)
    assert store.purge_sessions(T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=31)) == 1
    token = store.create_api_token(ada.id, "laptop", "th", "dp_ab", T0)
    assert store.api_token_user("th")[1].id == ada.id
    assert store.revoke_api_token(ada.id, token.id, T0) and store.api_token_user("th") is None
    store.set_profile_visibility(ada.id, False, True)
    assert (store.get_user(ada.id).show_upvotes, store.get_user(ada.id).show_submissions) == (False, True)



def test_a_token_use_is_bookkeeping(store):
    ada = member(store)
    token = store.create_api_token(ada.id, "laptop", "th", "dp_ab", T0)
    v0 = store.web_version()
    store.touch_api_token(token.id, T0 + dt.timedelta(hours=1))
    assert store.api_token_user("th")[0].last_used_at == T0 + dt.timedelta(hours=1)
    assert store.web_version() == v0  # only the member's own settings page shows it: no cached page goes

def test_votes_keep_the_count_equal_to_the_rows_and_move_seq(seeded):
    a, b = member(seeded, "a"), member(seeded, "b")
    before = seeded.max_seq()
    assert seeded.toggle_vote(a.id, "2608.00001", T0) == (True, 1, 10)
    assert seeded.toggle_vote(b.id, "2608.00001", T0, want=True) == (True, 2, 10)
    assert seeded.toggle_vote(b.id, "2608.00001", T0, want=True) == (True, 2, 10)  # setting twice is one vote
    assert seeded.toggle_vote(a.id, "2608.00001", T0) == (False, 1, 10)  # a toggle takes it back
    assert seeded.toggle_vote(a.id, "2608.99999", T0) is None
    assert seeded.count_votes("2608.00001") == 1 == seeded.get_paper("2608.00001").votes
    assert seeded.max_seq() > before  # the search index's upvote filter follows
    assert seeded.voted_ids(b.id, ["2608.00001", "2608.00002"]) == {"2608.00001"}
    seeded.toggle_vote(b.id, "2608.00002", T0 + dt.timedelta(hours=1))
    assert seeded.user_upvoted_ids(b.id) == ["2608.00002", "2608.00001"]
    assert [p.arxiv_id for p in seeded.user_upvotes(b.id)] == ["2608.00002", "2608.00001"]
    assert seeded.users_upvoted_ids([a.id, b.id], limit_each=1) == {b.id: ["2608.00002"]}


def test_comments_count_only_visible_ones(seeded):
    ada, cur = member(seeded), member(seeded, "cur", "curator")
    c1 = seeded.add_comment("2608.00001", ada.id, "First", T0)
    c2 = seeded.add_comment("2608.00001", ada.id, "Second", T0)
    assert seeded.get_paper("2608.00001").num_comments == 2
    seeded.set_comment_hidden(c1.id, True, actor_id=cur.id, at=T0)
    seeded.delete_comment(c2.id, T0)
    assert seeded.get_paper("2608.00001").num_comments == 0
    assert [c.id for c in seeded.paper_comments("2608.00001", include_hidden=True)] == [c1.id, c2.id]
    assert seeded.paper_comments("2608.00001") == []
    assert seeded.curator_log()[0].action == "hide_comment"


def test_curation_adds_pins_hides_and_logs(seeded):
    ada, cur = member(seeded), member(seeded, "cur", "curator")
    new_day = DAY + dt.timedelta(days=1)
    item = Listing("2608.00001", new_day, submitted_by="ada", submitted_at=T0, source="submit")
    assert seeded.add_listing(item, submitter_id=ada.id, cap=1) == "added"
    assert seeded.add_listing(item, submitter_id=ada.id, cap=1) == "duplicate"
    assert seeded.add_listing(Listing("2608.00002", new_day), submitter_id=ada.id, cap=1) == "cap"
    assert seeded.count_submissions(ada.id, new_day) == 1
    assert [lp[1].arxiv_id for lp in seeded.user_submissions(ada.id)] == ["2608.00001"]
    assert seeded.set_listing_flags(DAY, "2608.00002", actor_id=cur.id, at=T0, pinned=True)
    assert seeded.pinned_listings([DAY, new_day]) == {(DAY, "2608.00002")}
    assert seeded.set_listing_flags(DAY, "2608.00003", actor_id=cur.id, at=T0, hidden=True)
    assert [lp[1].arxiv_id for lp in seeded.day_listing(DAY)] == ["2608.00001", "2608.00002"]
    assert [(c.paper.arxiv_id, c.pinned, c.hidden) for c in seeded.curated_day(DAY)][0] == ("2608.00002", True, False)
    assert seeded.remove_listing(DAY, "2608.00001", actor_id=cur.id, at=T0)
    assert not seeded.remove_listing(DAY, "2608.00001", actor_id=cur.id, at=T0)
    log = seeded.curator_log()
    assert [a.action for a in log] == ["remove", "hide", "pin"]
    assert '"day": "2026-08-20"' in log[0].detail and '"source": "hf"' in log[0].detail


def test_listing_read_models_and_trending(seeded):
    later = DAY + dt.timedelta(days=2)
    seeded.ingest_batch([make(4, organization=None)], [Listing("2608.00004", later, rank=None, upvotes=1)])
    assert seeded.listing_days() == [DAY, later]
    assert seeded.nearest_listing_days(DAY + dt.timedelta(days=1)) == (DAY, later)
    assert seeded.latest_listing_day() == later and seeded.latest_listing_day(DAY) == DAY
    api = seeded.daily_papers_api(limit=None)
    assert [(lp[0].day, lp[1].arxiv_id) for lp in api] == [(later, "2608.00004"), (DAY, "2608.00003"),
                                                          (DAY, "2608.00002"), (DAY, "2608.00001")]
    assert len(seeded.daily_papers_api(start=DAY, end=DAY, limit=2, offset=1)) == 2
    assert [lp[1].arxiv_id for lp in seeded.listings_in_range(DAY, later)][-1] == "2608.00004"
    assert seeded.refresh_trending() >= 0
    top = seeded.trending_listings(None, None, limit=2)
    assert [lp[1].arxiv_id for lp in top] == ["2608.00003", "2608.00002"]
    assert seeded.trending_listings(later, later)[0][1].arxiv_id == "2608.00004"


def test_embeddings_follow_their_own_seq(seeded):
    assert seeded.count_embedding_tasks("m") == 3
    seeded.put_embeddings("m", [("2608.00001", "h1", b"\x01" * 8), ("2608.00002", "h2", b"\x02" * 8)])
    first = seeded.max_embedding_seq()
    seeded.put_embeddings("m", [("2608.00003", "h3", b"\x03" * 8)])
    assert [r for batch in seeded.iter_embeddings("m", after_seq=first) for r in batch] == [("2608.00003", b"\x03" * 8)]
    assert len([r for batch in seeded.iter_embeddings("m", batch_size=2) for r in batch]) == 3
    assert seeded.embeddings_for(["2608.00002"]) == {"2608.00002": ("m", b"\x02" * 8)}
    assert [t[0] for t in seeded.embedding_tasks("other", 10)] == ["2608.00001", "2608.00002", "2608.00003"]


def test_digest_send_log(seeded):
    sub = seeded.save_subscription(Subscription(id=None, email="r@example.org", topics=["diffusion"],
                                                confirmed_at=T0, created_at=T0))
    with pytest.raises(StorageError):
        seeded.save_subscription(Subscription(id=None, email="R@example.org"))
    assert seeded.get_subscription_by_email("R@EXAMPLE.ORG").topics == ["diffusion"]
    assert [s.id for s in seeded.due_subscriptions("daily", "daily:x")] == [sub.id]
    entries = [DigestEntry("2608.00001", ["trending"], "top")]
    send = DigestSend(id=None, subscription_id=sub.id, period_key="daily:x", status="pending", message_id="<m>",
                      entries=entries)
    [planned] = seeded.plan_digest_sends([send], T0)
    assert seeded.plan_digest_sends([send], T0) == []  # planned once per subscriber and period
    assert seeded.due_subscriptions("daily", "daily:x") == []
    assert seeded.sent_paper_ids([sub.id]) == {sub.id: {"2608.00001"}}
    seeded.advance_digest_sends([], planned.id, T0)
    assert seeded.recover_digest_sends("daily:x", resend=False) == 1
    assert seeded.get_digest_send(sub.id, "daily:x").status == "in_doubt"
    seeded.advance_digest_sends([(planned.id, "failed", "550 gone", None)], None, T0)
    assert seeded.get_subscription(sub.id).fail_count == 1 and seeded.sent_paper_ids([sub.id])[sub.id] == set()
    assert seeded.digest_send_counts("daily:x") == {"failed": 1}
    assert [e.arxiv_id for e in seeded.digest_sends("daily:x", ["failed"])[0].entries] == ["2608.00001"]
    assert seeded.claim_subscription_mail(sub.id, "notice_sent_at", T0, 3600)
    assert not seeded.claim_subscription_mail(sub.id, "notice_sent_at", T0 + dt.timedelta(minutes=5), 3600)


def test_rate_limits_are_an_exact_sliding_window(store):
    keys = ["search:ip:1.2.3.4"]
    assert store.rate_hit(keys, 2, 60.0, 1000.0) is None
    assert store.rate_hit(keys, 2, 60.0, 1010.0) is None
    assert store.rate_hit(keys, 2, 60.0, 1020.0) == pytest.approx(40.0)  # the first event leaves at 1060
    assert store.rate_hit(keys, 2, 60.0, 1061.0) is None
    assert store.rate_hit(["other"], 0, 60.0, 1000.0) == pytest.approx(60.0)


def test_run_locks_are_held_by_one_holder_at_a_time(store):
    with store.exclusive("digest-send") as mine:
        assert mine
        with store.exclusive("digest-send") as again:
            assert not again
        with store.exclusive("something-else") as other:
            assert other
    with store.exclusive("digest-send") as mine:
        assert mine


def test_content_writes_move_the_web_version_but_bookkeeping_does_not(seeded):
    v0 = seeded.web_version()
    seeded.rate_hit(["k"], 10, 60.0, 1.0)
    seeded.create_session("h", member(seeded).id, T0, T0 + dt.timedelta(days=1))
    v1 = seeded.web_version()
    assert v1 > v0  # creating the member changed pages (their profile)
    seeded.touch_session("h", T0)
    assert seeded.web_version() == v1
    seeded.set_state("k", "v")
    assert seeded.web_version() > v1
