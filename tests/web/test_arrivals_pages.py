"""New arrivals over real HTTP: /papers/new (ranking, category filter, sorts, paging, day navigation,
errors, escaping), the member-upvote rule, /api/papers/new and the /feeds/new feeds.

Real SQLite or PostgreSQL (conftest's `data_dirs`) with the real slice of arrivals and lists, scored
by the real ranker (arrivals_data.py).
"""

from __future__ import annotations

import datetime as dt
import re

import feedparser
import pytest
from arrivals_data import (
    EVIL_ID,
    EVIL_TITLE,
    LATE_IDS,
    LATEST,
    SLICE,
    build_arrivals_data_dir,
    make_arrivals_app,
)
from lxml import etree
from markupsafe import escape
from webapp import Client, open_data_store

PASSWORD = "quiet-harbour-lantern-47"
VOTE = re.compile(r'data-vote="([^"]+)" aria-pressed="(true|false)">')


@pytest.fixture(scope="module")
def arrivals_dir(tmp_path_factory, data_dirs):
    """Built once per backend and never opened again (on PostgreSQL its database is a template)."""
    return build_arrivals_data_dir(tmp_path_factory.mktemp("arrivals-web"), data_dirs.new())


@pytest.fixture(scope="module")
def site(arrivals_dir, data_dirs, tmp_path_factory):
    data_dir = data_dirs.copy(arrivals_dir, tmp_path_factory.mktemp("arrivals-site") / "data")
    app, services = make_arrivals_app(data_dir)
    yield app, services
    services.store.close()
    data_dirs.drop(data_dir)


@pytest.fixture()
def client(site):
    c = Client(site[0])
    yield c
    c.close()


def ids(html: str) -> list[str]:
    return [m.group(1) for m in VOTE.finditer(html)]


def api(client: Client, query: str = "") -> dict:
    r = client.get("/api/papers/new" + query)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def ok(r):
    assert r.status_code == 200, r.text[:500]
    return r.text


# -- the page --------------------------------------------------------------------------------
def test_new_is_the_latest_day_ranked_by_predicted_interest(client):
    html = ok(client.get("/papers/new"))
    assert "<h1>Friday, October 31, 2025</h1>" in html
    data = api(client)
    assert data["date"] == LATEST.isoformat()
    shown = ids(html)
    assert shown == [p["paper"]["id"] for p in data["papers"]]
    assert len(shown) == data["total"] == len(set(shown))
    scores = [p["score"] for p in data["papers"]]
    scored = [s for s in scores if s is not None]
    assert len(scored) >= 5 and scored == sorted(scored, reverse=True)
    # the two papers that arrived after the scoring job come last, with a note
    assert set(shown[-2:]) == set(LATE_IDS) and scores[-2:] == [None, None]
    assert data["unscored"] == 2
    assert "2 arrivals are not scored yet, listed last" in html
    # every paper is in the site's field (cross-lists count)
    for p in data["papers"]:
        assert {"cs.CL", "cs.LG"} & set(p["paper"]["categories"])
    # the model note, the reasons, the Listed badge
    assert "Ranked by a model trained on" in html and data["note"] in html
    best = data["papers"][0]
    assert best["reasons"] and all(str(escape(r)) in html for r in best["reasons"][:3])
    listed = [p for p in data["papers"] if p["listedOn"]]
    assert listed, "the slice has arrivals Hugging Face listed"
    day = dt.date.fromisoformat(listed[0]["listedOn"])
    assert f'href="/papers/date/{day.isoformat()}">Listed on {day:%b} {day.day}, {day.year}</a>' in html


def test_nav_link_feeds_and_caching(client):
    home = ok(client.get("/"))
    assert '<a href="/papers/new">New</a>' in home
    r = client.get("/papers/new")
    html = ok(r)
    assert '<a href="/papers/new" aria-current="page">New</a>' in html
    assert '<link rel="alternate" type="application/rss+xml" title="New papers: Oct 31, 2025 (RSS)" href="/feeds/new.xml">' in html
    assert 'type="application/atom+xml"' in html and 'href="/feeds/new.atom"' in html
    again = client.get("/papers/new", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    filtered = ok(client.get("/papers/new?category=cs.LG"))
    assert 'href="/feeds/new.xml?category=cs.LG"' in filtered and 'href="/feeds/new.atom?category=cs.LG"' in filtered


def test_category_filter(client):
    html = ok(client.get("/papers/new"))
    chips = dict(re.findall(r'<a href="/papers/new\?category=([^"]+)"[^>]*>[^<]+ <span class="chip-count">(\d+)</span>', html))
    assert set(chips) == {"cs.CL", "cs.LG"}
    for category, count in chips.items():
        page = ok(client.get(f"/papers/new?category={category}"))
        data = api(client, f"?category={category}")
        assert ids(page) == [p["paper"]["id"] for p in data["papers"]]
        assert data["total"] == int(count) == len(ids(page))
        assert all(category in p["paper"]["categories"] for p in data["papers"])
        assert f'aria-current="true" class="current">{category} <span' in page
    # a category with nothing that day: an empty state with the way back, not an error
    page = ok(client.get("/papers/new/2025-10-31?category=cs.RO"))
    assert "No arrivals in cs.RO on Oct 31, 2025." in page and 'href="/papers/new/2025-10-31">See all' in page
    assert ids(page) == []


def test_sorts(client):
    by_votes = api(client, "?sort=upvotes")["papers"]
    votes = [p["paper"]["upvotes"] for p in by_votes]
    assert votes == sorted(votes, reverse=True) and votes[0] > 0
    newest = [p["paper"]["id"] for p in api(client, "?sort=newest")["papers"]]
    assert newest == sorted(newest, reverse=True)
    html = ok(client.get("/papers/new?sort=upvotes"))
    assert ids(html) == [p["paper"]["id"] for p in by_votes]
    assert 'href="/papers/new?sort=upvotes" aria-current="true" class="current">Most upvoted' in html
    # the filter keeps the sort, and the sort keeps the filter
    assert 'href="/papers/new?category=cs.CL&amp;sort=upvotes"' in html
    assert 'href="/papers/new?category=cs.CL&amp;sort=newest"' in ok(client.get("/papers/new?category=cs.CL"))


def test_paging_fifty_a_page(client):
    first = ok(client.get("/papers/new/2025-10-30"))
    data = api(client, "?date=2025-10-30&limit=100")
    assert data["total"] > 50
    every = [p["paper"]["id"] for p in data["papers"]]
    assert ids(first) == every[:50]
    assert f"Arrivals 1–50 of {data['total']}" in first
    assert 'rel="next" href="/papers/new/2025-10-30?page=2"' in first
    second = ok(client.get("/papers/new/2025-10-30?page=2"))
    assert ids(second) == every[50:]
    assert '<ol class="cards arrivals" start="51">' in second
    assert 'rel="prev" href="/papers/new/2025-10-30"><span aria-hidden="true">←</span> Previous page' in second
    past = client.get("/papers/new/2025-10-30?page=9")
    assert past.status_code == 200 and "past the last arrival" in past.text and ids(past.text) == []


def test_day_navigation(client):
    latest = ok(client.get("/papers/new"))
    assert 'rel="prev" href="/papers/new/2025-10-30"' in latest
    assert 'rel="next"' not in latest.split('aria-label="Days"')[1].split("</nav>")[0]  # nothing after the latest
    before = ok(client.get("/papers/new/2025-10-30"))
    assert "<h1>Thursday, October 30, 2025</h1>" in before
    assert 'rel="next" href="/papers/new/2025-10-31"' in before and 'rel="prev" href="/papers/new/2025-10-29"' in before
    assert '<a href="/papers/new">Latest' in before
    # a weekend has no arrivals: the links jump over it, and the day itself says so
    monday = ok(client.get("/papers/new/2025-10-27?sort=newest"))
    assert 'rel="prev" href="/papers/new/2025-10-24?sort=newest"' in monday
    weekend = ok(client.get("/papers/new/2025-10-25"))
    assert "No arrivals in this site's field on Oct 25, 2025." in weekend
    assert 'href="/papers/new/2025-10-24"' in weekend and 'href="/papers/new/2025-10-27"' in weekend


@pytest.mark.parametrize("url, message", [
    ("/papers/new/2025-02-30", "bad date"),
    ("/papers/new/yesterday", "bad date"),
    ("/papers/new?sort=best", "Unknown sort"),
    ("/papers/new?page=0", "page must be between 1 and"),
    ("/papers/new?page=two", "page must be a whole number"),
    ("/papers/new?category=%3Cscript%3E", "is not an arXiv category"),
])
def test_bad_input_is_a_400_page(client, url, message):
    r = client.get(url)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert message.lower() in r.text.lower() and "<script>" not in r.text.split("</head>")[1]


def test_titles_are_escaped(client):
    html = ok(client.get("/papers/new"))
    assert EVIL_ID in ids(html)
    assert "<script>alert" not in html and "<b>Bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bold&lt;/b&gt; claims" in html
    item = next(p for p in api(client)["papers"] if p["paper"]["id"] == EVIL_ID)
    assert item["title"] == item["paper"]["title"] == EVIL_TITLE
    rss = client.get("/feeds/new.xml")
    titles = [t.text for t in etree.fromstring(rss.content).iter("title")]
    assert EVIL_TITLE in titles
    assert b"<script>" not in rss.content


def test_empty_site_says_how_to_harvest_and_rank(tmp_path, data_dirs):
    open_data_store(tmp_path, data_dirs.new()).close()
    app, services = make_arrivals_app(tmp_path)
    c = Client(app)
    try:
        html = ok(c.get("/papers/new"))
        assert "No arrivals yet" in html
        assert "<code>dailypapers ingest arxiv-oai --set cs</code>" in html
        assert "<code>dailypapers arrivals score</code>" in html
        data = api(c)
        assert data["date"] is None and data["papers"] == [] and data["model"] is None
        assert "dailypapers arrivals train" in data["note"]
        feed = feedparser.parse(ok(c.get("/feeds/new.xml")))
        assert feed.bozo == 0 and feed.entries == []
    finally:
        c.close()
        services.store.close()
        data_dirs.drop(tmp_path)


def test_unranked_arrivals_say_so(tmp_path, data_dirs):
    from dailypapers.ingest.jobs import ingest_jsonl

    store = open_data_store(tmp_path, data_dirs.new())
    ingest_jsonl(store, SLICE / "arrivals.jsonl.gz")
    store.close()
    app, services = make_arrivals_app(tmp_path)
    c = Client(app)
    try:
        html = ok(c.get("/papers/new"))
        assert "Arrivals are not ranked yet" in html and "<code>dailypapers arrivals train</code>" not in html
        assert "`dailypapers arrivals train`" in html
        data = api(c)
        assert data["model"] is None and data["unscored"] == data["total"] > 0
        assert len(ids(html)) == data["total"]
    finally:
        c.close()
        services.store.close()
        data_dirs.drop(tmp_path)


# -- JSON -------------------------------------------------------------------------------------
def test_api_shape_paging_and_errors(client):
    data = api(client)
    assert set(data) >= {"date", "previous", "next", "sort", "category", "page", "limit", "total", "unscored",
                         "categories", "model", "note", "papers"}
    assert data["previous"] == "2025-10-30" and data["next"] is None
    assert data["model"]["kind"] == "trained" and data["note"] == data["model"]["note"]
    item = data["papers"][0]
    assert {"paper", "publishedAt", "title", "summary", "numComments", "organization", "isAuthorParticipating",
            "score", "reasons", "listedOn"} <= set(item)
    assert {"id", "authors", "title", "summary", "upvotes", "categories"} <= set(item["paper"])

    r = client.get("/api/papers/new?date=2025-10-30&limit=20")
    first = r.json()
    assert len(first["papers"]) == 20 and first["total"] > 50
    link = r.headers["link"]
    assert link.startswith("<http://testserver/api/papers/new?") and 'rel="next"' in link
    url = link[1:link.index(">")].removeprefix("http://testserver")
    second = api(client, url.removeprefix("/api/papers/new"))
    assert second["page"] == 2
    assert not {p["paper"]["id"] for p in first["papers"]} & {p["paper"]["id"] for p in second["papers"]}
    assert "link" not in client.get("/api/papers/new?limit=100").headers

    for query, field in [("?date=2025-13-01", "date"), ("?sort=hot", "sort"), ("?limit=101", "limit"),
                         ("?page=0", "page"), ("?category=a%20b", "category")]:
        bad = client.get("/api/papers/new" + query)
        assert bad.status_code == 400, query
        assert bad.json()["status"] == 400 and field in bad.json()["error"].lower()


def test_openapi_describes_the_endpoint(client):
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/api/papers/new"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"date", "category", "sort", "page", "limit"}
    assert {"Arrival", "Arrivals"} <= set(doc["components"]["schemas"])
    assert "/feeds/new.xml" in doc["paths"]


# -- feeds ------------------------------------------------------------------------------------
def test_feeds_are_the_latest_day_best_first(client):
    order = [p["paper"]["id"] for p in api(client, "?limit=50")["papers"]]
    rss = client.get("/feeds/new.xml")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    root = etree.fromstring(rss.content)
    assert root.findtext("channel/title") == "New papers: Oct 31, 2025"
    links = [i.findtext("link") for i in root.iter("item")]
    assert links == [f"http://testserver/papers/{a}" for a in order]

    atom = client.get("/feeds/new.atom?category=cs.LG")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(atom.content)
    assert feed.bozo == 0 and feed.version == "atom10"
    in_lg = [p["paper"]["id"] for p in api(client, "?category=cs.LG")["papers"]]
    assert [e.link for e in feed.entries] == [f"http://testserver/papers/{a}" for a in in_lg]
    assert feed.feed.title == "New papers in cs.LG: Oct 31, 2025"
    assert client.get("/feeds/new.xml?category=%22%3E").status_code == 400


def test_feed_holds_at_most_fifty(client):
    rss = etree.fromstring(client.get("/feeds/new.xml?category=cs.CL").content)
    assert len(list(rss.iter("item"))) <= 50
    # BEFORE has more than 50 in cs.CL, but the feed is the latest day only
    assert all("2510.900" not in i.findtext("link") for i in rss.iter("item"))


# -- members' upvotes put an arrival on the list -------------------------------------------------
@pytest.fixture()
def member_site(arrivals_dir, tmp_path, data_dirs):
    data_dir = data_dirs.copy(arrivals_dir, tmp_path / "data")
    app, services = make_arrivals_app(data_dir)
    for name in ("ada", "bob", "cy", "dee"):
        services.accounts.create_user(f"{name}@example.org", name, PASSWORD, verified=True)
    services.accounts.create_user("cur@example.org", "cur", PASSWORD, role="curator", verified=True)
    yield app, services
    services.store.close()
    data_dirs.drop(data_dir)


def logged_in(app, name: str) -> Client:
    c = Client(app)
    token = c.csrf(c.get("/login"))
    r = c.post("/login", data={"email": f"{name}@example.org", "password": PASSWORD, "csrf_token": token,
                               "next": "/papers/new"})
    assert r.status_code == 303, r.text
    return c


def upvote(c: Client, arxiv_id: str) -> None:
    page = c.get("/papers/new")
    r = c.post(f"/papers/{arxiv_id}/upvote", data={"csrf_token": c.csrf(page), "next": "/papers/new"},
               headers={"Referer": "http://testserver/papers/new"})
    assert r.status_code == 303 and r.headers["location"] == f"/papers/new#paper-{arxiv_id}"


def unlisted(client: Client, n: int = 2) -> list[str]:
    """Arrivals of the latest day on no list yet, in the field."""
    found = [p["paper"]["id"] for p in api(client)["papers"] if not p["listedOn"] and p["paper"]["id"] != EVIL_ID]
    assert len(found) >= n
    return found[:n]


def on_day_list(client: Client, arxiv_id: str) -> bool:
    return f'data-vote="{arxiv_id}"' in ok(client.get(f"/papers/date/{LATEST.isoformat()}"))


def log_rows(curator: Client, arxiv_id: str) -> list[str]:
    html = ok(curator.get("/curate/log"))
    return [row for row in html.split("<tr>") if f"/papers/{arxiv_id}\"" in row]


def test_three_member_upvotes_list_an_arrival_and_the_log_names_the_rule(member_site):
    app, services = member_site
    visitor = Client(app)
    members = {name: logged_in(app, name) for name in ("ada", "bob", "cy")}
    curator = logged_in(app, "cur")
    try:
        target = unlisted(visitor, 1)[0]
        upvote(members["ada"], target)
        upvote(members["bob"], target)
        assert not on_day_list(visitor, target)
        # the voter sees their own upvote pressed on the shared page; a visitor does not
        mine = dict(VOTE.findall(ok(members["ada"].get("/papers/new"))))
        assert mine[target] == "true"
        assert dict(VOTE.findall(ok(visitor.get("/papers/new"))))[target] == "false"

        upvote(members["cy"], target)
        assert on_day_list(visitor, target)
        entry = next(p for p in api(visitor)["papers"] if p["paper"]["id"] == target)
        assert entry["listedOn"] == LATEST.isoformat()
        assert "Listed on Oct 31, 2025" in ok(visitor.get("/papers/new")).split(f'id="paper-{target}"')[1].split("</article>")[0]
        rows = log_rows(curator, target)
        assert len(rows) == 1 and "rule: 3 member upvotes" in rows[0] and "Added" in rows[0]
    finally:
        for c in (visitor, curator, *members.values()):
            c.close()


def test_a_curators_skip_does_not_stop_the_members_but_a_removal_does(member_site):
    app, services = member_site
    visitor = Client(app)
    members = {name: logged_in(app, name) for name in ("ada", "bob", "cy", "dee")}
    curator = logged_in(app, "cur")
    try:
        skipped, removed = unlisted(visitor, 2)
        token = curator.csrf(curator.get("/papers/new"))
        r = curator.post("/curate/inbox/decide", data={"csrf_token": token, "day": LATEST.isoformat(),
                                                       "arxiv_id": skipped, "action": "skip"})
        assert r.status_code == 303
        assert any("Skipped" in row for row in log_rows(curator, skipped))
        for name in ("ada", "bob", "cy"):
            upvote(members[name], skipped)
        assert on_day_list(visitor, skipped)
        assert any("rule: 3 member upvotes" in row for row in log_rows(curator, skipped))

        for name in ("ada", "bob", "cy"):
            upvote(members[name], removed)
        assert on_day_list(visitor, removed)
        page = curator.get(f"/curate?day={LATEST.isoformat()}")
        r = curator.post("/curate/remove", data={"csrf_token": curator.csrf(page), "day": LATEST.isoformat(),
                                                  "id": removed})
        assert r.status_code == 303
        assert not on_day_list(visitor, removed)
        upvote(members["dee"], removed)  # a fourth upvote does not bring it back
        assert not on_day_list(visitor, removed)
        assert next(p for p in api(visitor)["papers"] if p["paper"]["id"] == removed)["listedOn"] is None
    finally:
        for c in (visitor, curator, *members.values()):
            c.close()
