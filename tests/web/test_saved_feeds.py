"""Saved searches and feeds on every list, over real HTTP: RSS and Atom parsed with feedparser (and
lxml, strictly), JSON Feed 1.1 checked field by field, <link rel="alternate"> on each page, saving a
search with the CSRF-checked form, the saved-search page (rename, alert, delete), the API with an API
token, the For-you feed behind a revocable token, the OPML, and the search rate limit on feeds."""

from __future__ import annotations

import json
import re

import feedparser
import pytest
from lxml import etree
from webapp import Client, make_app

from dailypapers.community.accounts import SESSION_COOKIE

ALTERNATE = re.compile(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">')


def rss_or_atom(r, version):
    assert r.status_code == 200, r.text[:300]
    etree.fromstring(r.content)  # well-formed, strictly
    feed = feedparser.parse(r.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == version
    return feed


def json_feed(r) -> dict:
    """JSON Feed 1.1: the required fields and the ones the task names, strictly typed."""
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/feed+json")
    feed = json.loads(r.content)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    for key in ("title", "home_page_url", "feed_url"):
        assert isinstance(feed[key], str) and feed[key]
    assert isinstance(feed["items"], list)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["url"].startswith("http://testserver/papers/")
        assert isinstance(item["title"], str) and isinstance(item["content_html"], str)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["date_published"])
        assert all(isinstance(a["name"], str) for a in item["authors"])
    return feed


def all_formats(c: Client, rss_url: str) -> tuple:
    base = rss_url.split("?")[0].removesuffix(".xml")
    query = "?" + rss_url.split("?", 1)[1] if "?" in rss_url else ""
    rss = rss_or_atom(c.get(rss_url), "rss20")
    atom = rss_or_atom(c.get(base + ".atom" + query), "atom10")
    js = json_feed(c.get(base + ".json" + query))
    assert [e.link for e in rss.entries] == [e.link for e in atom.entries] == [i["url"] for i in js["items"]]
    assert js["feed_url"] == "http://testserver" + base + ".json" + query
    return rss, atom, js


@pytest.mark.parametrize("page, feed", [
    ("/", "/feeds/daily.xml"),
    ("/papers/date/2026-08-21", "/feeds/date/2026-08-21.xml"),
    ("/papers/week/2026-W34", "/feeds/week/2026-W34.xml"),
    ("/papers/month/2026-08", "/feeds/month/2026-08.xml"),
    ("/papers/trending", "/feeds/trending.xml"),
    ("/papers/search?q=agents&has_code=1", "/feeds/search.xml?q=agents&has_code=1"),
])
def test_every_list_links_its_feed_in_three_formats(client, page, feed):
    html = client.get(page).text
    links = ALTERNATE.findall(html)
    base = feed.split("?")[0].removesuffix(".xml")
    query = "?" + feed.split("?", 1)[1] if "?" in feed else ""
    assert [(t, h.replace("&amp;", "&")) for t, h in links] == [
        ("application/rss+xml", feed), ("application/atom+xml", base + ".atom" + query),
        ("application/feed+json", base + ".json" + query)]
    rss, _, _ = all_formats(client, feed)
    assert rss.entries


def test_org_category_and_author_feeds(client, services):
    org = next(p.organization for p in services.store.iter_papers() if p.organization)
    html = client.get(f"/orgs/{org.name}").text
    assert f'href="/feeds/orgs/{org.name}.json"' in html
    rss, _, js = all_formats(client, f"/feeds/orgs/{org.name}.xml")
    assert rss.entries and js["items"]
    paper = next(p for p in services.store.iter_papers() if p.authors)
    author = paper.authors[0]
    rss, _, _ = all_formats(client, "/feeds/authors/" + author.replace(" ", "%20") + ".xml")
    assert f"http://testserver/papers/{paper.arxiv_id}" in [e.link for e in rss.entries]
    assert client.get("/feeds/categories/not_a%20cat.xml").status_code == 404
    assert client.get("/feeds/daily.xml?format=yaml").status_code == 400


def test_item_html_is_escaped(fresh_data_dir):
    import datetime as dt

    from dailypapers.models import Listing, Paper

    app, services = make_app(fresh_data_dir)
    services.store.ingest_batch(
        [Paper("2608.99997", "Title <img src=x onerror=alert(1)>", "Abstract <script>alert(1)</script> & more",
               ["Zoë <b>O'Brien</b>"], published=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))],
        [Listing("2608.99997", dt.date(2026, 8, 21), rank=1, upvotes=10_000)])
    c = Client(app)
    try:
        js = json_feed(c.get("/feeds/daily.json"))
        item = next(i for i in js["items"] if i["url"].endswith("2608.99997"))
        assert "<script>" not in item["content_html"] and "&lt;script&gt;" in item["content_html"]
        assert "<b>" not in item["content_html"]
        assert item["title"] == "Title <img src=x onerror=alert(1)>"  # text, not HTML
        rss = etree.fromstring(c.get("/feeds/daily.xml").content)
        desc = next(i.findtext("description") for i in rss.iter("item") if i.findtext("link").endswith("99997"))
        assert "<script>" not in desc and "&lt;script&gt;" in desc  # the description's HTML holds only text
    finally:
        c.close()
        services.store.close()


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    users = {n: services.accounts.create_user(f"{n}@example.org", n, None, verified=True, check_strength=False)
             for n in ("ada", "eve")}
    yield app, services, users
    services.store.close()


def member(app, services, user) -> Client:
    c = Client(app)
    c.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    return c


def test_save_a_search_then_its_feed_page_and_changes(site):
    app, services, users = site
    ada = member(app, services, users["ada"])
    page = ada.get("/papers/search?q=agents&has_code=1")
    assert 'action="/saved-searches"' in page.text and "Save this search" in page.text
    token = ada.csrf(page)
    assert ada.post("/saved-searches", data={"q": "agents", "has_code": "1"}).status_code == 403  # no CSRF token
    r = ada.post("/saved-searches", data={"csrf_token": token, "q": "agents", "has_code": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/saved-searches#saved-")
    (saved,) = services.saved.mine(users["ada"])
    assert (saved.name, saved.params, saved.alert) == ("agents", {"q": "agents", "has_code": "1"}, "none")
    # saving the same search again keeps one
    ada.post("/saved-searches", data={"csrf_token": token, "q": "agents", "has_code": "1"})
    assert len(services.saved.mine(users["ada"])) == 1

    listing = ada.get("/saved-searches")
    assert listing.status_code == 200 and "no-store" in listing.headers["cache-control"]
    feed_url = f"/feeds/saved/{saved.feed_key}.xml"
    assert f'href="{feed_url}"' in listing.text and f'href="/feeds/saved/{saved.feed_key}.json"' in listing.text
    visitor = Client(app)
    rss, _, js = all_formats(visitor, feed_url)  # a feed reader has no cookie: the key is the secret
    assert rss.feed.title == "Daily Papers: agents" and rss.entries
    assert js["items"]
    # the owner's hidden papers leave the feed
    first = js["items"][0]["url"].rsplit("/", 1)[1]
    services.library.set_state(users["ada"], first, "hidden")
    assert first not in [i["url"].rsplit("/", 1)[1] for i in json_feed(visitor.get(feed_url[:-4] + ".json"))["items"]]

    # rename and alert; another member gets a 404 for it
    r = ada.post(f"/saved-searches/{saved.id}", data={"csrf_token": token, "name": "Agents with code",
                                                      "alert": "weekly"})
    assert r.status_code == 303
    got = services.saved.get(users["ada"], saved.id)
    assert (got.name, got.alert) == ("Agents with code", "weekly")
    r = ada.post(f"/saved-searches/{saved.id}", data={"csrf_token": token, "name": "x", "alert": "hourly"})
    assert r.status_code == 303 and services.saved.get(users["ada"], saved.id).alert == "weekly"
    eve = member(app, services, users["eve"])
    r = eve.post(f"/saved-searches/{saved.id}/delete", data={"csrf_token": eve.csrf(eve.get("/saved-searches"))})
    assert r.status_code == 404
    r = ada.post(f"/saved-searches/{saved.id}/delete", data={"csrf_token": token})
    assert r.status_code == 303 and services.saved.mine(users["ada"]) == []
    assert visitor.get(feed_url).status_code == 404  # its feed went with it
    # a visitor is sent to log in, and back to the search
    r = visitor.post("/saved-searches", data={"csrf_token": visitor.csrf(visitor.get("/papers/search?q=agents")),
                                              "q": "agents"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fpapers%2Fsearch%3Fq%3Dagents")
    for c in (ada, eve, visitor):
        c.close()


def test_api_saved_searches(site):
    app, services, users = site
    _, token = services.accounts.create_api_token(users["ada"], "script")
    _, eve_token = services.accounts.create_api_token(users["eve"], "script")
    h = {"Authorization": f"Bearer {token}"}
    api = Client(app)
    assert api.get("/api/saved-searches").status_code == 401
    r = api.post("/api/saved-searches", json={"q": "agents", "category": "cs.CL", "name": "CL agents",
                                              "alert": "daily"}, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["name"], body["q"], body["alert"], body["params"]) == (
        "CL agents", "agents", "daily", {"q": "agents", "category": "cs.CL"})
    assert body["feeds"]["json"].endswith(".json")
    sid = body["id"]
    assert [s["id"] for s in api.get("/api/saved-searches", headers=h).json()] == [sid]
    r = api.request("PATCH", f"/api/saved-searches/{sid}", json={"alert": "digest"}, headers=h)
    assert r.status_code == 200 and r.json()["alert"] == "digest"
    assert api.request("PATCH", f"/api/saved-searches/{sid}", json={"alert": "x"}, headers=h).status_code == 400
    assert api.post("/api/saved-searches", json={"q": ""}, headers=h).status_code == 400
    # JSON values that are not text are refused, never saved as their Python spelling
    assert api.post("/api/saved-searches", json={"q": ["agents"]}, headers=h).status_code == 400
    assert api.post("/api/saved-searches", json={"q": "agents", "name": False}, headers=h).status_code == 400
    eve_h = {"Authorization": f"Bearer {eve_token}"}
    assert api.get(f"/api/saved-searches/{sid}", headers=eve_h).status_code == 404
    r = api.get(f"/api/saved-searches/{sid}/papers", headers=h)
    assert r.status_code == 200 and isinstance(r.json(), list)
    assert api.request("DELETE", f"/api/saved-searches/{sid}", headers=h).status_code == 204
    assert api.get(f"/api/saved-searches/{sid}", headers=h).status_code == 404
    doc = api.get("/openapi.json").json()
    assert {"/api/saved-searches", "/api/saved-searches/{id}", "/api/saved-searches/{id}/papers"} <= set(doc["paths"])
    assert "SavedSearch" in doc["components"]["schemas"]
    api.close()


def test_foryou_feed_token_and_opml(site):
    app, services, users = site
    ada = member(app, services, users["ada"])
    page = ada.get("/settings/feeds")
    assert page.status_code == 200 and "/feeds/for-you/" not in page.text
    token = ada.csrf(page)
    assert ada.post("/settings/feeds/for-you", data={"csrf_token": token, "action": "new"}).status_code == 303
    page = ada.get("/settings/feeds")
    (url,) = set(re.findall(r"/feeds/for-you/[A-Za-z0-9_-]+\.xml", page.text))
    visitor = Client(app)
    rss, _, js = all_formats(visitor, url)
    assert rss.feed.title == "Daily Papers: for you"
    assert f'href="{url}"' in ada.get("/for-you").text  # the For-you page links its feed
    # regenerate: the old link stops working; revoke: no link works
    ada.post("/settings/feeds/for-you", data={"csrf_token": token, "action": "new"})
    assert visitor.get(url).status_code == 404
    (url2,) = set(re.findall(r"/feeds/for-you/[A-Za-z0-9_-]+\.xml", ada.get("/settings/feeds").text))
    assert visitor.get(url2).status_code == 200
    services.saved.save(users["ada"], {"q": "agents"}, name="Agents")
    opml = ada.get("/feeds.opml")
    assert opml.status_code == 200 and opml.headers["content-type"].startswith("text/x-opml")
    root = etree.fromstring(opml.content)
    assert root.tag == "opml" and root.get("version") == "2.0" and root.find("head/title") is not None
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    saved = services.saved.mine(users["ada"])[0]
    assert f"http://testserver/feeds/saved/{saved.feed_key}.xml" in urls
    assert "http://testserver" + url2 in urls and "http://testserver/feeds/daily.xml" in urls
    ada.post("/settings/feeds/for-you", data={"csrf_token": token, "action": "revoke"})
    assert visitor.get(url2).status_code == 404
    assert visitor.get("/feeds.opml").status_code == 303  # signed-in members only
    assert visitor.get("/feeds/for-you/1-forged.xml").status_code == 404
    ada.close()
    visitor.close()


def test_feeds_that_search_share_the_search_limit(fresh_data_dir):
    app, services = make_app(fresh_data_dir, rate_search="2/600")
    c = Client(app)
    try:
        assert c.get("/feeds/search.json?q=agents").status_code == 200
        assert c.get("/feeds/categories/cs.CL.xml").status_code in (200, 404)
        r = c.get("/feeds/authors/Ada.atom")
        assert r.status_code == 429 and r.headers.get("retry-after")
        assert c.get("/feeds/daily.json").status_code == 200  # lists run no search
    finally:
        c.close()
        services.store.close()
