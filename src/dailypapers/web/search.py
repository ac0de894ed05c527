"""The search page: /papers/search?q=...&from=&to=&category=&has_code=&min_upvotes=&sort=&page=&mode=."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers.errors import Invalid
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.search.request import MAX_QUERY_CHARS, SearchRequest, clean_text
from dailypapers.web.auth import page_user
from dailypapers.web.site import export_links, paper_url, site_of

SEARCH_TTL = 60.0  # seconds a rendered search page is reused (within one store version)
SEARCH_PER_PAGE = 20
SEARCH_SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}
# The category menu offers the most used categories (the query's cat: reaches any other). The 64k
# arXiv corpus files papers under 837 categories and cross-lists: all of them made every search
# page ~40 KB larger and cost more to render than the search itself (BENCHMARKS.md, "Search speed").
CATEGORY_OPTIONS = 60
PAGE_PARAMS = ("q", "mode", "sort", "from", "to", "category", "has_code", "min_upvotes", "page")


async def search_page(request: Request) -> Response:
    site = site_of(request)  # counted against the search limit by web/guard.py
    await page_user(request)  # the uncached pages below name a member in the header too
    try:
        form = SearchRequest.from_params(request.query_params, accept=PAGE_PARAMS,
                                         defaults=SearchRequest(per_page=SEARCH_PER_PAGE))
    except Invalid as e:
        raw_q = clean_text(request.query_params.get("q", ""))[:MAX_QUERY_CHARS]
        return site.html(request, "search.html", {
            "title": "Search papers", "form": SearchRequest(q=raw_q), "error": str(e), "results": None,
            "sorts": SEARCH_SORTS, "categories": _categories(site), "status": 400,
        }, status=400)
    if not form.q:
        return site.html(request, "search.html", {
            "title": "Search papers", "form": form, "results": None, "sorts": SEARCH_SORTS,
            "categories": _categories(site),
        }, cache_control="public, max-age=300")

    if _search_arxiv_id(form.q):
        # A known paper opens directly; an unknown one gets a page with ways forward, not a 404.
        results = site.services.search.search(form)
        if results.results:
            return RedirectResponse(paper_url(results.results[0].paper.arxiv_id), status_code=302)

    def build():  # on the page cache's render thread: the search, and what only a render needs
        results = site.services.search.search(form)
        return "search.html", _search_context(form, results, _categories(site))

    # Same query, filters and page -> same page: cached like the lists (keyed by the content version).
    # Most search pages are served once or twice, so they are gzipped fast (level 1: about a third
    # of the CPU of level 6 for a ~15% larger body), where list pages served thousands of times get 6.
    return await site.cached(request, ("search", urlencode(form.params())), build,
                             extra_key=site.services.search.position(),
                             cache_control="public, max-age=60", ttl=SEARCH_TTL, gzip_level=1)


def _categories(site) -> list[str]:
    """The category menu's options, most used first (read when a page is rendered, not served)."""
    return site.services.search.categories()[:CATEGORY_OPTIONS]


def _search_arxiv_id(q: str) -> str | None:
    """The arXiv id when the query is just an id or URL."""
    if len(q) > 100 or " " in q.strip():
        return None
    try:
        return parse_arxiv_id(q).id
    except BadArxivId:
        return None


def count_text(results, filtered: bool) -> str:
    """What the page says about how many results there are, honest about estimates and caps."""
    n = results.total
    plural = "" if n == 1 else "s"
    if results.total_kind == "top":
        if filtered:
            return f"Top {n} matches with these filters (more papers match: add words to narrow the search)"
        return f"Top {n} matches (more papers match: add words to narrow the search)"
    if results.total_kind == "about":
        return f"About {n} result{plural}"
    return f"{n} result{plural}"


def _active_filters(form: SearchRequest) -> list[tuple[str, dict]]:
    """(label, parameter changes that drop it) for each filter in use."""
    f = form.filters
    out = []
    if f.date_from:
        out.append((f"from {f.date_from.isoformat()}", {"from": None}))
    if f.date_to:
        out.append((f"to {f.date_to.isoformat()}", {"to": None}))
    if f.category:
        out.append((f"category {f.category}", {"category": None}))
    if f.has_code:
        out.append(("has code", {"has_code": None}))
    if f.min_upvotes is not None:
        out.append((f"at least {f.min_upvotes} upvotes", {"min_upvotes": None}))
    return out


def _search_context(form: SearchRequest, results, categories: list[str]) -> dict:
    pages = results.pages

    def url(**changes) -> str:
        return "/papers/search?" + urlencode(form.params(**changes))

    active = _active_filters(form)
    missing_id = results.redirect_id if results.redirect_id and not results.results else None
    everything: dict = {"page": None}
    for _, change in active:
        everything.update(change)
    return {
        "title": f"{form.q} – search" if form.q else "Search papers",
        "form": form,
        "results": results,
        "hits": results.results,
        "sorts": SEARCH_SORTS,
        "categories": categories,
        "count_text": count_text(results, bool(active)),
        "drop_filters": [(label, url(page=None, **change)) for label, change in active],
        "drop_all_url": url(**everything) if len(active) > 1 else None,
        "missing_id": missing_id,
        "submit_url": "/papers/submit?" + urlencode({"id": missing_id}) if missing_id else None,
        "arxiv_url": f"https://arxiv.org/abs/{missing_id}" if missing_id else None,
        "status": 404 if missing_id else 200,
        "pages": pages,
        "first_url": url(page=None),
        "prev_url": url(page=form.page - 1 if form.page > 2 else "") if form.page > 1 else None,
        "next_url": url(page=form.page + 1) if form.page < pages else None,
        # this search (with its filters) as a feed, and the parameters "Save this search" posts
        "feed": "/feeds/search.xml?" + urlencode(form.params(page=None)) if form.q and not missing_id else None,
        "save_params": form.params(page=None),
        # this page of results as citations (web/exports.py), with the same parameters
        "exports": export_links("/papers/search", form.params()) if results.results else None,
        "export_label": "Export this page of results",
        "noindex": True,
    }


__all__ = ["search_page", "SEARCH_SORTS", "count_text"]
