"""Follows and "Why is this here" over real HTTP (the app through httpx, real SQLite with the HF
fixtures): follow buttons on organization and paper pages without JavaScript, POST + CSRF, the
follows page, For you's reasons, the corrections page changing what For you shows, the JSON API
with API tokens and its /openapi.json description."""

from __future__ import annotations

import html
import re

import pytest
from webapp import LATEST_DAY, Client, make_app

from dailypapers.community.accounts import SESSION_COOKIE


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    users = {n: services.accounts.create_user(f"{n}@example.org", n, None, verified=True, check_strength=False)
             for n in ("ada", "bob")}
    yield app, services, users
    services.store.close()


def member(app, services, user) -> Client:
    c = Client(app)
    c.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    return c


def latest(services):
    """(a paper of the latest day with an organization, another one's first author's paper)."""
    pairs = services.store.day_listing(LATEST_DAY)
    with_org = next(p for _, p in pairs if p.organization is not None)
    other = next(p for _, p in pairs if p.arxiv_id != with_org.arxiv_id and p.authors
                 and (p.organization is None or p.organization.name != with_org.organization.name))
    return with_org, other


def reasons(page: str) -> dict[str, str]:
    """{arxiv id: its "Why" line} of a For you page."""
    out = {}
    for aid, why in re.findall(r'id="paper-([^"]+)".*?<p class="note why">Why: (.*?) <a', page, re.S):
        out[aid] = html.unescape(why)
    return out


def test_follow_an_organization_and_an_author_and_see_why(site):
    app, services, users = site
    ada, visitor = member(app, services, users["ada"]), Client(app)
    with_org, other = latest(services)
    org = with_org.organization.name
    author = other.authors[0]

    # a visitor sees the Follow button; pressing it asks them to log in first
    page = visitor.get(f"/orgs/{org}")
    assert page.status_code == 200 and f"<!--dp:follow:org:{org}-->" in page.text
    token = Client.csrf(page)
    r = visitor.post("/follows", data={"csrf_token": token, "kind": "org", "name": org, "next": f"/orgs/{org}"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Forgs%2F")
    assert ada.post("/follows", data={"kind": "org", "name": org}).status_code == 403  # no CSRF token

    # a member follows the organization from its page, and then sees "Following" there
    page = ada.get(f"/orgs/{org}")
    assert ">Follow<" in page.text
    r = ada.post("/follows", data={"csrf_token": Client.csrf(page), "kind": "org", "name": org,
                                   "next": f"/orgs/{org}"})
    assert r.status_code == 303 and r.headers["location"] == f"/orgs/{org}"
    page = ada.get(f"/orgs/{org}").text
    assert "You follow" in page and "Following" in page and 'action="/follows/remove"' in page
    assert ">Follow<" in visitor.get(f"/orgs/{org}").text  # the shared page is unchanged for others

    # an author, from the paper page's form (one stateless form: the page is cached)
    page = ada.get(f"/papers/{other.arxiv_id}")
    assert f"<option>{html.escape(author, quote=False)}</option>" in page.text
    r = ada.post("/follows", data={"csrf_token": Client.csrf(page), "kind": "author", "name": author,
                                   "next": f"/papers/{other.arxiv_id}"})
    assert r.status_code == 303
    mine = ada.get("/follows")
    assert mine.status_code == 200 and html.escape(author) in mine.text and org in mine.text
    assert visitor.get("/follows").status_code == 303

    # For you: their papers, with the reason
    why = reasons(ada.get("/for-you").text)
    assert why[with_org.arxiv_id].startswith(f"you follow {org}")
    assert why[other.arxiv_id].startswith(f"you follow {author}")
    assert "/for-you/why" in ada.get("/for-you").text

    # "Why is this here" lists the follows; unfollowing there takes the organization's papers out
    page = ada.get("/for-you/why")
    assert page.status_code == 200 and html.escape(author) in page.text
    r = ada.post("/follows/remove", data={"csrf_token": Client.csrf(page), "kind": "org", "name": org,
                                          "next": "/for-you/why"})
    assert r.status_code == 303 and r.headers["location"] == "/for-you/why"
    why = reasons(ada.get("/for-you").text)
    assert not why.get(with_org.arxiv_id, "").startswith("you follow") and other.arxiv_id in why
    assert "<script>" not in ada.get("/follows").text


def test_stop_using_an_upvote_and_reset_over_http(site):
    app, services, users = site
    bob = member(app, services, users["bob"])
    pairs = services.store.day_listing(LATEST_DAY)
    voted = pairs[0][1].arxiv_id
    services.votes.vote(users["bob"], voted)
    page = bob.get("/for-you/why")
    assert "Stop using for recommendations" in page.text and voted in page.text
    r = bob.post("/for-you/why/upvote", data={"csrf_token": Client.csrf(page), "arxiv_id": voted, "use": "0"})
    assert r.status_code == 303
    page = bob.get("/for-you/why")
    assert "no longer uses that upvote" in page.text and "Use again" in page.text
    assert services.foryou.sources(users["bob"]).upvotes == []
    assert voted in services.store.user_upvoted_ids(users["bob"].id)  # still upvoted
    r = bob.post("/for-you/why/reset", data={"csrf_token": Client.csrf(page)})
    assert r.status_code == 303
    assert [p.arxiv_id for p in services.foryou.sources(users["bob"]).upvotes] == [voted]
    # a topic is dropped from the subscription
    services.subscriptions.request("bob@example.org", topics="diffusion\nagents", user=users["bob"])
    page = bob.get("/for-you/why")
    r = bob.post("/for-you/why/topic", data={"csrf_token": Client.csrf(page), "topic": "diffusion"})
    assert r.status_code == 303
    assert services.store.get_subscription_for_user(users["bob"].id).topics == ["agents"]


def test_follows_in_the_json_api(site):
    app, services, users = site
    _, token = services.accounts.create_api_token(users["ada"], "script")
    h = {"Authorization": f"Bearer {token}"}
    api = Client(app)
    with_org, _ = latest(services)
    assert api.get("/api/follows").status_code == 401
    r = api.post("/api/follows", json={"kind": "author", "name": "Geoffrey Hinton"}, headers=h)
    assert r.status_code == 201, r.text
    f = r.json()
    assert (f["kind"], f["name"], f["key"]) == ("author", "Geoffrey Hinton", "hinton g")
    again = api.post("/api/follows", json={"kind": "author", "name": "G. Hinton"}, headers=h)
    assert again.status_code == 200 and again.json()["id"] == f["id"]
    assert api.post("/api/follows", json={"kind": "org", "name": with_org.organization.name},
                    headers=h).status_code == 201
    assert api.post("/api/follows", json={"kind": "org", "name": "no-such-org"}, headers=h).status_code == 404
    assert api.post("/api/follows", json={"kind": "venue", "name": "x"}, headers=h).status_code == 400
    assert [x["kind"] for x in api.get("/api/follows", headers=h).json()] == ["author", "org"]
    assert api.request("DELETE", f"/api/follows/{f['id']}", headers=h).status_code == 204
    assert api.request("DELETE", f"/api/follows/{f['id']}", headers=h).status_code == 404
    assert [x["kind"] for x in api.get("/api/follows", headers=h).json()] == ["org"]

    doc = api.get("/openapi.json").json()
    assert set(doc["paths"]["/api/follows"]) == {"get", "post"}
    assert "delete" in doc["paths"]["/api/follows/{id}"]
    assert doc["components"]["schemas"]["Follow"]["properties"]["kind"]["enum"] == ["author", "org"]
