"""The library tables on both backends: collections with papers, members and private notes,
reading states, and list visits ("new since your last visit")."""

import datetime as dt

import pytest

from dailypapers.storage import Conflict

from .helpers import T0, make


@pytest.fixture
def lib(store):
    store.ingest_batch([make(i) for i in range(1, 6)])
    ada = store.create_user("ada@example.org", "ada", "h", "member", T0, verified_at=T0)
    bob = store.create_user("bob@example.org", "bob", "h", "member", T0, verified_at=T0)
    return store, ada, bob


def ids(n):
    return f"2608.{n:05d}"


def test_collections_papers_members_and_notes(lib):
    store, ada, bob = lib
    v0 = store.web_version()
    club = store.create_collection(ada.id, "Journal club", "Fridays at 4", "private", T0)
    assert store.web_version() != v0  # public pages are cached by the content version
    assert (club.owner, club.name, club.visibility, club.paper_count, club.slug) == ("ada", "Journal club", "private", 0, None)

    t1 = T0 + dt.timedelta(minutes=1)
    added = store.add_to_collection(club.id, [ids(1), ids(2), ids(1), "2608.99999"], ada.id, t1)
    assert added == [ids(1), ids(2)]  # repeats and unknown papers are skipped
    assert store.add_to_collection(club.id, [ids(2), ids(3)], bob.id, t1) == [ids(3)]
    got = store.collection_papers(club.id, ada.id)
    assert [c.paper.arxiv_id for c in got] == [ids(3), ids(2), ids(1)]  # newest first
    assert [c.added_by for c in got] == ["bob", "ada", "ada"] and got[0].added_at == t1
    assert store.get_collection(club.id).paper_count == 3
    assert store.get_collection(club.id).updated_at == t1
    assert [c.paper.arxiv_id for c in store.collection_papers(club.id, limit=1, offset=1)] == [ids(2)]

    # notes: each member's own, never another's
    assert store.set_collection_note(club.id, ids(1), ada.id, "read section 3", t1)
    assert store.set_collection_note(club.id, ids(1), bob.id, "bob's thoughts", t1)
    assert not store.set_collection_note(club.id, ids(5), ada.id, "not in the list", t1)
    notes = {c.paper.arxiv_id: c.note for c in store.collection_papers(club.id, ada.id)}
    assert notes == {ids(1): "read section 3", ids(2): None, ids(3): None}
    assert {c.paper.arxiv_id: c.note for c in store.collection_papers(club.id, bob.id)}[ids(1)] == "bob's thoughts"
    assert all(c.note is None for c in store.collection_papers(club.id, None))
    store.set_collection_note(club.id, ids(1), ada.id, None, t1)  # cleared
    assert {c.paper.arxiv_id: c.note for c in store.collection_papers(club.id, ada.id)}[ids(1)] is None

    # members and roles
    store.set_collection_member(club.id, bob.id, "viewer", t1)
    store.set_collection_member(club.id, bob.id, "editor", t1)  # a role change, not a second row
    assert [(m.name, m.role) for m in store.collection_members(club.id)] == [("bob", "editor")]
    assert store.collection_role(club.id, bob.id) == "editor" and store.collection_role(club.id, ada.id) is None
    mine = store.create_collection(bob.id, "Bob's reading", "", "public", t1)
    assert [(c.name, c.role) for c in store.member_collections(bob.id)] == [("Bob's reading", "owner"),
                                                                            ("Journal club", "editor")]
    assert [(c.name, c.role) for c in store.member_collections(ada.id)] == [("Journal club", "owner")]
    assert store.collections_holding(bob.id, ids(1)) == {club.id}
    store.add_to_collection(mine.id, [ids(1)], bob.id, t1)
    assert store.collections_holding(bob.id, ids(1)) == {club.id, mine.id}
    assert store.collections_holding(ada.id, ids(1)) == {club.id}

    # a member who leaves takes their notes along
    assert store.remove_collection_member(club.id, bob.id)
    assert not store.remove_collection_member(club.id, bob.id)
    store.set_collection_member(club.id, bob.id, "viewer", t1)
    assert {c.paper.arxiv_id: c.note for c in store.collection_papers(club.id, bob.id)}[ids(1)] is None

    # removing a paper
    assert store.remove_from_collection(club.id, ids(2), t1)
    assert not store.remove_from_collection(club.id, ids(2), t1)
    assert [c.paper.arxiv_id for c in store.collection_papers(club.id)] == [ids(3), ids(1)]

    # deleting takes papers, notes and members along
    assert store.delete_collection(club.id)
    assert store.get_collection(club.id) is None and not store.delete_collection(club.id)
    assert [c.name for c in store.member_collections(bob.id)] == ["Bob's reading"]


def test_slugs_are_unique(lib):
    store, ada, bob = lib
    a = store.create_collection(ada.id, "A", "", "public", T0)
    b = store.create_collection(bob.id, "B", "", "public", T0)
    store.update_collection(a.id, name="A2", description="about", visibility="public", slug="lab-reading", at=T0)
    assert store.collection_by_slug("lab-reading").id == a.id
    assert store.get_collection(a.id).description == "about"
    with pytest.raises(Conflict) as taken:
        store.update_collection(b.id, name="B", description="", visibility="public", slug="lab-reading", at=T0)
    assert taken.value.field == "slug"
    store.update_collection(a.id, name="A2", description="", visibility="private", slug=None, at=T0)
    store.update_collection(b.id, name="B", description="", visibility="public", slug="lab-reading", at=T0)
    assert store.collection_by_slug("lab-reading").id == b.id


def test_reading_states_are_bookkeeping(lib):
    store, ada, bob = lib
    v0 = store.web_version()
    assert store.set_reading_state(ada.id, ids(1), "hidden", T0)
    assert store.set_reading_state(ada.id, ids(2), "to_read", T0 + dt.timedelta(seconds=1))
    assert store.set_reading_state(ada.id, ids(3), "hidden", T0 + dt.timedelta(seconds=2))
    assert store.set_reading_state(bob.id, ids(4), "hidden", T0)
    assert not store.set_reading_state(ada.id, "2608.99999", "read", T0)
    assert store.web_version() == v0  # shared pages never show them
    assert store.reading_states(ada.id, [ids(1), ids(2), ids(4), ids(5)]) == {ids(1): "hidden", ids(2): "to_read"}
    assert store.hidden_ids(ada.id) == [ids(3), ids(1)]
    assert store.users_hidden_ids([ada.id, bob.id, 999]) == {ada.id: [ids(3), ids(1)], bob.id: [ids(4)]}
    assert store.users_hidden_ids([ada.id], limit_each=1) == {ada.id: [ids(3)]}
    assert store.count_reading_states(ada.id) == {"hidden": 2, "to_read": 1}
    store.set_reading_state(ada.id, ids(2), "read", T0 + dt.timedelta(seconds=3))  # one state per paper
    listed = store.reading_list(ada.id, "read")
    assert [(s.arxiv_id, s.state, p.title) for s, p in listed] == [(ids(2), "read", "Paper 2")]
    assert store.set_reading_state(ada.id, ids(2), None, T0)  # cleared
    assert store.reading_states(ada.id, [ids(2)]) == {}
    assert store.reading_list(ada.id, "read") == []


def test_list_visits(lib):
    store, ada, _ = lib
    gap = dt.timedelta(minutes=30)
    day = dt.timedelta(days=1)
    assert store.record_visit(ada.id, "daily", T0, gap) is None  # the first visit: nothing is new yet
    assert store.record_visit(ada.id, "daily", T0 + dt.timedelta(seconds=5), gap) is None  # a reload
    assert store.record_visit(ada.id, "daily", T0 + day, gap) == T0  # a new sitting: new since T0
    # within the sitting the mark stays, so reloading does not make the new papers old
    assert store.record_visit(ada.id, "daily", T0 + day + dt.timedelta(minutes=10), gap) == T0
    assert store.record_visit(ada.id, "daily", T0 + 2 * day, gap) == T0 + day + dt.timedelta(minutes=10)
    assert store.record_visit(ada.id, "trending", T0, gap) is None  # per list kind
