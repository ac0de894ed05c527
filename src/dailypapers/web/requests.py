"""Reading requests and the small responses every handler shares: form bodies with a size cap,
JSON-or-form bodies, the one rule for "does this client want JSON", local-only redirects,
the client's address and the rate-limit check keyed by it.

Every body is capped while it streams in (web/guard.py), before any of these parse it. Text read
here loses the bidirectional-override characters (U+202A-202E, U+2066-2069): in a name, a comment
or a link they make text read differently from what it is."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers.errors import Invalid, NotFound
from dailypapers.web.security import has_device_cookie, trusted_device

if TYPE_CHECKING:
    from dailypapers.community.ratelimit import Limits

MAX_FORM_FIELD = 10_000  # characters kept from any form field
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def services(request: Request) -> Any:
    """The app's dailypapers.app.Services (the web layer sits below the root, so it cannot name the type)."""
    return request.app.state.services


async def form_data(request: Request, *, max_field: int = MAX_FORM_FIELD) -> dict[str, str]:
    """The text fields of a urlencoded or multipart form, each cut to `max_field` characters."""
    form = await request.form()
    out = {}
    for key, value in form.items():
        if isinstance(value, str):
            out[key] = strip_bidi(value[:max_field])
    await form.close()
    return out


def strip_bidi(text: str) -> str:
    return BIDI_CONTROLS.sub("", text)


def parse_json(body: bytes) -> Any:
    """A JSON document from a request body; anything that is not one (nesting too deep for the
    parser included) is bad input, Invalid."""
    try:
        return _clean_json(json.loads(body))
    except RecursionError:
        raise Invalid("the JSON body is nested too deeply") from None
    except ValueError:
        raise Invalid("the body is not valid JSON") from None


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return strip_bidi(value)
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, dict):
        return {strip_bidi(k): _clean_json(v) for k, v in value.items()}
    return value


def sent_text(data: dict[str, Any], key: str, limit: int | None = None) -> str | None:
    """A text field of a body (None when absent), refused when it is not a string ("False" or "[1]"
    is never a name) or is over ``limit`` characters as sent: the API's document gives each field's
    maxLength as sent, while the services count after tidying spaces."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{key} must be a string")
    if limit is not None and len(value) > limit:
        raise Invalid(f"{key} is too long ({len(value)} characters; at most {limit})", field=key)
    return value


async def json_or_form(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        data = parse_json(await request.body() or b"{}")
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
    """The client's address: the peer's, unless the peer is one of settings.trusted_proxies; then
    the right-most address in X-Forwarded-For that is not a trusted proxy (each proxy appends the
    address it saw, so only the entries our own proxies added can be believed)."""
    client = request.client
    peer = client.host if client and client.host else "unknown"
    trusted = services(request).settings.trusted_networks
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:  # not an address: a proxy of ours would not write that
                return peer
    return hops[0] if hops else peer


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


async def rate_limit(request: Request, name: str, *, account: str | int | None = None) -> None:
    """Count one `name` event for this client's address (and account when given); raises RateLimited.
    PostgreSQL's shared log is a round trip, made off the event loop: on it, a check waiting for the
    database would hold up every other request of the worker."""
    limits = services(request).limits
    await _count(limits, limits.check, name, ip=client_ip(request), account=account)


async def login_limit(request: Request, account: str | None) -> None:
    """Count one login attempt for this address and account, or for this browser when it holds the
    account's device cookie, signed since its password last changed (community/ratelimit.py:
    check_login; web/security.py)."""
    device = None
    if account and has_device_cookie(request):  # only then is the account's secret read
        secret = await run_in_threadpool(services(request).accounts.device_secret_for, account)
        device = trusted_device(request, account, secret)
    limits = services(request).limits
    await _count(limits, limits.check_login, ip=client_ip(request), account=account, device=device)


async def _count(limits: Limits, check: Callable[..., None], *args, **kwargs) -> None:
    """Run a limit's check in a worker thread when its log is a round trip away (PostgreSQL), on
    the event loop when it is a local file (SQLite: the hop would cost more than the check)."""
    if limits.blocking:
        await run_in_threadpool(check, *args, **kwargs)
    else:
        check(*args, **kwargs)


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
    "MAX_FORM_FIELD", "services", "form_data", "json_or_form", "parse_json", "strip_bidi", "wants_json",
    "safe_next", "redirect", "login_redirect", "client_ip", "rate_limit", "login_limit", "private_page",
    "path_int", "int_param",
]
