"""Security plumbing for every response: CSRF, security headers, CORS for public GETs, cookie flags.

CSRF ("signed double submit"):
* The browser holds a random nonce in the ``dp_csrf`` cookie (HttpOnly, SameSite=Lax, Secure on https).
* Forms carry ``csrf_token`` = HMAC-SHA256(signing key, nonce + the session); JavaScript sends the same
  value in the ``X-CSRF-Token`` header (read it from ``<meta name="csrf-token">``).
* Once a member is logged in the token is bound to their session (the SHA-256 of the session cookie is
  signed with the nonce), so a token issued to another session, or to a visitor, is refused: one
  planted cookie and token pair cannot be used for anyone else's session. Logging in or out issues
  new tokens on the next page.
* Every POST/PUT/PATCH/DELETE must carry a token that matches the cookie's nonce (checked with
  ``hmac.compare_digest``), else 403. An attacker who can plant a cookie still cannot forge the token
  without the server's key.
* A request no handler takes (an unknown path, or a method the path's routes do not take: 404 and
  405 from web/guard.py and the router) changes nothing and needs no check.
* Exemptions are explicit: path patterns in ``CSRF(exempt=...)``, listed in web.routes.CSRF_EXEMPT
  (the RFC 8058 one-click endpoints: a digest's unsubscribe, a saved search's alert), and
  token-authenticated API calls (``Authorization`` header on ``/api/``; browsers cannot send that
  header cross-origin without a CORS preflight, which only GET passes here).

In templates: ``{{ csrf_field(request) }}`` inside each POST form, ``{{ csrf_token(request) }}`` for the value.

Device cookies (OWASP's answer to lockout as a denial of service): a successful login leaves
``dp_device`` = a random id + HMAC(signing key, id + the account's email + its device secret) in
that browser. A later login to the same account from it is throttled per device only
(community/ratelimit.check_login), so an attack from many addresses, which reaches the per-account
limit, does not lock the owner out of their own browser. The device secret
(``AccountService.device_secret``) changes with the password, so a password change or reset revokes
every device cookie issued before it; the browser that changed it gets a new one.

Headers on every response (unless the handler already set them): Content-Security-Policy with no inline
script or style, X-Content-Type-Options, Referrer-Policy, X-Frame-Options + frame-ancestors,
Cross-Origin-Opener-Policy, Permissions-Policy, and Strict-Transport-Security when base_url is https.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.community.accounts import SESSION_COOKIE

CSRF_COOKIE = "dp_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # TRACE never reaches a handler (web/guard.py)
MAX_FORM_BYTES = 10 * 1024 * 1024  # the CSRF check buffers at most this much of a form body
CORS_PREFIXES = ("/api/", "/feeds/", "/openapi.json")
# The placeholder a cached page is rendered with; replaced by the visitor's token on the way out.
CSRF_PLACEHOLDER = "__DP_CSRF_TOKEN_PLACEHOLDER__"

_NONCE_RE = re.compile(r"^[A-Za-z0-9_\-]{32}$")


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_https(base_url: str) -> bool:
    return base_url.lower().startswith("https://")


def cookie_kwargs(settings, **overrides) -> dict:
    """Flags for every cookie we set: ``response.set_cookie(name, value, **cookie_kwargs(settings))``."""
    flags = {"path": "/", "httponly": True, "samesite": "lax", "secure": is_https(settings.public_url)}
    flags.update(overrides)
    return flags


class CSRF:
    def __init__(self, key: str | bytes, *, secure: bool = False, exempt: Iterable[str] = ()):
        self.key = key.encode() if isinstance(key, str) else key
        self.secure = secure
        self.exempt = [re.compile(p) for p in exempt]  # listed with the routes (web.routes.CSRF_EXEMPT)

    def sign(self, nonce: str, session: str | None = None) -> str:
        """The token for this nonce, bound to the session cookie when there is one."""
        message = b"csrf:" + nonce.encode()
        if session:
            message += b"|" + hashlib.sha256(session.encode("utf-8", "replace")).hexdigest().encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def valid(self, nonce: str | None, token: str | None, session: str | None = None) -> bool:
        if not nonce or not token or not _NONCE_RE.match(nonce):
            return False
        return hmac.compare_digest(self.sign(nonce, session).encode(), token.encode("utf-8", "replace"))

    def is_exempt(self, path: str, headers: dict[bytes, bytes]) -> bool:
        if any(p.search(path) for p in self.exempt):
            return True
        return path.startswith("/api/") and b"authorization" in headers

    def cookie_header(self, nonce: str) -> bytes:
        parts = [f"{CSRF_COOKIE}={nonce}", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=31536000"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode()


DEVICE_COOKIE = "dp_device"
DEVICE_MAX_AGE = 365 * 24 * 3600
_DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\.[0-9a-f]{64}$")


def _device_signature(request: Request, device: str, account: str, secret: str) -> str:
    message = (b"device:" + device.encode() + b"|" + account.strip().lower().encode("utf-8", "replace")
               + b"|" + secret.encode())
    return hmac.new(_csrf_of(request).key, message, hashlib.sha256).hexdigest()


def has_device_cookie(request: Request) -> bool:
    """Whether this browser sends a well-formed device cookie (worth looking up the account's secret)."""
    return bool(_DEVICE_RE.match(request.cookies.get(DEVICE_COOKIE) or ""))


def trusted_device(request: Request, account: str | None, secret: str | None) -> str | None:
    """The id of this browser's device cookie if it was issued at a login to `account` since its
    password last changed (`secret`: AccountService.device_secret), else None."""
    value = request.cookies.get(DEVICE_COOKIE) or ""
    if not account or not secret or not _DEVICE_RE.match(value):
        return None
    device, signature = value.split(".")
    return device if hmac.compare_digest(_device_signature(request, device, account, secret), signature) else None


def set_device_cookie(response: Response, request: Request, account: str, secret: str, settings) -> None:
    """After a successful login or password change: this browser is one the account's owner uses (a
    new id each time)."""
    device = secrets.token_urlsafe(18)
    response.set_cookie(DEVICE_COOKIE, f"{device}.{_device_signature(request, device, account, secret)}",
                        max_age=DEVICE_MAX_AGE, **cookie_kwargs(settings, samesite="strict"))


def _csrf_of(request: Request) -> CSRF:
    return request.scope["dailypapers.csrf"]


def csrf_token(request: Request) -> str:
    """The token for this visitor's forms (sets the nonce cookie on this response if needed)."""
    state = request.scope.setdefault("state", {})
    if state.get("csrf_placeholder"):
        return CSRF_PLACEHOLDER
    token = state.get("csrf_token")
    if token is not None:
        return token
    nonce = state.get("csrf_nonce")
    if nonce is None:
        cookie = request.cookies.get(CSRF_COOKIE)
        if cookie and _NONCE_RE.match(cookie):
            nonce = cookie
        else:
            nonce = secrets.token_urlsafe(24)  # 32 characters
            state["csrf_new_nonce"] = nonce
        state["csrf_nonce"] = nonce
    token = state["csrf_token"] = _csrf_of(request).sign(nonce, request.cookies.get(SESSION_COOKIE))
    return token


def csrf_field(request: Request) -> Markup:
    return Markup('<input type="hidden" name="%s" value="%s">') % (CSRF_FIELD, csrf_token(request))


def _default_reject(scope: Scope, status: int, message: str) -> tuple[bytes, bytes]:
    if scope.get("path", "").startswith("/api/"):
        return json.dumps({"error": message, "status": status}).encode(), b"application/json"
    return (f"<!doctype html><title>{status}</title><p>{message}</p>").encode(), b"text/html; charset=utf-8"


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (web/guard.py's answers too)."""
    headers = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityMiddleware:
    """Pure ASGI middleware (no per-request thread hop): CSRF, headers, CORS."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csrf: CSRF,
        base_url: str,
        render_reject: Callable[[Scope, int, str], tuple[bytes, bytes]] | None = None,
    ):
        self.app = app
        self.csrf = csrf
        self.https = is_https(base_url)
        parts = urlsplit(base_url)
        self.base_origin = f"{parts.scheme}://{parts.netloc}".lower()
        self.render_reject = render_reject or _default_reject
        self.headers = security_headers(self.https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["dailypapers.csrf"] = self.csrf
        scope.setdefault("state", {})
        method = scope["method"]
        path = scope.get("path", "")
        cors = path.startswith(CORS_PREFIXES)
        if method == "OPTIONS" and cors:
            await self._preflight(send)
            return
        if method not in SAFE_METHODS and scope.get("dailypapers.routed", True):
            headers = dict(scope.get("headers") or [])
            if not self.csrf.is_exempt(path, headers):
                ok, receive = await self._check_csrf(scope, receive, headers)
                if not ok:
                    await self._reject(scope, send, 403, "The form expired or did not come from this site "
                                       "(CSRF check failed). Reload the page and try again.")
                    return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers") or [])
                present = {k.lower() for k, _ in out}
                for k, v in self.headers:
                    if k not in present:
                        out.append((k, v))
                if cors and method in ("GET", "HEAD") and b"access-control-allow-origin" not in present:
                    out.append((b"access-control-allow-origin", b"*"))
                    out.append((b"access-control-expose-headers", b"Link, ETag"))
                new_nonce = scope["state"].get("csrf_new_nonce")
                if new_nonce:
                    out.append((b"set-cookie", self.csrf.cookie_header(new_nonce)))
                    # A response that sets a cookie is private; one that was no-store stays no-store.
                    no_store = any(k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in out)
                    out = [(k, v) for k, v in out if k.lower() != b"cache-control"]
                    out.append((b"cache-control", b"private, no-store" if no_store
                                else b"private, max-age=0, must-revalidate"))
                message = {**message, "headers": out}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _preflight(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
                    (b"access-control-allow-headers", b"Content-Type, If-None-Match"),
                    (b"access-control-max-age", b"86400"),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _origin_ok(self, headers: dict[bytes, bytes]) -> bool:
        origin = headers.get(b"origin")
        if origin is None:
            return True
        origin_s = origin.decode("latin-1").lower()
        if origin_s == self.base_origin:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return bool(host) and urlsplit(origin_s).netloc == host

    async def _check_csrf(self, scope: Scope, receive: Receive, headers: dict[bytes, bytes]):
        if not self._origin_ok(headers):
            return False, receive
        request = Request(scope)
        nonce = request.cookies.get(CSRF_COOKIE)
        session = request.cookies.get(SESSION_COOKIE)
        token = headers.get(CSRF_HEADER, b"").decode("latin-1") or None
        if token is not None:
            return self.csrf.valid(nonce, token, session), receive
        # No header: the token must be a form field. Buffer the body, then replay it to the app.
        buffered = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False, receive
            buffered += message.get("body", b"")
            more = message.get("more_body", False)
            if len(buffered) > MAX_FORM_BYTES:
                return False, receive
        body = bytes(buffered)
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if ctype.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get(CSRF_FIELD)
            token = values[0] if values else None
        elif ctype.startswith("multipart/form-data"):
            form_request = Request(scope, _replay(body))
            try:
                form = await form_request.form()
                value = form.get(CSRF_FIELD)
                token = value if isinstance(value, str) else None
                await form.close()
            except Exception:
                token = None
        return self.csrf.valid(nonce, token, session), _replay(body, receive)

    async def _reject(self, scope: Scope, send: Send, status: int, message: str) -> None:
        body, ctype = self.render_reject(scope, status, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """A receive() that yields the buffered body once, then defers to the real one (disconnects)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


__all__ = [
    "CSRF", "SecurityMiddleware", "security_headers", "csrf_token", "csrf_field", "cookie_kwargs", "is_https",
    "CSRF_COOKIE", "CSRF_FIELD", "CSP", "CSRF_PLACEHOLDER", "DEVICE_COOKIE", "trusted_device", "set_device_cookie",
    "has_device_cookie",
]
