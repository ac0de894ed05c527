"""LibraryService: who may see and change a collection (every role against every visibility), notes
private to their writer, reading states, and imports that fetch unknown papers from arXiv (a real
HTTP server replaying recorded arXiv API answers) and report what they could not add."""

from __future__ import annotations

import datetime as dt

import pytest

from dailypapers.errors import Forbidden, Invalid, NotFound

ROLES = ("owner", "editor", "viewer", "stranger", "visitor")


@pytest.fixture
def lib(env):
    people = {name: env.member(name) for name in ("olga", "ed", "vic", "stan")}
    for i in range(1, 5):
        env.paper(f"2104.0000{i}", day=dt.date(2021, 4, 21))
    return env, env.services.library, people


def setup_collection(library, people, visibility: str) -> int:
    c = library.create(people["olga"], "Journal club", "Thursdays", "private")
    library.add_paper(people["olga"], c.id, "2104.00001")
    library.add_member(people["olga"], c.id, "ed", "editor")
    library.add_member(people["olga"], c.id, "vic", "viewer")
    library.update(people["olga"], c.id, visibility=visibility)
    return c.id


def who(people, role):
    return {"owner": people["olga"], "editor": people["ed"], "viewer": people["vic"], "stranger": people["stan"],
            "visitor": None}[role]


def outcome(fn, *args) -> str:
    try:
        fn(*args)
    except NotFound:
        return "404"
    except Forbidden:
        return "403"
    return "ok"


# Expected outcome of each action, per visibility, for owner, editor, viewer, stranger, visitor.
EXPECTED = {
    "view": {"private": "ok 404 404 404 404", "shared": "ok ok ok 404 404", "public": "ok ok ok ok ok"},
    "export": {"private": "ok 404 404 404 404", "shared": "ok ok ok 404 404", "public": "ok ok ok ok ok"},
    "add": {"private": "ok 404 404 404 403", "shared": "ok ok 403 404 403", "public": "ok ok 403 403 403"},
    "remove": {"private": "ok 404 404 404 403", "shared": "ok ok 403 404 403", "public": "ok ok 403 403 403"},
    "note": {"private": "ok 404 404 404 403", "shared": "ok ok ok 404 403", "public": "ok ok ok 403 403"},
    "rename": {"private": "ok 404 404 404 403", "shared": "ok 403 403 404 403", "public": "ok 403 403 403 403"},
    "share": {"private": "ok 404 404 404 403", "shared": "ok 403 403 404 403", "public": "ok 403 403 403 403"},
    "delete": {"private": "ok 404 404 404 403", "shared": "ok 403 403 404 403", "public": "ok 403 403 403 403"},
}


@pytest.mark.parametrize("visibility", ["private", "shared", "public"])
def test_every_role_against_every_visibility(lib, visibility):
    env, library, people = lib
    cid = setup_collection(library, people, visibility)
    actions = {
        "view": lambda u: library.view(u, cid),
        "export": lambda u: library.export(u, cid, "bibtex"),
        "add": lambda u: library.add_paper(u, cid, "2104.00002"),
        "remove": lambda u: library.remove_paper(u, cid, "2104.00002"),
        "note": lambda u: library.set_note(u, cid, "2104.00001", "a note"),
        "rename": lambda u: library.update(u, cid, name="Renamed"),
        "share": lambda u: library.add_member(u, cid, "stan", "viewer"),
    }
    for action, run in actions.items():
        # the owner last: sharing a private collection makes it "shared"
        results = {role: outcome(run, who(people, role)) for role in (*ROLES[1:], "owner")}
        if action == "share":  # undo, so the next rows see the same collection
            library.remove_member(people["olga"], cid, "stan")
            library.update(people["olga"], cid, visibility=visibility)
        assert " ".join(results[role] for role in ROLES) == EXPECTED[action][visibility], action
    got = " ".join(outcome(library.delete, who(people, role), cid) for role in ROLES[1:])
    assert "ok " + got == EXPECTED["delete"][visibility]
    assert outcome(library.delete, people["olga"], cid) == "ok"


def test_lists_roles_and_private_notes(lib):
    env, library, people = lib
    cid = setup_collection(library, people, "shared")
    assert [(c.name, c.role) for c in library.mine(people["ed"])] == [("Journal club", "editor")]
    assert library.mine(people["stan"]) == []
    library.set_note(people["olga"], cid, "2104.00001", "olga's")
    library.set_note(people["vic"], cid, "2104.00001", "vic's")
    assert library.view(people["olga"], cid).papers[0].note == "olga's"
    assert library.view(people["vic"], cid).papers[0].note == "vic's"
    assert library.view(people["ed"], cid).papers[0].note is None
    with pytest.raises(NotFound):
        library.set_note(people["olga"], cid, "2104.00004", "not in it")
    # private again: the members keep their role but lose access; sharing restores it
    library.update(people["olga"], cid, visibility="private")
    assert library.mine(people["ed"]) == []
    with pytest.raises(NotFound):
        library.view(people["vic"], cid)
    library.update(people["olga"], cid, visibility="shared")
    assert library.view(people["vic"], cid).papers[0].note == "vic's"
    # a member leaves; others cannot be removed by a member
    with pytest.raises(Forbidden):
        library.remove_member(people["ed"], cid, "vic")
    library.remove_member(people["vic"], cid, "vic")
    with pytest.raises(NotFound):
        library.view(people["vic"], cid)
    # public: anyone, by id or slug; members only see member lists
    library.update(people["olga"], cid, visibility="public", slug="olga-club")
    assert library.public("olga-club").collection.id == cid == library.public(str(cid)).collection.id
    assert library.public("olga-club").members == [] and library.public("olga-club").papers[0].note is None
    with pytest.raises(NotFound):
        library.public("nope-club")


def test_input_is_checked(lib):
    env, library, people = lib
    olga = people["olga"]
    with pytest.raises(Invalid):
        library.create(olga, "   ")
    with pytest.raises(Invalid):
        library.create(olga, "x" * 101)
    with pytest.raises(Invalid):
        library.create(olga, "ok", visibility="everyone")
    c = library.create(olga, "  A   name  ")
    assert c.name == "A name" and c.visibility == "private"
    for bad in ("ab", "Has Caps!", "123", "-dash", "a" * 61):
        with pytest.raises(Invalid):
            library.update(olga, c.id, slug=bad)
    with pytest.raises(Invalid):
        library.add_member(olga, c.id, "nobody", "editor")
    with pytest.raises(Invalid):
        library.add_member(olga, c.id, "ed", "admin")
    with pytest.raises(Invalid):
        library.add_member(olga, c.id, "olga", "editor")
    member = library.add_member(olga, c.id, "@ed", "viewer")
    assert member.name == "ed" and library.view(olga, c.id).collection.visibility == "shared"
    with pytest.raises(Forbidden):
        library.create(None, "visitors keep nothing")
    unverified = env.member("una", verified=False)
    with pytest.raises(Forbidden):
        library.create(unverified, "not yet")


def test_reading_states(lib):
    env, library, people = lib
    olga = people["olga"]
    assert library.toggle_state(olga, "2104.00001", "hidden") == ("2104.00001", "hidden")
    assert library.toggle_state(olga, "https://arxiv.org/abs/2104.00002v3", "to_read") == ("2104.00002", "to_read")
    assert library.states(olga, ["2104.00001", "2104.00002", "2104.00003"]) == {"2104.00001": "hidden",
                                                                                   "2104.00002": "to_read"}
    assert library.states(people["ed"], ["2104.00001"]) == {}  # per member
    assert library.toggle_state(olga, "2104.00001", "hidden") == ("2104.00001", None)  # pressed again: cleared
    assert library.toggle_state(olga, "2104.00002", "read") == ("2104.00002", "read")  # one state at a time
    assert library.counts(olga) == {"to_read": 0, "read": 1, "hidden": 0}
    items, more = library.reading(olga, "read")
    assert [p.arxiv_id for _, p in items] == ["2104.00002"] and not more
    with pytest.raises(Invalid):
        library.set_state(olga, "2104.00001", "maybe")
    with pytest.raises(NotFound):
        library.set_state(olga, "2104.99998", "read")
    with pytest.raises(Forbidden):
        library.set_state(None, "2104.00001", "read")


BIB = """
@misc{known, title={Paper 2104.00003}, eprint={2104.00003}, archivePrefix={arXiv}}
@article{fetched, title={Recorded on arXiv}, journal={arXiv preprint arXiv:2104.12255}}
@book{book, title={A Book Without Any Id}, publisher={Springer}, year={1999}}
@misc{broken, title={Unclosed
"""


def test_import_fetches_unknown_papers_and_reports_the_rest(lib):
    env, library, people = lib
    olga = people["olga"]
    c = library.create(olga, "Imported")
    report = library.import_file(olga, c.id, BIB)
    assert report.added == ["2104.00003", "2104.12255"]
    assert report.fetched == ["2104.12255"]
    assert env.store.get_paper("2104.12255").title  # stored, with arXiv's metadata
    assert "A Book Without Any Id" in [e.label for e in report.without_id]
    assert report.reported == 2  # the book, and the entry that could not be read
    # (the recording server answers one id per request, so the unknown id comes in a file of its own)
    missing = library.import_file(olga, c.id, "@misc{m, url={https://arxiv.org/abs/0000.0000}}")
    assert missing.added == [] and missing.not_found == [("0000.0000", "arXiv has no paper 0000.0000")]
    view = library.view(olga, c.id)
    assert [cp.paper.arxiv_id for cp in view.papers] == ["2104.00003", "2104.12255"]  # the file's order
    again = library.import_file(olga, c.id, BIB)
    assert again.added == [] and again.already == ["2104.00003", "2104.12255"] and again.fetched == []
    # a paper added by id is fetched the same way
    other = library.create(olga, "By id")
    _, paper, added = library.add_paper(olga, other.id, "2104.12255")
    assert added and paper.arxiv_id == "2104.12255"
    with pytest.raises(Invalid):
        library.add_paper(olga, other.id, "0000.0000")
    with pytest.raises(Invalid):
        library.import_file(olga, c.id, "x" * 5_000_001)  # too large to parse
