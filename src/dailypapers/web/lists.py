"""List pages: home (the latest day), a day, a week, a month, trending, an organization's papers,
an author's papers.

Each parses its input, asks PaperService for one view and renders list.html (org.html,
author.html) through the page cache.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import days as days_mod
from dailypapers.errors import NotFound
from dailypapers.papers import SORTS, PaperService
from dailypapers.web.requests import int_param
from dailypapers.web.site import day_url, export_links, fmt_date, site_of

MAX_PAGE = 500
SORT_LABELS = {"upvotes": "Most upvoted", "newest": "Newest", "trending": "Trending"}
_ORG_NAME = re.compile(r"^[\w.\-]{1,96}$")


def _sort_param(request: Request) -> str:
    return PaperService.check_sort(request.query_params.get("sort"))


def _sort_links(path: str, current: str) -> list[dict]:
    return [
        {"value": s, "label": SORT_LABELS[s], "url": path + ("" if s == "upvotes" else f"?sort={s}"),
         "current": s == current}
        for s in SORTS
    ]


def _with_sort(url: str, sort: str, page: int = 1) -> str:
    params = [f"sort={sort}"] if sort != "upvotes" else []
    if page > 1:
        params.append(f"page={page}")
    return url + ("?" + "&".join(params) if params else "")


def _switcher(kind: str, day, sort: str) -> list[dict]:
    """Day / Week / Month links around one day (the day shown, or a period's latest day)."""
    if day is None:
        return []
    return [{"label": k.title(), "url": _with_sort(u, sort), "current": k == kind}
            for k, u in _period_urls(day).items()]


def _period_urls(day) -> dict[str, str]:
    """The day's, its week's and its month's list pages."""
    return {"day": day_url(day), "week": f"/papers/week/{days_mod.week_label(day)}",
            "month": f"/papers/month/{days_mod.month_label(day)}"}


def _day_context(view, path: str, *, home: bool) -> dict:
    day = view.day
    if day is None:
        heading = "Daily Papers"
        title = "Daily Papers"
    else:
        heading = fmt_date(day, "long")
        title = f"Daily Papers: {fmt_date(day)}"
    exports = None  # the day's citations (web/exports.py), in the order the page shows
    if day is not None and view.entries:
        exports = export_links(f"/papers/date/{day.isoformat()}",
                               {"sort": view.sort} if view.sort != "upvotes" else None)
    return {
        "title": title,
        "heading": heading,
        "kind": "day",
        "home": home,
        "view": view,
        "entries": view.entries,
        "sort": view.sort,
        "sorts": _sort_links(path, view.sort),
        "prev": {"url": day_url(view.prev_day, view.sort), "label": fmt_date(view.prev_day)} if view.prev_day else None,
        "next": {"url": day_url(view.next_day, view.sort), "label": fmt_date(view.next_day)} if view.next_day else None,
        "nearest": view.nearest,
        "empty_message": (
            f"No papers were listed on {fmt_date(day)}." if day is not None and view.requested
            else "No papers yet."
        ),
        "switcher": _switcher("day", day, view.sort),
        "latest": ({"url": day_url(view.latest, view.sort), "label": fmt_date(view.latest)}
                   if view.latest and day and view.latest != day else None),
        # the home page follows the latest day; a day's page has that day's feed
        "feed": "/feeds/daily.xml" if home or day is None else f"/feeds/date/{day.isoformat()}.xml",
        "exports": exports,
        "export_label": "Export this day",
    }


async def home(request: Request) -> Response:
    site = site_of(request)
    sort = _sort_param(request)
    today = site.papers.today()

    def build():
        view = site.papers.home(sort)
        return "list.html", _day_context(view, "/", home=True)

    return await site.cached(request, ("home", sort), build, extra_key=today, visit="daily")


async def day_page(request: Request) -> Response:
    site = site_of(request)
    day = days_mod.parse_day(request.path_params["day"])
    sort = _sort_param(request)

    def build():
        view = site.papers.day(day, sort)
        return "list.html", _day_context(view, f"/papers/date/{day.isoformat()}", home=False)

    # today: the "Latest" link points at the home page's day, which moves at the roll-over
    return await site.cached(request, ("day", day, sort), build, extra_key=site.papers.today(), visit="daily")


def _period_context(view, path: str) -> dict:
    if view.kind == "week":
        heading = f"Week {view.label}"
        sub = f"{fmt_date(view.start)} – {fmt_date(view.end)}"
    else:
        heading = view.start.strftime("%B %Y")
        sub = None
    base = f"/papers/{view.kind}/"

    def period_link(label: str | None) -> dict | None:
        return {"url": _with_sort(base + label, view.sort), "label": label} if label else None

    pages = None
    if view.pages > 1:
        pages = {
            "page": view.page, "count": view.pages,
            "prev": _with_sort(path, view.sort, view.page - 1) if view.page > 1 else None,
            "next": _with_sort(path, view.sort, view.page + 1) if view.has_next else None,
        }
    return {
        "title": f"Daily Papers: {heading}",
        "heading": heading,
        "subheading": sub,
        "kind": view.kind,
        "view": view,
        "entries": view.entries,
        "total": view.total,
        "first_rank": (view.page - 1) * view.per_page + 1,
        "pages": pages,
        "compact": True,  # a preview per paper, no full abstract: a week can hold hundreds
        "sort": view.sort,
        "sorts": _sort_links(path, view.sort),
        "prev": period_link(view.prev_label),
        "next": period_link(view.next_label),
        "latest": period_link(view.latest_label) if view.latest_label != view.label else None,
        "switcher": _switcher(view.kind, view.last_day, view.sort),
        "nearest": view.nearest,
        "empty_message": f"No papers were listed in {heading}.",
        "feed": f"/feeds/{view.kind}/{view.label}.xml",
    }


async def week_page(request: Request) -> Response:
    return await _period_page(request, "week", days_mod.parse_week)


async def month_page(request: Request) -> Response:
    return await _period_page(request, "month", days_mod.parse_month)


async def _period_page(request: Request, period: str, parse: Callable[[str], Any]) -> Response:
    """/papers/week/YYYY-Www and /papers/month/YYYY-MM: the label is checked before any work."""
    site = site_of(request)
    label = request.path_params[period]
    parse(label)
    sort = _sort_param(request)
    page = int_param(request, "page", 1, 1, MAX_PAGE)
    view_of = site.papers.week if period == "week" else site.papers.month

    def build():
        view = view_of(label, sort, page)
        return "list.html", _period_context(view, f"/papers/{period}/{view.label}")

    return await site.cached(request, (period, label, sort, page), build, extra_key=site.papers.today(),
                             visit=period)


async def latest_period(request: Request) -> Response:
    """/papers/date, /papers/week and /papers/month without a label (a URL people type): the
    period of the latest day with papers, which is what the home page shows."""
    site = site_of(request)
    segment = request.url.path.rsplit("/", 1)[-1]
    kind = "day" if segment == "date" else segment
    day = site.papers.latest_day()
    if day is None and kind == "day":
        return RedirectResponse("/", status_code=302)
    url = _period_urls(day or site.papers.today())[kind]
    query = request.url.query
    return RedirectResponse(url + (f"?{query}" if query else ""), status_code=302)


async def trending_page(request: Request) -> Response:
    site = site_of(request)
    today = site.papers.today()

    def build():
        view = site.papers.trending()
        sub = f"{fmt_date(view.start)} – {fmt_date(view.end)}" if view.start else None
        return "list.html", {
            "title": "Trending papers",
            "heading": "Trending papers",
            "subheading": sub,
            "kind": "trending",
            "entries": view.entries,
            "sort": "trending",
            "sorts": None,
            "empty_message": "Nothing is trending yet.",
            "feed": "/feeds/trending.xml",
            "trending_note": True,
        }

    return await site.cached(request, ("trending",), build, extra_key=today, visit="trending")


async def org_page(request: Request) -> Response:
    site = site_of(request)
    name = request.path_params["name"]
    if not _ORG_NAME.match(name):
        raise NotFound("no such organization")
    page = int_param(request, "page", 1, 1, MAX_PAGE)

    def build():
        view = site.papers.organization(name, page)
        org = view.organization
        label = org.fullname or org.name
        return "org.html", {
            "title": f"{label}: papers",
            "view": view,
            "org": org,
            "label": label,
            "prev_url": f"/orgs/{name}?page={page - 1}" if page > 1 else None,
            "next_url": f"/orgs/{name}?page={page + 1}" if view.has_next else None,
            "feed": f"/feeds/orgs/{name}.xml",
        }

    return await site.cached(request, ("org", name, page), build)


# Characters quote(safe="") leaves as they are, and the space, which it writes as %20; none needs
# escaping in HTML. Most names are made of them alone, and a search page names ~55 authors,
# most of them new to the worker's cache: quote() (1.7 us a name) was most of their links' cost.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~ -]*")


def author_url(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):
        return "/authors/" + name.replace(" ", "%20")
    return "/authors/" + quote(name, safe="")


@functools.lru_cache(maxsize=50_000)
def _author_link(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):  # neither the name nor its URL has anything to escape
        return f'<a href="{author_url(name)}">{name}</a>'
    return f'<a href="{escape(author_url(name))}">{escape(name, quote=False)}</a>'


def author_links(names: Sequence[str]) -> Markup:
    """A card's author names, each a link to the author's page: built here, once per name, as a
    Jinja loop over them adds a fifth to the render of a list page."""
    return Markup(", ".join(_author_link(n) for n in names))


def other_spellings(name: str, spellings: list[str]) -> list[str]:
    """The spellings to show beside the name asked: case alone does not make another one."""
    seen = {name.casefold()}
    out = []
    for s in spellings:
        if s.casefold() not in seen:
            seen.add(s.casefold())
            out.append(s)
    return out


async def author_page(request: Request) -> Response:
    """/authors/{name}: the author's papers, every spelling merged; 404 (with the follow button)
    when there are none here yet."""
    site = site_of(request)
    name = request.path_params["name"]
    page = int_param(request, "page", 1, 1, MAX_PAGE)

    def build():
        view = site.papers.author(name, page)
        path = author_url(view.name)
        return "author.html", {
            "title": f"{view.name}: papers",
            "view": view,
            "others": other_spellings(view.name, view.spellings),
            "prev_url": f"{path}?page={page - 1}" if page > 1 else None,
            "next_url": f"{path}?page={page + 1}" if view.has_next else None,
            "feed": f"/feeds{path}.xml",
            "status": 200 if view.papers else 404,
            "noindex": not view.papers,
        }

    # the papers come from the search index: keyed by its position as well as the content version
    return await site.cached(request, ("author", name, page), build, extra_key=site.services.search.position())


__all__ = ["home", "day_page", "week_page", "month_page", "trending_page", "org_page", "author_page", "author_url",
           "author_links"]
