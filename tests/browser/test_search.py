"""Searching in a real browser on the demo data (9.9k real papers, semantic search on): type a
query, change the sort and a filter through the form, and check that the results stay on topic,
are in the asked order, and that the count matches them; a nonsense query says it found nothing.
Screenshots go to test-artifacts/search-*.png; axe-core finds no serious violations."""

from __future__ import annotations

import json
import re

import pytest
from demo_data import build_demo_data_dir, make_demo_app
from test_a11y import run_axe
from webapp import ServerThread

from dailypapers.search.query import SearchFilters
from dailypapers.search.request import SearchRequest

QUERY = "diffusion transformer"
TOP = 200


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-demo")
    embedder = build_demo_data_dir(data_dir)
    app, services = make_demo_app(data_dir, embedder)
    with ServerThread(app) as srv:
        app.state.site.base_url = srv.url
        yield srv, services
    services.store.close()


@pytest.fixture()
def axe_desktop(browser):
    # Our CSP forbids inline scripts, which is how axe is injected: bypass it for this check only.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context.new_page()
    context.close()


def card_ids(page) -> list[str]:
    hrefs = page.locator("ol.results h2.card-title a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    return [h.removeprefix("/papers/") for h in hrefs]


def count_of(page) -> tuple[str, int]:
    text = page.locator("p.count").inner_text()
    m = re.match(r"(About |Top )?(\d+) ", text)
    assert m, text
    return m.group(1) or "", int(m.group(2))


def assert_accessible(page, axe_path, artifacts, name: str) -> None:
    violations = run_axe(page, axe_path)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    if violations:
        (artifacts / f"axe-desktop-{name}.json").write_text(json.dumps(violations, indent=2))
    assert serious == [], json.dumps(serious, indent=2)


def test_sort_and_filter_through_the_form(demo_server, axe_desktop, axe_path, artifacts):
    srv, services = demo_server
    page = axe_desktop
    top = set()
    for n in (1, 2):
        res = services.search.search(SearchRequest(q=QUERY, per_page=TOP // 2, page=n))
        top |= {h.paper.arxiv_id for h in res.results}

    page.goto(srv.url + "/papers/search")
    page.fill("#q", QUERY)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=diffusion\+transformer"))
    relevance_ids = card_ids(page)
    label, total = count_of(page)
    assert relevance_ids and set(relevance_ids) <= top
    assert label in ("", "About ", "Top ") and total >= len(relevance_ids)
    assert "diffusion" in page.locator("ol.results h2.card-title").first.inner_text().lower()

    # Most upvoted, with code, at least 20 upvotes: chosen in the form, not typed into the URL.
    page.locator("details.filters summary").click()
    page.select_option("select[name=sort]", "upvotes")
    page.check("input[name=has_code]")
    page.fill("input[name=min_upvotes]", "20")
    page.locator("form.search-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"sort=upvotes"))
    assert "has_code=1" in page.url and "min_upvotes=20" in page.url
    ids = card_ids(page)
    assert ids, "some diffusion transformers with code have 20 upvotes"
    # The filters restrict the rankers before the relevance rule (search/engine.py): the page holds
    # the filtered relevance ranking, which reaches past the unfiltered top only when that was capped.
    filters = SearchFilters(has_code=True, min_upvotes=20)
    relevant = set()
    for n in (1, 2):
        res = services.search.search(SearchRequest(q=QUERY, per_page=TOP // 2, page=n, filters=filters))
        relevant |= {h.paper.arxiv_id for h in res.results}
    assert set(ids) <= relevant, "a filtered page shows only relevant papers"
    if services.search.search(SearchRequest(q=QUERY)).total_kind == "exact":
        assert set(ids) <= top
    papers = services.store.get_papers(ids)
    votes = [papers[i].upvotes for i in ids]
    assert votes == sorted(votes, reverse=True) and min(votes) >= 20
    assert all(papers[i].github_repo for i in ids)
    assert all("diffusion" in (papers[i].title + papers[i].abstract).lower() for i in ids)
    shown = [int(v) for v in page.locator("ol.results .upvote-count").all_inner_texts()]
    assert shown == votes
    label, total = count_of(page)
    if not page.locator("a[rel=next]").count():  # one page: the count is exactly what is listed
        assert total == len(ids)
    page.screenshot(path=str(artifacts / "search-desktop-1-sorted-filtered.png"), full_page=True)
    assert_accessible(page, axe_path, artifacts, "search-sorted-filtered")


def test_nonsense_says_nothing_matches(demo_server, axe_desktop, axe_path, artifacts):
    srv, _ = demo_server
    page = axe_desktop
    page.goto(srv.url + "/papers/search")
    page.fill("#q", "zzqxvbnm qwpfk")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=zzqxvbnm"))
    assert card_ids(page) == [] and page.locator("p.count").count() == 0
    empty = page.locator(".no-match")
    assert "No papers match “zzqxvbnm qwpfk”." in empty.inner_text()
    assert "Check the spelling" in empty.inner_text()
    page.screenshot(path=str(artifacts / "search-desktop-2-no-match.png"), full_page=True)
    assert_accessible(page, axe_path, artifacts, "search-no-match")


def test_an_unknown_arxiv_id_offers_ways_forward(demo_server, axe_desktop, axe_path, artifacts):
    srv, _ = demo_server
    page = axe_desktop
    page.goto(srv.url + "/papers/search")
    page.fill("#q", "2612.00001")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=2612.00001"))
    box = page.locator(".missing-id")
    assert "arXiv:2612.00001 is not in this collection yet." in box.inner_text()
    assert box.get_by_role("link", name="Submit it").get_attribute("href") == "/papers/submit?id=2612.00001"
    assert box.get_by_role("link", name="View on arXiv").get_attribute("href") == "https://arxiv.org/abs/2612.00001"
    page.screenshot(path=str(artifacts / "search-desktop-3-unknown-id.png"), full_page=True)
    assert_accessible(page, axe_path, artifacts, "search-unknown-id")
    box.get_by_role("link", name="Submit it").click()
    page.wait_for_url(re.compile(r"/login\?next="))  # members only: log in, then the form is prefilled
    assert "id%3D2612.00001" in page.url
