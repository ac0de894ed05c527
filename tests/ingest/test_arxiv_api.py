"""The arXiv search API client, against recorded arXiv responses served over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest

from dailypapers.ingest.arxiv_api import ArxivClient, ArxivError, is_withdrawn, parse_atom, parse_retry_after

UTC = dt.timezone.utc
RECORDED_IDS = [
    "id_0000.0000_s0_m100_8b51d9633a68.json",
    "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json",
    "id_0808.05394_s0_m100_7b0c7d0a7cdd.json",
    "id_1605.08386_s0_m100_199195aa31ad.json",
    "id_1707.08567_s0_m100_6a1afebfc6a3.json",
    "id_2104.12255v1_s0_m100_6ae69987ffe1.json",
    "id_abc_s0_m100_b79c8dcf6bc3.json",
    "id_astro-ph_0601001_s0_m100_3150dca9dc76.json",
    "id_quant-ph_0201082v1_s0_m100_86989fe779ef.json",
]


def body(recorded, name: str) -> bytes:
    return recorded.atom(name)[1].body


@pytest.fixture
def api(fixture_server, recorded):
    """The server answers /api/query by id_list, as arXiv did when recorded."""
    for name in RECORDED_IDS:
        params, reply = recorded.atom(name)
        fixture_server.add("/api/query", {"id_list": params["id_list"]}, reply)
    return fixture_server


def client_for(server, **kw) -> ArxivClient:
    kw.setdefault("delay", 0)
    return ArxivClient(server.url + "/api/query", **kw)


# -- the parser ----------------------------------------------------------------


def test_parse_current_layout_old_style_id(recorded):
    papers, rejected = parse_atom(body(recorded, "id_astro-ph_0601001_s0_m100_3150dca9dc76.json"))
    assert rejected == []
    [p] = papers
    assert p.arxiv_id == "astro-ph/0601001"
    assert p.version == 1
    assert p.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III")
    assert p.abstract.startswith("We derive the frequencies of hot Jupiters (HJs)")
    assert "V_max<17.5" in p.abstract  # entities decoded
    assert p.authors == ["Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski"]
    assert p.categories == ["astro-ph"]
    assert p.published == dt.datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert p.updated == dt.datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert p.comment.startswith("62 pages including 16 figures and 9 tables.")
    assert p.withdrawn is False


def test_parse_legacy_layout_collapses_whitespace_and_puts_primary_first(recorded):
    xml = (recorded.root / "atom" / "legacy" / "id_list=1111.2011v2.xml").read_bytes()
    [p], rejected = parse_atom(xml)
    assert rejected == []
    assert p.arxiv_id == "1111.2011" and p.version == 2
    assert p.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert "\n" not in p.abstract and "  " not in p.abstract
    assert p.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert p.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert p.published == dt.datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert p.updated == dt.datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert p.comment == "8 pages, 3 figures. Published version"


def test_parse_legacy_search_page(recorded):
    xml = (recorded.root / "atom" / "legacy" / "search_query=au_del_maestro.xml").read_bytes()
    papers, rejected = parse_atom(xml)
    assert rejected == [] and len(papers) == 10
    assert [p.arxiv_id for p in papers][:3] == ["1201.4869", "cond-mat/0412498", "cond-mat/0603029"]
    assert all(p.version and p.title and p.authors and p.abstract for p in papers)


def test_primary_category_first_even_when_listed_later(recorded):
    xml = body(recorded, "id_quant-ph_0201082v1_s0_m100_86989fe779ef.json").decode()
    # Same real entry with its <category> elements in the other order.
    a = '<category term="quant-ph" scheme="http://arxiv.org/schemas/atom"/>'
    b = '<category term="cs.PL" scheme="http://arxiv.org/schemas/atom"/>'
    swapped = xml.replace(a, "@@").replace(b, a).replace("@@", b)
    assert swapped != xml
    [p], _ = parse_atom(swapped.encode())
    assert p.categories == ["quant-ph", "cs.PL"]


def test_error_entry_is_rejected_with_arxivs_message(recorded):
    papers, rejected = parse_atom(body(recorded, "id_abc_s0_m100_b79c8dcf6bc3.json"))
    assert papers == []
    [(ref, reason)] = rejected
    assert "incorrect_id_format_for_abc" in ref
    assert "incorrect id format for abc" in reason


def test_empty_feed_has_no_papers(recorded):
    assert parse_atom(body(recorded, "id_0000.0000_s0_m100_8b51d9633a68.json")) == ([], [])


def test_entry_missing_title_is_rejected_and_others_kept(recorded):
    xml = body(recorded, "q_testing_s0_m10_bc5a6c384fe9.json").decode()
    broken = xml.replace(
        "<title>Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques</title>", ""
    )
    assert broken != xml
    papers, rejected = parse_atom(broken.encode())
    assert len(papers) == 9
    assert rejected == [("http://arxiv.org/abs/2202.12139v1", "missing title")]


def test_malformed_xml_names_the_source(recorded):
    xml = body(recorded, "id_1605.08386_s0_m100_199195aa31ad.json")
    with pytest.raises(ArxivError, match=r"^arXiv API id_list=1605.08386: malformed XML"):
        parse_atom(xml[: len(xml) // 2], source="arXiv API id_list=1605.08386")


def test_withdrawn_detection_on_real_wordings():
    # Comments and abstracts of withdrawn papers in the recorded OAI pages.
    assert is_withdrawn("This paper has been withdrawn", None)
    assert is_withdrawn("40 pages, 1 figure, This paper has been withdrawn by the author due to a gap", None)
    assert is_withdrawn(None, "This submission has been withdrawn by arXiv administrators because it is a duplicate")
    assert is_withdrawn("5 pages", "This paper has been withdrawn by the author since $U$ in Lemma 2 is ...")
    assert not is_withdrawn("16 pages, 14 figures", "The density dependence of the symmetry energy ...")
    assert not is_withdrawn(None, "We study how heat is withdrawn from the plasma boundary.")


def test_withdrawn_atom_entry_sets_flag(recorded):
    xml = body(recorded, "id_2104.12255v1_s0_m100_6ae69987ffe1.json").decode()
    assert "<arxiv:comment>" not in xml
    marked = xml.replace(
        "<arxiv:primary_category", "<arxiv:comment>This paper has been withdrawn</arxiv:comment><arxiv:primary_category"
    )
    [p], _ = parse_atom(marked.encode())
    assert p.withdrawn is True and p.comment == "This paper has been withdrawn"


def test_retry_after_values():
    assert parse_retry_after("10") == 10.0
    assert parse_retry_after("100000", cap=60) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- the client over HTTP --------------------------------------------------------


def test_fetch_old_style_id(api):
    result = client_for(api).fetch(["astro-ph/0601001"])
    assert [p.arxiv_id for p in result.papers] == ["astro-ph/0601001"]
    assert result.missing == [] and result.rejected == []
    [seen] = api.requests
    assert seen.params["id_list"] == "astro-ph/0601001"
    assert seen.params["max_results"] == "1"


def test_fetch_versioned_ids_and_urls_in_batches(api):
    client = client_for(api, batch_size=1)
    result = client.fetch(["quant-ph/0201082v1", "https://arxiv.org/abs/2104.12255v1", "arXiv:1605.08386"])
    assert [(p.arxiv_id, p.version) for p in result.papers] == [
        ("quant-ph/0201082", 1),
        ("2104.12255", 1),
        ("1605.08386", 1),
    ]
    assert [r.params["id_list"] for r in api.requests] == ["quant-ph/0201082v1", "2104.12255v1", "1605.08386"]
    assert result.papers[1].title == "0"  # a real one-character title, kept as is


def test_fetch_list_reports_unknown_id_as_missing(api):
    result = client_for(api).fetch(["0808.05394", "1707.08567"])
    assert [r.params["id_list"] for r in api.requests] == ["0808.05394,1707.08567"]
    assert [p.arxiv_id for p in result.papers] == ["1707.08567"]
    assert result.papers[0].authors[:2] == ["Kees A. Schouhamer Immink", "Stan Baggen"]
    assert result.missing == ["0808.05394"]


def test_fetch_empty_result_is_missing(api):
    client = client_for(api)
    result = client.fetch(["0000.0000"])
    assert result.papers == [] and result.missing == ["0000.0000"] and result.rejected == []
    assert client.lookup("0000.0000") is None


def test_lookup_one(api):
    paper = client_for(api).lookup("1605.08386")
    assert paper is not None and paper.arxiv_id == "1605.08386"


def test_malformed_id_is_rejected_locally_without_a_request(api):
    result = client_for(api).fetch(["abc", "astro-ph/0601001"])
    assert result.rejected == [("abc", "not an arXiv id: 'abc'")]
    assert [p.arxiv_id for p in result.papers] == ["astro-ph/0601001"]
    assert [r.params["id_list"] for r in api.requests] == ["astro-ph/0601001"]
    with pytest.raises(ArxivError, match="not an arXiv id"):
        client_for(api).lookup("abc")


def test_http_400_from_arxiv_is_a_rejection_with_its_message(api):
    result = client_for(api).fetch(["abc"], check_ids=False)
    assert result.papers == [] and result.missing == []
    [(ref, reason)] = result.rejected
    assert ref == "abc"
    assert "HTTP 400" in reason and "incorrect id format for abc" in reason


def test_http_400_for_a_list_retries_ids_one_by_one(api, recorded):
    # arXiv refuses a whole id_list with a malformed id in it: the same recorded
    # 400 reply stands for that combined request.
    api.add("/api/query", {"id_list": "abc,1605.08386"}, recorded.atom("id_abc_s0_m100_b79c8dcf6bc3.json")[1])
    result = client_for(api).fetch(["abc", "1605.08386"], check_ids=False)
    assert [r.params["id_list"] for r in api.requests] == ["abc,1605.08386", "abc", "1605.08386"]
    assert [p.arxiv_id for p in result.papers] == ["1605.08386"]
    assert [ref for ref, _ in result.rejected] == ["abc"]


def test_503_retry_after_is_honoured(fixture_server, recorded):
    busy = recorded.nock("oaipmh-listrecords---should-list-identifiers-from-arxiv.json")[0]
    assert busy.status == 503 and busy.headers["Retry-After"] == "10"
    params, ok = recorded.atom("id_1605.08386_s0_m100_199195aa31ad.json")
    fixture_server.add("/api/query", {"id_list": "1605.08386"}, busy, ok)
    slept: list[float] = []
    result = client_for(fixture_server, sleep=slept.append).fetch(["1605.08386"])
    assert slept == [10.0]
    assert len(fixture_server.requests) == 2
    assert [p.arxiv_id for p in result.papers] == ["1605.08386"]


def test_persistent_5xx_gives_a_clear_error(fixture_server, recorded):
    fixture_server.add("/api/query", {}, recorded.Reply(502, b"<html>Bad Gateway</html>"))
    slept: list[float] = []
    client = client_for(fixture_server, sleep=slept.append, max_retries=2, backoff=1.0)
    with pytest.raises(ArxivError, match=r"failed 3 times \(last: HTTP 502\)"):
        client.fetch(["1605.08386"])
    assert slept == [1.0, 2.0]
    assert len(fixture_server.requests) == 3


def test_unreachable_server_gives_a_clear_error():
    client = ArxivClient("http://127.0.0.1:9/api/query", delay=0, max_retries=1, sleep=lambda s: None, timeout=2)
    with pytest.raises(ArxivError, match="arXiv API at http://127.0.0.1:9/api/query failed 2 times"):
        client.fetch(["1605.08386"])


def test_pacing_between_requests(make_server, recorded):
    server = make_server()
    for name in RECORDED_IDS:
        params, reply = recorded.atom(name)
        server.add("/api/query", {"id_list": params["id_list"]}, reply)
    server.start(process=True)  # arrival times measured outside this process's GIL
    issued: list[float] = []
    http = httpx.Client(event_hooks={"request": [lambda request: issued.append(time.monotonic())]})
    client = client_for(server, delay=0.2, batch_size=1, client=http)
    result = client.fetch(["1605.08386", "1707.08567", "astro-ph/0601001"])
    assert len(result.papers) == 3
    # The client issues each request at least 0.2 s after the previous one went out.
    assert len(issued) == 3
    assert all(b - a >= 0.2 for a, b in zip(issued, issued[1:])), issued
    # The server sees the same spacing, up to its own scheduling: its timestamp is
    # taken when its handler thread runs, which can lag arrival by a millisecond or two.
    # Only the floor is the behaviour; how much longer a loaded machine takes is not (the
    # upper bound only catches a runaway wait).
    times = [r.at for r in server.requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 2 and all(0.2 - 0.005 <= g < 2.0 for g in gaps), gaps


def test_recorded_fixture_urls_are_what_the_routes_assume(recorded):
    # Guard: each recording is the id_list request its file name says.
    for name in RECORDED_IDS:
        url = json.loads((recorded.root / "atom" / "recorded" / name).read_text())["url"]
        assert "id_list=" in url and "export.arxiv.org/api/query" in url
