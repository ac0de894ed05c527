"""RSS 2.0 and Atom feeds, parsed with feedparser (bozo must be 0)."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from lxml import etree

from dailypapers.models import Listing, Paper


def parse(r):
    assert r.status_code == 200, r.text[:300]
    etree.fromstring(r.content)  # well-formed XML, strictly
    feed = feedparser.parse(r.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def test_daily_rss(client):
    r = client.get("/feeds/daily.xml")
    assert r.headers["content-type"].startswith("application/rss+xml")
    feed = parse(r)
    assert feed.version == "rss20"
    assert feed.feed.title == "Daily Papers: Aug 21, 2026"
    assert feed.feed.link == "http://testserver/"
    assert len(feed.entries) == 17
    first = feed.entries[0]
    assert first.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert first.link == "http://testserver/papers/2608.19880"
    assert first.id == first.link
    assert first.published_parsed[:3] == (2026, 8, 21)
    assert "LLM agents learn by interacting" in first.summary
    assert "Chengsong Huang" in first.author
    assert any(t.term == "reinforcement learning" for t in first.tags)


def test_daily_atom_by_path_and_by_format(client):
    for url in ("/feeds/daily.atom", "/feeds/daily.xml?format=atom"):
        r = client.get(url)
        assert r.headers["content-type"].startswith("application/atom+xml")
        feed = parse(r)
        assert feed.version == "atom10"
        assert feed.feed.title == "Daily Papers: Aug 21, 2026"
        assert feed.feed.updated_parsed is not None
        assert len(feed.entries) == 17
        e = feed.entries[0]
        assert e.link == "http://testserver/papers/2608.19880"
        assert e.updated_parsed[:3] == (2026, 8, 21)
        assert e.published_parsed[:3] == (2026, 8, 20)
        assert len(e.authors) == 17
        assert any(l.href == "https://arxiv.org/abs/2608.19880" for l in e.links)
    assert client.get("/feeds/daily.xml?format=yaml").status_code == 400


def test_feeds_alone_leads_to_the_list_of_feeds(client):
    r = client.get("/feeds")
    assert r.status_code == 302 and r.headers["location"] == "/api#feeds"
    slash = client.get("/feeds/")
    assert slash.status_code == 307 and slash.headers["location"].endswith("/feeds")
    api_page = client.get("/api").text
    assert 'id="feeds"' in api_page and "/feeds/daily.xml" in api_page


def test_the_paths_feed_readers_guess_lead_to_the_daily_feed(client):
    for path, version in (("/rss", "rss20"), ("/feed.xml", "rss20"), ("/atom.xml", "atom10"),
                          ("/feed.json", "json1")):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["location"].startswith("/feeds/daily.")
        if version == "json1":
            assert client.get(path, follow_redirects=True).json()["version"].startswith("https://jsonfeed.org")
        else:
            assert parse(client.get(path, follow_redirects=True)).version == version


def test_trending_feeds(client):
    for url, version in (("/feeds/trending.xml", "rss20"), ("/feeds/trending.atom", "atom10")):
        feed = parse(client.get(url))
        assert feed.version == version
        assert 10 < len(feed.entries) <= 30
        assert all(e.link.startswith("http://testserver/papers/") for e in feed.entries)
        assert len({e.link for e in feed.entries}) == len(feed.entries)


def test_search_feeds(client):
    feed = parse(client.get("/feeds/search.xml", params={"q": "agents"}))
    assert feed.feed.title == "Daily Papers search: agents"
    assert feed.entries
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)  # newest first
    atom = parse(client.get("/feeds/search.atom", params={"q": "agents", "sort": "relevance"}))
    assert atom.version == "atom10" and atom.entries
    assert client.get("/feeds/search.xml").status_code == 400
    assert client.get("/feeds/search.xml", params={"q": "x" * 300}).status_code == 400
    assert client.get("/feeds/search.xml", params={"q": "agents", "sort": "bogus"}).status_code == 400


@pytest.mark.parametrize("q", ["a\x00b agents", "\u202eagents\u202c", "agents 😀", "<![CDATA[ ]]> agents", "&amp; agents"])
def test_search_feed_survives_odd_input(client, q):
    for path in ("/feeds/search.xml", "/feeds/search.atom"):
        feed = parse(client.get(path, params={"q": q}))
        assert "Daily Papers search" in feed.feed.title


def test_feeds_escape_hostile_text(fresh_data_dir):
    from webapp import Client, make_app

    app, services = make_app(fresh_data_dir)
    services.store.ingest_batch(
        [Paper("2608.99998", "Control\x0bchars <b>&</b> ]]> 😀 $x<y$", "Abstract <script>x</script> \x1f end",
               ["Zoë <O'Brien> & co"], published=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))],
        [Listing("2608.99998", dt.date(2026, 8, 21), rank=1, upvotes=10_000)],
    )
    c = Client(app)
    try:
        for url in ("/feeds/daily.xml", "/feeds/daily.atom"):
            feed = parse(c.get(url))
            titles = [e.title for e in feed.entries]
            assert any(t.startswith("Controlchars <b>&</b> ]]>") for t in titles), titles[:3]
    finally:
        c.close()
        services.store.close()


def test_feed_caching(client):
    r = client.get("/feeds/daily.xml")
    assert "max-age" in r.headers["cache-control"]
    assert client.get("/feeds/daily.xml", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
