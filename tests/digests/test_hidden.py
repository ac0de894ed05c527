""""Not interested" in the ranking shared by For you and the digests: a hidden paper never comes back,
whatever the section, and papers close to it rank lower (a negative for the upvote profile)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from dailypapers.digests import Period
from dailypapers.digests.compose import Composer
from dailypapers.digests.foryou import ForYouService, Profile, Ranker, hidden_penalty

from .conftest import DAY, add_papers, add_subscriber, add_user

SPECS = [
    dict(title="Steering language models", abstract="Activation steering.", upvotes=40, vec=[1, 0, 0, 0]),
    dict(title="Steering robots", abstract="Activation steering for control.", upvotes=30, vec=[0.6, 0.8, 0, 0]),
    dict(title="Steering with sparse probes", abstract="Activation steering, sparse.", upvotes=20,
         vec=[0.8, 0.6, 0, 0]),
    dict(title="Robot arms", abstract="Manipulation.", upvotes=10, vec=[0, 1, 0, 0]),
    dict(title="Diffusion", abstract="Images.", upvotes=5, vec=[0, 0, 1, 0]),
]


def titles(picks):
    return [p.paper.title for p in picks]


def test_the_penalty_is_the_closeness_to_the_hidden_papers_centroid():
    m = np.array([[1, 0], [0, 1], [0.6, 0.8], [-1, 0]], dtype=np.float32)
    neg = np.array([[0, 1], [0.6, 0.8]], dtype=np.float32)
    c = neg.mean(axis=0) / np.linalg.norm(neg.mean(axis=0))
    out = hidden_penalty(m, np.array([True, True, False, True]), neg)
    assert np.allclose(out[:2], [c[0], c[1]])
    assert out[2] == 0.0  # no vector: no penalty
    assert out[3] == 0.0  # opposite: no bonus either
    assert hidden_penalty(m, np.ones(4, dtype=bool), np.zeros((0, 2), dtype=np.float32)).tolist() == [0, 0, 0, 0]


def test_hidden_papers_never_come_back_and_push_their_neighbours_down(dstore, dsettings):
    ids = add_papers(dstore, DAY, SPECS)
    ranker = Ranker(dstore)
    pool = ranker.pool(DAY, DAY)
    before = ranker.rank(pool, Profile(topics=["activation steering"]))
    assert titles(before) == ["Steering language models", "Steering robots", "Steering with sparse probes"]
    # hiding "Robot arms" (not even a match) drops "Steering robots", its neighbour, below the others
    after = ranker.rank(pool, Profile(topics=["activation steering"], hidden=[ids[3]]))
    assert titles(after) == ["Steering language models", "Steering with sparse probes", "Steering robots"]
    # a hidden paper is never picked, by topic or as trending
    hidden = ranker.rank(pool, Profile(topics=["activation steering"], hidden=[ids[0]]))
    assert "Steering language models" not in titles(hidden)
    top = ranker.top(pool, 3, profile=Profile(hidden=[ids[0]]))
    assert titles(top) == ["Steering robots", "Steering with sparse probes", "Robot arms"]


def test_digests_and_for_you_leave_out_a_members_hidden_papers(dstore, dsettings):
    ids = add_papers(dstore, DAY, SPECS)
    uid = add_user(dstore, "ada", "ada@example.org")
    other = add_user(dstore, "bob", "bob@example.org")
    at = dt.datetime(2026, 8, 21, tzinfo=dt.timezone.utc)
    dstore.set_reading_state(uid, ids[0], "hidden", at)  # the most upvoted paper
    dstore.set_reading_state(other, ids[1], "to_read", at)
    ada = add_subscriber(dstore, "ada@example.org", user_id=uid, topics=["activation steering"])
    bob = add_subscriber(dstore, "bob@example.org", user_id=other, topics=["activation steering"])
    period = Period("daily", DAY)
    mine, theirs = Composer(dstore, dsettings).compose_many([ada, bob], period)
    sent_to_ada = {e.arxiv_id for e in mine.entries}
    assert ids[0] not in sent_to_ada and ids[1] in sent_to_ada
    assert ids[0] in {e.arxiv_id for e in theirs.entries}
    # one at a time, the composer reads the hidden papers itself
    assert ids[0] not in {e.arxiv_id for e in Composer(dstore, dsettings).compose(ada, period).entries}
    now = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    page = ForYouService(dstore).for_member(uid, DAY, now)
    assert page.profile.hidden == [ids[0]] and ids[0] not in {p.paper.arxiv_id for p in page.picks}
    assert ids[0] in {p.paper.arxiv_id for p in ForYouService(dstore).for_member(other, DAY, now).picks}
