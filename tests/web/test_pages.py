"""The HTML pages, over real HTTP into the app, on real HF data."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from html import unescape

import pytest
from webapp import Client, make_app

UPVOTES = re.compile(r'class="upvote-count">(\d+)<')
TITLES = re.compile(r'<h2 class="card-title"[^>]*><a href="/papers/([^"]+)">')


def upvotes(html: str) -> list[int]:
    return [int(x) for x in UPVOTES.findall(html)]


def paper_ids(html: str) -> list[str]:
    return TITLES.findall(html)


def assert_site_page(r, *, title_part: str | None = None):
    html = r.text
    assert r.headers["content-type"].startswith("text/html")
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    m = re.search(r"<title>(.*?)</title>", html, re.S)
    assert m and m.group(1).strip()
    if title_part:
        assert title_part in unescape(m.group(1))
    assert '<link rel="canonical" href="http://testserver/' in html
    assert 'class="brand"' in html and "Daily Papers" in html
    assert 'action="/papers/search"' in html
    assert "Get trending papers in your email inbox!" in html and 'href="/subscribe"' in html
    assert '<meta name="viewport"' in html


# -- the daily list -----------------------------------------------------------------------
def test_home_shows_fridays_list_on_sunday_ranked_by_upvotes(client):
    r = client.get("/")
    assert r.status_code == 200
    assert_site_page(r, title_part="Aug 21, 2026")
    html = r.text
    assert "Friday, August 21, 2026" in html
    votes = upvotes(html)
    assert len(votes) == 17 and votes == sorted(votes, reverse=True)
    ids = paper_ids(html)
    assert ids[0] == "2608.19880"
    # one card shows everything a reader needs
    card = html[html.index('id="t-2608-19880"') - 400 : html.index('id="t-2608-19880"') + 4000]
    assert "EnvHarness: Awakening Static Worlds for Agent Learning" in card
    assert "17 authors" in card and "Chengsong Huang" in card
    assert ">Google</a>" in card and 'href="/orgs/google"' in card
    assert '<time datetime="2026-08-21">Aug 21, 2026</time>' in card
    assert 'href="https://github.com/google-research/envharness"' in card and "★ 8" in card
    assert 'href="https://envharness.com/"' in card
    assert 'href="https://arxiv.org/abs/2608.19880"' in card and 'href="https://arxiv.org/pdf/2608.19880"' in card
    assert "<details class=\"abstract\">" in card and "<summary>" in card
    assert 'rel="prev" href="/papers/date/2026-08-20"' in html
    assert 'rel="next"' not in html.split('class="pager day-nav"')[1].split("</nav>")[0]


def test_home_follows_the_injected_clock(web_data_dir):
    app, services = make_app(web_data_dir, clock=lambda: dt.datetime(2026, 8, 19, 14, 0, tzinfo=dt.timezone.utc))
    c = Client(app)
    try:
        html = c.get("/").text
        assert "Wednesday, August 19, 2026" in html
        assert 'rel="next" href="/papers/date/2026-08-20"' in html
    finally:
        c.close()
        services.store.close()


def test_day_page_with_navigation_and_sorts(client):
    r = client.get("/papers/date/2026-08-20")
    assert r.status_code == 200
    html = r.text
    assert "Thursday, August 20, 2026" in html
    assert 'rel="prev" href="/papers/date/2026-08-19"' in html
    assert 'rel="next" href="/papers/date/2026-08-21"' in html
    assert 'href="/papers/week/2026-W34"' in html and 'href="/papers/month/2026-08"' in html
    by_votes = paper_ids(html)
    newest = paper_ids(client.get("/papers/date/2026-08-20?sort=newest").text)
    trending = client.get("/papers/date/2026-08-20?sort=trending")
    assert trending.status_code == 200
    assert sorted(by_votes) == sorted(newest) == sorted(paper_ids(trending.text))
    assert 'aria-current="true" class="current">Trending' in trending.text
    # the sort is kept when moving between days
    assert 'href="/papers/date/2026-08-19?sort=trending"' in trending.text
    assert client.get("/papers/date/2026-08-20?sort=bogus").status_code == 400


def test_empty_day_says_so_and_links_to_the_nearest_day(client):
    r = client.get("/papers/date/2026-08-11")
    assert r.status_code == 200
    assert "No papers were listed on Aug 11, 2026." in r.text
    assert 'href="/papers/date/2026-08-13"' in r.text
    assert paper_ids(r.text) == []


def test_week_month_and_trending_pages(client):
    week = client.get("/papers/week/2026-W34")
    assert week.status_code == 200
    assert "Week 2026-W34" in week.text and "Papers 1–50 of 110" in week.text
    # the latest week: Previous, but no Next into empty weeks (tests/web/test_lists.py has more)
    assert 'href="/papers/week/2026-W33"' in week.text and 'href="/papers/week/2026-W35"' not in week.text
    votes = upvotes(week.text)
    assert votes == sorted(votes, reverse=True)
    month = client.get("/papers/month/2026-08")
    assert month.status_code == 200 and "August 2026" in month.text
    trending = client.get("/papers/trending")
    assert trending.status_code == 200 and len(paper_ids(trending.text)) > 10
    assert_site_page(trending, title_part="Trending")


@pytest.mark.parametrize(
    "path",
    [
        "/papers/date/2026-02-30", "/papers/date/2026-13-01", "/papers/date/yesterday", "/papers/date/2026-8-1",
        "/papers/date/99999-01-01", "/papers/week/2026-W60", "/papers/week/2026-W5", "/papers/month/2026-13",
        "/papers/month/0000-01", "/papers/date/2026-08-21?sort=%00",
    ],
)
def test_bad_periods_are_400_pages(client, path):
    r = client.get(path)
    assert r.status_code == 400
    assert_site_page(r)


# -- the paper page ---------------------------------------------------------------------------
def test_paper_page(client):
    r = client.get("/papers/2608.19880")
    assert r.status_code == 200
    assert_site_page(r, title_part="EnvHarness")
    html = r.text
    assert '<link rel="canonical" href="http://testserver/papers/2608.19880">' in html
    assert '<meta property="og:title" content="EnvHarness: Awakening Static Worlds for Agent Learning">' in html
    assert '<meta property="og:url" content="http://testserver/papers/2608.19880">' in html
    assert 'property="og:image"' in html and 'property="og:description"' in html
    for name in ("Chengsong Huang", "Tomas Pfister", "Chen-Yu Lee"):  # all 17 authors
        assert name in html
    assert "17 authors" in html
    assert "AI-generated summary" in html and "EnvRigger" in html and "co-evolution" in html
    assert "Published on arXiv" in html and "Aug 20, 2026" in html
    assert 'href="/papers/date/2026-08-21"' in html  # listed on
    assert "@misc{huang2026envharness," in html and "eprint = {2608.19880}" in html
    assert 'data-copy-target="bibtex"' in html
    assert "Code: google-research/envharness" in html


def test_paper_markdown(client):
    r = client.get("/papers/2608.19880.md")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"  # never sniffed into HTML
    assert r.text.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning\n")
    assert "Chen-Yu Lee" in r.text and "Organization: Google" in r.text
    assert "- Paper page: http://testserver/papers/2608.19880" in r.text
    assert client.get("/papers/2608.19880v2.md").headers["location"] == "/papers/2608.19880.md"
    assert client.get("/papers/2101.99999.md").status_code == 404
    assert client.get("/papers/not-an-id.md").status_code == 404


def test_paper_page_shows_similar_papers(client, services):
    if not services.search.similar("2608.19880", limit=5):
        pytest.skip("the search engine returned no similar papers")
    html = client.get("/papers/2608.19880").text
    assert "Similar papers" in html


def test_versioned_and_url_ids_redirect_to_the_canonical_page(client):
    r = client.get("/papers/2608.19880v2")
    assert r.status_code == 301 and r.headers["location"] == "/papers/2608.19880"


@pytest.mark.parametrize(
    "path",
    ["/papers/2101.99999", "/papers/not-an-id", "/papers/..%2F..%2Fetc%2Fpasswd", "/papers/%00", "/papers/" + "9" * 300,
     "/papers/hep-th/9901001", "/papers/2608.19880/extra", "/orgs/nobody-here", "/orgs/%F0%9F%98%80", "/no/such/page"],
)
def test_unknown_things_are_404_pages(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert_site_page(r)
    assert "Page not found" in r.text


def test_old_style_ids_and_escaping(fresh_data_dir):
    from dailypapers.models import Listing, Organization, Paper

    app, services = make_app(fresh_data_dir)
    evil = '<script>alert("x")</script> & $a<b$'
    services.store.ingest_batch(
        [Paper("hep-th/9901001", evil, "Abstract with <img src=x onerror=alert(1)> & $x < y$ \u202eRTL 😀",
               [evil, "Ada Lovelace"], organization=Organization("cern", evil, "javascript:alert(1)"),
               published=dt.datetime(1999, 1, 4, tzinfo=dt.timezone.utc), github_repo="javascript:alert(1)")],
        [Listing("hep-th/9901001", dt.date(2026, 8, 21), rank=99)],
    )
    c = Client(app)
    try:
        for path in ("/papers/hep-th/9901001", "/papers/date/2026-08-21", "/orgs/cern"):
            html = c.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, path
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; $a&lt;b$" in html, path
            assert 'href="javascript:' not in html and 'src="javascript:' not in html, path
        page = c.get("/papers/hep-th/9901001").text
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; $x &lt; y$" in page and "😀" in page
        assert 'href="https://arxiv.org/abs/hep-th/9901001"' in page
        assert c.get("/papers/hep-th/9901001v1").headers["location"] == "/papers/hep-th/9901001"
    finally:
        c.close()
        services.store.close()


def test_org_page(client):
    r = client.get("/orgs/google")
    assert r.status_code == 200
    assert_site_page(r, title_part="Google")
    assert "EnvHarness" in r.text
    assert client.get("/orgs/google?page=0").status_code == 400
    assert client.get("/orgs/google?page=99999999999999").status_code == 400
    assert client.get("/orgs/google?page=400").status_code == 404


# -- search --------------------------------------------------------------------------------------
def test_search_page_keeps_the_query_and_highlights(client):
    r = client.get("/papers/search", params={"q": "agent environments"})
    assert r.status_code == 200
    assert_site_page(r)
    html = r.text
    assert 'value="agent environments"' in html
    assert "<mark>" in html
    assert re.search(r"\d+ results?", html)
    # tests run without the embedding model: the page says so (the engine's words, or ours)
    assert "Semantic search is" in html and html.count("Semantic search is") == 1
    assert '<meta name="robots" content="noindex">' in html


def test_search_filters_sort_and_paging(client):
    base = {"q": "language models"}
    first = client.get("/papers/search", params=base)
    assert first.status_code == 200
    m = re.search(r"(\d+) results? · page 1 of (\d+)", first.text)
    assert m, "expected several pages of results"
    assert 'rel="next" href="/papers/search?q=language+models&amp;page=2"' in first.text
    second = client.get("/papers/search", params={**base, "page": 2})
    assert second.status_code == 200 and "page 2 of" in second.text
    assert set(paper_ids(first.text)).isdisjoint(paper_ids(second.text))
    dated = client.get("/papers/search", params={**base, "from": "2026-08-01", "to": "2026-08-31", "sort": "newest"})
    assert dated.status_code == 200
    assert all(t.startswith("2026-08") for t in re.findall(r'<time datetime="([\d-]+)"', dated.text.split("</form>")[1]))
    assert 'value="2026-08-01"' in dated.text and '<option value="newest" selected>' in dated.text
    code = client.get("/papers/search", params={**base, "has_code": "1", "min_upvotes": "20"})
    assert code.status_code == 200
    assert all(v >= 20 for v in upvotes(code.text))
    assert 'name="has_code" value="1" checked' in code.text


def test_search_by_arxiv_id_redirects(client):
    for q in ("2608.19880", "https://arxiv.org/abs/2608.19880v1", "arXiv:2608.19880"):
        r = client.get("/papers/search", params={"q": q})
        assert r.status_code in (302, 303, 307) and r.headers["location"] == "/papers/2608.19880", q


@pytest.mark.parametrize(
    "params,status",
    [
        ({"q": "x" * 10_000}, 400),
        ({"q": "diffusion", "page": "99999999999999"}, 400),
        ({"q": "diffusion", "page": "-1"}, 400),
        ({"q": "diffusion", "from": "2026-02-30"}, 400),
        ({"q": "diffusion", "from": "2026-09-01", "to": "2026-08-01"}, 400),
        ({"q": "diffusion", "sort": "bogus"}, 400),
        ({"q": "diffusion", "min_upvotes": "lots"}, 400),
        ({"q": "diffusion", "category": "'; DROP TABLE papers; --"}, 400),
    ],
)
def test_search_bad_input_is_a_400_page(client, params, status):
    r = client.get("/papers/search", params=params)
    assert r.status_code == status
    assert_site_page(r)


@pytest.mark.parametrize(
    "raw_query",
    ["q=%00%00", "q=a%00b", "q=%ED%A0%80", "q=%ED%BF%BF%ED%A0%80abc", "q=%D7%A9%D7%9C%D7%95%D7%9D+%E2%80%AE",
     "q=%F0%9F%A4%96+%F0%9F%93%84", "q=%FF%FE", "q=%22unbalanced", "q=author%3A", "q=-", "q=%E2%80%8B",
     "q=" + "%C3%A9" * 200, "q=cat%3Acs.CL+year%3A2026"],
)
def test_search_odd_unicode_never_500s(client, raw_query):
    r = client.get("/papers/search?" + raw_query)
    assert r.status_code in (200, 400), r.text[:500]
    assert_site_page(r)


@pytest.mark.parametrize(
    "path", ["/papers/date/%ED%A0%80", "/papers/%ED%A0%80", "/orgs/%00", "/papers/week/%F0%9F%98%80", "/papers/%E2%80%AE"]
)
def test_odd_unicode_in_paths_never_500s(client, path):
    assert client.get(path).status_code in (400, 404)


def test_empty_search_page(client):
    r = client.get("/papers/search")
    assert r.status_code == 200 and 'name="q"' in r.text


# -- HTTP caching and compression ------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/papers/date/2026-08-20", "/papers/week/2026-W34", "/papers/2608.19880",
                                  "/papers/trending", "/orgs/google"])
def test_etag_and_304(client, path):
    r = client.get(path)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_gzip(client):
    r = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    assert "Friday, August 21, 2026" in r.text  # httpx decodes
    raw = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers


@pytest.mark.parametrize("path", ["/", "/papers/search?q=diffusion", "/api/daily_papers", "/feeds/date/2026-08-21.xml"])
def test_a_client_without_gzip_gets_the_body_the_cache_keeps_only_gzipped(client, path):
    gzipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert gzipped.status_code == 200 and gzipped.headers.get("content-encoding") == "gzip"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})  # the same entry, from the cache
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.content == gzipped.content and len(plain.content) > 1024
    assert plain.headers["etag"] == gzipped.headers["etag"]


def test_cached_page_changes_when_data_changes(fresh_data_dir):
    import dailypapers.papers as papers_mod
    from dailypapers.models import Listing, Paper

    app, services = make_app(fresh_data_dir)
    c = Client(app)
    try:
        before = c.get("/")
        services.store.ingest_batch(
            [Paper("2608.99999", "A brand new paper", "Fresh abstract", ["New Author"])],
            [Listing("2608.99999", dt.date(2026, 8, 21), rank=50, upvotes=999)],
        )
        app.state.papers._version_at -= papers_mod.VERSION_TTL + 1
        after = c.get("/")
        assert "A brand new paper" in after.text and "A brand new paper" not in before.text
        assert paper_ids(after.text)[0] == "2608.99999"
        assert after.headers["etag"] != before.headers["etag"]
    finally:
        c.close()
        services.store.close()


def test_head_requests(client):
    r = client.request("HEAD", "/")
    assert r.status_code == 200 and r.content == b""


def test_static_files_are_cacheable(client):
    home = client.get("/").text
    css = re.search(r'href="(/static/style.css\?v=\w+)"', home).group(1)
    r = client.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert client.get(re.search(r'src="(/static/app.js\?v=\w+)"', home).group(1)).status_code == 200


def test_500_page_looks_like_the_site(web_data_dir):
    app, services = make_app(web_data_dir)

    def boom(*a, **k):
        raise RuntimeError("database on fire: secret detail")

    services.store.day_listing = boom
    c = Client(app)
    try:
        r = c.get("/papers/date/2026-08-20")
        assert r.status_code == 500
        assert_site_page(r)
        assert "Something went wrong" in r.text and "secret detail" not in r.text
        api = c.get("/api/daily_papers?date=2026-08-20")
        assert api.status_code in (200, 500)  # the API reads through another query
    finally:
        c.close()
        services.store.close()


def test_api_docs_page(client):
    r = client.get("/api")
    assert r.status_code == 200
    assert_site_page(r, title_part="API")
    assert "/api/daily_papers" in r.text and "/openapi.json" in r.text


def test_misc_routes(client):
    assert client.get("/healthz").text == "ok"
    assert "Disallow: /papers/search" in client.get("/robots.txt").text
    assert client.get("/papers").status_code == 302
    assert client.get("/favicon.ico").status_code == 301


def test_a_trailing_slash_under_papers_redirects_instead_of_looking_for_a_paper(client):
    paper_id = TITLES.findall(client.get("/").text)[0]
    expected = {"/papers/new/": "/papers/new", "/papers/trending/": "/papers/trending",
                "/papers/search/?q=diffusion": "/papers/search?q=diffusion",
                f"/papers/{paper_id}/": f"/papers/{paper_id}", f"/api/papers/{paper_id}/": f"/api/papers/{paper_id}"}
    for path, target in expected.items():
        r = client.get(path)
        assert r.status_code == 307 and r.headers["location"].endswith(target), path
        assert client.get(target).status_code == 200, target
    # an old-style id keeps its inner slash
    assert client.get("/papers/hep-th/9901001").status_code == 404
    assert client.get("/papers/hep-th/9901001/").headers["location"].endswith("/papers/hep-th/9901001")


def test_an_arxiv_link_on_this_host_opens_the_paper_page(client):
    for path in ("/abs/2608.19880", "/abs/2608.19880v2", "/pdf/2608.19880", "/pdf/2608.19880v1.pdf",
                 "/abs/arXiv:2608.19880"):
        r = client.get(path)
        assert r.status_code == 301 and r.headers["location"] == "/papers/2608.19880", path
    assert client.get("/abs/hep-th/9901001v3").headers["location"] == "/papers/hep-th/9901001"
    assert client.get("/abs/not-an-id").status_code == 404
    assert client.get("/pdf/").status_code == 404


def test_personalized_gzip_is_valid():
    import zlib as _zlib

    from dailypapers.web.cache import make_entry, personalized_gzip
    from dailypapers.web.security import CSRF_PLACEHOLDER

    body = ("<p>" + "abc " * 2000 + CSRF_PLACEHOLDER + " middle " * 300 + CSRF_PLACEHOLDER + "</p>").encode()
    entry = make_entry(body)
    assert entry.personalized and entry.gz_parts
    token = b"f" * 64
    full = body.replace(CSRF_PLACEHOLDER.encode(), token)
    gz = personalized_gzip(entry.gz_parts, token, entry.part_sums)
    assert gzip.decompress(gz) == full
    assert _zlib.decompressobj(31).decompress(gz) == full
    assert len(gz) < len(full) / 5


def test_the_page_cache_is_bounded_by_bytes_and_entries():
    import os

    from dailypapers.web.cache import PageCache, make_entry

    cache = PageCache(size=50, max_bytes=400_000, threads=1)
    page = os.urandom(60_000)  # incompressible: its gzip, all that is kept, is ~60 KB
    for i in range(20):
        cache.put(("page", i), make_entry(page + bytes([i])))
        assert cache.bytes <= 400_000
    assert 4 <= len(cache) <= 7 and cache.get(("page", 19)) is not None and cache.get(("page", 0)) is None
    assert cache.bytes == sum(e.size for e in cache._data.values())
    cache.put(("page", 19), make_entry(b"small"))  # replaced: its old size is given back
    assert cache.bytes == sum(e.size for e in cache._data.values())
    cache.put("huge", make_entry(os.urandom(500_000)))  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.get(("page", 19)) is not None
    small = PageCache(size=3, threads=1)
    for i in range(10):
        small.put(i, make_entry(b"x"))
    assert len(small) == 3
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0
