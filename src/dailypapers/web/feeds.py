"""RSS 2.0 and Atom 1.0 feeds: the daily list, trending, and any search.

Paths (RSS by default; Atom by the .atom path or ?format=atom on the .xml path):

* /feeds/daily.xml      /feeds/daily.atom      the latest day's list, most upvoted first
* /feeds/trending.xml   /feeds/trending.atom   trending papers (time-decayed upvotes)
* /feeds/search.xml?q=  /feeds/search.atom?q=  a search, newest first (sort=relevance|upvotes also work)

Built with lxml, so every text is escaped by the serializer; characters XML cannot hold (NUL and
other controls, lone surrogates) are removed first.
"""

from __future__ import annotations

import datetime as dt
import re
from email.utils import format_datetime
from urllib.parse import urlencode

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.errors import Invalid
from dailypapers.search.request import SearchRequest
from dailypapers.web.cache import entry_response, make_entry
from dailypapers.web.site import fmt_date, site_of

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
FEED_LIMIT = 30
FEED_CACHE_CONTROL = "public, max-age=300"
SEARCH_PARAMS = ("q", "sort")
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
    def __init__(self, paper, when: dt.datetime | None, base_url: str):
        self.paper = paper
        self.when = when or paper.published
        self.url = f"{base_url}/papers/{paper.arxiv_id}"


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
        etree.SubElement(it, "description").text = x(p.abstract)
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
        for kw in p.ai_keywords[:8]:
            sub(e, "category", term=x(kw))
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8")


def feed_format(request: Request, atom_path: bool) -> str:
    fmt = request.query_params.get("format") or ("atom" if atom_path else "rss")
    if fmt not in ("rss", "atom"):
        raise Invalid("format must be rss or atom")
    return fmt


async def feed_response(request: Request, key: tuple, build, fmt: str) -> Response:
    site = site_of(request)
    full_key = ("feed", fmt, key, site.papers.version())

    def work():
        title, link, self_url, description, items = build()
        render = render_atom if fmt == "atom" else render_rss
        return make_entry(render(title, link, self_url, description, items))

    entry = await site.entry(full_key, work)
    media = "application/atom+xml; charset=utf-8" if fmt == "atom" else "application/rss+xml; charset=utf-8"
    return entry_response(request, entry, media, FEED_CACHE_CONTROL)


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
    q, sort = search.q, search.sort
    base = site.base_url

    def build():
        results = site.services.search.search(search)
        items = [FeedItem(h.paper, h.paper.published, base) for h in results.results]
        qs = urlencode({"q": q})
        return (f"Daily Papers search: {q}", f"{base}/papers/search?{qs}",
                f"{base}/feeds/search.{'atom' if fmt == 'atom' else 'xml'}?{qs}",
                f"Papers matching “{q}”", items)

    return await feed_response(request, ("search", q, sort, site.services.search.position()), build, fmt)


__all__ = ["daily", "trending", "search", "render_rss", "render_atom"]
