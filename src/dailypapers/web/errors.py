"""Exceptions -> HTTP, in one place. HTML pages for browsers, JSON for /api and fetch() calls.

Only domain errors (dailypapers.errors: their messages are written for users) become 4xx:

| exception                                                 | status |
|-----------------------------------------------------------|--------|
| Invalid (BadPeriod, BadArxivId, search BadQuery, ...)     | 400    |
| Forbidden                                                 | 403    |
| NotFound, an unknown route                                | 404    |
| TooLarge (a body over its cap, web/guard.py)              | 413    |
| RateLimited                                               | 429 + Retry-After |
| Unavailable (the database is down or restarting)          | 503 + Retry-After |
| anything else, ValueError and KeyError included           | 500 (traceback logged, details never shown) |

A client that goes away while its body is being read (ClientDisconnect) is no server error: one
short line at INFO, no traceback, and a 400 that no one reads.
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from dailypapers.days import BadPeriod
from dailypapers.errors import DomainError, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unavailable
from dailypapers.web.requests import wants_json

log = logging.getLogger("dailypapers.web")

__all__ = ["SERVER_ERROR", "NOT_FOUND", "PAGES", "classify", "exception_handlers", "error_response", "handle"]

SERVER_ERROR = "Sorry, something went wrong on our side. The error has been logged, and we will look into it."
NOT_FOUND = "We could not find that page."

# What each status means, in a reader's words: (page title, heading, first paragraph).
PAGES = {
    400: ("Something is wrong with that address", "We couldn't read that request",
          "Something in the address or the form is not in a shape we understand."),
    403: ("Not allowed", "You can't do that here",
          "You may need to log in with an account that is allowed to do this, or the page you came from "
          "has expired: go back, reload it and try again."),
    404: ("Page not found", "We couldn't find that page",
          "The link may be mistyped or out of date, or the paper is not listed here yet."),
    405: ("Not allowed", "That doesn't work here",
          "This address cannot be used that way. Go back and use the page's own links and buttons."),
    413: ("Too large", "That was too much to send",
          "The form or file you sent is larger than this site accepts. Send something smaller."),
    429: ("Too many requests", "Please slow down a little",
          "You made a lot of requests in a short time. Wait a moment, then try again."),
    503: ("Back in a moment", "The site is briefly unavailable",
          "We cannot reach our database just now. Nothing you did was lost; try again in a few seconds."),
    500: ("Something went wrong", "Sorry, something went wrong on our side",
          "Please try again in a moment. If it keeps happening, the page may be broken for now."),
}
# A date, week or month in the address that does not exist (2026-02-30, 2026-W60...).
BAD_PERIOD = ("There is no such date", "We couldn't read that date",
              "There is no such date, week or month. Dates look like 2026-08-21, weeks like 2026-W34 "
              "and months like 2026-08.")
# Messages that only restate the status; the page's own words say it better.
_GENERIC = {NOT_FOUND, "Method not allowed.", "Request failed.", "Too many requests.", "Forbidden.", "Not found.",
            "Bad request.", "Too large.", SERVER_ERROR}


def classify(exc: BaseException) -> tuple[int, str, dict[str, str]]:
    """(status, message safe to show, extra headers)."""
    if isinstance(exc, HTTPException):
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        defaults = {404: NOT_FOUND, 405: "Method not allowed."}
        default = defaults.get(exc.status_code, "Request failed.")
        if detail in ("Not Found", "Method Not Allowed"):
            detail = None
        return exc.status_code, detail or default, dict(exc.headers or {})
    if isinstance(exc, RateLimited):
        return 429, str(exc) or "Too many requests.", {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Unavailable):
        return 503, "The site is briefly unavailable; try again in a few seconds.", {
            "Retry-After": str(exc.retry_after)}
    if isinstance(exc, TooLarge):
        # The rest of the body is not read: close the connection rather than drain it.
        return 413, str(exc) or "Too large.", {"Connection": "close"}
    if isinstance(exc, Forbidden):
        return 403, str(exc) or "Forbidden.", {}
    if isinstance(exc, NotFound):
        return 404, str(exc) or "Not found.", {}
    if isinstance(exc, Invalid):
        return 400, str(exc) or "Bad request.", {}
    return 500, SERVER_ERROR, {}


def _sentence(message: str) -> str:
    """Domain messages are sometimes terse ("no paper 2101.99999 here"): show them as a sentence."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message[-1] in ".!?" else message + "."


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None, *,
                   page: tuple[str, str, str] | None = None) -> Response:
    """The error as JSON for API clients, else as a page written for readers; `page` overrides the
    status's (title, heading, first paragraph)."""
    headers = {"Cache-Control": "no-store", **(headers or {})}
    if wants_json(request):
        body = json.dumps({"error": message, "status": status}, ensure_ascii=False)
        return Response(body, status_code=status, media_type="application/json", headers=headers)
    site = getattr(request.app.state, "site", None)
    if site is None:
        return Response(f"{status}: {message}", status_code=status, media_type="text/plain", headers=headers)
    template = {404: "404.html", 500: "500.html"}.get(status, "error.html")
    title, heading, lead = page or PAGES.get(status, ("Something went wrong", "Something went wrong",
                                                      "The request could not be completed."))
    detail = None if message in _GENERIC else _sentence(message)
    context = {"status": status, "message": message, "detail": detail, "title": title, "heading": heading,
               "lead": lead, "noindex": True}
    try:
        body = site.render(request, template, context)
    except Exception:  # never fail while failing
        log.exception("rendering the %s page failed", status)
        return Response(f"{status}: {message}", status_code=status, media_type="text/plain", headers=headers)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=headers)


async def handle(request: Request, exc: Exception) -> Response:
    status, message, headers = classify(exc)
    if status == 503:
        log.warning("%s on %s %s", exc, request.method, request.url.path)
    elif status >= 500:
        log.error("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=exc)
    return error_response(request, status, message, headers, page=BAD_PERIOD if isinstance(exc, BadPeriod) else None)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client closed the connection mid-body: nothing to answer, nothing to trace."""
    log.info("client went away while sending its body: %s %s", request.method, request.url.path)
    return Response(status_code=400, headers={"Connection": "close"})


def exception_handlers() -> dict:
    # Exception (500) is served by Starlette's ServerErrorMiddleware, which logs and re-raises (a
    # traceback in the server's log); the rest by ExceptionMiddleware, which answers and stops there.
    return {HTTPException: handle, DomainError: handle, ClientDisconnect: client_gone, Exception: handle}
