"""CSRF, security headers, cookie flags and the error mapping."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from webapp import Client, make_app

from dailypapers.errors import Forbidden, Invalid, NotFound, RateLimited
from dailypapers.web.security import CSP, CSRF, CSRF_COOKIE


# -- test routes, added in front of the app's own table ------------------------------------------
def extra_routes() -> list[Route]:
    async def form(request: Request) -> Response:
        env = request.app.state.site.env
        html = env.from_string(
            '<form method="post" action="/test/echo">{{ csrf_field(request) }}<input name="x" value="1"></form>'
        ).render(request=request)
        return HTMLResponse(html)

    async def echo(request: Request) -> Response:
        form = await request.form()
        return JSONResponse({k: v for k, v in form.items() if isinstance(v, str)})

    async def raw_echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    async def limited(request: Request) -> Response:
        raise RateLimited("slow down", retry_after=42)

    async def forbidden(request: Request) -> Response:
        raise Forbidden("curators only")

    async def invalid(request: Request) -> Response:
        raise Invalid("that is not right")

    async def missing(request: Request) -> Response:
        raise NotFound("no such comment")

    return [
        Route("/test/form", form),
        Route("/test/echo", echo, methods=["POST"]),
        Route("/test/raw", raw_echo, methods=["POST", "PUT", "DELETE", "PATCH"]),
        Route("/test/limited", limited, methods=["GET", "POST"]),
        Route("/api/test/limited", limited),
        Route("/test/forbidden", forbidden),
        Route("/test/invalid", invalid),
        Route("/test/missing", missing),
        Route("/api/test/echo", raw_echo, methods=["POST"]),
        Route("/unsubscribe/one-click/{token}", raw_echo, methods=["POST"]),
    ]


def make_test_app(data_dir, **changes):
    app, services = make_app(data_dir, **changes)
    app.router.routes[0:0] = extra_routes()
    return app, services


@pytest.fixture()
def secure_client(web_data_dir):
    app, services = make_test_app(web_data_dir)
    c = Client(app)
    yield c
    c.close()
    services.store.close()


def get_token(c: Client) -> tuple[str, str]:
    c.http.cookies.clear()
    r = c.get("/test/form")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', r.text).group(1)
    cookie = re.search(rf"{CSRF_COOKIE}=([^;]+)", r.headers["set-cookie"]).group(1)
    return token, cookie


def send(c: Client, method: str, url: str, *, cookies: dict | None = None, **kwargs):
    """One request with exactly these cookies (the client's jar is reset)."""
    c.http.cookies.clear()
    for k, v in (cookies or {}).items():
        c.http.cookies.set(k, v)
    return c.request(method, url, **kwargs)


# -- CSRF -----------------------------------------------------------------------------------------
def test_form_gets_a_token_and_cookie(secure_client):
    r = secure_client.get("/test/form")
    set_cookie = r.headers["set-cookie"]
    assert f"{CSRF_COOKIE}=" in set_cookie
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in set_cookie
    assert "Secure" not in set_cookie  # http base_url
    assert "private" in r.headers["cache-control"]  # a page with a token is never shared
    # the token stays the same while the cookie is kept
    token, cookie = get_token(secure_client)
    again = send(secure_client, "GET", "/test/form", cookies={CSRF_COOKIE: cookie})
    assert f'value="{token}"' in again.text
    assert "set-cookie" not in again.headers


def test_post_with_a_valid_form_token_passes(secure_client):
    token, cookie = get_token(secure_client)
    r = send(secure_client, "POST", "/test/echo", data={"csrf_token": token, "x": "héllo"}, cookies={CSRF_COOKIE: cookie})
    assert r.status_code == 200
    assert r.json() == {"csrf_token": token, "x": "héllo"}  # the body reached the handler intact


def test_post_with_a_valid_header_token_passes(secure_client):
    token, cookie = get_token(secure_client)
    body = b"\x00binary\xffpayload" * 1000
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = send(secure_client, method, "/test/raw", content=body, headers={"X-CSRF-Token": token},
                                  cookies={CSRF_COOKIE: cookie})
        assert r.status_code == 200 and r.content == body, method


def test_multipart_forms_are_checked(secure_client):
    token, cookie = get_token(secure_client)
    ok = send(secure_client, "POST", "/test/echo", data={"csrf_token": token, "x": "2"}, files={"f": ("a.txt", b"abc")},
                            cookies={CSRF_COOKIE: cookie})
    assert ok.status_code == 200 and ok.json()["x"] == "2"
    bad = send(secure_client, "POST", "/test/echo", data={"csrf_token": "0" * 64}, files={"f": ("a.txt", b"abc")},
                             cookies={CSRF_COOKIE: cookie})
    assert bad.status_code == 403


@pytest.mark.parametrize("case", ["no token", "no cookie", "wrong token", "token of another cookie", "bad cookie",
                                  "empty", "foreign origin", "null origin"])
def test_post_without_a_valid_token_is_403(secure_client, case):
    token, cookie = get_token(secure_client)
    other_token, other_cookie = get_token(secure_client)
    data, cookies, headers = {"csrf_token": token}, {CSRF_COOKIE: cookie}, {}
    if case == "no token":
        data = {"x": "1"}
    elif case == "no cookie":
        cookies = {}
    elif case == "wrong token":
        data = {"csrf_token": token[:-1] + ("0" if token[-1] != "0" else "1")}
    elif case == "token of another cookie":
        data = {"csrf_token": other_token}
    elif case == "bad cookie":
        cookies = {CSRF_COOKIE: "../../x"}
    elif case == "empty":
        data = {"csrf_token": ""}
    elif case == "foreign origin":
        headers = {"Origin": "https://evil.example"}
    elif case == "null origin":
        headers = {"Origin": "null"}
    r = send(secure_client, "POST", "/test/echo", data=data, cookies=cookies, headers=headers)
    assert r.status_code == 403
    assert "CSRF" in r.text
    assert 'class="brand"' in r.text  # a site page, not a bare error


def test_same_origin_header_is_accepted(secure_client):
    token, cookie = get_token(secure_client)
    r = send(secure_client, "POST", "/test/echo", data={"csrf_token": token}, cookies={CSRF_COOKIE: cookie},
                           headers={"Origin": "http://testserver"})
    assert r.status_code == 200


def test_every_unsafe_method_is_checked_where_a_handler_would_run(secure_client):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert send(secure_client, method, "/test/raw").status_code == 403
    # No handler takes these (web/guard.py): 405 with every method the path takes, or 404; nothing runs.
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = send(secure_client, method, "/")
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
        assert send(secure_client, method, "/no/such/path").status_code == 404
    r = send(secure_client, "PUT", "/login")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, POST"  # both of the path's routes


def test_explicit_exemptions(secure_client):
    # RFC 8058 one-click unsubscribe: a mail provider POSTs with no cookies; the handler checks the
    # link's own token (none here: 400, not the CSRF 403)
    r = send(secure_client, "POST", "/unsubscribe/one-click", content=b"List-Unsubscribe=One-Click",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    # the exemption is that exact path
    r = send(secure_client, "POST", "/unsubscribe/one-click/abc", content=b"List-Unsubscribe=One-Click",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403
    # token-authenticated API calls (a browser cannot add Authorization cross-origin without a preflight)
    ok = send(secure_client, "POST", "/api/test/echo", content=b"{}", headers={"Authorization": "Bearer abc"})
    assert ok.status_code == 200
    assert send(secure_client, "POST", "/api/test/echo", content=b"{}").status_code == 403
    # the exemption is for /api/ only
    assert send(secure_client, "POST", "/test/raw", content=b"{}", headers={"Authorization": "Bearer abc"}).status_code == 403


def test_api_csrf_rejection_is_json(secure_client):
    r = send(secure_client, "POST", "/api/test/echo", content=b"{}")
    assert r.status_code == 403 and r.json()["status"] == 403


def test_csrf_unit():
    csrf = CSRF("k1")
    nonce = "a" * 32
    assert csrf.valid(nonce, csrf.sign(nonce))
    assert not csrf.valid(nonce, CSRF("k2").sign(nonce))  # another server's key
    assert not csrf.valid("short", csrf.sign("short"))
    assert not csrf.valid(nonce, None) and not csrf.valid(None, csrf.sign(nonce))
    assert not csrf.valid(nonce, csrf.sign(nonce) + "\udcff")


# -- headers ----------------------------------------------------------------------------------------
PAGES = ["/", "/papers/date/2026-08-20", "/papers/week/2026-W34", "/papers/month/2026-08", "/papers/trending",
         "/papers/2608.19880", "/papers/search?q=agents", "/orgs/google", "/api", "/nope", "/papers/date/2026-02-30"]


@pytest.mark.parametrize("path", PAGES + ["/api/daily_papers?limit=1", "/feeds/daily.xml", "/openapi.json"])
def test_security_headers(client, path):
    r = client.get(path)
    h = r.headers
    assert h["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"
    assert h["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in h  # http base_url


@pytest.mark.parametrize("path", PAGES)
def test_no_inline_script_or_style(client, path):
    html = client.get(path).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'\bsrc="/static/', tag), tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
    assert not re.search(r"<[a-z][^>]*\sstyle\s*=", html, re.I), "inline style attribute"
    assert "<style" not in html
    assert "javascript:" not in html


def test_https_base_url_turns_on_hsts_and_secure_cookies(web_data_dir):
    app, services = make_test_app(web_data_dir, base_url="https://papers.example.org")
    c = Client(app, base_url="https://papers.example.org")
    try:
        r = c.get("/")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
        c.http.cookies.clear()
        form = c.get("/test/form")
        assert "; Secure" in form.headers["set-cookie"]
        assert '<link rel="canonical" href="https://papers.example.org/">' in r.text
    finally:
        c.close()
        services.store.close()


def test_cookie_kwargs():
    from dailypapers.config import Settings
    from dailypapers.web.security import cookie_kwargs

    assert cookie_kwargs(Settings(base_url="https://x.org"))["secure"] is True
    flags = cookie_kwargs(Settings(base_url="http://127.0.0.1:8000"), max_age=60)
    assert flags == {"path": "/", "httponly": True, "samesite": "lax", "secure": False, "max_age": 60}


# -- the error mapping ---------------------------------------------------------------------------------
def test_domain_errors_map_to_http(secure_client):
    r = secure_client.get("/test/limited")
    assert r.status_code == 429 and r.headers["retry-after"] == "42"
    assert "slow down" in r.text and 'class="brand"' in r.text
    api = secure_client.get("/api/test/limited")
    assert api.status_code == 429 and api.json() == {"error": "slow down", "status": 429}
    assert api.headers["retry-after"] == "42"
    assert secure_client.get("/test/forbidden").status_code == 403
    assert secure_client.get("/test/invalid").status_code == 400
    missing = secure_client.get("/test/missing")
    assert missing.status_code == 404 and "No such comment." in missing.text  # the domain message, as a sentence


def test_method_not_allowed(client):
    r = client.request("PUT", "/api/daily_papers", headers={"Authorization": "Bearer x"})
    assert r.status_code == 405
    assert r.json()["status"] == 405
