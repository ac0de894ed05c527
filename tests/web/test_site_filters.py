"""The template filters of web/site.py that every card calls: the date as strftime wrote it, and
only http(s) links in href attributes."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dailypapers.web.site import fmt_date, repo_label, safe_url


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_date_reads_as_strftime_wrote_it(day):
    assert fmt_date(day) == day.strftime("%b %-d, %Y")
    assert fmt_date(dt.datetime.combine(day, dt.time(23, 59))) == day.strftime("%b %-d, %Y")
    assert fmt_date(day, "long") == day.strftime("%A, %B %-d, %Y")


def test_dates():
    assert fmt_date(None) == ""
    assert fmt_date(dt.date(2026, 8, 3)) == "Aug 3, 2026"
    assert fmt_date(dt.datetime(2026, 12, 25, 9, 0, tzinfo=dt.timezone.utc)) == "Dec 25, 2026"
    assert fmt_date(dt.date(2026, 8, 3), "long") == "Monday, August 3, 2026"


def test_only_http_links_are_safe():
    assert safe_url("https://example.org/x") == "https://example.org/x"
    assert safe_url("HTTP://EXAMPLE.ORG") == "HTTP://EXAMPLE.ORG"
    for bad in (None, "", "javascript:alert(1)", " https://example.org", "ftp://example.org", "//example.org"):
        assert safe_url(bad) is None


def test_repository_labels():
    assert repo_label("https://github.com/huggingface/transformers.git") == "huggingface/transformers"
    assert repo_label("http://www.github.com/a/b?tab=readme") == "a/b"
    assert repo_label("https://www.example.org/code/") == "example.org/code"
    assert repo_label(None) == ""
