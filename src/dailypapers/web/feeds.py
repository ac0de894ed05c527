"""Feeds of every list, in three formats from one builder: RSS 2.0 (``.xml``), Atom 1.0 (``.atom``)
and JSON Feed 1.1 (``.json``); ``?format=rss|atom|json`` on any of them picks one too.

* /feeds/daily.*                   the latest day's list, most upvoted first
* /feeds/date/2026-08-21.*         one day's list
* /feeds/week/2026-W34.*, /feeds/month/2026-08.*   a week's or a month's most upvoted
* /feeds/trending.*                trending papers (time-decayed upvotes)
* /feeds/orgs/{name}.*             an organization's papers, newest first
* /feeds/categories/{cat}.*        an arXiv category (cs.CL) or archive (cs), newest first
* /feeds/authors/{name}.*          an author's papers, newest first, spellings merged (as /authors/{name})
* /feeds/search.*?q=               a search (with the page's filters), newest first (sort= also works)
* /feeds                           the API page's list of feeds (/api#feeds)

The collection feeds are in web/library.py, new arrivals in web/arrivals.py, saved searches and a
member's For you in web/saved.py; all go through ``feed_response``. The feeds that run a search
count against the search rate limit (web/routes.py: RATE_LIMITED).

XML is built with lxml, so every text is escaped by the serializer; characters XML cannot hold
(NUL and other controls, lone surrogates) are removed first. The HTML of an item (RSS description,
Atom content, JSON content_html) is made here from escaped text only: a paper's title or abstract
can never put markup into a reader.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from email.utils import format_datetime
from html import escape
from urllib.parse import quote, urlencode

from lxml import etree
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import days as days_mod
from dailypapers.errors import Invalid, NotFound
from dailypapers.search.query import normalize_category
from dailypapers.search.request import SearchRequest, clean_text
from dailypapers.web.cache import entry_response, make_entry
from dailypapers.web.site import fmt_date, site_of

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FEED_LIMIT = 30
FEED_CACHE_CONTROL = "public, max-age=300"
SEARCH_PARAMS = ("q", "sort", "mode", "from", "to", "category", "has_code", "min_upvotes")
# format -> (path extension, media type)
FORMATS = {"rss": (".xml", "application/rss+xml"), "atom": (".atom", "application/atom+xml"),
           "json": (".json", "application/feed+json")}
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
_EXTENSION = re.compile(r"\.(xml|atom|json)(?=$|\?)")
_ORG_NAME = re.compile(r"^[\w.\-]{1,96}$")
MAX_AUTHOR_CHARS = 200  # as an author page (papers.AUTHOR_NAME_CHARS)
SEARCH_DEFAULTS = SearchRequest(sort="newest", per_page=FEED_LIMIT)
_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def x(text) -> str:
    return _INVALID_XML.sub("", str(text or ""))


def _utc(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def rfc822(value: dt.datetime | None) -> str:
    return format_datetime(_utc(value), usegmt=True)


def rfc3339(value: dt.datetime | None) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


class FeedItem:
    def __init__(self, paper, when: dt.datetime | None, base_url: str, note: str = ""):
        self.paper = paper
        self.when = when or paper.published
        self.url = f"{base_url}/papers/{paper.arxiv_id}"
        self.note = note  # why it is in this feed (For you's reasons), shown above the abstract


def item_html(item: FeedItem) -> str:
    """The item as HTML, from escaped text only."""
    p = item.paper
    parts = []
    if item.note:
        parts.append(f"<p><em>{escape(x(item.note))}</em></p>")
    if p.authors:
        more = f" and {len(p.authors) - 20} more" if len(p.authors) > 20 else ""
        parts.append(f"<p>{escape(x(', '.join(p.authors[:20])))}{more}</p>")
    if p.abstract:
        parts.append(f"<p>{escape(x(p.abstract))}</p>")
    parts.append(f'<p><a href="{escape(x(item.url))}">Daily Papers</a> · '
                 f'<a href="https://arxiv.org/abs/{escape(x(p.arxiv_id))}">arXiv</a></p>')
    return "\n".join(parts)


def with_format(url: str, fmt: str) -> str:
    """The same feed URL in another format (its extension swapped)."""
    return _EXTENSION.sub(FORMATS[fmt][0], url, count=1)


def alternates(url: str | None, title: str = "Daily Papers") -> list[dict]:
    """The three formats of a feed (an RSS .xml URL), for <link rel="alternate"> and visible links."""
    if not url:
        return []
    labels = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
    return [{"type": media, "label": labels[fmt], "title": f"{title} ({labels[fmt]})", "href": with_format(url, fmt)}
            for fmt, (_, media) in FORMATS.items()]


def render_rss(title: str, link: str, self_url: str, description: str, items: list[FeedItem]) -> bytes:
    rss = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS, "dc": DC_NS})
    ch = etree.SubElement(rss, "channel")
    etree.SubElement(ch, "title").text = x(title)
    etree.SubElement(ch, "link").text = x(link)
    etree.SubElement(ch, "description").text = x(description)
    etree.SubElement(ch, "language").text = "en"
    etree.SubElement(ch, "generator").text = "dailypapers"
    etree.SubElement(ch, f"{{{ATOM_NS}}}link", href=x(self_url), rel="self", type="application/rss+xml")
    newest = max((i.when for i in items if i.when), default=None)
    etree.SubElement(ch, "lastBuildDate").text = rfc822(newest)
    for item in items:
        p = item.paper
        it = etree.SubElement(ch, "item")
        etree.SubElement(it, "title").text = x(p.title)
        etree.SubElement(it, "link").text = x(item.url)
        etree.SubElement(it, "guid", isPermaLink="true").text = x(item.url)
        etree.SubElement(it, "description").text = x(item_html(item))
        etree.SubElement(it, "pubDate").text = rfc822(item.when)
        if p.authors:
            etree.SubElement(it, f"{{{DC_NS}}}creator").text = x(", ".join(p.authors))
        for kw in p.ai_keywords[:8]:
            etree.SubElement(it, "category").text = x(kw)
    return etree.tostring(rss, xml_declaration=True, encoding="utf-8")


def render_atom(title: str, link: str, self_url: str, description: str, items: list[FeedItem]) -> bytes:
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})

    def sub(parent, tag, text=None, **attrs):
        el = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", **attrs)
        if text is not None:
            el.text = x(text)
        return el

    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "subtitle", description)
    newest = max((i.when for i in items if i.when), default=None)
    sub(feed, "updated", rfc3339(newest))
    sub(feed, "link", href=x(link), rel="alternate", type="text/html")
    sub(feed, "link", href=x(self_url), rel="self", type="application/atom+xml")
    author = sub(feed, "author")
    sub(author, "name", "Daily Papers")
    sub(feed, "generator", "dailypapers")
    for item in items:
        p = item.paper
        e = sub(feed, "entry")
        sub(e, "id", item.url)
        sub(e, "title", p.title, type="text")
        sub(e, "link", href=x(item.url), rel="alternate", type="text/html")
        sub(e, "link", href=x(f"https://arxiv.org/abs/{p.arxiv_id}"), rel="related", type="text/html")
        sub(e, "updated", rfc3339(item.when))
        if p.published:
            sub(e, "published", rfc3339(p.published))
        for name in p.authors[:50] or ["Unknown"]:
            a = sub(e, "author")
            sub(a, "name", name)
        sub(e, "summary", p.abstract, type="text")
        sub(e, "content", item_html(item), type="html")
        for kw in p.ai_keywords[:8]:
            sub(e, "category", term=x(kw))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


def render_json(title: str, link: str, self_url: str, description: str, items: list[FeedItem]) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    out = []
    for item in items:
        p = item.paper
        entry = {
            "id": x(item.url), "url": x(item.url), "external_url": f"https://arxiv.org/abs/{x(p.arxiv_id)}",
            "title": x(p.title), "content_html": item_html(item), "summary": x(p.abstract),
            "date_published": rfc3339(item.when),
            "authors": [{"name": x(a)} for a in p.authors[:50]] or [{"name": "Unknown"}],
        }
        if p.ai_keywords:
            entry["tags"] = [x(k) for k in p.ai_keywords[:8]]
        out.append(entry)
    feed = {
        "version": JSON_FEED_VERSION, "title": x(title), "home_page_url": x(link), "feed_url": x(self_url),
        "description": x(description), "language": "en", "authors": [{"name": "Daily Papers"}], "items": out,
    }
    return json.dumps(feed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


RENDER = {"rss": render_rss, "atom": render_atom, "json": render_json}


def feed_format(request: Request, atom_path: bool | None = None) -> str:
    """rss, atom or json: ?format= if given, else the path's extension."""
    path = request.url.path
    by_path = "json" if path.endswith(".json") else "atom" if atom_path or path.endswith(".atom") else "rss"
    fmt = request.query_params.get("format") or by_path
    if fmt not in FORMATS:
        raise Invalid("format must be rss, atom or json")
    return fmt


async def feeds_index(request: Request) -> Response:
    """/feeds, typed by someone looking for a feed: the API page lists them all."""
    return RedirectResponse("/api#feeds", status_code=302)


# Paths that feed readers and people try on any site, each to the daily list's feed in its format.
CONVENTIONAL_FEEDS = {
    "/rss": "/feeds/daily.xml", "/rss.xml": "/feeds/daily.xml", "/feed": "/feeds/daily.xml",
    "/feed.xml": "/feeds/daily.xml", "/index.xml": "/feeds/daily.xml", "/atom.xml": "/feeds/daily.atom",
    "/feed.json": "/feeds/daily.json",
}


async def conventional_feed(request: Request) -> Response:
    """/rss, /feed.xml, /atom.xml and the like: the daily list's feed."""
    return RedirectResponse(CONVENTIONAL_FEEDS[request.url.path], status_code=302)


async def feed_response(request: Request, key: tuple, build, fmt: str,
                        cache_control: str = FEED_CACHE_CONTROL) -> Response:
    site = site_of(request)
    full_key = ("feed", fmt, key, site.papers.version())

    def work():
        title, link, self_url, description, items = build()
        return make_entry(RENDER[fmt](title, link, with_format(self_url, fmt), description, items))

    entry = await site.entry(full_key, work)
    return entry_response(request, entry, f"{FORMATS[fmt][1]}; charset=utf-8", cache_control)


async def daily(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request, request.url.path.endswith(".atom"))
    base = site.base_url

    def build():
        view = site.papers.home("upvotes")
        title = f"Daily Papers: {fmt_date(view.day)}" if view.day else "Daily Papers"
        items = [FeedItem(e.paper, e.listed_at, base) for e in view.entries[:FEED_LIMIT]]
        return (title, base + "/", f"{base}/feeds/daily.{'atom' if fmt == 'atom' else 'xml'}",
                "The day's most upvoted research papers", items)

    return await feed_response(request, ("daily", site.papers.today()), build, fmt)


async def trending(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request, request.url.path.endswith(".atom"))
    base = site.base_url

    def build():
        view = site.papers.trending(FEED_LIMIT)
        items = [FeedItem(e.paper, e.listed_at, base) for e in view.entries]
        return ("Daily Papers: trending", base + "/papers/trending",
                f"{base}/feeds/trending.{'atom' if fmt == 'atom' else 'xml'}",
                "Papers with the most upvotes for their age", items)

    return await feed_response(request, ("trending", site.papers.today()), build, fmt)


async def search(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request, request.url.path.endswith(".atom"))
    search = SearchRequest.from_params(request.query_params, accept=SEARCH_PARAMS, defaults=SEARCH_DEFAULTS,
                                       require_q=True)
    q = search.q
    base = site.base_url
    page_qs = urlencode(search.params())
    feed_qs = urlencode(search.params(sort=None if search.sort == "newest" else search.sort))  # newest: the default

    def build():
        results = site.services.search.search(search)
        items = [FeedItem(h.paper, h.paper.published, base) for h in results.results]
        return (f"Daily Papers search: {q}", f"{base}/papers/search?{page_qs}",
                f"{base}/feeds/search.xml?{feed_qs}", f"Papers matching “{q}”", items)

    return await feed_response(request, ("search", feed_qs, site.services.search.position()), build, fmt)


def _search_feed(request: Request, key: tuple, q: str, title: str, page: str, self_url: str, description: str):
    """A feed of one fixed search, newest first (categories, authors)."""
    site = site_of(request)
    fmt = feed_format(request)
    search = SearchRequest(q=q, sort="newest", per_page=FEED_LIMIT)
    base = site.base_url

    def build():
        results = site.services.search.search(search)
        items = [FeedItem(h.paper, h.paper.published, base) for h in results.results]
        return title, base + page, base + self_url, description, items

    return feed_response(request, (*key, site.services.search.position()), build, fmt)


async def category(request: Request) -> Response:
    cat = normalize_category(request.path_params["cat"])
    if cat is None:
        raise NotFound("no such category (expected e.g. cs.CL or cs)")
    return await _search_feed(request, ("category", cat), f"cat:{cat}", f"Daily Papers: {cat}",
                              "/papers/search?" + urlencode({"q": f"cat:{cat}", "sort": "newest"}),
                              f"/feeds/categories/{cat}.xml", f"The newest papers in {cat}")


async def author(request: Request) -> Response:
    """The papers of the author's page (PaperService.author: every spelling of the name)."""
    site = site_of(request)
    fmt = feed_format(request)
    name = " ".join(clean_text(request.path_params["name"]).split())
    if not name or len(name) > MAX_AUTHOR_CHARS:
        raise NotFound("no such author")
    base = site.base_url

    def build():
        view = site.papers.author(name, 1, FEED_LIMIT)
        path = "/authors/" + quote(view.name, safe="")
        items = [FeedItem(p, p.published, base) for p in view.papers]
        return (f"Daily Papers: {view.name}", base + path, f"{base}/feeds{path}.xml",
                f"The newest papers by {view.name}", items)

    return await feed_response(request, ("author", name, site.services.search.position()), build, fmt)


async def day(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request)
    when = days_mod.parse_day(request.path_params["day"])
    base = site.base_url

    def build():
        view = site.papers.day(when, "upvotes")
        items = [FeedItem(e.paper, e.listed_at, base) for e in view.entries[:FEED_LIMIT]]
        return (f"Daily Papers: {fmt_date(when)}", f"{base}/papers/date/{when.isoformat()}",
                f"{base}/feeds/date/{when.isoformat()}.xml",
                f"The papers listed on {fmt_date(when)}, most upvoted first", items)

    return await feed_response(request, ("date", when), build, fmt)


async def period(request: Request) -> Response:
    """/feeds/week/YYYY-Www.* and /feeds/month/YYYY-MM.*: the period's most upvoted."""
    site = site_of(request)
    fmt = feed_format(request)
    kind = "week" if "week" in request.path_params else "month"
    label = request.path_params[kind]
    (days_mod.parse_week if kind == "week" else days_mod.parse_month)(label)
    base = site.base_url
    view_of = site.papers.week if kind == "week" else site.papers.month

    def build():
        view = view_of(label, "upvotes", 1)
        items = [FeedItem(e.paper, e.listed_at, base) for e in view.entries[:FEED_LIMIT]]
        heading = f"week {view.label}" if kind == "week" else view.start.strftime("%B %Y")
        return (f"Daily Papers: {heading}", f"{base}/papers/{kind}/{view.label}",
                f"{base}/feeds/{kind}/{view.label}.xml", f"The most upvoted papers of {heading}", items)

    return await feed_response(request, (kind, label, site.papers.today()), build, fmt)


async def organization(request: Request) -> Response:
    site = site_of(request)
    fmt = feed_format(request)
    name = request.path_params["name"]
    if not _ORG_NAME.match(name):
        raise NotFound("no such organization")
    base = site.base_url

    def build():
        view = site.papers.organization(name, 1, FEED_LIMIT)
        label = view.organization.fullname or view.organization.name
        items = [FeedItem(p, p.published, base) for p in view.papers]
        return (f"Daily Papers: {label}", f"{base}/orgs/{name}", f"{base}/feeds/orgs/{name}.xml",
                f"Papers from {label}", items)

    return await feed_response(request, ("org", name), build, fmt)


__all__ = ["daily", "trending", "search", "day", "period", "organization", "category", "author", "render_rss",
           "render_atom", "render_json", "alternates", "with_format", "feed_format", "feed_response", "FeedItem",
           "FORMATS"]
