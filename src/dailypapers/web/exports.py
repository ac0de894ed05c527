"""Citation downloads: BibTeX, RIS and CSL-JSON for one paper, a day's list and a page of search results.

* /papers/{id}.bib   /papers/{id}.ris   /papers/{id}.csl.json
* /papers/date/{YYYY-MM-DD}.bib ...     the day's list, in the page's order (?sort= as on the page)
* /papers/search.bib?q=... ...          the page of results the same query parameters show

Each parses its input, asks PaperService for one export and sends it through the page cache (keyed by
the store's content version) as an attachment. The formats are in dailypapers/citations.py.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import citations
from dailypapers import days as days_mod
from dailypapers.citations import FORMATS, Export
from dailypapers.errors import NotFound
from dailypapers.papers import PaperService
from dailypapers.search.request import SearchRequest
from dailypapers.web.cache import PAGE_TTL, CacheEntry, entry_response, make_entry
from dailypapers.web.search import PAGE_PARAMS, SEARCH_PER_PAGE
from dailypapers.web.site import paper_url, site_of

CACHE_CONTROL = "public, max-age=300"
SEARCH_CACHE_CONTROL = "public, max-age=60"


def _format(request: Request) -> str:
    """The format's name, from the path's suffix."""
    found = citations.format_of_path(request.url.path)
    if found is None:  # the route table only sends paths with a suffix here
        raise NotFound("no such export")
    return found[1].name


async def _send(request: Request, key: tuple, fmt: str, work: Callable[[], Export],
                cache_control: str) -> Response:
    site = site_of(request)

    def render() -> CacheEntry:
        export = work()
        entry = make_entry(export.body, ttl=PAGE_TTL)
        entry.extra = {"Content-Disposition": f'attachment; filename="{export.filename}"'}
        return entry

    entry = await site.entry((key, None, site.papers.version()), render)
    return entry_response(request, entry, FORMATS[fmt].media_type, cache_control, entry.extra)


async def paper_citation(request: Request) -> Response:
    site = site_of(request)
    fmt = _format(request)
    suffix = FORMATS[fmt].suffix
    raw = request.path_params["arxiv_id"]
    arxiv_id = site.papers.canonical_id(raw)
    if raw != arxiv_id:
        return RedirectResponse(paper_url(arxiv_id) + suffix, status_code=301)
    return await _send(request, ("cite-paper", arxiv_id, fmt), fmt,
                       lambda: site.papers.cite_paper(arxiv_id, fmt), CACHE_CONTROL)


async def day_citation(request: Request) -> Response:
    site = site_of(request)
    fmt = _format(request)
    day = days_mod.parse_day(request.path_params["day"])
    sort = PaperService.check_sort(request.query_params.get("sort"))
    return await _send(request, ("cite-day", day, sort, fmt), fmt,
                       lambda: site.papers.cite_day(day, fmt, sort), CACHE_CONTROL)


async def search_citation(request: Request) -> Response:
    site = site_of(request)
    fmt = _format(request)  # counted against the search limit by web/guard.py
    form = SearchRequest.from_params(request.query_params, accept=PAGE_PARAMS, require_q=True,
                                     defaults=SearchRequest(per_page=SEARCH_PER_PAGE))
    return await _send(request, ("cite-search", urlencode(form.params()), fmt), fmt,
                       lambda: site.papers.cite_search(form, fmt), SEARCH_CACHE_CONTROL)


__all__ = ["paper_citation", "day_citation", "search_citation"]
