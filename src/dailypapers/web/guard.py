"""What every request passes before a handler runs: pure ASGI, the outermost of the app's middleware
(inside only Starlette's error middleware), so it covers every route, present and future.

In this order:

1. **Methods.** Any method but GET and HEAD (and a CORS preflight's OPTIONS) on a path whose
   routes do not take it is answered 405 with ``Allow`` (every method that path's routes take),
   before any body is read. TRACE is never handed to a route (it would echo the request). A
   request that no handler will take (that, an unknown path, a static file) is marked
   ``scope["dailypapers.routed"] = False``: it changes nothing, so web/security.py does not ask it
   for a CSRF token, and the router answers 404 or 405 as it should. The router's own 405 (a GET
   on a POST-only path) names only its first matching route's methods: its ``Allow`` is rewritten
   to the same union, so every 405 agrees with the routes and /openapi.json.
2. **Body caps.** Every body is capped: ``MAX_BODY_BYTES`` for forms and JSON, the larger
   ``MAX_UPLOAD_BYTES`` for the citation-file imports (``UPLOAD_PATHS``). A declared
   ``Content-Length`` over the cap is a 413 at once; a streamed (chunked) body is counted as it
   arrives and cut off at the cap with a 413 (``TooLarge``), so no more than the cap is ever held.
3. **The API token first.** An ``/api/`` call that sends ``Authorization`` with a body larger
   than ``TOKEN_FIRST_BYTES`` (or of unknown size) has its token checked before the body is read:
   a bad token is a 401 and the body is never read. Smaller bodies are read with the call, as the
   vote hot path does (one thread hop for token, limit and vote).
4. **Long redirects.** A ``Location`` longer than ``MAX_LOCATION`` (it echoed what a client sent)
   loses its query and fragment, or becomes ``/`` when its path alone is too long; whatever built it.
5. **Rate limits of expensive routes.** ``limited`` maps path patterns to a limit name
   (RATE_LIMITED below): every route that runs a search shares the ``search`` limit,
   exports of many papers the ``export`` one, the long lists (days, weeks, months, the paged API,
   new arrivals) the ``list`` one, a paper's page the ``paper`` one. A 429 carries Retry-After.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.citations import MAX_IMPORT_CHARS
from dailypapers.errors import RateLimited, TooLarge
from dailypapers.ids import NEW_FORM, OLD_FORM
from dailypapers.web.auth import Unauthorized, current_user, unauthorized
from dailypapers.web.requests import rate_limit
from dailypapers.web.router import SegmentRouter
from dailypapers.web.security import CORS_PREFIXES

MAX_BODY_BYTES = 1024 * 1024  # forms and JSON: a comment is at most 5,000 characters
# .bib / RIS imports: the file (web/library_api.py reads at most 2 bytes per allowed character) and
# a multipart form's own parts around it.
MAX_UPLOAD_BYTES = 2 * MAX_IMPORT_CHARS + 64 * 1024
UPLOAD_PATHS = (r"^(/api)?/collections/[^/]+/import$",)
TOKEN_FIRST_BYTES = 16 * 1024
# The longest Location sent: a redirect may echo what a client sent (a refused search's query, a form's
# `next`, a link's token), and reverse proxies refuse response headers past 4-8 KB (nginx: a 502).
MAX_LOCATION = 2000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Passed to the router without a look at the route table (the hot path); it answers these itself.
READ_METHODS = frozenset({"GET", "HEAD"})
# Expensive routes and the limit each counts against, per client address, before the handler runs.
# Every route that runs a search or the query model shares "search" (a new one goes here); exports
# and pages that read a whole collection or a member's data count against "export"; long lists
# against "list"; paper pages against "paper" (tests/web/test_hardening_limits.py has the measurements).
# tests/web/test_hostile_input.py fails for a route that does either without a limit here.
# /openapi.json documents the 429 of each (web/api.py).
RATE_LIMITED = (
    (r"^/papers/search(\.bib|\.ris|\.csl\.json)?$", "search"),
    (r"^/feeds/search\.(xml|atom|json)$", "search"),
    (r"^/feeds/(categories|saved)/[^/]+\.(xml|atom|json)$", "search"),
    (r"^/feeds/authors/.+\.(xml|atom|json)$", "search"),  # an author's name may hold a "/"
    (r"^/authors/.+$", "search"),  # the search index's candidates for the name (papers.author)
    (r"^/api/saved-searches/[^/]+/papers$", "search"),
    (r"^/api/papers/search$", "search"),
    (r"^/for-you$", "search"),  # ranks the pool against the member's topics, embedded by the query model
    (r"^/feeds/for-you/[^/]+\.(xml|atom|json)$", "search"),
    (r"^/papers/date/[^/]+\.(bib|ris|csl\.json)$", "export"),
    (r"^/collections/[^/]+/export\.(bib|ris|csl\.json)$", "export"),
    (r"^/collections/[^/]+$", "export"),  # a collection's pages list all its papers
    (r"^/c/[^/]+(/feed\.(xml|atom|json))?$", "export"),
    (r"^(/feeds\.opml|/settings/feeds)$", "export"),  # every feed of the member (saved.member_feeds)
    (r"^(/settings/export\.json|/api/account/export)$", "export"),
    # Long lists: uncached, each reads a day's, a week's, a month's or an arrival day's papers, or a
    # page of all listings, as costly as a search; their parameters (day, page, sort, category,
    # submitter) make more distinct cache keys than the page cache keeps.
    (r"^/papers/(date|week|month)/[^/.]+$", "list"),
    (r"^/feeds/(date|week|month)/[^/]+\.(xml|atom|json)$", "list"),
    (r"^/api/daily_papers$", "list"),
    (r"^/papers/new(/[^/]+)?$", "list"),
    (r"^/api/papers/new$", "list"),
    (r"^/feeds/new\.(xml|atom|json)$", "list"),
    # A paper's page and its Markdown twin (canonical ids: others are redirected): each of the papers
    # is its own cache key, and a miss finds similar papers. /api/papers/{id} is as cheap missed as hit.
    (rf"^/papers/(?i:{NEW_FORM}|{OLD_FORM})(\.md)?$", "paper"),
)

# status, message, extra headers -> the response (web/errors.error_response through web/routes.py)
Respond = Callable[[Scope, int, str, dict[str, str]], Response]


def body_cap(path: str, uploads: Sequence[re.Pattern] = ()) -> int:
    return MAX_UPLOAD_BYTES if any(p.search(path) for p in uploads) else MAX_BODY_BYTES


def too_large(cap: int) -> TooLarge:
    size = f"{cap // (1024 * 1024)} MiB" if cap >= 1024 * 1024 else f"{cap // 1024} KiB"
    return TooLarge(f"The request is too large: at most {size} may be sent here.", limit=cap)


class Guard:
    def __init__(self, app: ASGIApp, *, respond: Respond,
                 limited: Iterable[tuple[str, str]] = (), uploads: Iterable[str] = UPLOAD_PATHS,
                 extra_headers: Sequence[tuple[bytes, bytes]] = ()):
        self.app = app
        self.respond = respond
        self.limited = [(re.compile(pattern), name) for pattern, name in limited]
        self.uploads = [re.compile(p) for p in uploads]
        self.extra_headers = list(extra_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope.get("path", "")
        if method not in READ_METHODS and not (method == "OPTIONS" and path.startswith(CORS_PREFIXES)):
            allowed, routed = self._route(scope)
            routed = routed and method != "TRACE"
            scope["dailypapers.routed"] = routed
            if not routed and allowed:
                await self._answer(scope, receive, send, 405, "Method not allowed.", {"Allow": _allow(allowed)})
                return
        cap = body_cap(path, self.uploads)
        length = _content_length(scope)
        if length is not None and length > cap:
            await self._answer(scope, receive, send, 413, str(too_large(cap)), {"Connection": "close"})
            return
        if (method not in SAFE_METHODS and path.startswith("/api/") and _has_header(scope, b"authorization")
                and (length is None or length > TOKEN_FIRST_BYTES)):
            try:
                await current_user(Request(scope))
            except Unauthorized as e:
                await self._send(scope, receive, send, unauthorized(str(e)), {"Connection": "close"})
                return
        for pattern, name in self.limited:
            if pattern.search(path):
                try:
                    await rate_limit(Request(scope), name)
                except RateLimited as e:
                    await self._answer(scope, receive, send, 429, str(e), {"Retry-After": str(e.retry_after)})
                    return
                break

        received = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise too_large(cap)
            return message

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if any(k.lower() == b"location" and len(v) > MAX_LOCATION for k, v in message.get("headers") or []):
                    message = {**message, "headers": [(k, _capped_location(v) if k.lower() == b"location" else v)
                                                      for k, v in message["headers"]]}
                if message["status"] == 405 and method in READ_METHODS:
                    allowed, routed = self._route(scope)
                    if allowed and not routed:
                        headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != b"allow"]
                        message = {**message, "headers": [*headers, (b"allow", _allow(allowed).encode())]}
            await send(message)

        try:
            await self.app(scope, capped_receive, watch_send)
        except TooLarge as e:  # raised while the CSRF check read the body (handlers' are answered inside)
            if started:
                raise
            await self._answer(scope, receive, send, 413, str(e), {"Connection": "close"})

    def _route(self, scope: Scope) -> tuple[set[str], bool]:
        """(the methods the path's routes take, whether a handler takes this request)."""
        allowed: set[str] = set()
        router = scope["app"].router  # the app's own table, as it routes
        routes: Sequence[BaseRoute] = (
            router.candidates(get_route_path(scope)) if isinstance(router, SegmentRouter) else router.routes
        )
        for route in routes:
            if isinstance(route, Mount):
                continue  # static files change nothing; they answer 405 themselves
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return allowed, True
            if match is Match.PARTIAL and isinstance(route, Route) and route.methods:
                allowed |= route.methods
        return allowed, False

    async def _answer(self, scope: Scope, receive: Receive, send: Send, status: int, message: str,
                      headers: dict[str, str]) -> None:
        await self._send(scope, receive, send, self.respond(scope, status, message, headers), {})

    async def _send(self, scope: Scope, receive: Receive, send: Send, response: Response,
                    headers: dict[str, str]) -> None:
        present = {k.lower() for k in response.headers.keys()}
        for k, v in headers.items():
            response.headers[k] = v
        for name, value in self.extra_headers:
            if name.decode() not in present:
                response.headers[name.decode()] = value.decode()
        await response(scope, receive, send)


def _capped_location(value: bytes) -> bytes:
    """The path alone (a redirect back to a page without the query a client sent), else the home page."""
    path = value.split(b"?", 1)[0].split(b"#", 1)[0]
    return path if len(path) <= MAX_LOCATION else b"/"


def _allow(methods: set[str]) -> str:
    return ", ".join(sorted(methods))


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(k == name for k, _ in scope.get("headers") or [])


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers") or []:
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None  # the server refuses a malformed length before we see it
    return None


__all__ = ["Guard", "RATE_LIMITED", "MAX_LOCATION", "MAX_BODY_BYTES", "MAX_UPLOAD_BYTES", "UPLOAD_PATHS",
           "TOKEN_FIRST_BYTES", "body_cap"]
