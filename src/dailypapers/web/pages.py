"""HTML pages: each handler parses its input, calls one service method and renders a template.

Rendered list pages are cached in-process for a few seconds, keyed by the page and the store's
content version (papers, listings, votes), so the busiest page (/) costs a dict lookup. A cached
page that holds a CSRF field is stored with a placeholder and personalized on the way out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import math
import re
import struct
import threading
import time
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import days as days_mod
from dailypapers.errors import Invalid, NotFound
from dailypapers.papers import SORTS, PaperService, search_hits
from dailypapers.web.security import CSRF_PLACEHOLDER, csrf_field, csrf_token

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

PAGE_TTL = 5.0  # seconds a rendered list page is reused (within one store version)
CACHE_ENTRIES = 512
MAX_QUERY_CHARS = 250
SEARCH_TTL = 60.0  # seconds a rendered search page is reused (within one store version)
RENDER_THREADS = 3  # threads per process rendering cache misses (see Site.__init__)
MAX_PAGE = 500
PERIOD_LIMIT = 100  # week and month pages show the top 100 (the API pages through all)
SEARCH_PER_PAGE = 20
LIST_CACHE_CONTROL = "public, max-age=60"
SORT_LABELS = {"upvotes": "Most upvoted", "newest": "Newest", "trending": "Trending"}
_ORG_NAME = re.compile(r"^[\w.\-]{1,96}$")


# -- template helpers ------------------------------------------------------------
def fmt_date(value: dt.date | dt.datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if style == "long":
        return value.strftime("%A, %B %-d, %Y")
    return value.strftime("%b %-d, %Y")


def preview(text: str, limit: int = 260) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(",;:. ") + "…"


def kcount(n: int | None) -> str:
    if n is None:
        return ""
    if n >= 1000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)


def repo_label(url: str | None) -> str:
    if not url:
        return ""
    m = re.match(r"^https?://(?:www\.)?github\.com/([^/]+/[^/?#]+)", url)
    return m.group(1).removesuffix(".git") if m else re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links go into href attributes (no javascript: from imported data)."""
    if url and re.match(r"^https?://", url, re.IGNORECASE):
        return url
    return None


def bibtex(paper) -> str:
    first = (paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon")
    key_author = re.sub(r"[^A-Za-z]", "", first).lower() or "paper"
    year = paper.published.year if paper.published else ""
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", paper.title)), "paper").lower()
    key = f"{key_author}{year}{word}"

    def clean(s: str) -> str:
        return s.replace("{", "\\{").replace("}", "\\}")

    lines = [
        f"@misc{{{key},",
        f"  title = {{{clean(paper.title)}}},",
        f"  author = {{{clean(' and '.join(paper.authors))}}},",
    ]
    if year:
        lines.append(f"  year = {{{year}}},")
    lines += [
        f"  eprint = {{{paper.arxiv_id}}},",
        "  archivePrefix = {arXiv},",
    ]
    if paper.primary_category:
        lines.append(f"  primaryClass = {{{paper.primary_category}}},")
    lines.append(f"  url = {{https://arxiv.org/abs/{paper.arxiv_id}}}")
    lines.append("}")
    return "\n".join(lines)


def _static_version() -> str:
    h = hashlib.sha1()
    for path in sorted(STATIC.glob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:10]


# -- the page cache ----------------------------------------------------------------
@dataclass
class CacheEntry:
    body: bytes
    gz: bytes | None
    etag: str
    status: int
    personalized: bool
    expires: float
    extra: dict | None = None  # headers to send with it (e.g. Link)
    gz_parts: list[bytes] | None = None  # personalized pages: deflated pieces around the token


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_DEFLATE_END = b"\x03\x00"  # an empty final block


def _deflate_piece(data: bytes, level: int = 6) -> bytes:
    """Raw deflate blocks ending byte-aligned (sync flush), so pieces can be concatenated."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def _stored_block(data: bytes) -> bytes:
    """A non-final stored (uncompressed) deflate block: how the per-visitor token goes in."""
    out = []
    for i in range(0, len(data), 65535):
        chunk = data[i : i + 65535]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def personalized_gzip(parts: list[bytes], token: bytes, body: bytes) -> bytes:
    """gzip of `body` (= the parts joined by `token`) without recompressing the parts."""
    pieces = [_GZIP_HEADER]
    tok = _stored_block(token)
    for i, part in enumerate(parts):
        if i:
            pieces.append(tok)
        pieces.append(part)
    pieces.append(_DEFLATE_END)
    pieces.append(struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF))
    return b"".join(pieces)


class PageCache:
    def __init__(self, ttl: float = PAGE_TTL, size: int = CACHE_ENTRIES):
        self.ttl = ttl
        self.size = size
        self._data: OrderedDict[Any, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> CacheEntry | None:
        entry = self._data.get(key)
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def peek(self, key) -> CacheEntry | None:
        """The entry even if it has expired (to serve while a fresh one renders)."""
        return self._data.get(key)

    def put(self, key, entry: CacheEntry) -> None:
        with self._lock:
            self._data[key] = entry
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def make_entry(body: bytes, status: int = 200, ttl: float = PAGE_TTL, level: int = 6) -> CacheEntry:
    """A cache entry, gzipped once at `level` (the default suits pages served many times)."""
    personalized = CSRF_PLACEHOLDER.encode() in body
    big = len(body) > 1024
    gz = gzip.compress(body, level, mtime=0) if big and not personalized else None
    parts = ([_deflate_piece(p, level) for p in body.split(CSRF_PLACEHOLDER.encode())]
             if big and personalized else None)
    etag = 'W/"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return CacheEntry(body, gz, etag, status, personalized, time.monotonic() + ttl, gz_parts=parts)


def etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in header.split(","))


def entry_response(request: Request, entry: CacheEntry, media_type: str, cache_control: str,
                   extra_headers: dict[str, str] | None = None) -> Response:
    body, gz, etag, cache = entry.body, entry.gz, entry.etag, cache_control
    wants_gzip = "gzip" in request.headers.get("accept-encoding", "")
    if entry.personalized:
        # The page holds this visitor's CSRF token: never shared, revalidated every time (ETag -> 304).
        token = csrf_token(request).encode()
        body = body.replace(CSRF_PLACEHOLDER.encode(), token)
        etag = etag[:-1] + "-" + hashlib.sha1(token).hexdigest()[:8] + '"'
        cache = "private, max-age=0, must-revalidate"
        gz = personalized_gzip(entry.gz_parts, token, body) if entry.gz_parts and wants_gzip else None
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if extra_headers:
        headers.update(extra_headers)
    if entry.status == 200 and etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if gz is not None and wants_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(gz, status_code=entry.status, media_type=media_type, headers=headers)
    return Response(body, status_code=entry.status, media_type=media_type, headers=headers)


# -- the site: templates + cache ---------------------------------------------------
class Site:
    def __init__(self, services, papers: PaperService):
        self.services = services
        self.settings = services.settings
        self.papers = papers
        self.cache = PageCache()
        self._inflight: dict[tuple, asyncio.Future] = {}
        # Renders (and the searches inside them) are CPU work under the GIL: a few threads keep up
        # with the cores, and misses queue in order instead of 40 threads slicing the same cores
        # (A/B with `bench/bench_web.py --only search`, 2 cores, 16 connections: p99 120-140 ms
        # with 3 threads, 160-250 ms with 40.)
        # Other blocking work (mail, password hashing) keeps Starlette's own pool.
        self._render_pool = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="dailypapers-render")
        self.base_url = self.settings.base_url.rstrip("/")
        self.static_version = _static_version()
        env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        env.globals.update(
            csrf_token=csrf_token,
            csrf_field=csrf_field,
            static=self.static_url,
            absolute=self.absolute,
            paper_url=paper_url,
            day_url=day_url,
            week_label=days_mod.week_label,
            month_label=days_mod.month_label,
            site_name="Daily Papers",
            bibtex=bibtex,
        )
        env.filters.update(fmt_date=fmt_date, preview=preview, kcount=kcount, repo_label=repo_label,
                           safe_url=safe_url)
        self.env = env

    def static_url(self, name: str) -> str:
        return f"/static/{name}?v={self.static_version}"

    def absolute(self, path: str) -> str:
        return self.base_url + path

    def render(self, request: Request, template: str, context: dict) -> str:
        ctx = {"request": request, "canonical": self.absolute(request.url.path)}
        ctx.update(context)
        return self.env.get_template(template).render(ctx)

    def html(self, request: Request, template: str, context: dict, *, status: int = 200,
             cache_control: str = "no-cache") -> Response:
        """An uncached page, rendered for this request (its CSRF token is the visitor's own)."""
        body = self.render(request, template, context).encode()
        headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding"}
        if "csrf_nonce" in request.scope.get("state", {}):  # it holds this visitor's token
            headers["Cache-Control"] = "private, max-age=0, must-revalidate"
        if status == 200:
            headers["ETag"] = 'W/"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            if etag_matches(request, headers["ETag"]):
                return Response(status_code=304, headers=headers)
        if len(body) > 1024 and "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body, 5, mtime=0)
        return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=headers)

    async def entry(self, full_key: tuple, work: Callable[[], CacheEntry]) -> CacheEntry:
        """The cached entry for this key, rendering it at most once at a time per process.

        A miss renders in a worker thread while concurrent requests for the same key wait for that
        one render (no stampede). An expired entry (same content version: the key holds it) is still
        served while one background render refreshes it.
        """
        entry = self.cache.peek(full_key)
        if entry is not None and entry.expires >= time.monotonic():
            return entry
        task = self._inflight.get(full_key)
        if task is None:
            task = asyncio.get_running_loop().run_in_executor(self._render_pool, work)
            self._inflight[full_key] = task
            task.add_done_callback(lambda t, k=full_key: self._rendered(k, t))
        if entry is not None:
            return entry
        return await asyncio.shield(task)

    def _rendered(self, key: tuple, task: asyncio.Future) -> None:
        self._inflight.pop(key, None)
        if task.cancelled():
            return
        if task.exception() is None:
            self.cache.put(key, task.result())

    async def cached(self, request: Request, key: tuple, build: Callable[[], tuple[str, dict]], *,
                     cache_control: str = LIST_CACHE_CONTROL, extra_key: Any = None,
                     ttl: float = PAGE_TTL, gzip_level: int = 6) -> Response:
        """Serve a page from the in-process cache, rendering it (in a worker thread) on a miss."""
        full_key = (key, extra_key, self.papers.version())
        # The render must not depend on who asks: it sees a bare request for this URL, and the
        # CSRF token is a placeholder replaced per visitor in entry_response.
        scope = {"type": "http", "method": "GET", "path": request.url.path, "query_string": b"",
                 "headers": [], "app": request.app, "state": {"csrf_placeholder": True},
                 "scheme": request.url.scheme, "server": request.scope.get("server"), "root_path": ""}
        render_request = Request(scope)

        def work() -> CacheEntry:
            template, ctx = build()
            body = self.render(render_request, template, ctx).encode()
            return make_entry(body, ctx.get("status", 200), ttl=ttl, level=gzip_level)

        entry = await self.entry(full_key, work)
        return entry_response(request, entry, "text/html; charset=utf-8", cache_control)


def paper_url(arxiv_id: str) -> str:
    return f"/papers/{arxiv_id}"


def day_url(day: dt.date | None, sort: str | None = None) -> str:
    if day is None:
        return "/"
    url = f"/papers/date/{day.isoformat()}"
    return url + (f"?sort={sort}" if sort and sort != "upvotes" else "")


def _site(request: Request) -> Site:
    return request.app.state.site


def _sort_param(request: Request) -> str:
    sort = request.query_params.get("sort") or "upvotes"
    if sort not in SORTS:
        raise Invalid(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    return sort


def _sort_links(path: str, current: str) -> list[dict]:
    return [
        {"value": s, "label": SORT_LABELS[s], "url": path + ("" if s == "upvotes" else f"?sort={s}"),
         "current": s == current}
        for s in SORTS
    ]


# -- list pages ----------------------------------------------------------------------
def _day_context(view, path: str, *, home: bool) -> dict:
    day = view.day
    if day is None:
        heading = "Daily Papers"
        title = "Daily Papers"
    else:
        heading = fmt_date(day, "long")
        title = f"Daily Papers: {fmt_date(day)}"
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
        "week": days_mod.week_label(day) if day else None,
        "month": days_mod.month_label(day) if day else None,
        "feed": "/feeds/daily.xml",
    }


async def home(request: Request) -> Response:
    site = _site(request)
    sort = _sort_param(request)
    today = site.papers.today()

    def build():
        view = site.papers.home(sort)
        return "list.html", _day_context(view, "/", home=True)

    return await site.cached(request, ("home", sort), build, extra_key=today)


async def day_page(request: Request) -> Response:
    site = _site(request)
    day = days_mod.parse_day(request.path_params["day"])
    sort = _sort_param(request)

    def build():
        view = site.papers.day(day, sort)
        return "list.html", _day_context(view, f"/papers/date/{day.isoformat()}", home=False)

    return await site.cached(request, ("day", day, sort), build)


def _period_context(view, path: str) -> dict:
    if view.kind == "week":
        heading = f"Week {view.label}"
        sub = f"{fmt_date(view.start)} – {fmt_date(view.end)}"
        prev_url, next_url = f"/papers/week/{view.prev_label}", f"/papers/week/{view.next_label}"
    else:
        heading = view.start.strftime("%B %Y")
        sub = None
        prev_url, next_url = f"/papers/month/{view.prev_label}", f"/papers/month/{view.next_label}"
    suffix = "" if view.sort == "upvotes" else f"?sort={view.sort}"
    return {
        "title": f"Daily Papers: {heading}",
        "heading": heading,
        "subheading": sub,
        "kind": view.kind,
        "view": view,
        "entries": view.entries[:PERIOD_LIMIT],
        "total": len(view.entries),
        "sort": view.sort,
        "sorts": _sort_links(path, view.sort),
        "prev": {"url": prev_url + suffix, "label": view.prev_label},
        "next": {"url": next_url + suffix, "label": view.next_label},
        "nearest": view.nearest,
        "empty_message": f"No papers were listed in {heading}.",
        "feed": "/feeds/daily.xml",
    }


async def week_page(request: Request) -> Response:
    return await _period_page(request, "week", days_mod.parse_week)


async def month_page(request: Request) -> Response:
    return await _period_page(request, "month", days_mod.parse_month)


async def _period_page(request: Request, period: str, parse: Callable[[str], Any]) -> Response:
    """/papers/week/YYYY-Www and /papers/month/YYYY-MM: the label is checked before any work."""
    site = _site(request)
    label = request.path_params[period]
    parse(label)
    sort = _sort_param(request)
    view_of = site.papers.week if period == "week" else site.papers.month

    def build():
        view = view_of(label, sort)
        return "list.html", _period_context(view, f"/papers/{period}/{view.label}")

    return await site.cached(request, (period, label, sort), build)


async def trending_page(request: Request) -> Response:
    site = _site(request)
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

    return await site.cached(request, ("trending",), build, extra_key=today)


# -- paper page ----------------------------------------------------------------------
async def paper_page(request: Request) -> Response:
    site = _site(request)
    raw = request.path_params["arxiv_id"]
    if raw.endswith(".md"):
        return await paper_markdown_page(request, raw[:-3])
    arxiv_id = site.papers.canonical_id(raw)
    if raw != arxiv_id:
        return RedirectResponse(paper_url(arxiv_id), status_code=301)

    def build():
        detail = site.papers.paper(arxiv_id)
        p = detail.paper
        return "paper.html", {
            "title": p.title,
            "detail": detail,
            "paper": p,
            "description": preview(p.ai_summary or p.abstract, 200),
            "og": True,
        }

    return await site.cached(request, ("paper", arxiv_id), build, cache_control="public, max-age=300")


def paper_markdown(detail, base_url: str) -> str:
    """The paper page as Markdown (what Hugging Face serves at /papers/{id}.md, read by
    huggingface_hub's HfApi.read_paper). Plain text: served as text/markdown, never as HTML."""
    p = detail.paper
    lines = [f"# {' '.join(p.title.split())}", ""]
    facts = [f"arXiv: {p.arxiv_id}" + (f"v{p.version}" if p.version else "")]
    if p.published:
        facts.append(f"Published: {p.published.date().isoformat()}")
    if detail.first_listed:
        facts.append(f"Listed: {detail.first_listed.isoformat()}")
    facts.append(f"Upvotes: {p.upvotes}")
    lines += [" · ".join(facts), ""]
    if p.authors:
        lines += ["Authors: " + ", ".join(p.authors), ""]
    if p.organization:
        lines += [f"Organization: {p.organization.fullname or p.organization.name}", ""]
    lines += ["## Abstract", "", p.abstract.strip(), ""]
    if p.ai_summary:
        lines += ["## AI summary", "", p.ai_summary.strip(), ""]
    if p.ai_keywords:
        lines += ["AI keywords: " + ", ".join(p.ai_keywords), ""]
    links = [f"- Paper page: {base_url}{paper_url(p.arxiv_id)}", f"- arXiv: https://arxiv.org/abs/{p.arxiv_id}",
             f"- PDF: https://arxiv.org/pdf/{p.arxiv_id}"]
    if p.github_repo:
        stars = f" ({p.github_stars} stars)" if p.github_stars is not None else ""
        links.append(f"- Code: {p.github_repo}{stars}")
    if p.project_page:
        links.append(f"- Project page: {p.project_page}")
    lines += ["## Links", "", *links, ""]
    if detail.similar:
        lines += ["## Similar papers", ""]
        lines += [f"- [{' '.join(h.paper.title.split())}]({base_url}{paper_url(h.paper.arxiv_id)})"
                  for h in detail.similar]
        lines.append("")
    return "\n".join(lines)


async def paper_markdown_page(request: Request, raw: str) -> Response:
    site = _site(request)
    arxiv_id = site.papers.canonical_id(raw)
    if raw != arxiv_id:
        return RedirectResponse(paper_url(arxiv_id) + ".md", status_code=301)

    def work() -> CacheEntry:
        text = paper_markdown(site.papers.paper(arxiv_id), site.base_url)
        return make_entry(text.encode(), ttl=PAGE_TTL)

    entry = await site.entry((("paper-md", arxiv_id), None, site.papers.version()), work)
    return entry_response(request, entry, "text/markdown; charset=utf-8", "public, max-age=300")


# -- organizations -----------------------------------------------------------------------
def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise Invalid(f"{name} must be a whole number")
    value = int(raw)
    if not lo <= value <= hi:
        raise Invalid(f"{name} must be between {lo} and {hi}")
    return value


async def org_page(request: Request) -> Response:
    site = _site(request)
    name = request.path_params["name"]
    if not _ORG_NAME.match(name):
        raise NotFound("no such organization")
    page = _int_param(request, "page", 1, 1, MAX_PAGE)

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
        }

    return await site.cached(request, ("org", name, page), build)


# -- search ----------------------------------------------------------------------------------
SEARCH_SORTS = {"relevance": "Relevance", "newest": "Newest", "upvotes": "Most upvoted"}


@dataclass
class SearchForm:
    q: str = ""
    sort: str = "relevance"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category: str = ""
    has_code: bool = False
    min_upvotes: int | None = None
    page: int = 1
    mode: str = "hybrid"

    def params(self, **changes) -> str:
        values = {
            "q": self.q, "sort": self.sort if self.sort != "relevance" else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "category": self.category, "has_code": "1" if self.has_code else "",
            "min_upvotes": "" if self.min_upvotes is None else str(self.min_upvotes),
            "page": "" if self.page == 1 else str(self.page),
        }
        values.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v != ""})

    def filters(self):
        from dailypapers.search.engine import SearchFilters

        return SearchFilters(
            date_from=self.date_from, date_to=self.date_to, category=self.category or None,
            has_code=self.has_code, min_upvotes=self.min_upvotes,
        )


def clean_text(value: str) -> str:
    """Drop NULs, other C0/C1 controls and lone surrogates from user input."""
    value = value.encode("utf-8", "replace").decode("utf-8", "replace") if _has_surrogates(value) else value
    return "".join(ch for ch in value if ch >= " " and not ("\x7f" <= ch <= "\x9f")).strip()


def _has_surrogates(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def parse_search_form(request: Request) -> SearchForm:
    qp = request.query_params
    q = clean_text(qp.get("q", ""))
    if len(q) > MAX_QUERY_CHARS:
        raise Invalid(f"The query is too long: at most {MAX_QUERY_CHARS} characters.")
    sort = qp.get("sort") or "relevance"
    if sort not in SEARCH_SORTS:
        raise Invalid(f"unknown sort {sort!r}")
    form = SearchForm(q=q, sort=sort)
    if qp.get("from"):
        form.date_from = days_mod.parse_day(qp["from"])
    if qp.get("to"):
        form.date_to = days_mod.parse_day(qp["to"])
    if form.date_from and form.date_to and form.date_from > form.date_to:
        raise Invalid("the start date is after the end date")
    category = clean_text(qp.get("category", ""))
    if category and not re.fullmatch(r"[A-Za-z][A-Za-z\-]*(\.[A-Za-z\-]+)?", category):
        raise Invalid("category must look like cs.CL or cs")
    form.category = category
    form.has_code = qp.get("has_code", "") in ("1", "on", "true", "yes")
    if qp.get("min_upvotes"):
        form.min_upvotes = _int_param(request, "min_upvotes", 0, 0, 1_000_000)
    form.page = _int_param(request, "page", 1, 1, MAX_PAGE)
    mode = qp.get("mode") or "hybrid"
    if mode not in ("hybrid", "lexical", "semantic"):
        raise Invalid("mode must be hybrid, lexical or semantic")
    form.mode = mode
    return form


async def search_page(request: Request) -> Response:
    site = _site(request)
    # community (issue 5): searches are rate limited per IP (settings.rate_search) -> 429 + Retry-After
    from dailypapers.community.ratelimit import check_request

    check_request(request, "search")
    try:
        form = parse_search_form(request)
    except Invalid as e:
        raw_q = clean_text(request.query_params.get("q", ""))[:MAX_QUERY_CHARS]
        return site.html(request, "search.html", {
            "title": "Search papers", "form": SearchForm(q=raw_q), "error": str(e), "results": None,
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
        results = site.services.search.search(
            form.q, mode=form.mode, filters=form.filters(), sort=form.sort, page=form.page,
            per_page=SEARCH_PER_PAGE,
        )
        return "search.html", _search_context(form, results)

    # Same query, filters and page -> same page: cached like the lists (keyed by the content version).
    # Most search pages are served once or twice, so they are gzipped fast (level 1: about a third
    # of the CPU of level 6 for a ~15% larger body), where list pages served thousands of times get 6.
    return await site.cached(request, ("search", form.params()), build, cache_control="public, max-age=60",
                             ttl=SEARCH_TTL, gzip_level=1)


def _search_redirect(q: str) -> str | None:
    """A query that is just an arXiv id or URL goes straight to the paper page."""
    from dailypapers.ids import BadArxivId, parse_arxiv_id

    if len(q) > 100 or " " in q.strip():
        return None
    try:
        return parse_arxiv_id(q).id
    except BadArxivId:
        return None


def _search_context(form: SearchForm, results) -> dict:
    pages = getattr(results, "pages", None) or max(1, math.ceil(results.total / SEARCH_PER_PAGE))
    return {
        "title": f"{form.q} – search" if form.q else "Search papers",
        "form": form,
        "results": results,
        "hits": search_hits(results),
        "sorts": SEARCH_SORTS,
        "pages": pages,
        "prev_url": "/papers/search?" + form.params(page=form.page - 1 if form.page > 2 else "") if form.page > 1 else None,
        "next_url": "/papers/search?" + form.params(page=form.page + 1) if form.page < pages else None,
        "feed": "/feeds/search.xml?" + urlencode({"q": form.q}) if form.q else None,
        "noindex": True,
    }


# -- the /api page ---------------------------------------------------------------------------
async def api_docs_page(request: Request) -> Response:
    site = _site(request)
    return await site.cached(request, ("api-docs",), lambda: ("api.html", {"title": "API"}),
                             cache_control="public, max-age=3600")

