"""Upvotes: the form/fetch() toggle on pages and the JSON API call (bearer token or session)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.community.accounts import require_member
from dailypapers.errors import Forbidden, Invalid
from dailypapers.web.auth import BAD_TOKEN, NO_TOKEN, Unauthorized, bearer, current_user, unauthorized
from dailypapers.web.requests import (
    client_ip,
    json_or_form,
    login_redirect,
    redirect,
    safe_next,
    services,
    wants_json,
)

NO_STORE = {"Cache-Control": "no-store"}


def want_vote(value: Any) -> bool | None:
    """True (up), False (take back) or None (toggle) from a form or JSON field."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):  # a JSON number, list or object: /openapi.json takes none of them
        raise Invalid("vote must be true or false (or absent, to toggle)")
    text = value.strip().lower()
    if text in ("1", "true", "on", "yes", "up"):
        return True
    if text in ("0", "false", "off", "no", "down"):
        return False
    raise Invalid("vote must be true or false (or absent, to toggle)")


async def _vote(request: Request, want: bool | None) -> Any:
    user = await current_user(request)
    svc = services(request)
    arxiv_id = svc.papers.canonical_id(request.path_params["arxiv_id"])
    user = require_member(user, what="upvote")
    ip = client_ip(request)

    def work():  # the limit and the vote in one worker-thread hop, as api_upvote does
        svc.limits.check("vote", ip=ip, account=user.id)
        return svc.votes.vote(user, arxiv_id, want)

    return await run_in_threadpool(work)


async def upvote(request: Request) -> Response:
    """Form POST (redirects back) or fetch() with Accept: application/json."""
    try:
        user = await current_user(request)
    except Unauthorized as e:
        return unauthorized(str(e))
    data = await json_or_form(request)
    if user is None and not wants_json(request):
        return login_redirect(request, safe_next(data.get("next"), "/"))
    if user is None:
        raise Forbidden("Log in to upvote.")
    result = await _vote(request, want_vote(data.get("vote")))
    if wants_json(request):
        return JSONResponse(result.as_json(), headers=NO_STORE)
    return redirect(back_to_paper(request, data.get("next"), result.arxiv_id))


def back_to_paper(request: Request, next_field: Any, arxiv_id: str) -> str:
    """Where a no-JS upvote returns: the page it came from, scrolled to the paper (#paper-ID).

    The page's own address (with ?q=, ?sort=, ?page=) is the Referer; the form's `next` field is
    only the path, because the form is part of a page cached for every query string."""
    page = None
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.headers.get("host"):
        page = safe_next(referer.path + (f"?{referer.query}" if referer.query else ""), "") or None
    if page is None:
        page = safe_next(str(next_field or "").split("#", 1)[0], f"/papers/{arxiv_id}")
    return f"{page}#paper-{arxiv_id}"


async def api_upvote(request: Request) -> Response:
    """The hot path for scripts and the bench: token look-up, limit and vote in one worker-thread hop."""
    if "authorization" not in request.headers:  # a browser: session cookie (the CSRF check already ran)
        user = await current_user(request)
        if user is None:
            return unauthorized(NO_TOKEN)
        data = await json_or_form(request)
        result = await _vote(request, want_vote(data.get("vote")))
        return JSONResponse(result.as_json(), headers=NO_STORE)
    try:
        raw = bearer(request)
    except Unauthorized as e:
        return unauthorized(str(e))
    data = await json_or_form(request)
    want = want_vote(data.get("vote"))
    svc = services(request)
    arxiv_id = svc.papers.canonical_id(request.path_params["arxiv_id"])
    ip = client_ip(request)

    def work():
        user = svc.accounts.token_user(raw)
        if user is None:
            return None
        user = require_member(user, what="upvote")
        svc.limits.check("vote", ip=ip, account=user.id)
        return svc.votes.vote(user, arxiv_id, want)

    result = await run_in_threadpool(work)
    if result is None:
        return unauthorized(BAD_TOKEN)
    return JSONResponse(result.as_json(), headers=NO_STORE)


__all__ = ["upvote", "api_upvote", "want_vote", "back_to_paper"]
