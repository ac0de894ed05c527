"""Curator pages: a day's list with pin/hide/remove/add actions, the curator log, and the
/papers/top/week|month redirects to the current period's page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dailypapers import days as days_mod
from dailypapers.community.accounts import require_curator
from dailypapers.errors import Invalid, NotFound
from dailypapers.trending import period_bounds
from dailypapers.web.auth import current_user
from dailypapers.web.requests import form_data, login_redirect, private_page, redirect, services


def _day_param(value: str | None, default: dt.date) -> dt.date:
    return days_mod.parse_day(value) if value else default


async def curate_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    require_curator(user)
    svc = services(request)
    day = _day_param(request.query_params.get("day"), svc.papers.today())
    rows = await run_in_threadpool(svc.curation.day, user, day)
    return private_page(request, "community/curate.html", {
        "title": f"Curate {day.isoformat()}", "day": day, "rows": rows, "prev": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1), "error": request.query_params.get("error")})


async def curate_action(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/curate")
    require_curator(user)
    action = request.path_params["action"]
    form = await form_data(request)
    svc = services(request)
    day = _day_param(form.get("day"), svc.papers.today())
    back = f"/curate?day={day.isoformat()}"
    service = svc.curation
    try:
        if action == "add":
            await run_in_threadpool(service.add, user, form.get("id", ""), day)
        else:
            arxiv_id = svc.papers.canonical_id(form.get("id", ""))
            if action in ("pin", "unpin"):
                await run_in_threadpool(service.pin, user, day, arxiv_id, action == "pin")
            elif action in ("hide", "unhide"):
                await run_in_threadpool(service.hide, user, day, arxiv_id, action == "hide")
            elif action == "remove":
                await run_in_threadpool(service.remove, user, day, arxiv_id)
            else:
                raise NotFound("no such action")
    except Invalid as e:
        return redirect(back + "&" + urlencode({"error": str(e)[:300]}))
    invalidate_pages(request)
    return redirect(back)


def invalidate_pages(request: Request) -> None:
    """Curators see their change at once: drop the rendered-page cache and the version token."""
    request.app.state.site.cache.clear()
    services(request).papers._version = None


async def curate_log(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    actions = await run_in_threadpool(services(request).curation.log, user, 200)
    return private_page(request, "community/curate_log.html", {"title": "Curator log", "actions": actions})


async def top_period(request: Request) -> Response:
    kind = request.path_params["period"]
    if kind not in ("week", "month"):
        raise NotFound("use /papers/top/week or /papers/top/month")
    start, _ = period_bounds(kind, services(request).papers.today())
    label = days_mod.week_label(start) if kind == "week" else days_mod.month_label(start)
    return RedirectResponse(f"/papers/{kind}/{label}", status_code=302, headers={"Cache-Control": "no-cache"})


__all__ = ["curate_page", "curate_action", "curate_log", "top_period", "invalidate_pages"]
