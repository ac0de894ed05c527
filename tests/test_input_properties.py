"""Property tests for what arrives in URLs and uploads: dates, weeks, months and arXiv ids (path and
query), the search query language and a search's parameters, and BibTeX / RIS imports. Each either
parses or raises the project's own error (dailypapers.errors.Invalid and its kinds), never anything
else; what parses round-trips, and the OpenAPI document's patterns agree with these parsers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dailypapers import days
from dailypapers.citations import parse_bibtex, parse_ris
from dailypapers.errors import Invalid
from dailypapers.ids import parse_arxiv_id
from dailypapers.search.query import parse_query
from dailypapers.search.request import PARAMS, SearchRequest
from dailypapers.web.api import INPUT_PATTERNS

PROPERTY = settings(max_examples=300, deadline=None)

# text near the shapes the parsers look for, and anything at all
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=6)
DAYS = st.one_of(st.text(max_size=14), st.builds("{}-{}-{}".format, DIGITS, DIGITS, DIGITS),
                 st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat))
WEEKS = st.one_of(st.text(max_size=10), st.builds("{}-W{}".format, DIGITS, DIGITS))
MONTHS = st.one_of(st.text(max_size=10), st.builds("{}-{}".format, DIGITS, DIGITS))


@PROPERTY
@given(DAYS)
def test_a_day_parses_or_is_invalid(text):
    try:
        day = days.parse_day(text)
    except Invalid:
        assert not re.fullmatch(INPUT_PATTERNS["date"], text) or not _real_date(text)
        return
    assert day.isoformat() == text and re.fullmatch(INPUT_PATTERNS["date"], text)
    # stepping from any day a request may name never overflows
    assert days.step_day(day, -1) is None or days.step_day(day, -1) < day
    assert days.step_day(day, 1) is None or days.step_day(day, 1) > day
    days.week_label(day), days.month_label(day)


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@PROPERTY
@given(WEEKS)
def test_a_week_parses_or_is_invalid(text):
    try:
        start, end = days.parse_week(text)
    except Invalid:
        if re.fullmatch(INPUT_PATTERNS["week"], text):
            assert text.endswith("W53")  # the one rule the document states in words
        return
    assert re.fullmatch(INPUT_PATTERNS["week"], text)
    assert end - start == dt.timedelta(days=6) and days.week_label(start) == text


@PROPERTY
@given(MONTHS)
def test_a_month_parses_or_is_invalid(text):
    try:
        start, end = days.parse_month(text)
    except Invalid:
        assert not re.fullmatch(INPUT_PATTERNS["month"], text)
        return
    assert re.fullmatch(INPUT_PATTERNS["month"], text)
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and days.month_label(start) == text


@pytest.mark.parametrize("year", [1, 1899, 1900, 2026, 9998, 9999])
def test_the_year_bounds_agree_with_the_document(year):
    text = f"{year:04d}-06-15"
    allowed = days.MIN_YEAR <= year <= days.MAX_YEAR
    assert bool(re.fullmatch(INPUT_PATTERNS["date"], text)) is allowed
    assert bool(re.fullmatch(INPUT_PATTERNS["month"], text[:7])) is allowed


IDS = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"(arxiv:)?[0-9]{4}\.[0-9]{4,5}(v[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[a-z][a-z\-]{1,10}(\.[A-Z]{2})?/[0-9]{7}(v[0-9])?", fullmatch=True),
    st.builds("https://arxiv.org/{}/{}".format, st.sampled_from(["abs", "pdf", "html", "x"]), st.text(max_size=20)),
)


@PROPERTY
@given(IDS)
def test_an_arxiv_id_parses_or_is_invalid(text):
    try:
        parsed = parse_arxiv_id(text)
    except Invalid:
        assert not re.fullmatch(INPUT_PATTERNS["arxiv_id"], text)
        return
    assert parse_arxiv_id(str(parsed)) == parsed  # canonical form round-trips
    assert re.fullmatch(INPUT_PATTERNS["arxiv_id"], str(parsed))


QUERY_WORDS = st.sampled_from(['"', "-", "author:", "cat:", "year:", "year:2024-2025", "cs.CL", "(", ")", "OR",
                               "2608.19880", "https://arxiv.org/abs/2608.19880", "\x00", "\u202e", " "])
QUERIES = st.one_of(st.text(max_size=300), st.lists(st.one_of(QUERY_WORDS, st.text(max_size=8)), max_size=12)
                    .map("".join))


@PROPERTY
@given(QUERIES)
def test_the_query_language_never_raises(q):
    parsed = parse_query(q)
    assert parsed.raw == q


@PROPERTY
@given(st.dictionaries(st.sampled_from(sorted(PARAMS)), st.one_of(st.text(max_size=30), DAYS, QUERIES), max_size=8))
def test_search_parameters_parse_or_are_invalid(params):
    try:
        request = SearchRequest.from_params(params)
    except Invalid:
        return
    assert len(request.q) <= 250


BIB = st.lists(st.one_of(
    st.text(max_size=40),
    st.sampled_from(["@article{", "@misc{k,", "}", "{", "eprint={2608.19880}", "archivePrefix={arXiv}",
                     "title={A}", ",", "\n", "@string{a=", "@comment{", "doi={10.48550/arXiv.2608.19880}",
                     "url={https://arxiv.org/abs/2608.19880}", "\\", "%"]),
), max_size=20).map("".join)
RIS = st.lists(st.one_of(
    st.text(max_size=30),
    st.sampled_from(["TY  - JOUR\n", "ER  - \n", "TI  - A\n", "UR  - https://arxiv.org/abs/2608.19880\n",
                     "AU  - B\n", "DO  - 10.48550/arXiv.2608.19880\n", "\n", "  - ", "XX  - "]),
), max_size=20).map("".join)


@PROPERTY
@given(BIB)
def test_a_bibtex_import_parses_or_is_invalid(text):
    try:
        parsed = parse_bibtex(text)
    except Invalid:
        return
    assert all(re.fullmatch(INPUT_PATTERNS["arxiv_id"], i) for i in parsed.ids)


@PROPERTY
@given(RIS)
def test_a_ris_import_parses_or_is_invalid(text):
    try:
        parsed = parse_ris(text)
    except Invalid:
        return
    assert all(re.fullmatch(INPUT_PATTERNS["arxiv_id"], i) for i in parsed.ids)
