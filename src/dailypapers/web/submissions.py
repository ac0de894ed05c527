"""Member submissions: the form (GET/POST /papers/submit) and the API (POST /api/papers/submit)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.community.accounts import require_member
from dailypapers.errors import Invalid
from dailypapers.models import User
from dailypapers.web.api import paper_json
from dailypapers.web.auth import api_member, current_user
from dailypapers.web.flash import Flash, flash_redirect
from dailypapers.web.requests import (
    form_data,
    json_or_form,
    login_redirect,
    private_page,
    rate_limit,
    services,
)
from dailypapers.web.site import fmt_date


async def _form_page(request: Request, user: User, *, status: int = 200, **extra) -> Response:
    svc = services(request)
    used = await run_in_threadpool(svc.submissions.used_today, user)
    ctx = {"title": "Submit a paper", "user": user, "today": svc.submissions.today(), "used": used,
           "cap": svc.settings.submit_daily_cap, "max_age": svc.settings.submit_max_age_days, **extra}
    return private_page(request, "community/submit.html", ctx, status=status)


async def _submit(request: Request, user: User | None, text: str):
    user = require_member(user, what="submit papers")
    await rate_limit(request, "submit", account=user.id)
    return await run_in_threadpool(services(request).submissions.submit, user, text)


async def submit_page(request: Request) -> Response:
    user = await current_user(request)
    # ?id= prefills the form (the search page links here for papers we do not have)
    prefill = request.query_params.get("id", "")[:200]
    if user is None:
        return login_redirect(request, request.url.path + ("?" + urlencode({"id": prefill}) if prefill else ""))
    return await _form_page(request, user, value=prefill)


async def submit(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/papers/submit")
    form = await form_data(request)
    try:
        done = await _submit(request, user, form.get("id", ""))
    except Invalid as e:
        return await _form_page(request, user, status=400, error=str(e), value=form.get("id", ""))
    # Said once on the paper page (a one-shot message, not a query parameter a reload would repeat).
    return flash_redirect(request, f"/papers/{done.paper.arxiv_id}",
                          Flash(f"Added to the list of {fmt_date(done.day)}."))


async def api_submit(request: Request) -> Response:
    user = await api_member(request)
    if isinstance(user, Response):
        return user
    data = await json_or_form(request)
    done = await _submit(request, user, str(data.get("id") or data.get("url") or ""))
    return JSONResponse({"id": done.paper.arxiv_id, "day": done.day.isoformat(), "paper": paper_json(done.paper)},
                        status_code=201, headers={"Cache-Control": "no-store"})


__all__ = ["submit_page", "submit", "api_submit"]
