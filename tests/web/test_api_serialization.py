"""The API's fast serialization writes exactly what the plain one wrote: answers of papers through
orjson (`dumps_papers`), the organizations' ids from a cache, the authors' ids from one hash of their
common prefix, `iso` without strftime."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from dailypapers.models import Organization, StoredPaper
from dailypapers.web.api import author_ids, dumps, dumps_papers, iso, item_json, org_id, synth_id

TEXT = st.text(st.characters(blacklist_categories=("Cs",)))  # any text JSON can carry (no lone surrogates)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def hf_time(value: dt.datetime | dt.date) -> str:
    """What HF writes: the UTC time to the millisecond, year in four digits, then Z."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.timezone.utc)
    v = (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond // 1000:03d}Z")


@given(JSON)
def test_dumps_papers_writes_the_bytes_of_dumps(value):
    assert dumps_papers(value) == dumps(value)


def test_dumps_papers_falls_back_to_dumps_where_orjson_refuses():
    for value in ({1: "a"}, [2**70], {"n": -(2**64)}, {"a": {2: None}}):
        assert dumps_papers(value) == dumps(value)


def test_text_json_escapes_the_same_way():
    tricky = 'quote " backslash \\ nul \x00 tab \t newline \n del \x7f \u2028 \u2029 </script> é 😀 \ufeff'
    assert dumps_papers({"t": tricky}) == dumps({"t": tricky})
    assert json.loads(dumps_papers({"t": tricky})) == {"t": tricky}


@given(st.datetimes(min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9998, 12, 31),
                    timezones=st.none() | st.timezones()))
def test_iso_writes_hf_times(value):
    assert iso(value) == hf_time(value)


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9998, 12, 31)))
def test_iso_of_a_day_is_its_midnight(day):
    assert iso(day) == hf_time(day)


def test_iso_writes_utc_with_milliseconds():
    assert iso(None) is None
    assert iso(dt.datetime(2026, 8, 3, 12, 0, 0, 123999, tzinfo=dt.timezone.utc)) == "2026-08-03T12:00:00.123Z"
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert iso(dt.datetime(2026, 8, 3, 1, 30, tzinfo=plus2)) == "2026-08-02T23:30:00.000Z"
    assert iso(dt.date(2026, 8, 3)) == "2026-08-03T00:00:00.000Z"


@given(TEXT)
def test_the_cached_org_id_is_its_synth_id(name):
    assert org_id(name) == synth_id("org", name)


@given(TEXT, st.lists(TEXT, max_size=12))
def test_author_ids_are_their_synth_ids(arxiv_id, names):
    assert author_ids(arxiv_id, names) == [synth_id("author", arxiv_id, i, name) for i, name in enumerate(names)]


def test_an_item_names_its_authors_organization_and_discussion_by_synth_id():
    paper = StoredPaper("2608.19880", "A title", "An abstract.", ["Ada Lovelace", "Émile Borel"],
                        published=dt.datetime(2026, 8, 3, 17, 5, tzinfo=dt.timezone.utc),
                        organization=Organization("acme", "ACME Labs"), hf_upvotes=4)
    item = item_json(paper, None, "http://x")
    assert [a["_id"] for a in item["paper"]["authors"]] == [
        synth_id("author", "2608.19880", 0, "Ada Lovelace"), synth_id("author", "2608.19880", 1, "Émile Borel")]
    assert item["paper"]["discussionId"] == synth_id("discussion", "2608.19880")
    assert item["organization"]["_id"] == item["paper"]["organization"]["_id"] == synth_id("org", "acme")
    assert item["publishedAt"] == item["paper"]["publishedAt"] == "2026-08-03T17:05:00.000Z"
