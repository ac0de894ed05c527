"""Exceptions -> HTTP, in one place. HTML pages for browsers, JSON for /api and fetch() calls.

Only domain errors (dailypapers.errors: their messages are written for users) become 4xx:

| exception                                                 | status |
|-----------------------------------------------------------|--------|
| Invalid (BadPeriod, BadArxivId, search BadQuery, ...)     | 400    |
| Forbidden                                                 | 403    |
| NotFound, an unknown route                                | 404    |
| RateLimited                                               | 429 + Retry-After |
| anything else, ValueError and KeyError included           | 500 (traceback logged, details never shown) |
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from dailypapers.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited
from dailypapers.web.requests import wants_json

log = logging.getLogger("dailypapers.web")

__all__ = ["SERVER_ERROR", "classify", "exception_handlers", "error_response", "handle"]

SERVER_ERROR = "Something went wrong on our side. It has been logged."


def classify(exc: BaseException) -> tuple[int, str, dict[str, str]]:
    """(status, message safe to show, extra headers)."""
    if isinstance(exc, HTTPException):
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        defaults = {404: "We could not find that page.", 405: "Method not allowed."}
        default = defaults.get(exc.status_code, "Request failed.")
        if detail in ("Not Found", "Method Not Allowed"):
            detail = None
        return exc.status_code, detail or default, dict(exc.headers or {})
    if isinstance(exc, RateLimited):
        return 429, str(exc) or "Too many requests.", {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Forbidden):
        return 403, str(exc) or "Forbidden.", {}
    if isinstance(exc, NotFound):
        return 404, str(exc) or "Not found.", {}
    if isinstance(exc, Invalid):
        return 400, str(exc) or "Bad request.", {}
    return 500, SERVER_ERROR, {}


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    headers = {"Cache-Control": "no-store", **(headers or {})}
    if wants_json(request):
        body = json.dumps({"error": message, "status": status}, ensure_ascii=False)
        return Response(body, status_code=status, media_type="application/json", headers=headers)
    site = getattr(request.app.state, "site", None)
    if site is None:
        return Response(f"{status}: {message}", status_code=status, media_type="text/plain", headers=headers)
    template = {404: "404.html", 500: "500.html"}.get(status, "error.html")
    try:
        body = site.render(request, template, {"status": status, "message": message, "title": _title(status)})
    except Exception:  # never fail while failing
        log.exception("rendering the %s page failed", status)
        return Response(f"{status}: {message}", status_code=status, media_type="text/plain", headers=headers)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=headers)


def _title(status: int) -> str:
    return {
        400: "Bad request", 403: "Forbidden", 404: "Page not found", 405: "Method not allowed",
        429: "Too many requests", 500: "Server error",
    }.get(status, "Error")


async def handle(request: Request, exc: Exception) -> Response:
    status, message, headers = classify(exc)
    if status >= 500:
        log.error("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=exc)
    return error_response(request, status, message, headers)


def exception_handlers() -> dict:
    # Exception (500) is served by Starlette's ServerErrorMiddleware, the rest by ExceptionMiddleware.
    return {HTTPException: handle, DomainError: handle, Exception: handle}
