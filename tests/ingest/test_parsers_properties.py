"""Property tests for every ingest parser: whatever bytes arrive, each either parses or raises the
project's own error. OAI-PMH and Atom pages raise ArxivError for a page that is not one (a bad
record is a rejection inside the page); the Hugging Face JSON and bulk JSONL readers never raise:
every problem is a Rejection naming its file and line or item.

Inputs are real recorded replies (tests/fixtures) with their text, bytes and structure mutated,
plus arbitrary bytes and generated JSON."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.ingest import hf_daily, snapshot
from dailypapers.ingest.arxiv_api import ArxivError, parse_atom
from dailypapers.ingest.arxiv_oai import OAIPage, parse_oai
from dailypapers.ingest.pipeline import Item, Rejection

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OAI_PAGE = (FIXTURES / "arxiv/oai/arxivoaiharvester/ListRecordsResponse.xml").read_bytes()
ATOM_PAGE = (FIXTURES / "arxiv/atom/legacy/id_list=1111.2011v2.xml").read_bytes()
HF_DAY = gzip.decompress((FIXTURES / "hf_raw/2026-08-13.json.gz").read_bytes())
JSONL_LINE = (FIXTURES / "kaggle_sample.jsonl").read_text().splitlines()[0]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TEXT = re.compile(rb">([^<]+)<")


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """`seed` with some of its element texts replaced, bytes spliced in, or cut short."""
    data = seed
    texts = list(_TEXT.finditer(data))
    for _ in range(draw(st.integers(0, 4)) if texts else 0):
        m = texts[draw(st.integers(0, len(texts) - 1))]
        new = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
        data = data[:m.start(1)] + new + data[m.end(1):] if m.end(1) <= len(data) else data
        texts = list(_TEXT.finditer(data)) or texts
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=30)) + data[at:]
    if draw(st.integers(0, 4)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


XML_INPUTS = st.one_of(st.binary(max_size=300), mutated(OAI_PAGE), mutated(ATOM_PAGE))


@PROPERTY
@given(XML_INPUTS)
def test_oai_pmh_parses_or_raises_arxiv_error(data):
    try:
        page = parse_oai(data, source="test")
    except ArxivError:
        return
    assert isinstance(page, OAIPage)
    for paper in page.papers:
        assert paper.arxiv_id and paper.title


@PROPERTY
@given(XML_INPUTS)
def test_atom_parses_or_raises_arxiv_error(data):
    try:
        papers, rejected = parse_atom(data, source="test")
    except ArxivError:
        return
    assert all(p.arxiv_id and p.title for p in papers)
    assert all(isinstance(ref, str) and isinstance(reason, str) for ref, reason in rejected)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
PAPER_KEYS = ["id", "title", "summary", "authors", "publishedAt", "submittedOnDailyAt", "upvotes", "organization"]


@st.composite
def hf_files(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == 2:  # the real day with fields of its items replaced
        day = json.loads(HF_DAY)
        items = day["data"] if isinstance(day, dict) else day
        for _ in range(draw(st.integers(1, 5))):
            item = items[draw(st.integers(0, len(items) - 1))]
            paper = item.get("paper", item)
            paper[draw(st.sampled_from(PAPER_KEYS))] = draw(JSON_VALUES)
        return json.dumps(day).encode()
    return draw(mutated(HF_DAY))


@PROPERTY
@given(data=hf_files(), name=st.sampled_from(["2026-08-13.json", "list.json", "9999-99-99.json"]))
def test_hf_daily_json_never_raises(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("hf") / name
    path.write_bytes(data)
    for out in hf_daily.read_file(path):
        assert isinstance(out, (Item, Rejection))


@st.composite
def jsonl_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            lines.append(draw(st.binary(max_size=80)).replace(b"\n", b""))
        elif kind == 1:
            lines.append(json.dumps(draw(JSON_VALUES)).encode())
        elif kind == 2:
            record = json.loads(JSONL_LINE)
            record[draw(st.sampled_from(sorted(record)))] = draw(JSON_VALUES)
            lines.append(json.dumps(record).encode())
        else:
            lines.append(JSONL_LINE.encode())
    return b"\n".join(lines)


@PROPERTY
@given(data=jsonl_files(), packed=st.booleans())
def test_bulk_jsonl_never_raises(tmp_path_factory, data, packed):
    path = tmp_path_factory.mktemp("jsonl") / ("papers.jsonl.gz" if packed else "papers.jsonl")
    path.write_bytes(gzip.compress(data) if packed else data)
    for out in snapshot.read(path):
        assert isinstance(out, (Item, Rejection))
