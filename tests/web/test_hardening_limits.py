"""Issue 16, class 3 ("look for other expensive routes"): the long lists. Uncached, a week's or a
month's page, the paged /api/daily_papers and the new arrivals read as many papers as a search
costs, and their parameters make as many cache keys as a client likes; they share the ``list`` limit
(web/guard.py RATE_LIMITED). Real HTTP through the app (httpx over ASGI)."""

from __future__ import annotations

import inspect
import re

import pytest
from starlette.routing import Route
from webapp import LATEST_DAY, Client, make_app

from dailypapers.web.guard import RATE_LIMITED
from dailypapers.web.routes import route_table

WEEK = f"{LATEST_DAY.isocalendar()[0]}-W{LATEST_DAY.isocalendar()[1]:02d}"
MONTH = f"{LATEST_DAY:%Y-%m}"
LIST_ROUTES = [
    f"/papers/week/{WEEK}", f"/papers/month/{MONTH}?sort=newest", f"/feeds/week/{WEEK}.atom",
    f"/feeds/month/{MONTH}.json", "/api/daily_papers?p=3&limit=100", "/api/daily_papers?submitter=someone",
    "/papers/new?category=cs.CL&sort=upvotes", f"/papers/new/{LATEST_DAY}", "/api/papers/new?page=2",
    "/feeds/new.xml?category=cs.AI",
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
    # a day's list, a paper and the trending page are not long lists
    for path in [f"/papers/date/{LATEST_DAY}", "/papers/2608.19880", "/papers/trending", "/"]:
        assert client.get(path).status_code == 200, path
    doc = client.get("/openapi.json").json()
    assert "429" in doc["paths"]["/api/daily_papers"]["get"]["responses"]


# What makes a GET route a long list, found in its handler's source (the build functions inside it
# included). A new route that does this without its line in RATE_LIMITED fails here.
LONG_LIST = r"_period_page\(|papers\.(week|month)\b|api_daily\(|arrivals\.view\("


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
