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
from dailypapers.models import StoredPaper
from dailypapers.trending import period_bounds
from dailypapers.web.auth import current_user
from dailypapers.web.flash import Flash, clear_flash, flash_redirect, take_flash
from dailypapers.web.requests import form_data, login_redirect, private_page, services
from dailypapers.web.site import fmt_date

ACTIONS = ("add", "pin", "unpin", "hide", "unhide", "remove")


def _day_param(value: str | None, default: dt.date) -> dt.date:
    return days_mod.parse_day(value) if value else default


def _here(request: Request) -> str:
    """This page's path and query: a curator sent to log in comes back to the day they asked for."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def curate_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, _here(request))
    require_curator(user)
    svc = services(request)
    day = _day_param(request.query_params.get("day"), svc.papers.today())
    rows = await run_in_threadpool(svc.curation.day, user, day)
    flash = take_flash(request)
    response = private_page(request, "community/curate.html", {
        "title": f"Curate {day.isoformat()}", "day": day, "rows": rows, "prev": days_mod.step_day(day, -1),
        "next": days_mod.step_day(day, 1),
        # Done: the site-wide message slot (base.html). Refused: next to the form, tied to its field.
        "notice": flash if flash and flash.kind == "status" else None,
        "refused": flash if flash and flash.kind == "error" else None})
    return clear_flash(request, response)


def _done(action: str, paper: StoredPaper, day: dt.date) -> str:
    title, on = f"“{paper.title}”", fmt_date(day)
    return {
        "add": f"Added {title} to the list of {on}.",
        "pin": f"Pinned {title}: it now comes first on the list of {on}.",
        "unpin": f"Unpinned {title}.",
        "hide": f"Hid {title}: readers no longer see it on the list of {on}.",
        "unhide": f"{title} is shown again on the list of {on}.",
        "remove": f"Removed {title} from the list of {on}.",
    }[action]


async def curate_action(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/curate")
    require_curator(user)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise NotFound("There is no such curator action.")
    form = await form_data(request)
    svc = services(request)
    day = _day_param(form.get("day"), svc.papers.today())
    back = "/curate?" + urlencode({"day": day.isoformat()})
    service = svc.curation
    text = form.get("id", "")
    try:
        if action == "add":
            paper = await run_in_threadpool(service.add, user, text, day)
        else:
            arxiv_id = svc.papers.canonical_id(text)
            if action in ("pin", "unpin"):
                paper = await run_in_threadpool(service.pin, user, day, arxiv_id, action == "pin")
            elif action in ("hide", "unhide"):
                paper = await run_in_threadpool(service.hide, user, day, arxiv_id, action == "hide")
            else:
                paper = await run_in_threadpool(service.remove, user, day, arxiv_id)
    except (Invalid, NotFound) as e:
        field = "id" if action == "add" else None
        return flash_redirect(request, back, Flash(str(e), "error", field, text if field else ""))
    invalidate_pages(request)
    return flash_redirect(request, back, Flash(_done(action, paper, day)))


async def curate_remove_page(request: Request) -> Response:
    """Removing cannot be undone, so the table links here first: the page names the paper and POSTs."""
    user = await current_user(request)
    if user is None:
        return login_redirect(request, _here(request))
    svc = services(request)
    day = _day_param(request.query_params.get("day"), svc.papers.today())
    arxiv_id = svc.papers.canonical_id(request.query_params.get("id", ""))
    row = await run_in_threadpool(svc.curation.listing, user, day, arxiv_id)
    return private_page(request, "community/curate_remove.html", {
        "title": "Remove a paper", "day": day, "row": row})


def invalidate_pages(request: Request) -> None:
    """Curators see their change at once. The curator's write already moves this process's content
    version (PaperService.version); dropping the rendered pages also frees their memory."""
    request.app.state.site.cache.clear()


async def curate_log(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    actions = await run_in_threadpool(services(request).curation.log, user, 200)
    # The undo of a rule's addition (web/inbox.log_undo) comes back here with its message.
    response = private_page(request, "community/curate_log.html", {"title": "Curator log", "actions": actions,
                                                                   "notice": take_flash(request)})
    return clear_flash(request, response)


async def top_period(request: Request) -> Response:
    kind = request.path_params["period"]
    if kind not in ("week", "month"):
        raise NotFound("use /papers/top/week or /papers/top/month")
    start, _ = period_bounds(kind, services(request).papers.today())
    label = days_mod.week_label(start) if kind == "week" else days_mod.month_label(start)
    return RedirectResponse(f"/papers/{kind}/{label}", status_code=302, headers={"Cache-Control": "no-cache"})


__all__ = ["curate_page", "curate_action", "curate_remove_page", "curate_log", "top_period", "invalidate_pages"]
