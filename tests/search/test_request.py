"""SearchRequest: query parameters parsed and validated once, one message per mistake."""

from __future__ import annotations

import datetime as dt

import pytest

from dailypapers.errors import Invalid
from dailypapers.search.request import BadQuery, SearchRequest


def test_from_params_reads_every_field():
    r = SearchRequest.from_params({
        "q": " diffusion\x00 ", "mode": "lexical", "sort": "newest", "from": "2026-08-01", "to": "2026-08-31",
        "category": "cs.CV", "has_code": "on", "min_upvotes": "5", "page": "2",
    })
    assert (r.q, r.mode, r.sort, r.page, r.per_page) == ("diffusion", "lexical", "newest", 2, 20)
    f = r.filters
    assert (f.date_from, f.date_to, f.category, f.has_code, f.min_upvotes) == (
        dt.date(2026, 8, 1), dt.date(2026, 8, 31), "cs.CV", True, 5)
    assert SearchRequest.from_params(r.params()) == r


def test_only_accepted_params_are_read():
    r = SearchRequest.from_params({"q": "agents", "limit": "120", "sort": "bogus", "page": "x"}, accept=("q", "limit"))
    assert (r.q, r.per_page, r.sort, r.page) == ("agents", 120, "relevance", 1)
    feed = SearchRequest.from_params({"q": "agents"}, defaults=SearchRequest(sort="newest", per_page=30))
    assert (feed.sort, feed.per_page) == ("newest", 30)


@pytest.mark.parametrize("params, message", [
    ({"q": "x" * 251}, "too long"),
    ({"mode": "magic"}, "Unknown search mode"),
    ({"sort": "random"}, "Unknown sort"),
    ({"page": "0"}, "page number"),
    ({"page": "-1"}, "page must be a whole number"),
    ({"limit": "121"}, "per page"),
    ({"min_upvotes": "lots"}, "min_upvotes must be a whole number"),
    ({"category": "'; DROP TABLE papers; --"}, "Not a category"),
    ({"from": "2026-09-01", "to": "2026-08-01"}, "start date is after the end date"),
    ({"from": "2026-02-30"}, "bad date"),
])
def test_bad_params_raise_one_invalid_each(params, message):
    with pytest.raises(Invalid, match=message):
        SearchRequest.from_params(params)


def test_a_query_can_be_required():
    assert SearchRequest.from_params({}).q == ""
    with pytest.raises(BadQuery, match="Type something"):
        SearchRequest.from_params({"q": " \x00 "}, require_q=True)


def test_search_errors_are_invalid():
    assert issubclass(BadQuery, Invalid)
