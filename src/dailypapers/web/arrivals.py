"""New arrivals: a day's arXiv papers in the site's field, ranked by predicted interest.

* /papers/new, /papers/new/YYYY-MM-DD        the page (?category=, ?sort=interest|upvotes|newest, ?page=)
* /api/papers/new?date=&category=&sort=&page=&limit=   the same view as JSON (docs/api.md)
* /feeds/new.xml, /feeds/new.atom            the latest day's top 50 by interest (?category=)

Each parses its input and asks ArrivalService.view for one day; scores come from the
`dailypapers arrivals score` job, never from a request.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from dailypapers import days as days_mod
from dailypapers.arrivals.service import PER_PAGE, ArrivalDay, ArrivalService
from dailypapers.errors import Invalid
from dailypapers.models import ArrivalEntry
from dailypapers.web.api import MAX_LIMIT, cached_json, item_json
from dailypapers.web.feeds import FeedItem, feed_format, feed_response
from dailypapers.web.requests import int_param, services
from dailypapers.web.site import fmt_date, site_of

MAX_PAGE = 200
FEED_LIMIT = 50
SORT_LABELS = {"interest": "Predicted interest", "upvotes": "Most upvoted", "newest": "Newest"}
_CATEGORY = re.compile(r"^[A-Za-z-]{1,20}(\.[A-Za-z-]{1,20})?$")
NOT_RANKED = ("Arrivals are not ranked yet: the site's operator should run "
              "`dailypapers arrivals train`.")


def _arrivals(request: Request) -> ArrivalService:
    return services(request).arrivals


def _category(request: Request) -> str | None:
    raw = (request.query_params.get("category") or "").strip()
    if not raw:
        return None
    if not _CATEGORY.match(raw):
        raise Invalid(f"{raw[:40]!r} is not an arXiv category such as cs.CL", field="category")
    return raw


def _page_url(path: str, *, category: str | None, sort: str, page: int = 1) -> str:
    params = {}
    if category:
        params["category"] = category
    if sort != "interest":
        params["sort"] = sort
    if page > 1:
        params["page"] = str(page)
    return path + ("?" + urlencode(params) if params else "")


def _day_path(day: dt.date) -> str:
    return f"/papers/new/{day.isoformat()}"


def _context(view: ArrivalDay, path: str, *, latest: dt.date | None) -> dict:
    day, sort, category = view.day, view.sort, view.category
    empty_site = day is None or (not view.categories and view.previous is None and view.next is None)

    def link(d: dt.date | None) -> dict | None:
        return {"url": _page_url(_day_path(d), category=category, sort=sort), "label": fmt_date(d)} if d else None

    pages = None
    if view.pages > 1 or view.page > 1:
        pages = {
            "page": view.page, "count": view.pages,
            "prev": _page_url(path, category=category, sort=sort, page=view.page - 1) if view.page > 1 else None,
            "next": (_page_url(path, category=category, sort=sort, page=view.page + 1)
                     if view.page < view.pages else None),
        }
    feed_query = "?" + urlencode({"category": category}) if category else ""
    title = f"New papers: {fmt_date(day)}" if day else "New papers"
    return {
        "title": title + (f" in {category}" if category else ""),
        "description": "The day's new arXiv papers in this site's field, ranked by how likely the community is "
                       "to pick them.",
        "view": view,
        "day": day,
        "entries": view.entries,
        "first_rank": (view.page - 1) * view.per_page + 1,
        "empty_site": empty_site,
        "model_note": view.model.note if view.model else NOT_RANKED,
        "ranked": view.model is not None,
        "sorts": [{"label": label, "url": _page_url(path, category=category, sort=s), "current": s == sort}
                  for s, label in SORT_LABELS.items()],
        "categories": [{"label": "All", "count": None, "url": _page_url(path, category=None, sort=sort),
                        "current": category is None}]
                      + [{"label": c, "count": n, "url": _page_url(path, category=c, sort=sort),
                          "current": c == category} for c, n in view.categories],
        "all_url": _page_url(path, category=None, sort=sort),
        "first_url": _page_url(path, category=category, sort=sort),
        "pages": pages,
        "prev": link(view.previous),
        "next": link(view.next),
        "latest": ({"url": _page_url("/papers/new", category=category, sort=sort), "label": fmt_date(latest)}
                   if latest and day and latest != day else None),
        "feed": "/feeds/new.xml" + feed_query,
        "atom_feed": "/feeds/new.atom" + feed_query,
        "api_url": "/api/papers/new?" + urlencode({"date": day.isoformat()} if day else {}),
    }


async def new_page(request: Request) -> Response:
    """/papers/new (the latest arrival day) and /papers/new/YYYY-MM-DD."""
    site = site_of(request)
    raw_day = request.path_params.get("day")
    day = days_mod.parse_day(raw_day) if raw_day is not None else None
    category = _category(request)
    sort = request.query_params.get("sort") or "interest"
    page = int_param(request, "page", 1, 1, MAX_PAGE)
    arrivals = _arrivals(request)
    path = _day_path(day) if day else "/papers/new"

    def build():
        view = arrivals.view(day, category=category, sort=sort, page=page)
        return "arrivals.html", _context(view, path, latest=arrivals.latest_day() if day else view.day)

    # the latest day moves with the clock, not only with the content version
    return await site.cached(request, ("new", day, category, sort, page), build, extra_key=arrivals.today())


# -- JSON ---------------------------------------------------------------------------------
def entry_json(e: ArrivalEntry, base_url: str) -> dict:
    """A /api/daily_papers item plus what the ranker and the lists say about the arrival."""
    item = item_json(e.paper, None, base_url)
    item["score"] = round(e.score, 4) if e.score is not None else None
    item["reasons"] = list(e.reasons)
    item["listedOn"] = e.listed_on.isoformat() if e.listed_on else None
    return item


def view_json(view: ArrivalDay, base_url: str) -> dict:
    def iso(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    model = None
    if view.model is not None:
        model = {"kind": view.model.kind, "note": view.model.note, "trainedAt": view.model.trained_at.isoformat()}
    return {
        "date": iso(view.day),
        "previous": iso(view.previous),
        "next": iso(view.next),
        "sort": view.sort,
        "category": view.category,
        "page": view.page,
        "limit": view.per_page,
        "total": view.total,
        "unscored": view.unscored,
        "categories": [{"name": c, "count": n} for c, n in view.categories],
        "model": model,
        "note": model["note"] if model else NOT_RANKED,
        "papers": [entry_json(e, base_url) for e in view.entries],
    }


async def api_new(request: Request) -> Response:
    site = site_of(request)
    raw = request.query_params.get("date") or None
    day = days_mod.parse_day(raw) if raw else None
    category = _category(request)
    sort = request.query_params.get("sort") or "interest"
    page = int_param(request, "page", 1, 1, MAX_PAGE)
    limit = int_param(request, "limit", PER_PAGE, 1, MAX_LIMIT)
    arrivals = _arrivals(request)
    base = site.base_url

    def build():
        view = arrivals.view(day, category=category, sort=sort, page=page, per_page=limit)
        headers = {}
        if view.page < view.pages and view.day is not None:
            # from the parsed values only: the cached answer is shared by every spelling of the query
            params = {"date": view.day.isoformat(), "category": category or "", "sort": sort, "limit": str(limit),
                      "page": str(page + 1)}
            query = urlencode({k: v for k, v in params.items() if v})
            headers["Link"] = f'<{base}/api/papers/new?{query}>; rel="next"'
        return view_json(view, base), headers

    return await cached_json(request, ("new", day, category, sort, page, limit, arrivals.today()), build,
                             items=lambda data: data["papers"])


# -- feeds --------------------------------------------------------------------------------
async def feed(request: Request) -> Response:
    """The latest day's arrivals, best first: /feeds/new.xml (RSS) and /feeds/new.atom."""
    site = site_of(request)
    fmt = feed_format(request, request.url.path.endswith(".atom"))
    category = _category(request)
    arrivals = _arrivals(request)
    base = site.base_url
    query = "?" + urlencode({"category": category}) if category else ""

    def build():
        view = arrivals.view(category=category, per_page=FEED_LIMIT)
        on = f": {fmt_date(view.day)}" if view.day else ""
        items = [FeedItem(e.paper, dt.datetime.combine(e.day, dt.time(), tzinfo=dt.timezone.utc), base)
                 for e in view.entries]
        return (f"New papers{' in ' + category if category else ''}{on}", f"{base}/papers/new{query}",
                f"{base}/feeds/new.{'atom' if fmt == 'atom' else 'xml'}{query}",
                "The day's new arXiv papers, ranked by predicted interest", items)

    return await feed_response(request, ("new", category, arrivals.today()), build, fmt)


__all__ = ["new_page", "api_new", "feed", "entry_json", "view_json"]
