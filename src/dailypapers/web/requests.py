"""Reading requests and the small responses every handler shares: form bodies with a size cap,
JSON-or-form bodies, the one rule for "does this client want JSON", local-only redirects,
the client's address and the rate-limit check keyed by it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers.errors import Invalid, NotFound

MAX_FORM_FIELD = 10_000  # characters kept from any form field


def services(request: Request) -> Any:
    """The app's dailypapers.app.Services (the web layer sits below the root, so it cannot name the type)."""
    return request.app.state.services


async def form_data(request: Request, *, max_field: int = MAX_FORM_FIELD) -> dict[str, str]:
    """The text fields of a urlencoded or multipart form, each cut to `max_field` characters."""
    form = await request.form()
    out = {}
    for key, value in form.items():
        if isinstance(value, str):
            out[key] = value[:max_field]
    await form.close()
    return out


async def json_or_form(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise Invalid("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Invalid("the JSON body must be an object")
        return data
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return await form_data(request)
    return {}


def wants_json(request: Request) -> bool:
    """API paths, clients that accept JSON and not HTML, and the site's own fetch() calls."""
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return True
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    return request.headers.get("x-requested-with", "").lower() == "fetch"


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: no scheme, no host, no '//' (open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ch in value for ch in "\r\n\t") or len(value) > 500:
        return default
    return value


def redirect(url: str) -> Response:
    """After a POST: 303, so the browser GETs the target."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def login_redirect(request: Request, next_url: str | None = None) -> Response:
    target = safe_next(next_url or request.url.path)
    return redirect("/login?" + urlencode({"next": target}))


def client_ip(request: Request) -> str:
    """The peer address (run uvicorn with --proxy-headers behind a reverse proxy)."""
    client = request.client
    return client.host if client and client.host else "unknown"


def rate_limit(request: Request, name: str, *, account: str | int | None = None) -> None:
    """Count one `name` event for this client's address (and account when given); raises RateLimited."""
    services(request).limits.check(name, ip=client_ip(request), account=account)


def private_page(request: Request, template: str, context: dict, *, status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    """A page for this visitor only (forms, account pages): never cached, never indexed."""
    ctx = {"me": request.scope.get("community_user"), "noindex": True, **context}
    body = request.app.state.site.render(request, template, ctx)
    return Response(body, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "private, no-store", **(headers or {})})


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """A whole-number query parameter within [lo, hi]; absent or empty gives `default`."""
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise Invalid(f"{name} must be a whole number")
    value = int(raw)
    if not lo <= value <= hi:
        raise Invalid(f"{name} must be between {lo} and {hi}")
    return value


def path_int(raw: str) -> int:
    """A numeric path segment (comment, token ids); anything else is a 404."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise NotFound("no such item")
    return int(raw)


__all__ = [
    "MAX_FORM_FIELD", "services", "form_data", "json_or_form", "wants_json", "safe_next", "redirect",
    "login_redirect", "client_ip", "rate_limit", "private_page", "path_int", "int_param",
]
