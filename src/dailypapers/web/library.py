"""A reader's library on the site: collections, their public pages and feeds, the "Save" chooser,
reading states and the reading list. The rules (who may see or change what) are in
community/library.py; these handlers parse the form, call the service once and render.

* GET  /collections                        the member's collections and those shared with them; POST: create
* GET  /collections/{id}                   papers (with your notes), members, settings
* POST /collections/{id}/settings|delete|papers|papers/remove|note|members|members/remove|import
* GET  /collections/{id}/note?paper=ID     your note's form;  GET /collections/{id}/import: the upload form
* GET  /collections/{id}/export.bib|.ris|.csl.json    the whole collection (citations.export)
* GET  /c/{slug or id}, /c/{ref}/feed.xml|.atom|.json   a public collection, for anyone (cached)
* GET  /papers/{id}/save                   the "Save" chooser without JavaScript; POST: save/remove/create
* POST /papers/{id}/state                  to read / read / not interested (toggles)
* GET  /reading?state=                     the member's papers by state

Every change is a POST with the CSRF token; after a form the browser is sent back (303) with a
one-shot message, and a refused form comes back with its error next to the field.
"""

from __future__ import annotations

import gzip
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from dailypapers import citations
from dailypapers.community.library import STATE_LABELS, parse_paper_id
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.web.auth import current_user, page_user
from dailypapers.web.feeds import FeedItem, feed_format, feed_response
from dailypapers.web.flash import Flash, clear_flash, flash_redirect, take_flash
from dailypapers.web.library_api import collection_json, read_file_body
from dailypapers.web.library_rows import collection_rows
from dailypapers.web.requests import (
    form_data,
    int_param,
    json_or_form,
    login_redirect,
    path_int,
    private_page,
    rate_limit,
    redirect,
    safe_next,
    services,
    wants_json,
)
from dailypapers.web.site import export_links, site_of
from dailypapers.web.votes import back_to_paper

VISIBILITY_LABELS = {"private": "private", "shared": "shared with its members", "public": "public"}
PUBLIC_TTL = 30.0
GZIP_OVER = 16_384  # private pages larger than this go out gzipped
NO_STORE = {"Cache-Control": "no-store"}


def _cid(request: Request) -> int:
    return path_int(request.path_params["cid"])


def _here(cid: int) -> str:
    return f"/collections/{cid}"


def _refused(request: Request, url: str, e: Invalid, form: str, value: str = "") -> Response:
    """Back to the form's page with the error beside the field (flash field "form:field")."""
    return flash_redirect(request, url, Flash(str(e), "error", f"{form}:{e.field or ''}", value))


def _page(request: Request, template: str, context: dict, *, status: int = 200) -> Response:
    """A member's page with the message (or the refused form's error) the last POST left."""
    flash = take_flash(request)
    extra: dict[str, Any] = {"notice": None, "error": None, "error_field": None, "form": None, "values": {}}
    if flash is not None and flash.kind == "error" and flash.field and ":" in flash.field:
        form, _, field = flash.field.partition(":")
        extra.update(error=flash.text, form=form, error_field=field or None,
                     values={field: flash.value} if field else {})
    elif flash is not None:
        extra["notice"] = flash
    ctx = {"visibility_labels": VISIBILITY_LABELS, "state_labels": STATE_LABELS, "collection_rows": collection_rows,
           **extra, **context}
    response = private_page(request, template, ctx, status=status)
    body = bytes(response.body)
    if len(body) > GZIP_OVER and "gzip" in request.headers.get("accept-encoding", ""):
        # a collection of a thousand papers is ~700 KiB of HTML: ~60 KiB gzipped, in ~5 ms at level 1
        response.body = gzip.compress(body, 1, mtime=0)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(response.body))
        response.headers["Vary"] = "Accept-Encoding"
    return clear_flash(request, response)


# -- collections ---------------------------------------------------------------------------------
async def collections_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    collections = await run_in_threadpool(services(request).library.mine, user)
    return _page(request, "library/collections.html", {"title": "Collections", "collections": collections})


async def collection_create(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/collections")
    form = await form_data(request)
    await rate_limit(request, "vote", account=user.id)
    try:
        c = await run_in_threadpool(services(request).library.create, user, form.get("name", ""),
                                    form.get("description", ""), form.get("visibility", "private"))
    except Invalid as e:
        return _refused(request, "/collections", e, "new", form.get(e.field or "", ""))
    return flash_redirect(request, _here(c.id), Flash(f"Created “{c.name}”."))


async def collection_page(request: Request) -> Response:
    cid = _cid(request)
    user = await page_user(request)
    view = await run_in_threadpool(lambda: services(request).library.view(user, cid, light=True))
    if view.role is None:  # a reader of a public collection who is not in it: its public page
        return RedirectResponse(f"/c/{view.collection.ref}", status_code=302)
    return _page(request, "library/collection.html", {
        "title": view.collection.name, "view": view, "exports": export_links(f"{_here(cid)}/export")})


async def _change(request: Request, form_name: str, work, *, back: str | None = None) -> Response:
    """A collection form: the member, the CSRF-checked form, one service call, then back with a message."""
    cid = _cid(request)
    user = await current_user(request)
    if user is None:
        return login_redirect(request, _here(cid))
    form = await form_data(request)
    await rate_limit(request, "vote", account=user.id)
    try:
        done, url = await run_in_threadpool(work, services(request).library, user, cid, form)
    except Invalid as e:
        return _refused(request, back or _here(cid), e, form_name, form.get(e.field or "", ""))
    return flash_redirect(request, url or _here(cid), Flash(done))


async def collection_settings(request: Request) -> Response:
    def work(library, user, cid, form):
        c = library.update(user, cid, name=form.get("name", ""), description=form.get("description", ""),
                           visibility=form.get("visibility", "private"), slug=form.get("slug", ""))
        public = f" Its public page: /c/{c.ref}." if c.visibility == "public" else ""
        return f"Saved.{public}", None

    return await _change(request, "settings", work)


async def collection_delete(request: Request) -> Response:
    def work(library, user, cid, form):
        if form.get("confirm") != "yes":
            raise Invalid("Tick the box to confirm the deletion.", field="confirm")
        c = library.delete(user, cid)
        return f"Deleted “{c.name}”.", "/collections"

    return await _change(request, "settings", work)


async def collection_add(request: Request) -> Response:
    def work(library, user, cid, form):
        c, paper, added = library.add_paper(user, cid, form.get("arxiv_id", ""))
        if not added:
            return f"“{paper.title}” is in “{c.name}” already.", None
        return f"Added “{paper.title}”.", f"{_here(cid)}#paper-{paper.arxiv_id}"

    return await _change(request, "add", work)


async def collection_remove(request: Request) -> Response:
    def work(library, user, cid, form):
        c, gone = library.remove_paper(user, cid, form.get("arxiv_id", ""))
        return ("Removed the paper." if gone else "That paper was not in the collection."), None

    return await _change(request, "remove", work)


async def member_add(request: Request) -> Response:
    def work(library, user, cid, form):
        m = library.add_member(user, cid, form.get("name", ""), form.get("role", "editor"))
        return f"Shared with {m.name} as {'an editor' if m.role == 'editor' else 'a viewer'}.", None

    return await _change(request, "member", work)


async def member_remove(request: Request) -> Response:
    def work(library, user, cid, form):
        name = form.get("name", "")
        c = library.remove_member(user, cid, name)
        if name.lower() == user.name.lower():
            return f"You left “{c.name}”.", "/collections"
        return f"{name} no longer has “{c.name}”.", None

    return await _change(request, "member", work)


async def note_page(request: Request) -> Response:
    cid = _cid(request)
    user = await current_user(request)
    if user is None:
        return login_redirect(request, f"{_here(cid)}/note?{request.url.query}")
    collection, cp = await run_in_threadpool(services(request).library.note, user, cid,
                                             request.query_params.get("paper", ""))
    return _page(request, "library/note.html", {"title": "Your note", "collection": collection, "cp": cp})


async def note_save(request: Request) -> Response:
    def work(library, user, cid, form):
        arxiv_id = parse_paper_id(form.get("arxiv_id", ""))
        library.set_note(user, cid, arxiv_id, form.get("note", ""))
        return ("Note saved." if form.get("note", "").strip() else "Note deleted."), f"{_here(cid)}#paper-{arxiv_id}"

    return await _change(request, "note", work)


async def import_page(request: Request) -> Response:
    cid = _cid(request)
    user = await current_user(request)
    if user is None:
        return login_redirect(request, f"{_here(cid)}/import")
    view = await run_in_threadpool(services(request).library.view, user, cid)
    if not view.can_edit:
        raise Forbidden("Only the collection's owner and editors can import papers into it.")
    return _page(request, "library/import.html", {"title": "Import papers", "collection": view.collection,
                                                  "report": None})


async def import_file(request: Request) -> Response:
    """The upload: the report is the answer (no redirect), so nothing in it is lost."""
    cid = _cid(request)
    user = await current_user(request)
    if user is None:
        return login_redirect(request, f"{_here(cid)}/import")
    await rate_limit(request, "submit", account=user.id)
    library = services(request).library
    try:
        text = await read_file_body(request)
        report = await run_in_threadpool(library.import_file, user, cid, text)
    except Invalid as e:
        view = await run_in_threadpool(library.view, user, cid)
        return _page(request, "library/import.html", {"title": "Import papers", "collection": view.collection,
                                                      "report": None, "error": str(e)}, status=400)
    return _page(request, "library/import.html", {"title": "Import done", "collection": report.collection,
                                                  "report": report})


async def export(request: Request) -> Response:
    """The whole collection as a citation file (never cached: it may be private)."""
    cid = _cid(request)
    found = citations.format_of_path(request.url.path)
    if found is None:
        raise NotFound("no such export")
    user = await page_user(request)
    out = await run_in_threadpool(services(request).library.export, user, cid, found[1].name)
    return Response(out.body, media_type=out.format.media_type, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"', "Cache-Control": "private, no-store"})


# -- public collections ------------------------------------------------------------------------------
async def public_page(request: Request) -> Response:
    site = site_of(request)
    ref = request.path_params["ref"]
    library = services(request).library

    def build():
        view = library.public(ref, light=True)
        c = view.collection
        return "library/public.html", {
            "title": c.name, "view": view, "description": c.description or f"A reading list by {c.owner}",
            "feed": f"/c/{c.ref}/feed.xml", "exports": export_links(f"{_here(c.id)}/export"),
            "canonical": site.absolute(f"/c/{c.ref}"), "collection_rows": collection_rows,
        }

    return await site.cached(request, ("collection", ref), build, cache_control="public, max-age=60",
                             ttl=PUBLIC_TTL)


async def public_feed(request: Request) -> Response:
    site = site_of(request)
    ref = request.path_params["ref"]
    fmt = feed_format(request, request.url.path.endswith(".atom"))
    library = services(request).library
    base = site.base_url

    def build():
        view = library.public(ref)
        c = view.collection
        items = [FeedItem(cp.paper, cp.added_at, base) for cp in view.papers[:50]]
        return (f"{c.name} (a collection by {c.owner})", f"{base}/c/{c.ref}",
                f"{base}/c/{c.ref}/feed.{'atom' if fmt == 'atom' else 'xml'}",
                c.description or f"Papers {c.owner} collected", items)

    return await feed_response(request, ("collection", ref), build, fmt)


# -- saving a paper ------------------------------------------------------------------------------------
async def save_page(request: Request) -> Response:
    """The chooser: which collections, or a new one, and the reading state (works without JS)."""
    user = await current_user(request)
    raw = request.path_params["arxiv_id"]
    if user is None:
        return login_redirect(request, f"/papers/{raw}/save")
    choice = await run_in_threadpool(services(request).library.choices, user, raw)
    back = safe_next(request.query_params.get("next"), f"/papers/{choice.paper.arxiv_id}")
    return _page(request, "library/save.html", {"title": "Save a paper", "choice": choice, "next": back})


async def save(request: Request) -> Response:
    """A form (the card's Save button, the chooser's buttons) or fetch() from static/library.js."""
    user = await current_user(request)
    raw = request.path_params["arxiv_id"]
    data = await json_or_form(request)
    as_json = wants_json(request)
    if user is None:
        if as_json:
            raise Forbidden("Log in to keep collections.")
        return login_redirect(request, f"/papers/{raw}/save")
    library = services(request).library
    chosen, removed, new_name = (str(data.get(k) or "").strip() for k in ("collection", "remove", "new_name"))
    if not (chosen or removed or new_name):  # the card's button: choose first
        arxiv_id = parse_paper_id(raw)
        back = back_to_paper(request, data.get("next"), arxiv_id)
        return redirect(f"/papers/{arxiv_id}/save?" + urlencode({"next": back}))
    await rate_limit(request, "vote", account=user.id)
    back = safe_next(str(data.get("next") or ""), f"/papers/{parse_paper_id(raw)}")
    try:
        if new_name:
            c, paper = await run_in_threadpool(library.save_new, user, new_name, raw)
            saved, text = True, f"Saved “{paper.title}” to the new collection “{c.name}”."
        elif chosen:
            c, paper, added = await run_in_threadpool(library.add_paper, user, path_int(chosen), raw)
            saved, text = True, (f"Saved to “{c.name}”." if added else f"It was in “{c.name}” already.")
        else:
            c, _ = await run_in_threadpool(library.remove_paper, user, path_int(removed), raw)
            saved, text = False, f"Removed from “{c.name}”."
    except Invalid as e:
        if as_json:
            raise
        chooser = f"/papers/{parse_paper_id(raw)}/save?" + urlencode({"next": back})
        return _refused(request, chooser, e, "save", new_name)
    if as_json:
        c.role = c.role or library.role_of(user, c)
        return JSONResponse({"id": parse_paper_id(raw), "saved": saved, "message": text,
                             "collection": collection_json(c, site_of(request).base_url)}, headers=NO_STORE)
    return flash_redirect(request, back, Flash(text))


async def state(request: Request) -> Response:
    """To read / read / not interested: pressing a pressed button clears it."""
    user = await current_user(request)
    raw = request.path_params["arxiv_id"]
    data = await json_or_form(request)
    if user is None:
        if wants_json(request):
            raise Forbidden("Log in to mark papers.")
        return login_redirect(request, safe_next(str(data.get("next") or ""), f"/papers/{raw}"))
    await rate_limit(request, "vote", account=user.id)
    arxiv_id, now = await run_in_threadpool(services(request).library.toggle_state, user, raw,
                                            str(data.get("state") or "") or None)
    if wants_json(request):
        return JSONResponse({"id": arxiv_id, "state": now}, headers=NO_STORE)
    if now == "hidden":
        text = "Not interested: it leaves your lists, search results, For you and digests (undo on your reading list)."
    elif now is None:
        text = "Unmarked."
    else:
        text = f"Marked “{STATE_LABELS[now]}”."
    return flash_redirect(request, back_to_paper(request, data.get("next"), arxiv_id), Flash(text))


async def reading_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return login_redirect(request, "/reading")
    state_name = request.query_params.get("state") or "to_read"
    if state_name not in STATE_LABELS:
        raise Invalid("state must be to_read, read or hidden")
    page = int_param(request, "page", 1, 1, 1000)
    library = services(request).library

    def work():
        return library.reading(user, state_name, page), library.counts(user)

    (items, more), counts = await run_in_threadpool(work)
    states = {p.arxiv_id: s.state for s, p in items}
    return _page(request, "library/reading.html", {
        "title": "Reading list", "state": state_name, "items": items, "more": more, "page": page,
        "counts": counts, "reading_states": states})


__all__ = [
    "collections_page", "collection_create", "collection_page", "collection_settings", "collection_delete",
    "collection_add", "collection_remove", "member_add", "member_remove", "note_page", "note_save", "import_page",
    "import_file", "export", "public_page", "public_feed", "save_page", "save", "state", "reading_page",
]
