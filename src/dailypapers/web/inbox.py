"""The curator's inbox of a day's arXiv arrivals (add, pin, skip, undo), the listing rules, and the
undo of a rule's addition from the curator log.

Every action is a plain form POST that comes back to the page with a one-shot message; the same
endpoints answer JSON to static/inbox.js, which drives them from the keyboard without reloads.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers import days as days_mod
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.models import ArrivalEntry, User
from dailypapers.web.auth import current_user
from dailypapers.web.curation import invalidate_pages
from dailypapers.web.flash import Flash, clear_flash, flash_redirect, take_flash
from dailypapers.web.requests import form_data, login_redirect, path_int, private_page, services, wants_json
from dailypapers.web.site import fmt_date

INBOX = "/curate/inbox"
BUTTONS = (("add", "Add"), ("pin", "Pin"), ("skip", "Skip"))
UNDONE = {"added": "addition", "pinned": "pin", "skipped": "skip"}
_ANCHOR = re.compile(r"^a-[A-Za-z0-9-]{1,64}$")
NO_STORE = {"Cache-Control": "no-store"}


# -- how a row reads ------------------------------------------------------------
def anchor(arxiv_id: str) -> str:
    """The row's element id: old-style ids hold '/' and every id a '.', neither welcome in a fragment."""
    return "a-" + re.sub(r"[^A-Za-z0-9]", "-", arxiv_id)


def status(entry: ArrivalEntry) -> str:
    """One word for the row's state: the page's data-state, the script's counts and its "next"."""
    if entry.decision:
        return entry.decision
    return "listed" if entry.listed_on else "undecided"


def describe(entry: ArrivalEntry) -> str:
    by = f" by {entry.decided_by}" if entry.decided_by else ""
    on = f"on the list of {fmt_date(entry.listed_on)}" if entry.listed_on else ""
    text = {
        "undecided": "Undecided",
        "listed": on[:1].upper() + on[1:],
        "added": f"Added{by}",
        "pinned": f"Pinned{by}",
        "skipped": f"Skipped{by}",
        "removed": f"Taken off the list{by}",
    }[status(entry)]
    if on and entry.decision in ("added", "pinned", "skipped"):
        text += f" · {on}"
    return text


def allowed(entry: ArrivalEntry) -> tuple[str, ...]:
    """The buttons that can work now (the service has the last word; these spare a refusal)."""
    if entry.decision is None:
        return ("pin", "skip") if entry.listed_on else ("add", "pin", "skip")
    return ("pin",) if entry.decision == "added" else ()


@dataclass(frozen=True)
class Row:
    entry: ArrivalEntry
    anchor: str
    status: str
    state: str
    allowed: tuple[str, ...]
    next_anchor: str  # where a decision without JavaScript comes back to: the next undecided paper


def rows_of(entries: list[ArrivalEntry]) -> list[Row]:
    undecided = [i for i, e in enumerate(entries) if status(e) == "undecided"]
    out = []
    for i, e in enumerate(entries):
        later = [j for j in undecided if j > i] or [j for j in undecided if j < i] or [i]
        out.append(Row(e, anchor(e.paper.arxiv_id), status(e), describe(e), allowed(e),
                       anchor(entries[later[0]].paper.arxiv_id)))
    return out


def counts(rows: list[Row]) -> dict[str, int]:
    return {"undecided": sum(r.status == "undecided" for r in rows),
            "added": sum(r.status in ("added", "pinned") for r in rows),
            "skipped": sum(r.status == "skipped" for r in rows)}


def as_json(entry: ArrivalEntry, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": True, "arxiv_id": entry.paper.arxiv_id, "decision": entry.decision,
            "decided_by": entry.decided_by, "listed_on": entry.listed_on.isoformat() if entry.listed_on else None,
            "status": status(entry), "state": describe(entry), "allowed": list(allowed(entry)),
            "message": message, **extra}


def refused(error: Exception, arxiv_id: str | None) -> JSONResponse:
    code = 404 if isinstance(error, NotFound) else 400
    return JSONResponse({"ok": False, "arxiv_id": arxiv_id, "message": str(error)}, status_code=code,
                        headers=NO_STORE)


def inbox_url(day: dt.date | None, fragment: str | None = None) -> str:
    url = f"{INBOX}/{day.isoformat()}" if day else INBOX
    return url + (f"#{fragment}" if fragment and _ANCHOR.match(fragment) else "")


async def _curator(request: Request) -> User | None:
    """The member asking, or None (then: a login redirect for a form, a 403 for a script)."""
    user = await current_user(request)
    if user is None and wants_json(request):
        raise Forbidden("Log in as a curator to triage arrivals.")
    return user


# -- the inbox --------------------------------------------------------------------
async def inbox_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, request.url.path)
    raw = request.path_params.get("day")
    day = days_mod.parse_day(raw) if raw else None
    view = await run_in_threadpool(services(request).arrivals.inbox, user, day)
    rows = rows_of(view.entries)
    title = f"Inbox {view.day.isoformat()}" if view.day else "Inbox"
    response = private_page(request, "community/curate_inbox.html", {
        "title": title, "view": view, "rows": rows, "counts": counts(rows), "buttons": BUTTONS,
        "notice": take_flash(request)})
    return clear_flash(request, response)


def _done(action: str, entry: ArrivalEntry) -> str:
    title = f"“{entry.paper.title}”"
    on = fmt_date(entry.listed_on or entry.day)
    return {"add": f"Added {title} to the list of {on}.",
            "pin": f"Pinned {title}: it comes first on the list of {on}.",
            "skip": f"Skipped {title}."}[action]


async def inbox_decide(request: Request) -> Response:
    """Form fields day, arxiv_id, action (add | pin | skip), and next (the row to come back to)."""
    user = await _curator(request)
    form = await form_data(request, max_field=300)
    if user is None:
        return login_redirect(request, INBOX)
    arxiv_id, action = form.get("arxiv_id", "").strip(), form.get("action", "")
    day = None
    try:
        day = days_mod.parse_day(form.get("day", ""))
        entry = await run_in_threadpool(services(request).arrivals.decide, user, day, arxiv_id, action)
    except (Invalid, NotFound) as e:
        if wants_json(request):
            return refused(e, arxiv_id)
        return flash_redirect(request, inbox_url(day, anchor(arxiv_id)), Flash(str(e), "error"))
    if action != "skip":  # the day's list changed
        invalidate_pages(request)
    message = _done(action, entry)
    if wants_json(request):
        return JSONResponse(as_json(entry, message), headers=NO_STORE)
    return flash_redirect(request, inbox_url(day, form.get("next") or anchor(arxiv_id)), Flash(message))


async def inbox_undo(request: Request) -> Response:
    """Take back the curator's own newest decision of the day (form field day)."""
    user = await _curator(request)
    form = await form_data(request, max_field=300)
    if user is None:
        return login_redirect(request, INBOX)
    service = services(request).arrivals
    day = None
    try:
        day = days_mod.parse_day(form.get("day", ""))
        arxiv_id, decision = await run_in_threadpool(service.undo, user, day)
        entry = await run_in_threadpool(service.entry, user, arxiv_id)
    except (Invalid, NotFound) as e:
        if wants_json(request):
            return refused(e, None)
        return flash_redirect(request, inbox_url(day), Flash(str(e), "error"))
    if decision != "skipped":
        invalidate_pages(request)
    message = f"Undid the {UNDONE.get(decision, decision)} of “{entry.paper.title}”."
    if wants_json(request):
        return JSONResponse(as_json(entry, message, undone=decision), headers=NO_STORE)
    return flash_redirect(request, inbox_url(day, anchor(arxiv_id)), Flash(message))


# -- rules ------------------------------------------------------------------------
async def rules_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, request.url.path)
    service = services(request).arrivals
    rules = await run_in_threadpool(service.rules, user)
    raw = request.query_params.get("day")
    day = days_mod.parse_day(raw) if raw else await run_in_threadpool(service.latest_day)
    flash = take_flash(request)
    response = private_page(request, "community/curate_rules.html", {
        "title": "Listing rules", "rules": rules, "day": day,
        # Done: the site-wide message slot. Refused: beside the form whose field it names.
        "notice": flash if flash and not flash.field else None,
        "refused": flash if flash and flash.field else None})
    return clear_flash(request, response)


def _whole(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else None


async def rule_add(request: Request) -> Response:
    """Form fields kind (top | search) and top_k or query."""
    user = await current_user(request)
    form = await form_data(request, max_field=1000)
    if user is None:
        return login_redirect(request, "/curate/rules")
    kind = form.get("kind", "")
    try:
        rule = await run_in_threadpool(services(request).arrivals.add_rule, user, kind,
                                       top_k=_whole(form.get("top_k", "")), query=form.get("query"))
    except Invalid as e:
        field = e.field if e.field in ("top_k", "query") else None
        typed = form.get(field, "") if field else ""
        return flash_redirect(request, "/curate/rules", Flash(str(e), "error", field, typed))
    return flash_redirect(request, "/curate/rules", Flash(f"Created rule {rule.label}. It runs each time the "
                                                          f"arrivals are scored, or now with the button below."))


async def rule_delete(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/curate/rules")
    rule_id = path_int(request.path_params["rule_id"])
    try:
        await run_in_threadpool(services(request).arrivals.delete_rule, user, rule_id)
    except NotFound as e:
        return flash_redirect(request, "/curate/rules", Flash(str(e), "error"))
    return flash_redirect(request, "/curate/rules", Flash(f"Deleted rule #{rule_id}. What it listed stays listed."))


async def rules_run(request: Request) -> Response:
    """Form field day: list that day's arrivals the rules pick, now rather than at the next scoring."""
    user = await current_user(request)
    form = await form_data(request, max_field=300)
    if user is None:
        return login_redirect(request, "/curate/rules")
    service = services(request).arrivals
    rules = await run_in_threadpool(service.rules, user)  # curators only: apply_rules is the job's call
    try:
        day = days_mod.parse_day(form.get("day", ""))
    except Invalid as e:
        return flash_redirect(request, "/curate/rules", Flash(str(e), "error"))
    back = f"/curate/rules?day={day.isoformat()}"
    if not rules:
        return flash_redirect(request, back, Flash("There are no rules to run: add one first.", "error"))
    listed = await run_in_threadpool(service.apply_rules, day)
    if listed:
        invalidate_pages(request)
    n = len(listed)
    text = (f"The rules listed {n} paper{'s' if n != 1 else ''} on {fmt_date(day)}." if n
            else f"The rules listed nothing new on {fmt_date(day)}.")
    return flash_redirect(request, back, Flash(text))


async def log_undo(request: Request) -> Response:
    """Take a paper a rule listed back off that list (from the curator log); no rule lists it again."""
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/curate/log")
    action_id = path_int(request.path_params["action_id"])
    try:
        await run_in_threadpool(services(request).arrivals.undo_rule_action, user, action_id)
    except (Invalid, NotFound) as e:
        return flash_redirect(request, "/curate/log", Flash(str(e), "error"))
    invalidate_pages(request)
    return flash_redirect(request, "/curate/log", Flash(f"Undid log entry #{action_id}: the paper is off that "
                                                        f"list, and no rule will list it again."))


__all__ = ["inbox_page", "inbox_decide", "inbox_undo", "rules_page", "rule_add", "rule_delete", "rules_run",
           "log_undo", "anchor", "describe", "status"]
