"""The one route table, and build_app(services) -> Starlette.

Other web modules plug in here: if ``dailypapers.web.community`` or ``dailypapers.web.subscriptions``
exists and has ``routes(services) -> list[Route]``, its routes are mounted before the catch-all
paper route; an optional module-level ``CSRF_EXEMPT = [regex, ...]`` adds CSRF exemptions
(for example RFC 8058 one-click unsubscribe).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dailypapers.papers import PaperService
from dailypapers.web import api, errors, feeds, pages
from dailypapers.web.security import CSRF, SecurityMiddleware, is_https

log = logging.getLogger("dailypapers.web")

OPTIONAL_MODULES = ("dailypapers.web.community", "dailypapers.web.subscriptions")


class CachedStatic(StaticFiles):
    """Static files; URLs carry ?v=<hash of the files>, so they may be cached for a year."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        query = scope.get("query_string", b"")
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if query.startswith(b"v=") else "public, max-age=3600"
        )
        return response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


async def robots(request: Request) -> Response:
    site = request.app.state.site
    body = f"User-agent: *\nDisallow: /papers/search\nDisallow: /feeds/search\nSitemap: {site.base_url}/feeds/daily.xml\n"
    return PlainTextResponse(body, headers={"Cache-Control": "public, max-age=86400"})


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def papers_index(request: Request) -> Response:
    return RedirectResponse("/", status_code=302)


def _optional_routes(services) -> tuple[list[BaseRoute], list[str]]:
    routes: list[BaseRoute] = []
    exempt: list[str] = []
    for name in OPTIONAL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise  # the module exists but one of its imports is broken: say so
        factory = getattr(module, "routes", None)
        if callable(factory):
            routes.extend(factory(services))
        exempt.extend(getattr(module, "CSRF_EXEMPT", ()) or ())
    return routes, exempt


def route_table(services, extra: list[BaseRoute]) -> list[BaseRoute]:
    get = ["GET"]
    return [
        Route("/", pages.home, methods=get, name="home"),
        Route("/healthz", healthz, methods=get),
        Route("/robots.txt", robots, methods=get),
        Route("/favicon.ico", favicon, methods=get),
        # lists
        Route("/papers", papers_index, methods=get),
        Route("/papers/date/{day}", pages.day_page, methods=get, name="day"),
        Route("/papers/week/{week}", pages.week_page, methods=get, name="week"),
        Route("/papers/month/{month}", pages.month_page, methods=get, name="month"),
        Route("/papers/trending", pages.trending_page, methods=get, name="trending"),
        Route("/papers/search", pages.search_page, methods=get, name="search"),
        Route("/orgs/{name}", pages.org_page, methods=get, name="org"),
        # API
        Route("/api", pages.api_docs_page, methods=get, name="api_docs"),
        Route("/api/daily_papers", api.daily_papers, methods=get),
        Route("/api/papers/search", api.search, methods=get),
        Route("/api/papers/{arxiv_id:path}", api.paper, methods=get),
        Route("/openapi.json", api.openapi, methods=get),
        # feeds
        Route("/feeds/daily.xml", feeds.daily, methods=get),
        Route("/feeds/daily.atom", feeds.daily, methods=get),
        Route("/feeds/trending.xml", feeds.trending, methods=get),
        Route("/feeds/trending.atom", feeds.trending, methods=get),
        Route("/feeds/search.xml", feeds.search, methods=get),
        Route("/feeds/search.atom", feeds.search, methods=get),
        Mount("/static", app=CachedStatic(directory=str(pages.STATIC)), name="static"),
        # other engineers' pages (community: votes, accounts...; subscriptions)
        *extra,
        # last: old-style ids contain a slash (hep-th/9901001)
        Route("/papers/{arxiv_id:path}", pages.paper_page, methods=get, name="paper"),
    ]


def build_app(services, *, clock: Callable[[], dt.datetime] | None = None, debug: bool = False) -> Starlette:
    """The ASGI app. `clock` (or `services.clock`) sets "now" for the list day, for tests."""
    settings = services.settings
    clock = clock or getattr(services, "clock", None)
    paper_service = PaperService(services.store, settings, search=services.search, clock=clock)
    site = pages.Site(services, paper_service)
    extra, exempt = _optional_routes(services)
    csrf = CSRF(settings.signing_key(), secure=is_https(settings.base_url), exempt=exempt)

    def render_reject(scope, status: int, message: str) -> tuple[bytes, bytes]:
        request = Request(scope)
        request.scope.setdefault("app", app)
        response = errors.error_response(request, status, message)
        return response.body, response.media_type.encode() if response.media_type else b"text/html"

    handlers = errors.exception_handlers()
    try:
        from dailypapers.search.engine import SearchError

        handlers[SearchError] = errors.handle
    except ImportError:
        pass
    app = Starlette(
        debug=debug,
        routes=route_table(services, extra),
        middleware=[Middleware(SecurityMiddleware, csrf=csrf, base_url=settings.base_url,
                               render_reject=render_reject)],
        exception_handlers=handlers,
    )
    app.state.services = services
    app.state.papers = paper_service
    app.state.site = site
    app.state.csrf = csrf
    return app


__all__ = ["build_app", "route_table", "OPTIONAL_MODULES"]
