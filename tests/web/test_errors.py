"""Error mapping: only domain errors become 4xx; a bug (a plain KeyError, ValueError...) is a 500
with a generic message and a logged traceback, never the exception's own text."""

from __future__ import annotations

import logging
import re

import pytest
from webapp import NOW, Client, database_url_of, make_settings, open_data_store

from dailypapers.storage import Store
from dailypapers.web.errors import SERVER_ERROR

SECRET = "internal detail: row 42 of the listings table"


class BrokenStore:
    """The real store, except that the named methods fail the way a bug would."""

    def __init__(self, store: Store, failures: dict[str, BaseException]):
        self._store = store
        self._failures = failures

    def __getattr__(self, name):
        if name in self._failures:
            exc = self._failures[name]

            def fail(*args, **kwargs):
                raise exc

            return fail
        return getattr(self._store, name)


@pytest.fixture()
def broken_client(fresh_data_dir):
    from dailypapers.app import build_services
    from dailypapers.web.routes import build_app

    settings = make_settings(fresh_data_dir, database_url=database_url_of(fresh_data_dir))
    real = open_data_store(fresh_data_dir)
    store = BrokenStore(real, {
        "papers_by_org": KeyError(SECRET),
        "listings_for_paper": ValueError(SECRET),
        "latest_listing_day": LookupError(SECRET),
    })
    services = build_services(settings, store=store, embedder=False, arxiv=object(), clock=lambda: NOW)
    client = Client(build_app(services))
    yield client
    client.close()
    real.close()


@pytest.mark.parametrize("path, exc_type", [
    ("/orgs/google", "KeyError"),
    ("/papers/2608.19880", "ValueError"),
    ("/", "LookupError"),
])
def test_a_bug_is_a_500_page_with_a_logged_traceback(broken_client, caplog, path, exc_type):
    with caplog.at_level(logging.ERROR, logger="dailypapers.web"):
        r = broken_client.get(path)
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("text/html")
    assert SERVER_ERROR in r.text and SECRET not in r.text
    logged = [rec for rec in caplog.records if rec.exc_info and rec.exc_info[0].__name__ == exc_type]
    assert logged, "the traceback was not logged"
    assert SECRET in logged[0].getMessage() or SECRET in str(logged[0].exc_info[1])


def test_a_bug_in_the_api_is_a_500_json(broken_client, caplog):
    with caplog.at_level(logging.ERROR, logger="dailypapers.web"):
        r = broken_client.get("/api/papers/2608.19880")
    assert r.status_code == 500
    assert r.json() == {"error": SERVER_ERROR, "status": 500}
    assert any(rec.exc_info and rec.exc_info[0] is ValueError for rec in caplog.records)


@pytest.mark.parametrize("path, status", [
    ("/papers/date/2026-02-30", 400),
    ("/papers/week/2026-W60", 400),
    ("/papers/month/2026-13", 400),
    ("/papers/not-an-id", 404),
    ("/papers/2101.99999", 404),
    ("/orgs/google?page=abc", 400),
    ("/orgs/no-such-org", 404),
    ("/papers/search?q=x&from=yesterday", 400),
    ("/feeds/search.xml?q=", 400),
])
def test_bad_input_is_still_4xx_with_its_message(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert SERVER_ERROR not in r.text


@pytest.mark.parametrize("params, message", [
    ({"date": "2026-02-30"}, "bad date"),
    ({"week": "2026-W99"}, "bad week"),
    ({"month": "2026-00"}, "bad month"),
    ({"limit": "ten"}, "limit must be a whole number"),
])
def test_bad_api_input_is_a_400_json_with_its_message(client, params, message):
    r = client.get("/api/daily_papers", params=params)
    assert r.status_code == 400
    assert message in r.json()["error"]


def test_one_message_per_search_error(client):
    """The search page, the API and the search feed say the same thing about the same mistake."""
    long_q = {"q": "x" * 251}
    page = client.get("/papers/search", params=long_q)
    api = client.get("/api/papers/search", params=long_q)
    feed = client.get("/feeds/search.xml", params=long_q)
    assert page.status_code == api.status_code == feed.status_code == 400
    message = api.json()["error"]
    assert "too long" in message
    assert message in feed.text and message in page.text


# -- pages written for readers ------------------------------------------------------------------------
def main_of(page: str) -> str:
    m = re.search(r'<main id="main"[^>]*>(.*)</main>', page, re.S)
    assert m, page[:500]
    return m.group(1)


def test_the_404_page_offers_a_search_and_todays_list(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    main = main_of(r.text)
    assert re.search(r"<h1[^>]*>We couldn&#39;t find that page</h1>", main)
    search = re.search(r'<form class="error-search[^"]*" action="/papers/search" method="get">(.*?)</form>', main, re.S)
    assert search and '<label for="error-q"' in search.group(1) and 'name="q"' in search.group(1)
    assert "<a href=\"/\">Today's papers</a>" in main
    assert "Not Found" not in main  # Starlette's own words never reach readers
    assert "<title>Page not found · Daily Papers</title>" in r.text
    assert '<meta name="robots" content="noindex">' in r.text


def test_a_404_keeps_the_domain_message_as_a_sentence(client):
    main = main_of(client.get("/papers/2101.99999").text)
    assert "We couldn&#39;t find that page" in main
    assert '<p class="error-detail">No paper 2101.99999 here.</p>' in main


def test_a_bad_date_says_what_dates_look_like(client):
    r = client.get("/papers/date/2026-02-30")
    assert r.status_code == 400
    main = main_of(r.text)
    assert re.search(r"<h1[^>]*>We couldn&#39;t read that date</h1>", main)
    assert "Dates look like 2026-08-21" in main
    assert "2026-02-30" in main  # the domain message stays, as detail
    assert "Today" in main and 'href="/"' in main


def test_the_500_page_apologises_and_links_home(broken_client, caplog):
    with caplog.at_level(logging.ERROR, logger="dailypapers.web"):
        r = broken_client.get("/orgs/google")  # a KeyError deep in the store: a real bug path
    assert r.status_code == 500
    main = main_of(r.text)
    assert re.search(r"<h1[^>]*>Sorry, something went wrong on our side</h1>", main)
    assert "has been logged" in main and SECRET not in r.text
    assert '<a href="/">' in main


def test_a_refused_form_says_so_in_plain_words(client):
    r = client.post("/login", data={"email": "a@example.org", "password": "x"})  # no CSRF token
    assert r.status_code == 403
    main = main_of(r.text)
    assert re.search(r"<h1[^>]*>You can&#39;t do that here</h1>", main)
    assert "go back, reload it and try again" in main
    assert '<a href="/login">Log in</a>' in main


def test_too_many_requests_is_a_polite_page(fresh_data_dir):
    from webapp import make_app

    app, services = make_app(fresh_data_dir, rate_search="1/600")
    c = Client(app)
    try:
        assert c.get("/papers/search?q=agents").status_code == 200
        r = c.get("/papers/search?q=agents")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        main = main_of(r.text)
        assert re.search(r"<h1[^>]*>Please slow down a little</h1>", main)
        assert "Wait a moment, then try again." in main
        assert "Too many searches. Try again in" in main  # the rate limiter's own words, kept
    finally:
        c.close()
        services.store.close()
