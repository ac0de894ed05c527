"""A member's own data on both backends: the export (every section, no secrets), a confirmed
address change, and deleting an account (votes recounted, comments kept under the shared
"[deleted member]" account, shared collections passed to an editor, subscriptions and their send
log deleted, everything else cascading)."""

import datetime as dt
import json

import pytest

from dailypapers.models import DigestEntry, DigestSend, Listing, Subscription
from dailypapers.storage import Conflict
from dailypapers.storage.account_rows import GHOST_NAME

from .helpers import T0, make


def ids(n):
    return f"2608.{n:05d}"


@pytest.fixture
def members(store):
    store.ingest_batch([make(i) for i in range(1, 6)])
    ada = store.create_user("ada@example.org", "ada", "secret-hash", "member", T0, verified_at=T0)
    bob = store.create_user("bob@example.org", "bob", "h", "member", T0, verified_at=T0)
    eve = store.create_user("eve@example.org", "eve", "h", "member", T0, verified_at=T0)
    t = T0 + dt.timedelta(minutes=1)
    for n in (1, 2):
        store.toggle_vote(ada.id, ids(n), t)
    store.toggle_vote(bob.id, ids(1), t)
    comment = store.add_comment(ids(1), ada.id, "A fine paper.", t)
    store.add_listing(Listing(ids(3), T0.date(), submitted_by="ada", submitted_at=t), submitter_id=ada.id, at=t)
    store.set_reading_state(ada.id, ids(4), "hidden", t)
    store.record_visit(ada.id, "daily", t, dt.timedelta(minutes=30))
    store.create_session("session-hash", ada.id, t, t + dt.timedelta(days=1))
    store.create_api_token(ada.id, "script", "token-hash", "dp_abc", t)
    private = store.create_collection(ada.id, "Mine", "", "private", t)
    club = store.create_collection(ada.id, "Journal club", "Fridays", "shared", t)
    solo = store.create_collection(ada.id, "Shared with a viewer", "", "shared", t)
    bobs = store.create_collection(bob.id, "Bob's", "", "shared", t)
    store.add_to_collection(private.id, [ids(1)], ada.id, t)
    store.add_to_collection(club.id, [ids(1), ids(2)], ada.id, t)
    store.set_collection_member(club.id, eve.id, "viewer", t)
    store.set_collection_member(club.id, bob.id, "editor", t + dt.timedelta(seconds=1))
    store.set_collection_member(solo.id, eve.id, "viewer", t)
    store.set_collection_member(bobs.id, ada.id, "editor", t)
    store.add_to_collection(bobs.id, [ids(5)], ada.id, t)
    store.set_collection_note(club.id, ids(1), ada.id, "ada's note", t)
    store.set_collection_note(club.id, ids(1), bob.id, "bob's note", t)
    sub = store.save_subscription(Subscription(None, "ada@example.org", user_id=ada.id, topics=["graphs"],
                                               confirmed_at=t, created_at=t, manage_key="manage-secret",
                                               confirm_nonce="nonce-secret"))
    store.plan_digest_sends([DigestSend(None, sub.id, "daily:2026-08-20", "pending", "<m@x>",
                                        [DigestEntry(ids(2), ["trending"])])], t)
    return store, ada, bob, eve, {"private": private, "club": club, "solo": solo, "bobs": bobs, "comment": comment}


def test_the_export_holds_every_section_and_no_secret(members):
    store, ada, bob, eve, made = members
    data = store.account_export(ada.id)
    assert [v["arxiv_id"] for v in data["votes"]] == [ids(1), ids(2)]
    assert data["comments"][0]["body"] == "A fine paper." and data["comments"][0]["created_at"].startswith("2026-08-20")
    assert data["submissions"] == [{"day": "2026-08-20", "arxiv_id": ids(3), "submitted_at": "2026-08-20T00:01:00+00:00"}]
    assert [(r["arxiv_id"], r["state"]) for r in data["reading_states"]] == [(ids(4), "hidden")]
    assert [v["kind"] for v in data["list_visits"]] == ["daily"]
    assert [(t["name"], t["prefix"]) for t in data["api_tokens"]] == [("script", "dp_abc")]
    sub = data["subscriptions"][0]
    assert (sub["email"], sub["topics"], sub["include_upvotes"]) == ("ada@example.org", ["graphs"], False)
    assert [(n["collection_id"], n["arxiv_id"], n["body"]) for n in data["notes"]] == [(made["club"].id, ids(1),
                                                                                         "ada's note")]
    by_name = {c["name"]: c for c in data["collections"]}
    assert set(by_name) == {"Mine", "Journal club", "Shared with a viewer", "Bob's"}
    club = by_name["Journal club"]
    assert club["role"] == "owner" and [p["arxiv_id"] for p in club["papers"]] == [ids(1), ids(2)]
    assert {(m["name"], m["role"]) for m in club["members"]} == {("bob", "editor"), ("eve", "viewer")}
    assert by_name["Bob's"]["role"] == "editor" and "members" not in by_name["Bob's"]
    text = json.dumps(data)  # JSON-ready as it is
    for secret in ("secret-hash", "token-hash", "session-hash", "manage-secret", "nonce-secret", "bob's note"):
        assert secret not in text
    assert store.account_export(eve.id)["votes"] == []


def test_set_email_verifies_the_address_and_refuses_a_taken_one(members):
    store, ada, bob, *_ = members
    t = T0 + dt.timedelta(hours=1)
    with pytest.raises(Conflict):
        store.set_email(ada.id, "BOB@example.org", t)
    store.set_email(ada.id, "ada@new.example.org", t)
    user = store.get_user(ada.id)
    assert user.email == "ada@new.example.org" and user.verified_at == t
    assert store.user_by_email("ada@example.org") is None
    assert store.get_subscription_for_user(ada.id).email == "ada@new.example.org"  # the digest follows


def test_deleting_an_account(members):
    store, ada, bob, eve, made = members
    v0 = store.web_version()
    assert store.get_paper(ids(1)).votes == 2
    t = T0 + dt.timedelta(days=1)
    done = store.delete_account(ada.id, t)
    assert store.web_version() != v0  # counts and collections changed: cached pages go
    assert done.votes_removed == 2 and done.comments_kept == 1 and done.subscriptions_removed == 1
    assert done.collections_transferred == [(made["club"].id, "bob")]
    assert done.collections_deleted == 2  # the private one, and the shared one with only a viewer
    # the account is gone; nobody can log in as it or reach it by email
    assert store.get_user(ada.id) is None and store.user_by_email("ada@example.org") is None
    assert store.get_session("session-hash") is None and store.api_token_user("token-hash") is None
    # votes removed and recounted
    assert store.get_paper(ids(1)).votes == 1 and store.get_paper(ids(2)).votes == 0
    assert store.count_votes(ids(1)) == 1
    # the comment stays, under the shared account
    comment = store.get_comment(made["comment"].id)
    assert comment.body == "A fine paper." and comment.author == GHOST_NAME
    ghost = store.user_by_name(GHOST_NAME)
    assert ghost.disabled and ghost.password_hash is None
    # the journal club goes on under bob, without ada's note and with bob's; the rest are deleted
    club = store.get_collection(made["club"].id)
    assert club.owner == "bob" and club.paper_count == 2
    assert {m.user_id for m in store.collection_members(club.id)} == {eve.id}
    assert {c.paper.arxiv_id: c.note for c in store.collection_papers(club.id, bob.id)}[ids(1)] == "bob's note"
    assert store.get_collection(made["private"].id) is None and store.get_collection(made["solo"].id) is None
    # bob's collection keeps the paper ada added, without her name
    bobs = store.collection_papers(made["bobs"].id, bob.id)
    assert [(c.paper.arxiv_id, c.added_by) for c in bobs] == [(ids(5), None)]
    assert store.collection_role(made["bobs"].id, ada.id) is None
    # the subscription and its send log
    assert store.get_subscription_by_email("ada@example.org") is None
    assert store.get_digest_send(1, "daily:2026-08-20") is None
    # the submission stays on the list, without the name
    assert store.user_submissions(ada.id) == []
    listed = [lst for lst in store.listings_for_paper(ids(3))]
    assert listed and listed[0].submitted_by is None
    # a second deletion (of another member) reuses the one shared account
    store.add_comment(ids(2), bob.id, "Me too.", t)
    store.delete_account(bob.id, t)
    assert {c.author for c in store.paper_comments(ids(2))} == {GHOST_NAME}
    assert store.delete_account(bob.id, t) is None
    assert store.delete_account(ghost.id, t) is None  # the shared account itself is never deleted
