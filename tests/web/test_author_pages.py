"""An author's page over real HTTP (the app through httpx, real SQLite with the HF fixtures plus a
few papers of our own, the real search index): every spelling of the name merged by the follows
rule, newest first, paged, its feed in three formats, the follow button for a member, and the
author links on list cards and paper pages."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from webapp import LATEST_DAY, Client, make_app

from dailypapers.community.accounts import SESSION_COOKIE
from dailypapers.models import Paper
from dailypapers.papers import AUTHOR_CANDIDATES
from dailypapers.web.lists import author_links, author_url

T0 = dt.datetime(2026, 8, 1, tzinfo=dt.timezone.utc)
# (id, author as the paper writes it, days after T0): the page shows them newest first
HINTON = [("2608.90001", "Geoffrey E. Hinton", 5), ("2608.90002", "G. Hinton", 4),
          ("2608.90003", "Hinton, Geoffrey", 3), ("2608.90004", "GEOFFREY  HINTON", 2)]
NOT_HIM = [("2608.90005", "Gerald Hinton", 6), ("2608.90006", "Yu Hinton", 7)]
OBRIEN = [("2608.90007", "Zoë Ø'Brien", 1), ("2608.90008", "Zoe O'Brien", 0)]


def paper(arxiv_id: str, author: str, days: int, title: str | None = None) -> Paper:
    return Paper(arxiv_id=arxiv_id, title=title or f"Paper {arxiv_id}", abstract="An abstract.",
                 authors=["Someone Else", author], version=1, categories=["cs.LG"],
                 published=T0 + dt.timedelta(days=days))


@pytest.fixture()
def site(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    many = [paper(f"2607.{80000 + i}", "Ada Q. Lovelace", -i) for i in range(33)]
    services.store.ingest_batch([paper(*row) for row in HINTON + NOT_HIM + OBRIEN] + many)
    services.search.sync()
    ada = services.accounts.create_user("ada@example.org", "ada", None, verified=True, check_strength=False)
    yield app, services, ada
    services.store.close()


def member(app, services, user) -> Client:
    c = Client(app)
    c.http.cookies.set(SESSION_COOKIE, services.accounts.start_session(user))
    return c


def card_ids(page: str) -> list[str]:
    return re.findall(r'<article class="card" id="paper-([^"]+)"', page)


def test_an_authors_page_merges_spellings_newest_first(site):
    app, services, _ = site
    c = Client(app)
    r = c.get("/authors/Geoffrey%20Hinton")
    assert r.status_code == 200
    assert card_ids(r.text) == [row[0] for row in HINTON]  # newest first; not Gerald, not Yu
    assert "4 papers here" in r.text
    also = re.search(r"Also written as: (.*?)\.</p>", r.text).group(1)
    assert set(html.unescape(also).split("; ")) == {"Geoffrey E. Hinton", "G. Hinton", "Hinton, Geoffrey"}
    # another spelling of him opens the same papers; an initial alone is also Gerald's, by the rule
    assert card_ids(c.get("/authors/" + quote("geoffrey  e. HINTON")).text) == card_ids(r.text)
    assert "2608.90005" in card_ids(c.get("/authors/" + quote("G. Hinton")).text)
    # the feed in three formats, linked from the page
    alternates = re.findall(r'<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)"', r.text)
    assert alternates == [("application/rss+xml", "/feeds/authors/Geoffrey%20Hinton.xml"),
                          ("application/atom+xml", "/feeds/authors/Geoffrey%20Hinton.atom"),
                          ("application/feed+json", "/feeds/authors/Geoffrey%20Hinton.json")]
    rss = feedparser.parse(c.get(alternates[0][1]).content)
    assert [e.link.rsplit("/", 1)[1] for e in rss.entries] == [row[0] for row in HINTON]
    js = c.get(alternates[2][1]).json()
    assert js["home_page_url"] == "http://testserver/authors/Geoffrey%20Hinton" and len(js["items"]) == 4
    # a name with no papers here: 404, but the page (and its follow button) is there
    r = c.get("/authors/Nobody%20Here")
    assert r.status_code == 404 and "No papers by Nobody Here here yet" in r.text and ">Follow<" in r.text
    assert c.get("/authors/...").status_code == 404  # no letters: no author
    c.close()


def test_an_authors_page_is_paged(site):
    app, _, _ = site
    c = Client(app)
    first = c.get("/authors/Ada%20Lovelace")
    assert first.status_code == 200 and "33 papers here" in first.text
    assert len(card_ids(first.text)) == 30 and 'rel="next" href="/authors/Ada%20Lovelace?page=2"' in first.text
    second = c.get("/authors/Ada%20Lovelace?page=2")
    ids = card_ids(first.text) + card_ids(second.text)
    assert ids == [f"2607.{80000 + i}" for i in range(33)]  # newest first across pages
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert c.get("/authors/Ada%20Lovelace?page=3").status_code == 404
    assert AUTHOR_CANDIDATES >= 1000
    c.close()


def test_follow_and_unfollow_from_an_authors_page(site):
    app, services, ada_user = site
    ada, visitor = member(app, services, ada_user), Client(app)
    path = "/authors/" + quote("Zoë Ø'Brien")
    page = visitor.get(path)
    assert page.status_code == 200 and set(card_ids(page.text)) == {row[0] for row in OBRIEN}
    assert ">Follow<" in page.text
    page = ada.get(path)
    r = ada.post("/follows", data={"csrf_token": Client.csrf(page), "kind": "author", "name": "Zoë Ø'Brien",
                                   "next": "/authors/Zoë Ø'Brien"})
    assert r.status_code == 303
    assert [(f.kind, f.name) for f in services.store.follows(ada_user.id)] == [("author", "Zoë Ø'Brien")]
    # the member's copy of the cached page: Following, and an Unfollow that names the author right
    page = ada.get("/authors/" + quote("Zoe O'Brien"))  # another spelling: the same author
    assert "Following" in page.text and 'action="/follows/remove"' in page.text
    value = re.search(r'action="/follows/remove".*?name="name" value="([^"]*)"', page.text, re.S).group(1)
    assert html.unescape(value) == "Zoe O'Brien"
    assert ">Follow<" in visitor.get(path).text  # the shared page is unchanged for others
    r = ada.post("/follows/remove", data={"csrf_token": Client.csrf(page), "kind": "author", "name": value,
                                          "next": "/follows"})
    assert r.status_code == 303 and services.store.follows(ada_user.id) == []
    ada.close()
    visitor.close()


def test_author_names_link_to_their_pages(site):
    app, services, _ = site
    c = Client(app)
    home = c.get("/").text
    day_paper = next(p for _, p in services.store.day_listing(LATEST_DAY) if p.authors)
    first = day_paper.authors[0]
    assert f'<a href="/authors/{quote(first, safe="")}">{html.escape(first, quote=False)}</a>' in home
    page = c.get(f"/papers/{day_paper.arxiv_id}").text
    assert f'<li><a href="/authors/{quote(first, safe="")}">' in page
    results = c.get("/papers/search?q=author%3AHinton&sort=newest").text
    assert '<a href="/authors/Geoffrey%20E.%20Hinton">Geoffrey E. Hinton</a>' in results
    c.close()


def test_opml_holds_the_feeds_of_what_a_member_follows(site):
    app, services, ada_user = site
    org = next(p.organization.name for p in services.store.iter_papers() if p.organization)
    services.follows.follow(ada_user, "author", "Zoë Ø'Brien")
    services.follows.follow(ada_user, "org", org)
    ada = member(app, services, ada_user)
    page = ada.get("/settings/feeds")
    assert "Authors and organizations you follow" in page.text
    opml = ada.get("/feeds.opml")
    assert opml.status_code == 200
    root = etree.fromstring(opml.content)
    (group,) = [o for o in root.find("body") if o.get("text") == "Follows"]
    outlines = {o.get("text"): o.get("xmlUrl") for o in group}
    author_url = "http://testserver/feeds/authors/" + quote("Zoë Ø'Brien", safe="") + ".xml"
    assert outlines == {"Author: Zoë Ø'Brien": author_url,
                        f"Organization: {org}": f"http://testserver/feeds/orgs/{org}.xml"}
    for url in outlines.values():  # each works, for anyone (a feed reader has no cookie)
        feed = feedparser.parse(Client(app).get(url.removeprefix("http://testserver")).content)
        assert feed.entries and not feed.bozo
    ada.close()


def test_the_api_page_lists_the_follows_calls(client):
    page = client.get("/api").text
    doc = client.get("/openapi.json").json()
    calls = re.findall(r"<td><code>(GET|POST|DELETE) (/api/follows[^<]*)</code></td>", page)
    assert calls == [("GET", "/api/follows"), ("POST", "/api/follows"), ("DELETE", "/api/follows/{id}")]
    for method, path in calls:  # each is described in /openapi.json too
        assert method.lower() in doc["paths"][path]


def test_a_name_with_a_slash_has_its_page_and_feed(site):
    app, services, _ = site
    services.store.ingest_batch([paper("2608.90100", "Ana </b> Slash", 9)])
    services.search.sync()
    c = Client(app)
    path = "/authors/" + quote("Ana </b> Slash", safe="")
    r = c.get(path)
    assert r.status_code == 200 and card_ids(r.text) == ["2608.90100"] and "</b> Slash" not in r.text
    feed = feedparser.parse(c.get("/feeds" + path + ".xml").content)
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2608.90100"]
    c.close()


# plain ASCII names (the fast path), and any text at all (the general one)
NAMES = st.one_of(st.from_regex(r"[A-Za-z0-9_.~ '-]{0,30}", fullmatch=True), st.text(max_size=30))


@given(st.lists(NAMES, max_size=6))
def test_author_links_are_the_quoted_and_escaped_names(names):
    expected = ", ".join(f'<a href="{html.escape("/authors/" + quote(n, safe=""))}">{html.escape(n, quote=False)}</a>'
                         for n in names)
    assert str(author_links(names)) == expected
    assert [author_url(n) for n in names] == ["/authors/" + quote(n, safe="") for n in names]
