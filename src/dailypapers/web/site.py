"""The site: the Jinja environment and its filters, URL helpers, and rendering into the page cache.

Handlers (lists, paper, search, api, feeds...) reach it as ``request.app.state.site``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response

from dailypapers import days as days_mod
from dailypapers.citations import FORMATS
from dailypapers.papers import PaperService
from dailypapers.web.cache import PAGE_TTL, CacheEntry, PageCache, entry_response, etag_matches, make_entry
from dailypapers.web.personal import personal_response, viewer_of, vote_ids
from dailypapers.web.security import csrf_field, csrf_token

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

LIST_CACHE_CONTROL = "public, max-age=60"


# -- template helpers ------------------------------------------------------------
# strftime's %b in the C locale (Python never sets LC_TIME): "Aug 3, 2026" without strftime, which
# costs a search page's 20 dates a few times more.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)
_GITHUB_REPO = re.compile(r"^https?://(?:www\.)?github\.com/([^/]+/[^/?#]+)")
_URL_SCHEME = re.compile(r"^https?://(www\.)?")


def fmt_date(value: dt.date | dt.datetime | None, style: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if style == "long":
        return value.strftime("%A, %B %-d, %Y")
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"  # strftime("%b %-d, %Y")


def preview(text: str, limit: int = 260) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    text = text[: cut if cut > limit // 2 else limit]
    if text.count("$") % 2:  # do not cut a TeX formula in half: end before it
        text = text[: text.rfind("$")]
    return text.rstrip(",;:. ") + "…"


def kcount(n: int | None) -> str:
    if n is None:
        return ""
    if n >= 1000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)


def repo_label(url: str | None) -> str:
    if not url:
        return ""
    m = _GITHUB_REPO.match(url)
    return m.group(1).removesuffix(".git") if m else _URL_SCHEME.sub("", url).rstrip("/")


def safe_url(url: str | None) -> str | None:
    """Only http(s) links go into href attributes (no javascript: from imported data)."""
    if url and _HTTP_URL.match(url):
        return url
    return None


def paper_url(arxiv_id: str) -> str:
    return f"/papers/{arxiv_id}"


def day_url(day: dt.date | None, sort: str | None = None) -> str:
    if day is None:
        return "/"
    url = f"/papers/date/{day.isoformat()}"
    return url + (f"?sort={sort}" if sort and sort != "upvotes" else "")


def export_links(path: str, query: dict[str, str] | None = None) -> list[dict]:
    """A citation download link per format (web/exports.py) for the page at `path`."""
    qs = "?" + urlencode(query) if query else ""
    return [{"label": f.label, "url": f"{path}{f.suffix}{qs}", "type": f.media_type.split(";")[0]}
            for f in FORMATS.values()]


def static_version() -> str:
    """A hash of the static files, put in their URLs so they can be cached for a year."""
    h = hashlib.sha1()
    for path in sorted(STATIC.rglob("*")):  # vendor/ too (KaTeX)
        if path.is_file():
            h.update(path.relative_to(STATIC).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:10]


# -- the site: templates + cache ---------------------------------------------------
class Site:
    def __init__(self, services, papers: PaperService):
        self.services = services
        self.settings = services.settings
        self.papers = papers
        self.cache = PageCache(max_bytes=self.settings.page_cache_mb * 1024 * 1024)
        self.base_url = self.settings.public_url
        self.static_version = static_version()
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
        )
        env.filters.update(fmt_date=fmt_date, preview=preview, kcount=kcount, repo_label=repo_label,
                           safe_url=safe_url)
        self.env = env

    def static_url(self, name: str) -> str:
        return f"/static/{name}?v={self.static_version}"

    def absolute(self, path: str) -> str:
        return self.base_url + path

    def render(self, request: Request, template: str, context: dict) -> str:
        # "me": the member when the handler looked them up (never on cached renders: web/personal.py)
        ctx = {"request": request, "canonical": self.absolute(request.url.path),
               "me": request.scope.get("community_user")}
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
        """The cached entry for this key, rendered by `work` on a miss (see PageCache.entry)."""
        return await self.cache.entry(full_key, work)

    async def cached(self, request: Request, key: tuple, build: Callable[[], tuple[str, dict]], *,
                     cache_control: str = LIST_CACHE_CONTROL, extra_key: Any = None,
                     ttl: float = PAGE_TTL, gzip_level: int = 6, visit: str | None = None) -> Response:
        """Serve a page from the in-process cache, rendering it (in a worker thread) on a miss.
        `visit`: a list kind, for a member's "new since your last visit" (web/personal.py)."""
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
            entry = make_entry(body, ctx.get("status", 200), ttl=ttl, level=gzip_level)
            entry.vote_ids = vote_ids(body)
            entry.follows = b"<!--dp:follow:" in body
            return entry

        entry = await self.entry(full_key, work)
        viewer = await viewer_of(request, entry.vote_ids, visit, follows=entry.follows)
        if viewer is not None:  # a member (or a message waiting): their own copy of the shared page
            return personal_response(request, self.env, entry, viewer)
        return entry_response(request, entry, "text/html; charset=utf-8", cache_control)


def site_of(request: Request) -> Site:
    return request.app.state.site


__all__ = [
    "Site", "site_of", "fmt_date", "preview", "kcount", "repo_label", "safe_url", "paper_url", "day_url",
    "export_links", "static_version", "STATIC", "TEMPLATES", "LIST_CACHE_CONTROL",
]
