"""The search page: /papers/search?q=...&from=&to=&category=&has_code=&min_upvotes=&sort=&page=&mode=."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers.errors import Invalid
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.papers import search_hits
from dailypapers.search.request import MAX_QUERY_CHARS, SearchRequest, clean_text
from dailypapers.web.requests import rate_limit
from dailypapers.web.site import paper_url, site_of

SEARCH_TTL = 60.0  # seconds a rendered search page is reused (within one store version)
SEARCH_PER_PAGE = 20
SEARCH_SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}
PAGE_PARAMS = ("q", "mode", "sort", "from", "to", "category", "has_code", "min_upvotes", "page")


async def search_page(request: Request) -> Response:
    site = site_of(request)
    rate_limit(request, "search")
    try:
        form = SearchRequest.from_params(request.query_params, accept=PAGE_PARAMS,
                                         defaults=SearchRequest(per_page=SEARCH_PER_PAGE))
    except Invalid as e:
        raw_q = clean_text(request.query_params.get("q", ""))[:MAX_QUERY_CHARS]
        return site.html(request, "search.html", {
            "title": "Search papers", "form": SearchRequest(q=raw_q), "error": str(e), "results": None,
            "sorts": SEARCH_SORTS, "status": 400,
        }, status=400)
    if not form.q:
        return site.html(request, "search.html", {
            "title": "Search papers", "form": form, "results": None, "sorts": SEARCH_SORTS,
        }, cache_control="public, max-age=300")

    redirect = _search_redirect(form.q)
    if redirect:
        return RedirectResponse(paper_url(redirect), status_code=302)

    def build():
        results = site.services.search.search(form)
        return "search.html", _search_context(form, results)

    # Same query, filters and page -> same page: cached like the lists (keyed by the content version).
    # Most search pages are served once or twice, so they are gzipped fast (level 1: about a third
    # of the CPU of level 6 for a ~15% larger body), where list pages served thousands of times get 6.
    return await site.cached(request, ("search", urlencode(form.params())), build,
                             cache_control="public, max-age=60", ttl=SEARCH_TTL, gzip_level=1)


def _search_redirect(q: str) -> str | None:
    """A query that is just an arXiv id or URL goes straight to the paper page."""
    if len(q) > 100 or " " in q.strip():
        return None
    try:
        return parse_arxiv_id(q).id
    except BadArxivId:
        return None


def _search_context(form: SearchRequest, results) -> dict:
    pages = getattr(results, "pages", None) or max(1, math.ceil(results.total / SEARCH_PER_PAGE))

    def url(**changes) -> str:
        return "/papers/search?" + urlencode(form.params(**changes))

    return {
        "title": f"{form.q} – search" if form.q else "Search papers",
        "form": form,
        "results": results,
        "hits": search_hits(results),
        "sorts": SEARCH_SORTS,
        "pages": pages,
        "prev_url": url(page=form.page - 1 if form.page > 2 else "") if form.page > 1 else None,
        "next_url": url(page=form.page + 1) if form.page < pages else None,
        "feed": "/feeds/search.xml?" + urlencode({"q": form.q}) if form.q else None,
        "noindex": True,
    }


__all__ = ["search_page", "SEARCH_SORTS"]
