"""The saved-search tables on both backends: saved searches, the alert send log with its reserved
papers (released on failure, kept when the search goes), and the For-you feed token's nonce."""

import datetime as dt

from dailypapers.models import AlertSend, DigestEntry, DigestSend, Subscription

from .helpers import T0, make


def test_saved_searches_and_alert_log(store):
    store.ingest_batch([make(i) for i in range(1, 6)])
    ada = store.create_user("ada@example.org", "ada", "h", "member", T0, verified_at=T0)
    bob = store.create_user("bob@example.org", "bob", "h", "member", T0, verified_at=T0)
    v0 = store.web_version()
    s = store.create_saved_search(ada.id, "Agents", {"q": "agents", "category": "cs.CL"}, "key-aaaaaaaa", "daily", T0)
    assert store.web_version() == v0  # bookkeeping: no cached page shows it
    assert (s.name, s.params, s.alert, s.q, s.created_at) == ("Agents", {"q": "agents", "category": "cs.CL"},
                                                              "daily", "agents", T0)
    other = store.create_saved_search(bob.id, "Robots", {"q": "robots"}, "key-bbbbbbbb", "digest", T0)
    assert store.saved_search_by_key("key-aaaaaaaa").id == s.id and store.saved_search_by_key("nope") is None
    assert [x.id for x in store.user_saved_searches(ada.id)] == [s.id]
    assert [x.id for x in store.alerting_saved_searches("daily")] == [s.id]
    assert store.users_saved_searches([ada.id, bob.id], "digest") == {bob.id: [other]}
    t1 = T0 + dt.timedelta(hours=1)
    assert store.update_saved_search(s.id, name="LLM agents", alert="weekly", at=t1)
    got = store.get_saved_search(s.id)
    assert (got.name, got.alert, got.updated_at) == ("LLM agents", "weekly", t1)

    # plan: one row per (search, period); its papers reserved for the member
    send = store.plan_alert_send(AlertSend(None, s.id, "daily:2026-08-21", "pending", "<m1@x>",
                                           ["2608.00001", "2608.00002"]), ada.id, t1)
    assert send is not None and send.id and send.status == "pending"
    assert store.plan_alert_send(AlertSend(None, s.id, "daily:2026-08-21", "pending", "<m2@x>", ["2608.00003"]),
                                 ada.id, t1) is None
    assert store.reader_sent_ids(ada.id) == {"2608.00001", "2608.00002"}
    store.mark_alert_send(send.id, "sending", None, t1)
    assert store.recover_alert_sends("daily:2026-08-21", resend=True) == 1  # a killed run's row
    (row,) = store.alert_sends("daily:2026-08-21", ["pending"])
    assert (row.attempts, row.message_id, row.arxiv_ids) == (1, "<m1@x>", ["2608.00001", "2608.00002"])
    store.mark_alert_send(send.id, "sent", None, t1)
    (row,) = store.alert_sends("daily:2026-08-21", ["sent"])
    assert row.sent_at == t1

    # a failed send releases its papers; a deleted search keeps what it sent
    failed = store.plan_alert_send(AlertSend(None, s.id, "daily:2026-08-22", "pending", "<m3@x>", ["2608.00003"]),
                                   ada.id, t1)
    store.mark_alert_send(failed.id, "failed", "550 no such user", t1)
    assert store.reader_sent_ids(ada.id) == {"2608.00001", "2608.00002"}
    assert store.delete_saved_search(s.id) and store.get_saved_search(s.id) is None
    assert store.reader_sent_ids(ada.id) == {"2608.00001", "2608.00002"}

    # a member's digests count as sent too
    sub = store.save_subscription(Subscription(None, "ada@example.org", user_id=ada.id, confirmed_at=T0))
    store.plan_digest_sends([DigestSend(None, sub.id, "daily:2026-08-21", "pending", "<d@x>",
                                        [DigestEntry("2608.00004", ["trending"])])], t1)
    assert store.reader_sent_ids(ada.id) == {"2608.00001", "2608.00002", "2608.00004"}
    assert store.reader_sent_ids(bob.id) == set()


def test_feed_token_nonce(store):
    ada = store.create_user("ada@example.org", "ada", "h", "member", T0, verified_at=T0)
    assert store.feed_token_nonce(ada.id) is None
    store.set_feed_token_nonce(ada.id, "n1", T0)
    store.set_feed_token_nonce(ada.id, "n2", T0)
    assert store.feed_token_nonce(ada.id) == "n2"
    store.set_feed_token_nonce(ada.id, None, T0)
    assert store.feed_token_nonce(ada.id) is None
