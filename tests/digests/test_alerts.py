"""Saved-search alerts through a real SMTP server (aiosmtpd) and a real search index, on SQLite and
on PostgreSQL (the digest fixtures' `dstore` runs on both): a daily alert and a "with the next digest"
section, each paper sent once per reader, never a hidden one, a rerun of `digest send` sends
nothing twice, and the alert's RFC 8058 one-click "stop this alert" through the real app."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from asgiclient import Client

from dailypapers.app import build_services
from dailypapers.digests import Period
from dailypapers.digests.alerts import AlertSender
from dailypapers.digests.saved import SavedSearchService
from dailypapers.digests.send import DigestSender
from dailypapers.mail import SMTPMailer
from dailypapers.models import AlertSend
from dailypapers.search.engine import SearchEngine
from dailypapers.web.routes import build_app

from .conftest import DAY, add_papers, add_subscriber, add_user

NOW = dt.datetime.combine(DAY, dt.time(22), tzinfo=dt.timezone.utc)


@pytest.fixture
def mailer(dsettings):
    m = SMTPMailer("127.0.0.1", dsettings.smtp_port, security="none")
    yield m
    m.close()


@pytest.fixture
def world(dstore, dsettings):
    add_papers(dstore, DAY, [dict(title=f"Quantum error correction {i}", upvotes=i) for i in range(1, 4)]
               + [dict(title=f"Graph networks {i}", upvotes=10 + i) for i in range(1, 4)])
    ada = add_user(dstore, "ada", "ada@example.org")
    bob = add_user(dstore, "bob", "bob@example.org")
    add_subscriber(dstore, "bob@example.org", user_id=bob)
    engine = SearchEngine(dstore, dsettings.data_dir / "index", None)
    engine.sync()
    saved = SavedSearchService(dstore, engine, dsettings, clock=lambda: NOW)
    users = {u: dstore.get_user(i) for u, i in (("ada", ada), ("bob", bob))}
    return dstore, engine, saved, users


def run(dstore, dsettings, mailer, saved, day):
    alerts = AlertSender(dstore, dsettings, mailer, saved, clock=lambda: NOW)
    return DigestSender(dstore, dsettings, mailer, saved=saved, alerts=alerts, clock=lambda: NOW,
                        retry_base=0.01).run(Period("daily", day))


def test_alerts_are_sent_once_and_only_with_new_papers(world, dsettings, mailer, smtp):
    dstore, engine, saved, users = world
    mine = saved.save(users["ada"], {"q": "quantum"}, name="Quantum", alert="daily")
    saved.save(users["bob"], {"q": "quantum"}, name="Quantum for Bob", alert="digest")
    report = run(dstore, dsettings, mailer, saved, DAY)
    assert report.alerts is not None and report.alerts.sent == 1
    (alert,) = smtp.to("ada@example.org")
    msg = alert.message
    assert msg["Subject"] == "3 new papers for “Quantum”"
    assert msg["Message-ID"] == f"<alert.{mine.id}.daily.{DAY:%Y%m%d}@example.org>"
    text = msg.get_body(("plain",)).get_content()
    assert text.count("Quantum error correction") == 3 and "Graph networks" not in text
    (digest,) = smtp.to("bob@example.org")
    body = digest.message.get_body(("plain",)).get_content()
    assert "YOUR SAVED SEARCHES" in body and "matches your saved search “Quantum for Bob”" in body

    # a rerun (say the catch-up at 6:00) sends nothing twice
    again = run(dstore, dsettings, mailer, saved, DAY)
    assert again.alerts.sent == 0 and again.sent == 0 and len(smtp.messages) == 2

    # the next day: only the new paper, never the one Ada hid, nor one she was sent
    nxt = DAY + dt.timedelta(days=1)
    ids = add_papers(dstore, nxt, [dict(title="Quantum advantage shown"), dict(title="Quantum annealing hidden")],
                     start=50)
    engine.sync()
    dstore.set_reading_state(users["ada"].id, ids[1], "hidden", NOW)
    report = run(dstore, dsettings, mailer, saved, nxt)
    assert report.alerts.sent == 1
    latest = smtp.to("ada@example.org")[-1].message.get_body(("plain",)).get_content()
    assert "Quantum advantage shown" in latest and "hidden" not in latest
    assert "Quantum error correction" not in latest
    # an alert turned off sends nothing more
    saved.update(users["ada"], mine.id, alert="none")
    later = DAY + dt.timedelta(days=2)
    add_papers(dstore, later, [dict(title="Quantum sensing")], start=80)
    engine.sync()
    assert run(dstore, dsettings, mailer, saved, later).alerts.sent == 0


def test_a_killed_alert_is_resent_with_the_same_message_id(world, dsettings, mailer, smtp):
    dstore, engine, saved, users = world
    mine = saved.save(users["ada"], {"q": "quantum"}, alert="daily")
    sender = AlertSender(dstore, dsettings, mailer, saved, clock=lambda: NOW)
    period = Period("daily", DAY)
    papers = saved.new_matches(mine, DAY, DAY, set())
    send = dstore.plan_alert_send(AlertSend(None, mine.id, period.key, "pending", sender.message_id(mine.id, period),
                                            [p.arxiv_id for p in papers]), mine.user_id, NOW)
    dstore.mark_alert_send(send.id, "sending", None, NOW)  # the run died here, before SMTP
    report = run(dstore, dsettings, mailer, saved, DAY)
    assert report.alerts.recovered == 1 and report.alerts.sent == 1
    (got,) = smtp.to("ada@example.org")
    assert got.message["Message-ID"] == sender.message_id(mine.id, period)
    assert run(dstore, dsettings, mailer, saved, DAY).alerts.sent == 0


def test_an_alert_stops_with_one_click(world, dsettings, mailer, smtp):
    dstore, engine, saved, users = world
    mine = saved.save(users["ada"], {"q": "quantum"}, name="Quantum", alert="daily")
    other = saved.save(users["ada"], {"q": "graph"}, name="Graphs", alert="daily")
    assert run(dstore, dsettings, mailer, saved, DAY).alerts.sent == 2
    (msg,) = [m.message for m in smtp.to("ada@example.org") if "Quantum" in m.message["Subject"]]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "Daily Papers alerts <alert.example.org>"
    (url,) = re.findall(r"<(https://[^>]+)>", msg["List-Unsubscribe"])
    assert url.startswith("https://papers.example.org/unsubscribe/alert?token=")
    path = url.removeprefix("https://papers.example.org")
    for part in ("plain", "html"):  # the visible link is the same one
        assert path.replace("&", "&amp;") in msg.get_body((part,)).get_content().replace("&", "&amp;")

    services = build_services(dsettings, store=dstore, embedder=False, mailer=mailer, arxiv=object(),
                              clock=lambda: NOW)
    app = build_app(services)
    clients = [Client(app, base_url="https://papers.example.org") for _ in range(4)]
    try:
        browser, provider, again, forger = clients
        page = browser.get(path)  # a browser opening the link: a page with the button, nothing changed yet
        assert page.status_code == 200 and "Stop this alert" in page.text and "Quantum" in page.text
        assert dstore.get_saved_search(mine.id).alert == "daily"
        # RFC 8058: the provider POSTs with no cookie and no CSRF token; a repeat changes nothing
        for c in (provider, again):
            r = c.post(path, content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 200 and "No more emails for “Quantum”" in r.text
        assert dstore.get_saved_search(mine.id).alert == "none"  # the search and its feed stay
        assert dstore.get_saved_search(other.id).alert == "daily"  # only that alert
        r = forger.post(path[:-3] + "xyz", content=b"List-Unsubscribe=One-Click")
        assert r.status_code == 400
        # a deleted saved search's link no longer works
        saved.delete(users["ada"], other.id)
        token = saved.alert_token(other)
        assert forger.post(f"/unsubscribe/alert?token={token}").status_code == 400
        # other POSTs still need the CSRF token
        assert forger.post(f"/saved-searches/{mine.id}", data={"alert": "daily"}).status_code == 403
    finally:
        for c in clients:
            c.close()
    # the next day's run sends no alert for the stopped search
    nxt = DAY + dt.timedelta(days=1)
    add_papers(dstore, nxt, [dict(title="Quantum sensing")], start=60)
    engine.sync()
    assert run(dstore, dsettings, mailer, saved, nxt).alerts.sent == 0
