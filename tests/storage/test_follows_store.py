"""Follows and For you corrections on both backends."""

import datetime as dt

from .helpers import T0, make


def _setup(store):
    store.ingest_batch([make(i) for i in range(1, 4)])
    ada = store.create_user("ada@example.org", "ada", "h", "member", T0, verified_at=T0)
    bob = store.create_user("bob@example.org", "bob", "h", "member", T0, verified_at=T0)
    return ada, bob


def test_follows_add_list_remove(store):
    ada, bob = _setup(store)
    v0 = store.web_version()
    hinton = store.add_follow(ada.id, "author", "Geoffrey Hinton", "hinton g", T0)
    assert (hinton.kind, hinton.name, hinton.key, hinton.created_at) == ("author", "Geoffrey Hinton", "hinton g", T0)
    again = store.add_follow(ada.id, "author", "Geoffrey Hinton", "hinton g", T0 + dt.timedelta(hours=1))
    assert again.id == hinton.id and again.created_at == T0  # the same name: the follow already there
    org = store.add_follow(ada.id, "org", "mtsair", "mtsair", T0)
    store.add_follow(ada.id, "author", "Ünïcödé Ñame", "name u", T0)
    store.add_follow(bob.id, "author", "Geoffrey Hinton", "hinton g", T0)
    assert store.web_version() == v0  # bookkeeping: no shared page shows a follow

    assert [(f.kind, f.name) for f in store.follows(ada.id)] == [
        ("author", "Geoffrey Hinton"), ("author", "Ünïcödé Ñame"), ("org", "mtsair")]
    both = store.users_follows([ada.id, bob.id, 999])
    assert sorted(both) == [ada.id, bob.id]
    assert [f.name for f in both[bob.id]] == ["Geoffrey Hinton"] and len(both[ada.id]) == 3

    assert store.remove_follows(bob.id, [hinton.id]) == 0  # not bob's
    assert store.remove_follows(ada.id, [hinton.id, org.id]) == 2
    assert [f.name for f in store.follows(ada.id)] == ["Ünïcödé Ñame"]
    assert store.remove_follows(ada.id, []) == 0


def test_foryou_mutes(store):
    ada, bob = _setup(store)
    assert store.set_foryou_mute(ada.id, "upvote", "2608.00001", True, T0)
    assert not store.set_foryou_mute(ada.id, "upvote", "2608.00001", True, T0)  # already
    assert store.set_foryou_mute(ada.id, "upvote", "2608.00002", True, T0 + dt.timedelta(minutes=1))
    store.set_foryou_mute(bob.id, "upvote", "2608.00003", True, T0)
    assert store.foryou_mutes(ada.id, "upvote") == ["2608.00002", "2608.00001"]  # newest first
    assert store.users_foryou_mutes([ada.id, bob.id], "upvote") == {
        ada.id: {"2608.00001", "2608.00002"}, bob.id: {"2608.00003"}}
    assert store.set_foryou_mute(ada.id, "upvote", "2608.00001", False, T0)
    assert not store.set_foryou_mute(ada.id, "upvote", "2608.00001", False, T0)
    assert store.clear_foryou_mutes(ada.id) == 1
    assert store.foryou_mutes(ada.id, "upvote") == [] and store.foryou_mutes(bob.id, "upvote") == ["2608.00003"]
