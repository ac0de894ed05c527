"""Composition: trending first, then matches with their reasons; never a paper twice; HTML+text."""

from __future__ import annotations

import datetime as dt

from dailypapers.digests import Period
from dailypapers.digests.compose import Composer, DigestRenderer
from dailypapers.digests.foryou import Profile, Ranker
from dailypapers.digests.subscriptions import Tokens
from dailypapers.models import DigestSend

from .conftest import DAY, add_papers, add_subscriber, add_user, sql

SPECS = [
    dict(title="Activation steering of language models", abstract="We steer activations of LLMs.", upvotes=5,
         vec=[1, 0, 0, 0]),
    dict(title="Sparse attention is all you need", abstract="Sparse attention for long contexts.", upvotes=50,
         categories=["cs.CL"], vec=[0, 1, 0, 0]),
    dict(title="Diffusion models for images", abstract="Images from noise.", upvotes=30, vec=[0, 0, 1, 0]),
    dict(title="Robots that fold laundry", abstract="Manipulation.", upvotes=20, categories=["cs.RO"],
         vec=[0, 0, 0, 1]),
    dict(title="Steering vectors, revisited", abstract="Activation steering again, with sparse attention.",
         upvotes=1, categories=["cs.LG"], vec=[0.9, 0.1, 0, 0]),
    dict(title="Sparse attention in vision", abstract="Sparse attention for images.", upvotes=2,
         categories=["cs.CV"], vec=[0, 0.7, 0.7, 0]),
]


def _titles(picks):
    return [p.paper.title for p in picks]


def test_trending_then_matches_with_reasons(dstore, dsettings):
    add_papers(dstore, DAY, SPECS)
    sub = add_subscriber(dstore, "a@example.org", topics=["activation steering", "cat:cs.CL sparse attention"])
    d = Composer(dstore, dsettings).compose(sub, Period("daily", DAY))
    # top 3 by trending (same list day: by upvotes)
    assert _titles(d.trending) == ["Sparse attention is all you need", "Diffusion models for images",
                                   "Robots that fold laundry"]
    assert d.trending[0].reasons == ["trending", "matches: cat:cs.CL sparse attention"]
    assert d.trending[1].reasons == ["trending"]
    # then the matches not already in it; cs.CV sparse attention does not match the cs.CL topic
    assert _titles(d.for_you) == ["Activation steering of language models", "Steering vectors, revisited"]
    assert all(p.reasons == ["matches: activation steering"] for p in d.for_you)


def test_no_paper_is_sent_twice_and_empty_digests_are_empty(dstore, dsettings):
    add_papers(dstore, DAY, SPECS)
    sub = add_subscriber(dstore, "a@example.org", topics=["activation steering"])
    composer = Composer(dstore, dsettings)
    period = Period("daily", DAY)
    first = composer.compose(sub, period)
    dstore.plan_digest_sends([DigestSend(None, sub.id, period.key, "pending", "<m1@x>", first.entries)],
                             dt.datetime(2026, 8, 21, tzinfo=dt.timezone.utc))
    # The same papers are listed again the next day: nothing repeats.
    later = Period("daily", DAY + dt.timedelta(days=1))
    with dstore.write() as conn:
        sql(conn, "INSERT INTO listings (day, arxiv_id, rank, upvotes, source) "
            "SELECT ?, arxiv_id, rank, upvotes, source FROM listings WHERE day = ?",
            (later.day.isoformat(), DAY.isoformat()))
    second = Composer(dstore, dsettings).compose(sub, later)
    sent_before = {e.arxiv_id for e in first.entries}
    assert not sent_before & {e.arxiv_id for e in second.entries}
    assert {p.paper.title for p in second.trending} == {"Sparse attention in vision"}
    # A day without papers is an empty digest.
    assert Composer(dstore, dsettings).compose(sub, Period("daily", DAY - dt.timedelta(days=3))).empty


def test_weekly_ranks_the_week_by_upvotes_and_weekend_readers(dstore, dsettings):
    add_papers(dstore, DAY, SPECS[:2])  # Thursday
    add_papers(dstore, DAY + dt.timedelta(days=2), [dict(title="Saturday paper", upvotes=9)], start=10)
    weekly = add_subscriber(dstore, "w@example.org", frequency="weekly", weekday=0)
    monday = DAY + dt.timedelta(days=4)
    d = Composer(dstore, dsettings).compose(weekly, Period("weekly", monday))
    assert _titles(d.trending) == ["Sparse attention is all you need", "Saturday paper",
                                   "Activation steering of language models"]
    assert d.trending[0].reasons == ["top of the week"]
    # weekday-only readers: nothing on Saturday, and Monday's digest carries the weekend
    p_sat = Period("daily", DAY + dt.timedelta(days=2))
    weekdays_only = add_subscriber(dstore, "wd@example.org", skip_weekends=True)
    assert not p_sat.is_due(weekdays_only)
    d = Composer(dstore, dsettings).compose(weekdays_only, Period("daily", monday))
    assert _titles(d.trending) == ["Saturday paper"]
    assert Period("weekly", monday).is_due(weekly) and not Period("weekly", DAY).is_due(weekly)


def test_upvote_profile_ranks_by_similarity_to_the_centroid(dstore, dsettings):
    ids = add_papers(dstore, DAY - dt.timedelta(days=10), [
        dict(title="Old steering paper", vec=[1, 0.1, 0, 0]),
        dict(title="Old steering paper 2", vec=[0.95, 0, 0.1, 0]),
    ])
    add_papers(dstore, DAY, SPECS, start=20)
    uid = add_user(dstore, "ada", "ada@example.org", votes=ids)
    sub = add_subscriber(dstore, "ada@example.org", user_id=uid, include_upvotes=True)
    d = Composer(dstore, dsettings).compose(sub, Period("daily", DAY))
    assert _titles(d.for_you) == ["Activation steering of language models", "Steering vectors, revisited"]
    assert all(p.reasons == ["like papers you upvoted"] for p in d.for_you)
    # without opting in, upvotes are not used
    other = add_subscriber(dstore, "other@example.org", user_id=None)
    assert Composer(dstore, dsettings).compose(other, Period("daily", DAY)).for_you == []


def test_topic_language_filters_and_phrases(dstore):
    add_papers(dstore, DAY, SPECS)
    ranker = Ranker(dstore)
    pool = ranker.pool(DAY, DAY)
    def match(topic):
        return sorted(pool.papers[i].title for i in ranker.topic_scores(pool, topic))
    assert match('"sparse attention" -images') == ["Sparse attention is all you need", "Steering vectors, revisited"]
    assert match("cat:cs.RO") == ["Robots that fold laundry"]
    assert match("steer") == ["Activation steering of language models", "Steering vectors, revisited"]  # stemmed
    assert match("quantum gravity") == []
    picks = ranker.rank(pool, Profile(topics=["sparse attention"]), limit=10)
    assert picks[0].paper.title == "Sparse attention is all you need"  # title match + popular


def test_rendered_email_has_both_parts_absolute_links_and_unsubscribe_headers(dstore, dsettings):
    add_papers(dstore, DAY, SPECS)
    sub = add_subscriber(dstore, "a@example.org", topics=["activation steering"])
    d = Composer(dstore, dsettings).compose(sub, Period("daily", DAY))
    msg = DigestRenderer(dsettings, Tokens(dsettings.signing_key())).render_composed(d)
    assert msg["Message-ID"] == f"<digest.daily.20260820.{sub.id}@example.org>"
    lu = msg["List-Unsubscribe"]
    assert lu.startswith("<https://papers.example.org/unsubscribe/one-click?token=") and "<mailto:" in lu
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "=?" not in bytes(msg).decode().split("List-Unsubscribe:")[1].split("\n")[0]  # not encoded
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    for aid in (e.arxiv_id for e in d.entries):
        assert f'href="https://papers.example.org/papers/{aid}"' in html
        assert f"https://papers.example.org/papers/{aid}" in text
    assert "Unsubscribe</a>" in html and "&action=unsubscribe" in html.replace("&amp;", "&")
    assert "Unsubscribe: https://papers.example.org/subscriptions/manage?token=" in text
    assert "matches: activation steering" in html and "Why: matches: activation steering" in text
    said = "You receive this digest at a@example.org daily, for your topics: activation steering."
    assert said in html and said in text
    assert "<style" not in html and 'style="' in html  # inline styles only


def test_raw_bytes_are_the_same_message_as_the_email_message(dstore, dsettings):
    import email
    import email.policy

    add_papers(dstore, DAY, SPECS)
    sub = add_subscriber(dstore, "a@example.org", topics=["activation steering"])
    settings = dsettings.replace(mail_from="Daily Pâpers <papers@example.org>")
    d = Composer(dstore, settings).compose(sub, Period("daily", DAY))
    # a fixed clock: the unsubscribe token is timestamped, and the two renders may fall in two seconds
    now = dt.datetime(2026, 8, 21, 2, 0, tzinfo=dt.timezone.utc)
    renderer = DigestRenderer(settings, Tokens(settings.signing_key(), clock=lambda: now))
    a = renderer.render_composed(d)
    sender, rcpts, data = renderer.render_bytes(sub, d.period, d.entries, d.papers)
    b = email.message_from_bytes(data, policy=email.policy.default)
    assert (sender, rcpts) == ("papers@example.org", ["a@example.org"])
    for h in ("Subject", "To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert str(a[h]) == str(b[h]), h
    assert str(b["From"]) == "Daily Pâpers <papers@example.org>"
    for kind in ("plain", "html"):
        assert a.get_body((kind,)).get_content().rstrip() == b.get_body((kind,)).get_content().rstrip()
    assert b"\r\n.\r\n" not in data and all(len(line) <= 998 for line in data.split(b"\r\n"))
