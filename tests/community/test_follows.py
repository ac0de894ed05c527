"""Follows and a correctable For you, on both backends: the name rule, FollowService (spellings
merged, organizations checked, members only), papers by followed authors and organizations in
For you with "you follow X", and the corrections ("stop using this upvote", unfollow, drop a
topic, reset) changing the ranking."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from community_helpers import NOW

from dailypapers.community.follows import author_key, author_parts, matching, same_author
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.models import Listing, Organization, Paper, Subscription

DAY = dt.date(2021, 4, 21)
MODEL = "test-model"


@pytest.mark.parametrize("a, b", [
    ("Geoffrey Hinton", "G. E. Hinton"),
    ("Geoffrey E. Hinton", "geoffrey  e.  HINTON"),
    ("Hinton, Geoffrey", "Geoffrey Hinton"),
    ("José Núñez", "Jose Nunez"),
    ("Zoë Ø'Brien", "Zoe O Brien"),
    ("Łukasz Kaiser", "Lukasz Kaiser"),
    ("J.-P. Dupont", "Jean-Pierre Dupont"),
    ("John Smith Jr.", "J. Smith"),
    ("Y. Wang", "Yu Wang"),
    ("李雷", "李雷"),
])
def test_spellings_of_one_author_are_merged(a, b):
    assert same_author(a, b) and same_author(b, a)
    assert author_key(a) == author_key(b)


@pytest.mark.parametrize("a, b", [
    ("Yi Wang", "Yu Wang"),  # two given names that are not initials of each other
    ("Geoffrey Hinton", "Geoffrey Everest"),
    ("Hinton", "Geoffrey Hinton"),  # one word matches only that word alone
    ("J. A. Smith", "John B. Smith"),
    ("", ""),
])
def test_different_authors_stay_apart(a, b):
    assert not same_author(a, b)


def test_name_parts():
    assert author_parts("  Hinton,  Geoffrey E. ") == ("hinton", ("geoffrey", "e"))
    assert author_parts("Smith, Jr.") == ("smith", ())
    assert author_parts("123 !!") == ("", ())
    assert author_key("Geoffrey Hinton") == "hinton g" and author_key("Madonna") == "madonna"


def _paper(aid: str, authors: list[str], *, org: str | None = None, upvotes: int = 0, title: str | None = None):
    return (Paper(arxiv_id=aid, title=title or f"Paper {aid}", abstract="An abstract.", authors=authors,
                  published=NOW - dt.timedelta(days=2), organization=Organization(org) if org else None),
            Listing(arxiv_id=aid, day=DAY, upvotes=upvotes, source="hf"))


def _vec(v) -> bytes:
    a = np.asarray(v, dtype=np.float32)
    return (a / np.linalg.norm(a)).astype("<f4").tobytes()


@pytest.fixture
def world(env):
    rows = [
        _paper("2104.00001", ["Geoffrey E. Hinton", "Ann Other"], upvotes=1, title="Capsules again"),
        _paper("2104.00002", ["Yu Wang"], upvotes=2),
        _paper("2104.00003", ["Somebody Else"], org="acme-lab", upvotes=3),
        _paper("2104.00004", ["Popular Person"], upvotes=90),
        _paper("2104.00005", ["Also Popular"], upvotes=80, title="Diffusion for everything"),
    ]
    env.store.ingest_batch([p for p, _ in rows], [x for _, x in rows])
    return env


def for_you(env, user):
    page = env.services.foryou.for_member(user.id, DAY, NOW)
    return page, {p.paper.arxiv_id: p.reasons for p in page.picks}


def test_follow_merges_spellings_checks_input_and_is_for_members(world):
    follows = world.services.follows
    ada = world.member("ada")
    f, new = follows.follow(ada, "author", "Geoffrey Hinton")
    assert new and (f.kind, f.name, f.key) == ("author", "Geoffrey Hinton", "hinton g")
    same, new = follows.follow(ada, "author", "  G. E.  Hinton ")
    assert not new and same.id == f.id  # another spelling: the follow already there
    follows.follow(ada, "author", "Yi Wang")
    follows.follow(ada, "author", "Yu Wang")
    org, _ = follows.follow(ada, "org", "acme-lab")
    assert [(x.kind, x.name) for x in follows.mine(ada)] == [
        ("author", "Geoffrey Hinton"), ("author", "Yi Wang"), ("author", "Yu Wang"), ("org", "acme-lab")]
    assert [x.name for x in matching(follows.mine(ada), "author", "Y. Wang")] == ["Yi Wang", "Yu Wang"]
    assert follows.unfollow(ada, "author", "Y. Wang") == 2  # every spelling it names
    assert follows.unfollow(ada, "author", "Nobody Here") == 0
    follows.unfollow_id(ada, org.id)
    with pytest.raises(NotFound):
        follows.unfollow_id(ada, org.id)
    with pytest.raises(NotFound):
        follows.follow(ada, "org", "no-such-org")
    with pytest.raises(Invalid):
        follows.follow(ada, "org", "bad name/")
    with pytest.raises(Invalid):
        follows.follow(ada, "venue", "NeurIPS")
    with pytest.raises(Invalid):
        follows.follow(ada, "author", "  ")
    with pytest.raises(Invalid):
        follows.follow(ada, "author", "x" * 201)
    with pytest.raises(Forbidden):
        follows.follow(None, "author", "Geoffrey Hinton")
    with pytest.raises(Forbidden):
        follows.follow(world.member("una", verified=False), "author", "Geoffrey Hinton")
    assert [x.name for x in follows.mine(ada)] == ["Geoffrey Hinton"]
    assert follows.mine(world.member("bob")) == []


def test_papers_of_followed_authors_and_organizations_come_with_the_reason(world):
    ada = world.member("ada")
    page, picks = for_you(world, ada)
    assert not page.personal  # nothing to go on: trending
    world.services.follows.follow(ada, "author", "Geoffrey Hinton")
    world.services.follows.follow(ada, "org", "acme-lab")
    page, picks = for_you(world, ada)
    assert page.personal
    assert picks == {"2104.00001": ["you follow Geoffrey Hinton"], "2104.00003": ["you follow acme-lab"]}
    # a followed author's paper beats more popular ones: it is the only one "for you" here
    assert [p.paper.arxiv_id for p in page.picks][0] in {"2104.00001", "2104.00003"}
    # "not interested" still wins over a follow
    world.services.library.set_state(ada, "2104.00001", "hidden")
    assert set(for_you(world, ada)[1]) == {"2104.00003"}
    world.services.follows.unfollow(ada, "org", "acme-lab")
    page, picks = for_you(world, ada)
    assert not page.personal and "2104.00003" in picks and picks["2104.00003"] == ["trending"]


def test_stopping_an_upvote_changes_the_ranking_and_reset_brings_it_back(world):
    store, svc = world.store, world.services
    rows = [_paper("2104.00011", ["U One"]), _paper("2104.00012", ["U Two"]),
            _paper("2104.00013", ["X Near"], title="Close to the first upvote"),
            _paper("2104.00014", ["Y Near"], title="Close to the second upvote")]
    store.ingest_batch([p for p, _ in rows], [x for _, x in rows])
    store.put_embeddings(MODEL, [("2104.00011", "h1", _vec([1, 0, 0, 0])), ("2104.00012", "h2", _vec([0, 1, 0, 0])),
                                 ("2104.00013", "h3", _vec([1, 0.1, 0, 0])), ("2104.00014", "h4", _vec([0.1, 1, 0, 0])),
                                 ("2104.00004", "h5", _vec([0, 0, 1, 0])), ("2104.00005", "h6", _vec([0, 0, 0, 1]))])
    ada = world.member("ada")
    svc.votes.vote(ada, "2104.00011")
    svc.votes.vote(ada, "2104.00012")
    _, picks = for_you(world, ada)
    assert set(picks) == {"2104.00013", "2104.00014"}
    assert picks["2104.00014"] == ["like papers you upvoted"]

    assert svc.foryou.use_upvote(ada, "2104.00012", False)  # stop using the second upvote
    _, picks = for_you(world, ada)
    assert set(picks) == {"2104.00013"}  # only the first upvote shapes it now
    assert "2104.00012" in store.user_upvoted_ids(ada.id)  # still an upvote
    sources = svc.foryou.sources(ada)
    assert [p.arxiv_id for p in sources.upvotes] == ["2104.00011"]
    assert [p.arxiv_id for p in sources.muted] == ["2104.00012"]
    with pytest.raises(NotFound):
        svc.foryou.use_upvote(ada, "2104.00004", False)  # not an upvote of hers

    assert svc.foryou.reset(ada) == 1
    assert set(for_you(world, ada)[1]) == {"2104.00013", "2104.00014"}
    assert svc.foryou.sources(ada).muted == []
    # use_upvote(True) undoes one correction
    svc.foryou.use_upvote(ada, "2104.00011", False)
    assert svc.foryou.use_upvote(ada, "2104.00011", True)
    assert {p.arxiv_id for p in svc.foryou.sources(ada).upvotes} == {"2104.00011", "2104.00012"}


def test_dropping_a_topic_and_what_feeds_it(world):
    svc = world.services
    ada = world.member("ada")
    world.store.save_subscription(Subscription(id=None, email="ada@example.org", user_id=ada.id,
                                               topics=["diffusion", "capsules"], created_at=NOW, confirmed_at=NOW))
    svc.follows.follow(ada, "author", "Yu Wang")
    _, picks = for_you(world, ada)
    assert picks == {"2104.00005": ["matches: diffusion"], "2104.00001": ["matches: capsules"],
                     "2104.00002": ["you follow Yu Wang"]}
    sources = svc.foryou.sources(ada)
    assert sources.topics == ["diffusion", "capsules"] and [f.name for f in sources.follows] == ["Yu Wang"]
    assert svc.foryou.drop_topic(ada, "diffusion")
    assert not svc.foryou.drop_topic(ada, "diffusion")
    _, picks = for_you(world, ada)
    assert set(picks) == {"2104.00001", "2104.00002"}
    assert world.store.get_subscription_for_user(ada.id).topics == ["capsules"]
    with pytest.raises(Forbidden):
        svc.foryou.sources(None)
