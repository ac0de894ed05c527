"""Citation downloads and the paper page's Zotero meta tags, over real HTTP into the app (real SQLite
loaded with the Hugging Face fixtures, the real search engine). What comes back is read with
bibtexparser, rispy, json and lxml: parsers a reference manager would use, not ours."""

from __future__ import annotations

import json
import re

import bibtexparser
import lxml.html
import pytest
import rispy
from bibtexparser import middlewares

from dailypapers.citations import parse_bibtex, parse_ris, split_name

PAPER = "2608.19880"  # EnvHarness, 17 authors, listed on 2026-08-21
CARD_IDS = re.compile(r'<h2 class="card-title"[^>]*><a href="/papers/([^"]+)">')


def read_bib(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text, append_middleware=[middlewares.SeparateCoAuthors(),
                                                                 middlewares.SplitNameParts()])
    assert library.failed_blocks == []
    return library


def authors_of(client, arxiv_id: str) -> list[str]:
    r = client.get(f"/api/papers/{arxiv_id}")
    assert r.status_code == 200
    return [a["name"] for a in r.json()["authors"]]


def assert_attachment(r, media_type: str, filename: str):
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == media_type
    assert r.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert r.headers["etag"]
    assert r.headers["x-content-type-options"] == "nosniff"


# -- one paper ------------------------------------------------------------------------------------
def test_paper_bibtex(client):
    r = client.get(f"/papers/{PAPER}.bib")
    assert_attachment(r, "application/x-bibtex; charset=utf-8", f"{PAPER}.bib")
    (entry,) = read_bib(r.text).entries
    assert entry.key == "huang2026envharness" and entry.entry_type == "misc"
    assert entry["eprint"] == PAPER and entry["archivePrefix"] == "arXiv"
    assert entry["doi"] == f"10.48550/arXiv.{PAPER}" and entry["url"] == f"https://arxiv.org/abs/{PAPER}"
    assert entry["year"] == "2026" and entry["month"] == "aug"
    assert entry["title"] == "{EnvHarness}: Awakening Static Worlds for Agent Learning"
    names = authors_of(client, PAPER)
    assert len(names) == 17
    got = [" ".join(n.first + n.von + n.last) for n in entry["author"]]
    assert got == names  # every author, in the paper's order
    # a second request is answered from the cache, and revalidates
    again = client.get(f"/papers/{PAPER}.bib", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_paper_ris_and_csl(client):
    names = authors_of(client, PAPER)
    r = client.get(f"/papers/{PAPER}.ris")
    assert_attachment(r, "application/x-research-info-systems; charset=utf-8", f"{PAPER}.ris")
    (record,) = rispy.loads(r.text)
    assert record["title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert record["authors"] == [split_name(n).inverted() for n in names]
    assert record["authors"][0] == "Huang, Chengsong" and record["authors"][-1] == "Lee, Chen-Yu"
    assert record["doi"] == f"10.48550/arXiv.{PAPER}" and record["date"] == "2026/08/20/"
    assert parse_ris(r.text).ids == [PAPER]

    r = client.get(f"/papers/{PAPER}.csl.json")
    assert_attachment(r, "application/vnd.citationstyles.csl+json", f"{PAPER}.csl.json")
    (item,) = json.loads(r.content)
    assert item["id"] == "huang2026envharness" and item["type"] == "article"
    assert [f"{a['given']} {a['family']}" for a in item["author"]] == names
    assert item["issued"] == {"date-parts": [[2026, 8, 20]]}
    assert item["DOI"] == f"10.48550/arXiv.{PAPER}" and item["number"] == f"arXiv:{PAPER}"


def test_particles_from_real_data(client):
    """Gustavo de Rosa (2608.08888): the particle stays with the family name in every format."""
    bib = read_bib(client.get("/papers/2608.08888.bib").text).entries[0]["author"]
    rosa = next(n for n in bib if n.last == ["Rosa"])
    assert (rosa.first, rosa.von) == (["Gustavo"], ["de"])
    assert "de Rosa, Gustavo" in rispy.loads(client.get("/papers/2608.08888.ris").text)[0]["authors"]
    csl = json.loads(client.get("/papers/2608.08888.csl.json").content)[0]["author"]
    assert {"family": "Rosa", "given": "Gustavo", "non-dropping-particle": "de"} in csl


def test_dollar_in_a_title_is_escaped(client):
    entry = read_bib(client.get("/papers/2608.14614.bib").text).entries[0]
    assert entry["title"] == r"{DumpsterCluster}: From Dumpster Diving to Serving {LLaMA-70B} on \$60 {GPUs}"


def test_paper_export_errors(client):
    r = client.get(f"/papers/{PAPER}v2.bib")
    assert r.status_code == 301 and r.headers["location"] == f"/papers/{PAPER}.bib"
    assert client.get("/papers/2608.99999.bib").status_code == 404  # an id we do not hold
    assert client.get("/papers/2608.99999.csl.json").status_code == 404
    assert client.get("/papers/not-an-id.ris").status_code == 404


# -- a day's list ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sort", ["upvotes", "newest"])
def test_day_export_has_the_pages_papers_in_its_order(client, sort):
    query = "" if sort == "upvotes" else f"?sort={sort}"
    page = client.get(f"/papers/date/2026-08-21{query}")
    ids = CARD_IDS.findall(page.text)
    assert len(ids) == 17
    r = client.get(f"/papers/date/2026-08-21.bib{query}")
    assert_attachment(r, "application/x-bibtex; charset=utf-8", "dailypapers-2026-08-21.bib")
    library = read_bib(r.text)
    assert [e["eprint"] for e in library.entries] == ids
    assert len({e.key for e in library.entries}) == 17
    # import what was exported: the same papers, in the same order
    assert parse_bibtex(r.text).ids == ids
    ris = client.get(f"/papers/date/2026-08-21.ris{query}")
    assert_attachment(ris, "application/x-research-info-systems; charset=utf-8", "dailypapers-2026-08-21.ris")
    assert parse_ris(ris.text).ids == ids
    csl = client.get(f"/papers/date/2026-08-21.csl.json{query}")
    assert [item["number"] for item in json.loads(csl.content)] == [f"arXiv:{i}" for i in ids]


def test_day_export_errors(client):
    assert client.get("/papers/date/2026-08-22.bib").status_code == 404  # a Saturday: nothing listed
    assert client.get("/papers/date/2026-13-01.bib").status_code == 400
    assert client.get("/papers/date/2026-08-21.ris?sort=sideways").status_code == 400


# -- search results --------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["q=agent", "q=agent&sort=newest&page=2", "q=language+model&has_code=1"])
def test_search_export_has_the_pages_results(client, query):
    page = client.get(f"/papers/search?{query}")
    ids = CARD_IDS.findall(page.text)
    assert ids
    r = client.get(f"/papers/search.bib?{query}")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith(
        'attachment; filename="dailypapers-search-')
    assert [e["eprint"] for e in read_bib(r.text).entries] == ids
    assert parse_ris(client.get(f"/papers/search.ris?{query}").text).ids == ids
    assert len(json.loads(client.get(f"/papers/search.csl.json?{query}").content)) == len(ids)


@pytest.mark.parametrize("query", ["", "q=", "q=agent&from=yesterday", "q=agent&sort=sideways", "q=agent&page=0",
                                   "q=" + "x" * 300])
def test_search_export_bad_query_is_400(client, query):
    assert client.get(f"/papers/search.bib?{query}").status_code == 400


# -- the links on the pages ------------------------------------------------------------------------
def export_links(html: str) -> dict[str, str]:
    doc = lxml.html.fromstring(html)
    return {a.text_content(): a.get("href") for a in doc.xpath('//p[contains(@class, "export-links")]/a')}


@pytest.mark.parametrize("page, expected", [
    (f"/papers/{PAPER}", f"/papers/{PAPER}"),
    ("/papers/date/2026-08-21", "/papers/date/2026-08-21"),
    ("/papers/date/2026-08-21?sort=trending", "/papers/date/2026-08-21"),
    ("/", "/papers/date/2026-08-21"),
    ("/papers/search?q=agent&sort=newest", "/papers/search"),
])
def test_pages_link_their_exports(client, page, expected):
    links = export_links(client.get(page).text)
    assert set(links) == {"BibTeX", "RIS", "CSL-JSON"}
    assert links["BibTeX"].split("?")[0] == expected + ".bib"
    assert links["CSL-JSON"].split("?")[0] == expected + ".csl.json"
    for href in links.values():  # each link downloads
        r = client.get(href)
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    if "?" in page and page != "/":
        assert links["RIS"].split("?")[1] == page.split("?")[1]  # same parameters as the page


def test_no_export_links_on_an_empty_day(client):
    assert export_links(client.get("/papers/date/2026-08-22").text) == {}


# -- Zotero: Highwire Press meta tags ------------------------------------------------------------------
def meta_tags(html: str) -> list[tuple[str, str]]:
    doc = lxml.html.fromstring(html)
    return [(m.get("name"), m.get("content")) for m in doc.xpath("//head/meta[starts-with(@name, 'citation_')]")]


def test_paper_page_citation_meta(client):
    r = client.get(f"/papers/{PAPER}")
    tags = meta_tags(r.text)
    names = authors_of(client, PAPER)
    assert [c for n, c in tags if n == "citation_author"] == [split_name(a).inverted() for a in names]
    assert [c for n, c in tags if n == "citation_author"][:2] == ["Huang, Chengsong", "Wang, Zifeng"]
    d = dict(tags)
    assert d["citation_title"] == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert d["citation_publication_date"] == "2026/08/20"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", d["citation_online_date"])
    assert d["citation_arxiv_id"] == PAPER
    assert d["citation_pdf_url"] == f"https://arxiv.org/pdf/{PAPER}"
    assert d["citation_abstract_html_url"] == f"http://testserver/papers/{PAPER}"
    assert d["citation_doi"] == f"10.48550/arXiv.{PAPER}"
    assert d["citation_abstract"].startswith("LLM agents learn by interacting with environments")
    assert "agent's weaknesses" in d["citation_abstract"]  # the apostrophe was escaped and reads back


def test_citation_meta_is_escaped(client):
    """"Poor Man's ..." (2608.11215): the quote in the title is escaped in the attribute, and a real
    HTML parser reads the title back unchanged."""
    r = client.get("/papers/2608.11215")
    assert "citation_title\" content=\"Poor Man&#39;s Agentic Modeling" in r.text
    d = dict(meta_tags(r.text))
    assert d["citation_title"].startswith("Poor Man's Agentic Modeling")
    api = client.get("/api/papers/2608.11215").json()
    assert d["citation_title"] == " ".join(api["title"].split())
