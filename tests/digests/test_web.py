"""The subscription pages over HTTP, through the real app (httpx + ASGI), with a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from asgiclient import Client as BaseClient

from dailypapers.app import build_services
from dailypapers.mail import SMTPMailer
from dailypapers.web.routes import build_app

from .conftest import DAY, add_papers, sql

NOW = dt.datetime(2026, 8, 21, 12, tzinfo=dt.timezone.utc)


class Client(BaseClient):
    def __init__(self, app):
        super().__init__(app, base_url="https://papers.example.org")



@pytest.fixture
def web(dstore, dsettings, smtp):
    mailer = SMTPMailer("127.0.0.1", dsettings.smtp_port, security="none")
    services = build_services(dsettings, store=dstore, embedder=False, mailer=mailer, arxiv=object(),
                              clock=lambda: NOW)
    app = build_app(services)
    clients = []

    def client():
        c = Client(app)
        clients.append(c)
        return c

    yield client, services
    for c in clients:
        c.close()
    mailer.close()


def _mailed_link(smtp, path):
    body = smtp.messages[-1].message.get_body(("plain",)).get_content()
    m = re.search(r"https://papers\.example\.org(" + re.escape(path) + r"\?token=[\w.\-]+)", body)
    return m.group(1)


def _links(html):
    """The page's links by their text, site links as paths (the manage link is absolute, as in emails)."""
    return {text: href.replace("&amp;", "&").removeprefix("https://papers.example.org")
            for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)}


def test_subscribe_confirm_manage_and_one_click(web, smtp, dstore):
    client, _ = web
    c = client()
    page = c.get("/subscribe")
    assert page.status_code == 200 and 'name="topics"' in page.text
    r = c.post("/subscribe", data={"csrf_token": c.csrf(page), "email": "reader@example.org", "frequency": "weekly",
                                   "weekday": "4", "topics": "activation steering\ncat:cs.CL sparse attention"})
    assert r.status_code == 200 and "Check your inbox" in r.text
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt == ["reader@example.org"]
    confirm = _mailed_link(smtp, "/subscribe/confirm")
    # the link itself changes nothing (mail scanners open links); the button confirms
    page = c.get(confirm)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert ("Send the digest to <strong>reader@example.org</strong> weekly, on Fridays, with your topics: "
            "activation steering; cat:cs.CL sparse attention?") in page.text
    assert not dstore.get_subscription_by_email("reader@example.org").active
    token = confirm.split("token=")[1]
    r = c.post("/subscribe/confirm", data={"csrf_token": c.csrf(page), "token": token})
    assert r.status_code == 200 and "You are subscribed" in r.text
    assert "Your digest will go to reader@example.org weekly, on Fridays." in r.text
    assert _links(r.text)["Change or unsubscribe"].startswith("/subscriptions/manage?token=")
    sub = dstore.get_subscription_by_email("reader@example.org")
    assert sub.active and (sub.frequency, sub.weekday) == ("weekly", 4)
    # replayed confirmation
    r = c.post("/subscribe/confirm", data={"csrf_token": c.csrf(page), "token": token})
    assert r.status_code == 400 and "already been used" in r.text
    # manage page from a fresh browser, via the token only
    from dailypapers.digests.subscriptions import Tokens

    mtoken = Tokens(web[1].settings.signing_key()).manage(sub)
    b = client()
    page = b.get(f"/subscriptions/manage?token={mtoken}")
    assert page.status_code == 200 and "reader@example.org" in page.text
    r = b.post("/subscriptions/manage", data={"csrf_token": b.csrf(page), "token": mtoken, "action": "update",
                                              "frequency": "daily", "topics": "reward models"})
    assert r.status_code == 303
    assert dstore.get_subscription(sub.id).topics == ["reward models"]
    r = b.post("/subscriptions/manage", data={"csrf_token": b.csrf(page), "token": mtoken, "action": "update",
                                              "frequency": "daily", "topics": "\n".join(f"t{i}" for i in range(11))})
    assert r.status_code == 400 and "At most 10 topics" in r.text
    assert dstore.get_subscription(sub.id).topics == ["reward models"]
    # RFC 8058 one-click: no cookie, no CSRF token; idempotent
    for _ in range(2):
        fresh = client()  # no cookies
        r = fresh.post(f"/unsubscribe/one-click?token={mtoken}", content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200 and "unsubscribed" in r.text
    assert dstore.get_subscription(sub.id).unsubscribed_at is not None
    # forged token
    r = client().post(f"/unsubscribe/one-click?token={mtoken[:-2]}xx", content=b"List-Unsubscribe=One-Click")
    assert r.status_code == 400
    # other POSTs still need the CSRF token
    r = client().post("/subscriptions/manage", data={"token": mtoken, "action": "unsubscribe"})
    assert r.status_code == 403


@pytest.mark.parametrize("fields, message", [
    ({"email": "not an address"}, "not a valid email address"),
    ({"email": "a@example.org\r\nBcc: victim@example.org"}, "line breaks"),
    ({"email": "a@example.org", "topics": "\n".join(f"topic {i}" for i in range(11))}, "At most 10 topics"),
    ({"email": "a@example.org", "topics": "x" * 251}, "at most 250 characters"),
    ({"email": "a@example.org", "frequency": "hourly"}, "Choose daily or weekly"),
])
def test_bad_input_is_refused_with_a_message(web, smtp, dstore, fields, message):
    client, _ = web
    c = client()
    page = c.get("/subscribe")
    r = c.post("/subscribe", data={"csrf_token": c.csrf(page), "frequency": "daily", **fields})
    assert r.status_code == 400 and message in r.text.replace("&#39;", "'")
    assert smtp.messages == [] and dstore.stats()["subscriptions"] == 0


def test_bad_links(web):
    client, _ = web
    c = client()
    for url in ("/subscribe/confirm?token=garbage", "/subscribe/confirm", "/subscriptions/manage?token=x.y.z"):
        r = c.get(url)
        assert r.status_code == 400 and "This link does not work" in r.text


def test_for_you_needs_a_member_and_explains_its_picks(web, dstore):
    client, services = web
    add_papers(dstore, DAY - dt.timedelta(days=30), [dict(title="Old steering work", vec=[1, 0, 0])], start=90)
    add_papers(dstore, DAY, [
        dict(title="Activation steering at scale", upvotes=3, vec=[1, 0.1, 0]),
        dict(title="Sparse attention kernels", upvotes=40, vec=[0, 1, 0]),
        dict(title="Unrelated robotics", upvotes=80, vec=[0, 0, 1]),
    ])
    c = client()
    r = c.get("/for-you")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    accounts = services.accounts
    user = accounts.create_user("ada@example.org", "ada", None, verified=True)
    old_id = dstore.digest_pool(DAY - dt.timedelta(days=30), DAY - dt.timedelta(days=30))[0][1].arxiv_id
    with dstore.write() as conn:
        sql(conn, "INSERT INTO votes (user_id, arxiv_id, created_at) VALUES (?, ?, ?)",
            (user.id, old_id, "2026-07-21T00:00:00Z"))
    c.http.cookies.set("dp_session", accounts.start_session(user))
    r = c.get("/for-you")
    assert r.status_code == 200
    assert "Activation steering at scale" in r.text and "like papers you upvoted" in r.text
    assert "Unrelated robotics" not in r.text
    # topics from the member's subscription (verified: no second opt-in)
    page = c.get("/subscribe")
    assert 'value="ada@example.org"' in page.text and "Add papers like the ones I upvoted" in page.text
    r = c.post("/subscribe", data={"csrf_token": c.csrf(page), "email": "ada@example.org", "frequency": "daily",
                                   "topics": "sparse attention", "include_upvotes": "1"})
    assert r.status_code == 200 and "You are subscribed" in r.text
    r = c.get("/for-you")
    text = r.text
    assert "matches: sparse attention" in text and "like papers you upvoted" in text
    assert text.index("Sparse attention kernels") >= 0 and "Unrelated robotics" not in text


def test_a_member_subscribed_at_once_can_change_or_unsubscribe(web, smtp, dstore):
    client, services = web
    ada = services.accounts.create_user("ada@example.org", "ada", None, verified=True)
    c = client()
    c.http.cookies.set("dp_session", services.accounts.start_session(ada))
    page = c.get("/subscribe")
    assert "Change or unsubscribe" not in page.text  # nothing to manage yet
    r = c.post("/subscribe", data={"csrf_token": c.csrf(page), "email": "ada@example.org", "frequency": "weekly",
                                   "weekday": "4", "topics": "sparse attention"})
    # the member's own verified address: subscribed at once, no email, so the way to manage it is here
    assert r.status_code == 200 and "<h1 id=\"h\">You are subscribed</h1>" in r.text
    assert '<p role="status">Your digest goes to ada@example.org weekly, on Fridays.</p>' in r.text
    assert smtp.messages == []
    links = _links(r.text)
    manage = links["Change or unsubscribe"]
    assert manage.startswith("/subscriptions/manage?token=") and links["See papers for you"] == "/for-you"
    assert r.headers["referrer-policy"] == "same-origin" and "no-store" in r.headers["cache-control"]
    # /subscribe, next time: subscribed, with the same way out
    page = c.get("/subscribe")
    assert "You are subscribed (weekly, on Fridays)." in page.text
    # the same subscription's link (signed again: its timestamp may be a second later)
    again = _links(page.text)["Change or unsubscribe"]
    read = services.subscriptions.tokens.read
    assert again.startswith("/subscriptions/manage?token=")
    assert read(again.split("token=")[1], "manage", 60) == read(manage.split("token=")[1], "manage", 60)
    # the signed manage page, the one digests link to: change the schedule, then unsubscribe (POSTs with CSRF)
    m = c.get(manage)
    assert m.status_code == 200 and "<strong>ada@example.org</strong> (weekly, on Fridays)" in m.text
    token = manage.split("token=")[1]
    r = c.post("/subscriptions/manage", data={"csrf_token": c.csrf(m), "token": token, "action": "update",
                                              "frequency": "daily", "skip_weekends": "1", "topics": "sparse attention"})
    assert r.status_code == 303
    sub = dstore.get_subscription_by_email("ada@example.org")
    assert (sub.frequency, sub.skip_weekends) == ("daily", True)
    assert "You are subscribed (daily, on weekdays only)." in c.get("/subscribe").text
    r = c.post("/subscriptions/manage", data={"token": token, "action": "unsubscribe"})  # no CSRF token
    assert r.status_code == 403 and dstore.get_subscription(sub.id).active
    r = c.post("/subscriptions/manage", data={"csrf_token": c.csrf(m), "token": token, "action": "unsubscribe"})
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    assert not dstore.get_subscription(sub.id).active
    page = c.get("/subscribe")
    assert "You are subscribed" not in page.text and "Change or unsubscribe" not in page.text
    assert smtp.messages == []


def test_the_manage_link_is_only_for_a_verified_member_at_their_own_address(web, smtp, dstore):
    client, services = web
    # A visitor's form has none.
    assert "Change or unsubscribe" not in client().get("/subscribe").text
    # An unverified member has not shown the address is theirs: its owner confirmed the subscription
    # from the email, and only the owner's email links can change it.
    bob = services.accounts.create_user("bob@example.org", "bob", None, verified=False)
    c = client()
    c.http.cookies.set("dp_session", services.accounts.start_session(bob))
    page = c.get("/subscribe")
    r = c.post("/subscribe", data={"csrf_token": c.csrf(page), "email": "bob@example.org", "frequency": "daily"})
    assert r.status_code == 200 and "Check your inbox" in r.text
    token = _mailed_link(smtp, "/subscribe/confirm").split("token=")[1]
    owner = client()
    r = owner.post("/subscribe/confirm", data={"csrf_token": owner.csrf(owner.get("/subscribe")), "token": token})
    assert r.status_code == 200 and dstore.get_subscription_by_email("bob@example.org").active
    page = c.get("/subscribe")
    assert "You are subscribed (daily)." in page.text and "Change or unsubscribe" not in page.text
