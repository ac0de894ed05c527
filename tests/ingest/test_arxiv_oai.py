"""The arXiv OAI-PMH harvester, against recorded arXiv replies served over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest

from dailypapers.ingest.arxiv_api import ArxivError
from dailypapers.ingest.arxiv_oai import OAIError, OAIHarvester, parse_oai, split_authors

UTC = dt.timezone.utc
RAW_PAGE = "oai/listrecords_pages/arXivRaw_token_496549-46001_page.xml.gz"
ARXIV_PAGE_1 = "oai/listrecords_pages/arXiv_token_436115-4001_page.xml.gz"
ARXIV_PAGE_2 = "oai/listrecords_pages/arXiv_token_436115-405001_page.xml.gz"
SMALL_RAW = "oai/arxivoaiharvester/ListRecordsResponse.xml"
NOCK_LIST = "oaipmh-listrecords---should-list-identifiers-from-arxiv.json"
ERRORS = "oai/arxivoaiharvester/ErrorResponse{}.xml"
INITIAL_ARXIV = {"verb": "ListRecords", "metadataPrefix": "arXiv"}


def harvester(server, store, **kw) -> OAIHarvester:
    kw.setdefault("delay", 0)
    kw.setdefault("metadata_prefix", "arXiv")
    return OAIHarvester(server.url + "/oai", store, **kw)


def serve_arxiv_chain(server, recorded) -> None:
    """Two recorded 1000-record arXiv pages, then arXiv's recorded 2-record page
    that has no resumptionToken (the end). Page N+1 is served for the token that
    page N carries."""
    server.add("/oai", INITIAL_ARXIV, recorded.xml(ARXIV_PAGE_1))  # -> 436115|5001
    server.add("/oai", {"resumptionToken": "436115|5001"}, recorded.xml(ARXIV_PAGE_2))  # -> 436115|406001
    last = recorded.nock(NOCK_LIST)[1]
    assert last.status == 200 and b"resumptionToken" not in last.body
    server.add("/oai", {"resumptionToken": "436115|406001"}, last)


def tokens(server) -> list[str | None]:
    return [r.params.get("resumptionToken") for r in server.requests]


def harvest_all(h: OAIHarvester, store) -> list:
    pages = []
    for page in h.pages():
        store.ingest_batch(page.papers)
        h.commit(page)
        pages.append(page)
    return pages


# -- parsing -------------------------------------------------------------------


def test_parse_arxivraw_page(recorded):
    page = parse_oai(recorded.xml(RAW_PAGE).body, source="raw page")
    assert len(page.papers) == 1000 and page.rejected == [] and page.deleted == []
    assert (page.resumption_token, page.cursor, page.complete_list_size) == ("496549|47001", 46000, 907096)
    assert page.response_date == dt.datetime(2014, 1, 16, 10, 33, 29, tzinfo=UTC)
    p = next(p for p in page.papers if p.arxiv_id == "0801.3674")
    assert p.version == 4
    assert p.published == dt.datetime(2008, 1, 23, 21, 13, 53, tzinfo=UTC)  # v1
    assert p.updated == dt.datetime(2008, 9, 11, 22, 3, 53, tzinfo=UTC)  # v4
    assert p.title == "A Study of Structure Formation and Reheating in the D3/D7 Brane Inflation Model"
    assert p.authors == ["Robert H. Brandenberger", "Keshav Dasgupta", "Anne-Christine Davis"]
    assert p.categories == ["hep-th", "astro-ph", "gr-qc", "hep-ph"]
    assert p.comment.startswith("Some sections expanded, typos corrected and references added. Final version")
    assert "\n" not in p.abstract and not p.abstract.startswith(" ")
    withdrawn = sorted(p.arxiv_id for p in page.papers if p.withdrawn)
    assert withdrawn == ["0801.4122", "0801.4138", "0801.4243", "0801.4311", "0801.4644"]


def test_parse_arxiv_format_page(recorded):
    page = parse_oai(recorded.xml(ARXIV_PAGE_1).body)
    assert len(page.papers) == 1000 and page.rejected == []
    assert (page.resumption_token, page.cursor, page.complete_list_size) == ("436115|5001", 4000, 846926)
    p = page.papers[0]
    assert p.arxiv_id == "0704.4001" and p.version is None
    assert p.authors == ["Michael R. Douglas", "Jessie Shelton", "Gonzalo Torroba"]
    assert p.published == dt.datetime(2007, 4, 30, tzinfo=UTC)
    assert p.updated == dt.datetime(2008, 1, 28, tzinfo=UTC)
    assert p.categories == ["hep-th"]
    assert p.comment == "Latex, 29 pp, 1 figure. Reference added, some typos corrected and minor changes to the content"
    assert sorted(p.arxiv_id for p in page.papers if p.withdrawn) == ["0705.0134", "0705.0619", "0705.0620"]


def test_parse_small_arxivraw_list_and_getrecord(recorded):
    page = parse_oai(recorded.xml(SMALL_RAW).body)
    assert [p.arxiv_id for p in page.papers][:3] == ["0704.0471", "0704.0716", "0704.0874"]
    assert page.papers[0].authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert page.papers[1].version == 4
    assert (page.resumption_token, page.cursor, page.complete_list_size) == ("726959|1001", 0, 58011)
    one = parse_oai(recorded.xml("oai/arxivoaiharvester/GetRecordResponse.xml").body)
    [p] = one.papers
    assert p.arxiv_id == "1302.2146" and p.version == 2
    assert p.authors == ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"]
    assert p.categories == ["hep-ph", "hep-ex"]
    assert p.published == dt.datetime(2013, 2, 8, 21, 0, 1, tzinfo=UTC)
    assert p.updated == dt.datetime(2013, 4, 2, 1, 50, 8, tzinfo=UTC)
    assert one.resumption_token is None


def test_split_authors():
    assert split_authors("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert split_authors("A. One,\n  B. Two, and\n C.   Three") == ["A. One", "B. Two", "C. Three"]
    assert split_authors("A. One (MIT and Harvard, USA), B. Two (CERN)") == ["A. One", "B. Two"]
    assert split_authors("John Smith, Jr. and Alexander Anderson") == ["John Smith Jr.", "Alexander Anderson"]
    assert split_authors("") == []


@pytest.mark.parametrize(
    "name, code",
    [
        ("BadArgument", "badArgument"),
        ("BadResumptionToken", "badResumptionToken"),
        ("BadVerb", "badVerb"),
        ("IdDoesNotExist", "idDoesNotExist"),
        ("NoRecordsMatch", "noRecordsMatch"),
    ],
)
def test_oai_error_replies(recorded, name, code):
    with pytest.raises(OAIError) as info:
        parse_oai(recorded.xml(ERRORS.format(name)).body, source="the request")
    assert info.value.code == code
    assert str(info.value).startswith(f"arXiv OAI-PMH error {code}: ")
    assert str(info.value).endswith("(the request)")


def test_record_missing_title_is_rejected_others_kept(recorded):
    xml = recorded.xml(SMALL_RAW).body.decode()
    broken = xml.replace("<title>Limit distributions and scaling functions</title>", "")
    assert broken != xml
    page = parse_oai(broken.encode())
    assert page.rejected == [("oai:arXiv.org:0704.0716", "missing title")]
    assert len(page.papers) == 5 and "0704.0716" not in {p.arxiv_id for p in page.papers}


def test_record_with_bad_id_or_no_metadata_is_rejected(recorded):
    xml = recorded.xml(SMALL_RAW).body.decode()
    broken = xml.replace("<id>0704.0471</id>", "<id>not-an-id</id>", 1)
    broken = broken.replace("<metadata>", "<metadataX>", 1).replace("</metadata>", "</metadataX>", 1)
    page = parse_oai(broken.encode())
    assert page.rejected == [("oai:arXiv.org:0704.0471", "no <metadata>")]
    broken = xml.replace("<id>0704.0716</id>", "<id>not-an-id</id>", 1)
    page = parse_oai(broken.encode())
    assert page.rejected == [("oai:arXiv.org:0704.0716", "bad arXiv id 'not-an-id'")]
    assert len(page.papers) == 5


def test_deleted_record(recorded):
    # A deleted record is a header with status="deleted" and no metadata (OAI-PMH 2.0, 2.5).
    xml = recorded.xml(SMALL_RAW).body.decode()
    start = xml.index("<record>\n<header>\n <identifier>oai:arXiv.org:0704.0716")
    end = xml.index("</record>", start) + len("</record>")
    deleted = (
        '<record>\n<header status="deleted">\n <identifier>oai:arXiv.org:0704.0716</identifier>\n'
        " <datestamp>2014-12-22</datestamp>\n</header>\n</record>"
    )
    page = parse_oai((xml[:start] + deleted + xml[end:]).encode())
    assert page.deleted == ["0704.0716"]
    assert len(page.papers) == 5 and page.rejected == []


def test_malformed_xml_names_the_source(recorded):
    body = recorded.xml(ARXIV_PAGE_1).body
    with pytest.raises(ArxivError, match=r"^https://x/oai\?resumptionToken=1: malformed XML"):
        parse_oai(body[: len(body) // 2], source="https://x/oai?resumptionToken=1")
    with pytest.raises(ArxivError, match="not an OAI-PMH response"):
        parse_oai(b"<html><body>Retry after 10 seconds</body></html>", source="x")


# -- harvesting over HTTP ----------------------------------------------------------


def test_harvest_pages_through_resumption_tokens(fixture_server, recorded, store):
    serve_arxiv_chain(fixture_server, recorded)
    h = harvester(fixture_server, store)
    pages = harvest_all(h, store)
    assert [len(p.papers) for p in pages] == [1000, 1000, 2]
    assert tokens(fixture_server) == [None, "436115|5001", "436115|406001"]
    first = fixture_server.requests[0].params
    assert first == {"verb": "ListRecords", "metadataPrefix": "arXiv"}
    # Follow-up requests carry only the verb and the token, as OAI-PMH requires.
    assert fixture_server.requests[1].params == {"verb": "ListRecords", "resumptionToken": "436115|5001"}
    assert store.get_paper("0704.4001").authors == ["Michael R. Douglas", "Jessie Shelton", "Gonzalo Torroba"]
    assert store.get_paper("hep-th/9504118") is not None
    # Done: no saved place; the next run continues from the first response's date.
    assert not store.get_state(h.checkpoint_key)
    assert store.get_state("oai:last_harvest:arXiv:") == "2013-05-24"


def test_next_run_defaults_from_to_last_harvest(fixture_server, recorded, store):
    store.set_state("oai:last_harvest:arXiv:cs", "2015-06-20")
    fixture_server.add("/oai", {"set": "cs"}, recorded.xml(ERRORS.format("NoRecordsMatch")))
    h = harvester(fixture_server, store, set_spec="cs")
    assert h.from_date == dt.date(2015, 6, 20) and h.from_is_default
    assert h.checkpoint_key == "oai:arXiv:cs:2015-06-20:"
    assert list(h.pages()) == []  # noRecordsMatch: nothing new, not an error
    assert fixture_server.requests[0].params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs",
        "from": "2015-06-20",
    }
    assert store.get_state("oai:last_harvest:arXiv:cs") == "2015-06-23"  # that reply's responseDate
    # An explicit --from wins over the saved date.
    h2 = harvester(fixture_server, store, set_spec="cs", from_date=dt.date(2015, 1, 1), until_date=dt.date(2015, 2, 1))
    assert h2.checkpoint_key == "oai:arXiv:cs:2015-01-01:2015-02-01" and not h2.from_is_default


def test_run_counts_outcomes(fixture_server, recorded, store):
    serve_arxiv_chain(fixture_server, recorded)
    seen = []
    summary = harvester(fixture_server, store).run(on_page=seen.append)
    assert (summary.added, summary.updated, summary.rejected) == (2002, 0, 0)
    assert len(seen) == 3
    # Harvesting the same pages again changes nothing.
    serve_arxiv_chain(fixture_server, recorded)
    store.set_state("oai:last_harvest:arXiv:", "")
    again = harvester(fixture_server, store).run()
    assert (again.added, again.unchanged) == (0, 2002)


def test_killed_harvest_resumes_from_the_saved_token(fixture_server, recorded, store):
    serve_arxiv_chain(fixture_server, recorded)
    first = harvester(fixture_server, store)
    for page in first.pages():
        store.ingest_batch(page.papers)
        first.commit(page)
        break  # killed after the first page was stored and committed
    saved = json.loads(store.get_state(first.checkpoint_key))
    assert saved["token"] == "436115|5001" and saved["pages"] == 1 and saved["records"] == 1000

    second = harvester(fixture_server, store)
    assert second.resumed_token == "436115|5001"
    pages = harvest_all(second, store)
    assert [len(p.papers) for p in pages] == [1000, 2]
    assert tokens(fixture_server) == [None, "436115|5001", "436115|406001"]  # no page fetched twice
    assert not store.get_state(second.checkpoint_key)
    assert store.get_state("oai:last_harvest:arXiv:") == "2013-05-24"  # the harvest's first reply
    assert store.stats()["papers"] == 2002


def test_page_not_committed_is_fetched_again(fixture_server, recorded, store):
    serve_arxiv_chain(fixture_server, recorded)
    first = harvester(fixture_server, store)
    with pytest.raises(RuntimeError):
        for page in first.pages():
            if page.resumption_token == "436115|406001":  # the second page
                raise RuntimeError("killed before this page was stored")
            store.ingest_batch(page.papers)
            first.commit(page)
    assert json.loads(store.get_state(first.checkpoint_key))["token"] == "436115|5001"
    harvest_all(harvester(fixture_server, store), store)
    assert tokens(fixture_server) == [None, "436115|5001", "436115|5001", "436115|406001"]


def test_asking_for_the_next_page_without_commit_is_an_error(fixture_server, recorded, store):
    serve_arxiv_chain(fixture_server, recorded)
    h = harvester(fixture_server, store)
    pages = h.pages()
    next(pages)
    with pytest.raises(ArxivError, match=r"commit\(page\) must be called"):
        next(pages)
    assert not store.get_state(h.checkpoint_key)


def test_expired_saved_token_is_cleared_with_a_clear_message(fixture_server, recorded, store):
    # The recorded reply is arXiv's answer to resumptionToken=3.
    fixture_server.add("/oai", {"resumptionToken": "3"}, recorded.xml(ERRORS.format("BadResumptionToken")))
    key = "oai:arXiv:::"
    store.set_state(key, json.dumps({"token": "3", "pages": 4, "records": 4000, "started": "2015-06-01"}))
    h = harvester(fixture_server, store)
    assert h.checkpoint_key == key and h.resumed_token == "3"
    with pytest.raises(ArxivError) as info:
        list(h.pages())
    message = str(info.value)
    assert "no longer accepts the saved resumption token '3'" in message
    assert "The saved place was cleared" in message and "\n" not in message
    assert not store.get_state(key)
    assert harvester(fixture_server, store).resumed_token is None


def test_bad_token_mid_harvest(fixture_server, recorded, store):
    # arXivRaw: a 1000-record page, then the 6-record page, whose token the server refuses.
    fixture_server.add("/oai", {"metadataPrefix": "arXivRaw"}, recorded.xml(RAW_PAGE))
    fixture_server.add("/oai", {"resumptionToken": "496549|47001"}, recorded.xml(SMALL_RAW))
    fixture_server.add("/oai", {"resumptionToken": "726959|1001"}, recorded.xml(ERRORS.format("BadResumptionToken")))
    h = harvester(fixture_server, store, metadata_prefix="arXivRaw")
    with pytest.raises(ArxivError, match="no longer accepts the resumption token '726959|1001'"):
        harvest_all(h, store)
    assert store.stats()["papers"] == 1006
    assert store.get_paper("0704.0716").version == 4
    assert not store.get_state(h.checkpoint_key)


def test_503_retry_after_is_honoured(fixture_server, recorded, store):
    busy, ok = recorded.nock(NOCK_LIST)
    assert busy.status == 503 and busy.headers["Retry-After"] == "10"
    recorded_request = {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-01", "until": "2015-01-03"}
    fixture_server.add("/oai", recorded_request, busy, ok)
    slept: list[float] = []
    h = harvester(
        fixture_server, store, from_date=dt.date(2015, 1, 1), until_date=dt.date(2015, 1, 3), sleep=slept.append
    )
    pages = harvest_all(h, store)
    assert slept == [10.0]
    assert len(fixture_server.requests) == 2
    assert [p.arxiv_id for p in pages[0].papers] == ["1412.8544", "hep-th/9504118"]


def test_retry_after_is_capped(fixture_server, recorded, store):
    busy, ok = recorded.nock(NOCK_LIST)
    fixture_server.add("/oai", INITIAL_ARXIV, recorded.Reply(503, busy.body, {"Retry-After": "86400"}), ok)
    slept: list[float] = []
    harvest_all(harvester(fixture_server, store, sleep=slept.append, max_retry_after=120), store)
    assert slept == [120]


def test_persistent_5xx_gives_up_with_a_clear_error(fixture_server, recorded, store):
    fixture_server.add("/oai", INITIAL_ARXIV, recorded.Reply(500, b"<html>Internal Server Error</html>"))
    slept: list[float] = []
    h = harvester(fixture_server, store, sleep=slept.append, max_retries=3, backoff=2.0)
    with pytest.raises(ArxivError, match=r"failed 4 times for .*/oai\?verb=ListRecords&metadataPrefix=arXiv"):
        list(h.pages())
    assert slept == [2.0, 4.0, 8.0]
    assert len(fixture_server.requests) == 4


def test_other_oai_errors_stop_with_the_code(fixture_server, recorded, store):
    fixture_server.add("/oai", INITIAL_ARXIV, recorded.xml(ERRORS.format("BadArgument")))
    with pytest.raises(OAIError, match="badArgument: Verb 'ListRecords', illegal argument 'identifier'"):
        list(harvester(fixture_server, store).pages())


def test_malformed_page_mid_harvest_names_the_request_and_keeps_the_place(fixture_server, recorded, store):
    page2 = recorded.xml(ARXIV_PAGE_2)
    fixture_server.add("/oai", INITIAL_ARXIV, recorded.xml(ARXIV_PAGE_1))
    fixture_server.add("/oai", {"resumptionToken": "436115|5001"}, recorded.Reply(200, page2.body[:100_000]))
    h = harvester(fixture_server, store)
    with pytest.raises(ArxivError, match=r"/oai\?verb=ListRecords&resumptionToken=436115\|5001: malformed XML"):
        harvest_all(h, store)
    assert json.loads(store.get_state(h.checkpoint_key))["token"] == "436115|5001"
    assert store.stats()["papers"] == 1000


def test_bad_metadata_prefix():
    with pytest.raises(ArxivError, match="unsupported OAI metadata format 'oai_dc'"):
        OAIHarvester("http://127.0.0.1:9/oai", store=None, metadata_prefix="oai_dc")


def test_pacing_between_pages(make_server, recorded, store):
    server = make_server()
    serve_arxiv_chain(server, recorded)
    server.start(process=True)
    issued: list[float] = []
    http = httpx.Client(event_hooks={"request": [lambda request: issued.append(time.monotonic())]})
    h = harvester(server, store, delay=0.2, client=http)
    for page in h.pages():
        h.commit(page)  # nothing stored: this test is about timing only
    assert len(issued) == 3 and all(b - a >= 0.2 for a, b in zip(issued, issued[1:])), issued
    times = [r.at for r in server.requests]
    # Server timestamps can lag arrival by its own thread scheduling (see the API test).
    assert all(b - a >= 0.2 - 0.005 for a, b in zip(times, times[1:])), times
