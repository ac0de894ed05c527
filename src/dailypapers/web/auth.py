"""Who is asking: the session cookie on pages, a bearer token on /api/ calls.

Token-authenticated API calls skip the CSRF check (browsers cannot send Authorization cross-origin
without a preflight), so when a token is sent on /api/ the session cookie is ignored.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.community.accounts import SESSION_COOKIE
from dailypapers.models import User
from dailypapers.web.requests import services
from dailypapers.web.security import cookie_kwargs

BAD_TOKEN = "The API token is not valid (revoked, mistyped, or its account is disabled)."
NO_TOKEN = "Send Authorization: Bearer <token> (create one on your settings page)."


class Unauthorized(Exception):
    pass


def bearer(request: Request) -> str | None:
    """The raw token of an Authorization header, None without one; Unauthorized if malformed."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Use Authorization: Bearer <token> with a token from your settings page.")
    return value.strip()


async def current_user(request: Request) -> User | None:
    """The member behind this request: on /api/ the bearer token if one is sent (never falling back
    to the cookie), else the session cookie. Raises Unauthorized for a malformed or unknown token."""
    if "community_user" in request.scope:
        return request.scope["community_user"]
    accounts = services(request).accounts
    if "authorization" in request.headers and request.url.path.startswith("/api/"):
        user = await run_in_threadpool(accounts.token_user, bearer(request))
        if user is None:
            raise Unauthorized(BAD_TOKEN)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(accounts.session_user, token) if token else None
    # Templates show the member ("me") from here.
    request.scope["community_user"] = user
    return user


async def page_user(request: Request) -> User | None:
    """The member on a page that also serves visitors: a bad token there means a visitor."""
    try:
        return await current_user(request)
    except Unauthorized:
        return None


async def api_member(request: Request) -> User | Response:
    """The member behind the API token (or the session), or the 401 to answer instead."""
    try:
        user = await current_user(request)
    except Unauthorized as e:
        return unauthorized(str(e))
    return unauthorized(NO_TOKEN) if user is None else user


def unauthorized(message: str) -> Response:
    return JSONResponse({"error": message, "status": 401}, status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="dailypapers"', "Cache-Control": "no-store"})


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    settings = services(request).settings
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_days * 86400, **cookie_kwargs(settings))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, **cookie_kwargs(services(request).settings))


__all__ = ["Unauthorized", "bearer", "current_user", "page_user", "unauthorized", "set_session_cookie",
           "clear_session_cookie", "BAD_TOKEN", "NO_TOKEN"]
