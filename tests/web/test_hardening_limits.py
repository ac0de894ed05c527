"""Issue 16, class 3 ("look for other expensive routes"): the long lists. Uncached, a week's or a
month's page, the paged /api/daily_papers, the new arrivals and a day's page and feed read as many
papers as a search costs, and their parameters make as many cache keys as a client likes; they share
the ``list`` limit (web/guard.py RATE_LIMITED). A paper's page and its Markdown twin (similar papers:
a vector search) have their own, ``paper``. Real HTTP through the app (httpx over ASGI)."""

from __future__ import annotations

import asyncio
import inspect
import re
import time

import psycopg
import pytest
from starlette.routing import Route
from webapp import LATEST_DAY, Client, database_url_of, make_app

from dailypapers.web.guard import RATE_LIMITED
from dailypapers.web.routes import route_table

WEEK = f"{LATEST_DAY.isocalendar()[0]}-W{LATEST_DAY.isocalendar()[1]:02d}"
MONTH = f"{LATEST_DAY:%Y-%m}"
LIST_ROUTES = [
    f"/papers/week/{WEEK}", f"/papers/month/{MONTH}?sort=newest", f"/feeds/week/{WEEK}.atom",
    f"/feeds/month/{MONTH}.json", "/api/daily_papers?p=3&limit=100", "/api/daily_papers?submitter=someone",
    "/papers/new?category=cs.CL&sort=upvotes", f"/papers/new/{LATEST_DAY}", "/api/papers/new?page=2",
    "/feeds/new.xml?category=cs.AI", f"/papers/date/{LATEST_DAY}?sort=newest", f"/feeds/date/{LATEST_DAY}.json",
]


@pytest.fixture()
def client(fresh_data_dir):
    app, services = make_app(fresh_data_dir, rate_list="2/60")
    c = Client(app)
    yield c
    c.close()
    services.store.close()


def test_the_long_lists_share_one_limit(client):
    assert client.get(f"/papers/month/{MONTH}").status_code == 200
    assert client.get("/api/daily_papers?limit=100").status_code == 200
    for path in LIST_ROUTES:
        r = client.get(path)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, (path, r.status_code)
    # a paper (its own limit), the trending page and the home page (three cache keys) are not long lists
    for path in ["/papers/2608.19880", "/papers/trending", "/", "/?sort=newest"]:
        assert client.get(path).status_code == 200, path
    doc = client.get("/openapi.json").json()
    assert "429" in doc["paths"]["/api/daily_papers"]["get"]["responses"]


# What makes a GET route a long list, found in its handler's source (the build functions inside it
# included). A new route that does this without its line in RATE_LIMITED fails here.
LONG_LIST = r"_period_page\(|papers\.(week|month|day)\b|api_daily\(|arrivals\.view\("


def test_every_long_list_route_counts_against_the_list_limit():
    found, unlimited = 0, []
    for route in route_table():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if re.search(LONG_LIST, inspect.getsource(route.endpoint)):
            found += 1
            path = re.sub(r"\{[^}:]+(:path)?\}", "x", route.path)
            limit = next((name for pattern, name in RATE_LIMITED if re.search(pattern, path)), None)
            if limit not in ("list", "search"):  # the search API lists the latest papers for an empty q
                unlimited.append(f"{route.path}: {limit}")
    assert unlimited == []
    assert found >= 12, found  # the week, month and arrival pages, their feeds, the two APIs


# Measured on 64,483 papers and 580 listed days (bench data, 2 cores, in-process over HTTP; medians):
#   a day of 50 papers  uncached 20-78 ms, cached 3-7 ms  (as costly as a week: 30 ms, or a search: 20-50 ms)
#   a paper page        uncached 8-21 ms,  cached 2 ms    (similar papers, a vector search, and the render)
#   its Markdown twin   uncached 6-20 ms,  cached 1.5 ms
#   /api/papers/{id}    uncached 2 ms,     cached 1.3 ms  (one paper and its listings: no more than a hit)
# The page cache keeps 512 entries (and 64 MB: some 250 day pages of 220 KB), while a client can ask for
# 580 days x 3 sorts, or any of 64,483 papers: each request can be a miss. So days count against "list",
# paper pages against "paper"; the API's paper is not limited: a miss costs what a hit does. The home
# page has three cache keys (its sorts), always warm.
PAPER_PAGES = ["/papers/2608.19880", "/papers/2608.19880.md"]


def test_paper_pages_have_their_own_limit(fresh_data_dir):
    app, services = make_app(fresh_data_dir, rate_paper="2/60", rate_list="100/60")
    c = Client(app)
    try:
        for path in PAPER_PAGES:
            assert c.get(path).status_code == 200, path
        for path in PAPER_PAGES:
            r = c.get(path)
            assert r.status_code == 429 and int(r.headers["retry-after"]) > 0, (path, r.status_code)
        assert c.get("/papers/2608.19880v1").status_code == 301  # to the canonical id: cheap, not counted
        # the other routes under /papers/ and the API's paper are not paper pages
        for path in [f"/papers/date/{LATEST_DAY}", "/papers/trending", "/api/papers/2608.19880",
                     "/papers/2608.19880.bib", "/papers/search?q=x"]:
            assert c.get(path).status_code == 200, path
    finally:
        c.close()
        services.store.close()


def test_every_paper_page_route_counts_against_the_paper_limit():
    found, unlimited = 0, []
    for route in route_table():
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        if re.search(r"papers\.paper\(", inspect.getsource(route.endpoint)):
            found += 1
            for path in (route.path.replace("{arxiv_id:path}", i) for i in ("2608.19880", "hep-th/9901001")):
                limit = next((name for pattern, name in RATE_LIMITED if re.search(pattern, path)), None)
                if limit != "paper":
                    unlimited.append(f"{path}: {limit}")
    assert unlimited == [] and found >= 1
    # no write under /papers/{id}/ counts against it
    for path in ("/papers/2608.19880/upvote", "/papers/2608.19880/save", "/papers/2608.19880.bib"):
        assert all(name != "paper" for pattern, name in RATE_LIMITED if re.search(pattern, path)), path


def test_a_rate_check_waiting_on_postgresql_does_not_hold_up_the_worker(fresh_data_dir):
    """Every PostgreSQL node shares the rate log, so a check is a round trip to the database. While
    one waits (another node holds the log), the worker answers its other requests, and the waiting
    one is answered once the log is free. (SQLite's log is a local file written in about 0.1 ms,
    checked on the event loop: a thread hop would cost more, community/ratelimit.py.)"""
    url = database_url_of(fresh_data_dir)
    if url is None:
        pytest.skip("SQLite's shared rate log is a local file, checked on the event loop")
    app, services = make_app(fresh_data_dir)
    c = Client(app)
    try:
        assert c.get("/papers/search?q=attention").status_code == 200
        with psycopg.connect(url) as conn, conn.transaction():
            conn.execute("LOCK TABLE rate_events IN ACCESS EXCLUSIVE MODE")
            waiting = asyncio.run_coroutine_threadsafe(c.http.get("/papers/search?q=diffusion"), c.loop)
            time.sleep(0.5)  # the search reaches its check and waits there
            assert c.get("/healthz").status_code == 200
            assert not waiting.done()
        assert waiting.result(timeout=30).status_code == 200
    finally:
        c.close()
        services.store.close()
