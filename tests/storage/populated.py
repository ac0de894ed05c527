"""A database with something in every table, written through the store protocols (either backend).

Real Hugging Face Daily Papers (tests/fixtures/hf_raw: 9 days) plus members, sessions, tokens,
votes (some taken back), comments (edited, deleted, hidden), submissions, pins, hides and a
removal with their curator log, subscriptions and a digest send log, embeddings, arrival scores,
rules and triage decisions, collections with members, notes and reading states, list visits,
follows and For you corrections, saved searches with an alert log, trending keys and state rows. One paper's text holds what COPY and
JSON must escape (backslash, tab, newline, quotes, NUL-free Unicode).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np

from dailypapers.ingest.jobs import ingest_hf_daily
from dailypapers.models import AlertSend, DigestEntry, DigestSend, Listing, Paper, Subscription

HF_RAW = Path(__file__).resolve().parents[1] / "fixtures" / "hf_raw"
T0 = dt.datetime(2026, 8, 21, 9, 30, tzinfo=dt.timezone.utc)
DAY = dt.date(2026, 8, 21)
ODD = Paper(arxiv_id="2608.99999", title='Back\\slash, "quotes", tab\there and a\nnewline: ünïcödé 🚀',
            abstract="Line one\r\nline two \\N is not NULL; {\"json\": [1, 2.5]}", authors=["Zoë Ø'Brien", "李雷"],
            version=2, categories=["cs.CL"], published=T0, announced=DAY, ai_keywords=["k\\1", "tab\tk"])


def populate(store) -> dict[str, int]:
    """Fill `store`; returns a few ids the tests look at."""
    assert ingest_hf_daily(store, HF_RAW).rejected == 0
    store.ingest_batch([ODD], [Listing(ODD.arxiv_id, DAY, rank=99, submitted_by="zoë", submitted_at=T0, upvotes=3)])
    papers = [p.arxiv_id for p in store.iter_papers()]
    rng = random.Random(7)

    cur = store.create_user("cur@example.org", "Curator", "argon2$hash", "curator", T0, verified_at=T0)
    admin = store.create_user("root@example.org", "Root", "argon2$h2", "admin", T0, verified_at=T0)
    members = [store.create_user(f"m{i}@example.org", f"Mémbre{i}", f"hash{i}", "member", T0 + dt.timedelta(minutes=i),
                                 verified_at=T0 if i % 3 else None) for i in range(12)]
    store.set_disabled(members[1].id, T0)
    store.set_profile_visibility(members[2].id, False, True)
    store.set_password(members[3].id, "newhash", T0 + dt.timedelta(hours=1))
    for i, m in enumerate(members[:4]):
        store.create_session(f"session-{i}", m.id, T0, T0 + dt.timedelta(days=30))
    tok = store.create_api_token(members[0].id, "laptop", "token-hash-0", "dp_abc", T0)
    revoked = store.create_api_token(members[4].id, "ci", "token-hash-1", "dp_def", T0)
    store.touch_api_token(tok.id, T0 + dt.timedelta(minutes=5))
    store.revoke_api_token(members[4].id, revoked.id, T0 + dt.timedelta(hours=2))

    for m in members:
        for arxiv_id in rng.sample(papers, 15):
            store.toggle_vote(m.id, arxiv_id, T0 + dt.timedelta(seconds=rng.randrange(10_000)))
    for arxiv_id in rng.sample(papers, 5):  # taken back: gaps in the votes' order
        store.toggle_vote(members[5].id, arxiv_id, T0, want=True)
        store.toggle_vote(members[5].id, arxiv_id, T0, want=False)

    c1 = store.add_comment(papers[0], members[0].id, "First! with a tab\tand a newline\n", T0)
    c2 = store.add_comment(papers[0], members[6].id, "Spam", T0)
    c3 = store.add_comment(ODD.arxiv_id, members[7].id, "Ünïcödé comment", T0)
    store.edit_comment(c1.id, "First (edited)", T0 + dt.timedelta(minutes=1))
    store.set_comment_hidden(c2.id, True, actor_id=cur.id, at=T0)
    store.delete_comment(c3.id, T0 + dt.timedelta(minutes=2))

    store.add_listing(Listing(papers[1], DAY + dt.timedelta(days=1), submitted_by="Mémbre0", submitted_at=T0,
                              source="member"), submitter_id=members[0].id, cap=5)
    first = store.day_listing(DAY)
    store.set_listing_flags(DAY, first[0][0].arxiv_id, actor_id=cur.id, at=T0, pinned=True)
    store.set_listing_flags(DAY, first[1][0].arxiv_id, actor_id=cur.id, at=T0, hidden=True)
    store.remove_listing(DAY, first[2][0].arxiv_id, actor_id=cur.id, at=T0)
    store.log_curator_action(admin.id, "role", T0, detail='{"user": 3, "role": "curator"}')

    sub = store.save_subscription(Subscription(id=None, email="reader@example.org", topics=["diffusion", "ünï"],
                                               confirmed_at=T0, created_at=T0, manage_key="mk"))
    store.save_subscription(Subscription(id=None, email="m0@example.org", user_id=members[0].id, frequency="weekly",
                                         weekday=4, include_upvotes=True, created_at=T0, confirm_nonce="n1"))
    [send] = store.plan_digest_sends([DigestSend(
        id=None, subscription_id=sub.id, period_key="daily:2026-08-21", status="pending", message_id="<m1@dp>",
        entries=[DigestEntry(papers[0], ["trending", "ünï"], "trending"), DigestEntry(papers[1], [], "for_you")],
    )], T0)
    store.advance_digest_sends([(send.id, "sent", None, None)], None, T0 + dt.timedelta(minutes=3))

    vectors = np.random.default_rng(3).standard_normal((60, 384)).astype("<f4")
    store.put_embeddings("minilm", [(a, f"h{i}", v.tobytes()) for i, (a, v) in enumerate(zip(papers[:60], vectors))])
    store.put_embeddings("minilm", [(papers[0], "h0-new", vectors[59].tobytes())])  # a re-embed: a new seq

    arrivals = [Paper(arxiv_id=f"2608.9{i:04d}", title=f"Arrival {i}", abstract="New today.", authors=["A. B."],
                      categories=["cs.LG"], published=T0, announced=DAY) for i in range(6)]
    store.ingest_batch(arrivals)
    store.save_arrival_scores([(p.arxiv_id, DAY, 0.1 * i + 0.05, [f"reason {i}", "ünï"])
                               for i, p in enumerate(arrivals[:5])], "trained", T0)
    rule = store.add_arrival_rule("search", None, 'title:"diffusion"', actor_id=cur.id, at=T0)
    store.add_arrival_rule("top", 3, None, actor_id=cur.id, at=T0)
    store.delete_arrival_rule(rule.id, actor_id=cur.id, at=T0)
    added = Listing(arrivals[0].arxiv_id, DAY, submitted_by="Curator", submitted_at=T0, source="curator")
    assert store.decide_arrival(DAY, arrivals[0].arxiv_id, "added", actor_id=cur.id, at=T0, listing=added) == "done"
    assert store.decide_arrival(DAY, arrivals[0].arxiv_id, "pinned", actor_id=cur.id, at=T0) == "done"
    assert store.decide_arrival(DAY, arrivals[1].arxiv_id, "skipped", actor_id=cur.id, at=T0) == "done"

    shelf = store.create_collection(members[0].id, "Reading group ünï", "Weekly\tpicks", "shared", T0)
    store.add_to_collection(shelf.id, papers[:4], members[0].id, T0)
    store.set_collection_member(shelf.id, members[6].id, "editor", T0)
    store.set_collection_note(shelf.id, papers[0], members[0].id, "Private:\nread §3", T0)
    store.set_reading_state(members[0].id, papers[1], "to_read", T0)
    store.set_reading_state(members[0].id, papers[2], "hidden", T0)
    store.record_visit(members[0].id, "daily", T0, dt.timedelta(hours=1))
    store.record_visit(members[0].id, "daily", T0 + dt.timedelta(hours=3), dt.timedelta(hours=1))
    store.add_follow(members[0].id, "author", "Zoë Ø'Brien", "obrien z", T0)
    store.add_follow(members[0].id, "org", "ünï-lab", "ünï-lab", T0)
    store.set_foryou_mute(members[0].id, "upvote", papers[3], True, T0)
    saved = store.create_saved_search(members[0].id, "Agents ünï", {"q": "agents \"tool use\"", "has_code": "1"},
                                      "feed-key-0001", "daily", T0)
    alert = store.plan_alert_send(AlertSend(None, saved.id, "daily:2026-08-21", "pending", "<alert.1@x>", papers[:2]),
                                  members[0].id, T0)
    store.mark_alert_send(alert.id, "sent", None, T0)
    store.set_feed_token_nonce(members[0].id, "nonce-1", T0)

    store.refresh_trending()
    store.set_state("ingest:hf-daily:checkpoint", "42")
    store.set_state("arrivals.model", '{"picks": 20, "trained_at": "2026-08-21T09:30:00Z"}')
    return {"curator": cur.id, "member": members[0].id, "send": send.id}
