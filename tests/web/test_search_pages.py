"""The search page's ways forward, on the web fixture data (Hugging Face papers, keyword search
only): unknown arXiv ids, categories offered only when some paper has one, honest counts, and
what a search that finds nothing says."""

from __future__ import annotations

import html as htmlmod
import re

from test_member_pages import PASSWORD, logged_in
from webapp import Client, make_app

from dailypapers.models import Paper

CARD_LINK = re.compile(r'<h2 class="card-title"[^>]*><a href="/papers/([^"?#]+)"')
COUNT = re.compile(r'<p class="count"[^>]*>(About |Top )?(\d+) ')
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


def test_unknown_arxiv_id_offers_to_submit_it_or_read_it_on_arxiv(client):
    for q in ("2612.00001", "https://arxiv.org/abs/2612.00001", "arXiv:2612.00001"):
        r = client.get("/papers/search", params={"q": q})
        assert r.status_code == 404, q
        assert "arXiv:2612.00001 is not in this collection yet." in r.text
        assert '<a href="/papers/submit?id=2612.00001">Submit it</a>' in r.text
        assert 'href="https://arxiv.org/abs/2612.00001"' in r.text and "View on arXiv" in r.text
        assert CARD_LINK.findall(r.text) == []


def test_the_submit_link_prefills_the_form_after_logging_in(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    try:
        anonymous = Client(app)
        r = anonymous.get("/papers/submit", params={"id": "2612.00001"})
        assert r.status_code in (302, 303) and "next=%2Fpapers%2Fsubmit%3Fid%3D2612.00001" in r.headers["location"]
        services.accounts.create_user("ada@example.org", "ada", PASSWORD, role="member", verified=True)
        member = logged_in(app, "ada")
        form = member.get("/papers/submit", params={"id": "2612.00001"})
        assert form.status_code == 200 and 'value="2612.00001"' in form.text
    finally:
        services.store.close()


def test_no_category_filter_or_hint_when_no_paper_has_a_category(client):
    page = client.get("/papers/search", params={"q": "agents"}).text
    assert 'name="category"' not in page and "cat:" not in page
    empty = client.get("/papers/search").text
    assert 'name="category"' not in empty and "cat:" not in empty


def test_categories_appear_once_papers_carry_them(fresh_data_dir):
    app, services = make_app(fresh_data_dir)
    try:
        services.store.ingest_batch([Paper("2608.99001", "Quasicrystal agents for tiling puzzles",
                                           "Agents that tile the plane with quasicrystals.", ["R. Penrose"],
                                           categories=["cs.AI", "math.CO"])])
        services.search.sync()
        c = Client(app)
        page = c.get("/papers/search", params={"q": "quasicrystal"}).text
        assert '<option value="cs.AI">cs.AI</option>' in page and '<option value="math.CO">' in page
        assert "cat:cs.AI" in page or "cat:math.CO" in page
        hit = c.get("/papers/search", params={"q": "quasicrystal tiling", "category": "cs.AI"}).text
        assert CARD_LINK.findall(hit) == ["2608.99001"]
        assert '<option value="cs.AI" selected>' in hit
    finally:
        services.store.close()


def test_keyword_counts_are_what_one_can_page_through(client):
    for params in ({"q": "language models"}, {"q": "agents", "sort": "upvotes"}, {"q": "video", "has_code": "1"}):
        page = client.get("/papers/search", params=params).text
        m = COUNT.search(page)
        assert m, params
        ids = CARD_LINK.findall(page)
        while (nxt := NEXT.search(page)) is not None:
            page = client.get(htmlmod.unescape(nxt.group(1))).text
            ids += CARD_LINK.findall(page)
        assert int(m.group(2)) == len(ids) == len(set(ids)), (params, m.group(0))


def test_a_search_that_finds_nothing_says_so_and_suggests(client):
    page = client.get("/papers/search", params={"q": "zzqxvbnm qwpfk", "sort": "newest"}).text
    assert CARD_LINK.findall(page) == [] and COUNT.search(page) is None
    assert "No papers match “zzqxvbnm qwpfk”." in page and "Check the spelling" in page


def test_partial_matches_are_offered_as_closest_titles(client):
    page = client.get("/papers/search", params={"q": "zzqxvbnm agents"}).text
    assert CARD_LINK.findall(page) == [] and "No papers match" in page
    assert "Closest titles" in page
    assert re.search(r'<ul class="nearest">\s*<li><a href="/papers/[^"]+">[^<]*[Aa]gent', page)


def test_a_page_past_the_end_leads_back(client):
    page = client.get("/papers/search", params={"q": "agents", "page": "30"}).text
    assert CARD_LINK.findall(page) == [] and "past the last result" in page
    assert 'href="/papers/search?q=agents">Back to the first page' in page


def test_an_empty_or_blank_query_shows_how_to_search(client):
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "\t"}):
        r = client.get("/papers/search", params=params)
        assert r.status_code == 200, params
        assert '<p class="note">Search titles, abstracts and authors.' in r.text, params
        assert not CARD_LINK.search(r.text) and 'class="error"' not in r.text, params
        assert "The filters apply once you type a query" not in r.text, params


def test_filters_without_a_query_say_they_wait_for_one(client):
    for params in ({"has_code": "1"}, {"q": " ", "min_upvotes": "3"}, {"from": "2025-01-01"}):
        r = client.get("/papers/search", params=params)
        assert r.status_code == 200, params
        assert "The filters apply once you type a query." in r.text, params
        assert not CARD_LINK.search(r.text), params
