"""Collections and reading states in the JSON API (described in web/library_openapi.py, docs/api.md).

Every call names a member: an API token (``Authorization: Bearer <token>``, no CSRF token needed)
or, for the site's own scripts, the session cookie plus the ``X-CSRF-Token`` header. A collection
the caller may not see is a 404, one they may see but not change a 403 (community/library.py).

* GET    /api/collections[?paper=ID]                 the member's collections (and shared with them)
* POST   /api/collections                            {name, description?, visibility?} -> 201
* GET    /api/collections/{id}                       the collection, its papers (your notes) and members
* PATCH  /api/collections/{id}                       {name?, description?, visibility?, slug?} (owner)
* DELETE /api/collections/{id}                       (owner)
* PUT    /api/collections/{id}/papers/{arxiv_id}     add a paper (owner, editors)
* DELETE /api/collections/{id}/papers/{arxiv_id}     remove it (owner, editors)
* PUT    /api/collections/{id}/notes/{arxiv_id}      {note} your own note ("" deletes it)
* PUT    /api/collections/{id}/members/{name}        {role: editor|viewer} (owner)
* DELETE /api/collections/{id}/members/{name}        (owner, or the member leaving)
* POST   /api/collections/{id}/import                a .bib or RIS file as the body -> the report
* GET    /api/reading?state=to_read|read|hidden      the member's papers in that state
* PUT    /api/reading/{arxiv_id}                     {state: to_read|read|hidden|null}
* DELETE /api/reading/{arxiv_id}                     clear it
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.citations import MAX_IMPORT_CHARS
from dailypapers.community.library import DESCRIPTION_CHARS, NAME_CHARS, NOTE_CHARS
from dailypapers.errors import Invalid
from dailypapers.models import Collection, User
from dailypapers.web.api import iso, paper_json
from dailypapers.web.auth import api_member
from dailypapers.web.requests import int_param, json_or_form, path_int, rate_limit, sent_text, services

NO_STORE = {"Cache-Control": "no-store"}
MAX_IMPORT_BYTES = MAX_IMPORT_CHARS * 2  # UTF-8 text of at most MAX_IMPORT_CHARS characters, roughly


def collection_json(c: Collection, base_url: str) -> dict:
    return {
        "id": c.id, "name": c.name, "description": c.description, "visibility": c.visibility, "slug": c.slug,
        "owner": c.owner, "role": c.role, "paperCount": c.paper_count, "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at), "url": f"{base_url}/collections/{c.id}",
        "publicUrl": f"{base_url}/c/{c.ref}" if c.visibility == "public" else None,
    }


def view_json(view, base_url: str) -> dict:
    data = collection_json(view.collection, base_url)
    data["role"] = view.role
    data["papers"] = [{"paper": paper_json(cp.paper), "addedAt": iso(cp.added_at), "addedBy": cp.added_by,
                       "note": cp.note} for cp in view.papers]
    data["members"] = [{"name": m.name, "role": m.role, "addedAt": iso(m.added_at)} for m in view.members]
    return data


def report_json(report, base_url: str) -> dict:
    return {
        "collection": collection_json(report.collection, base_url),
        "entries": report.entries,
        "added": report.added,
        "already": report.already,
        "fetched": report.fetched,
        "notFound": [{"id": i, "reason": why} for i, why in report.not_found],
        "withoutId": [{"key": e.key, "title": e.title, "line": e.line, "problem": e.problem}
                      for e in report.without_id],
        "problems": report.problems,
    }


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers=NO_STORE)


Handler = Callable[[Request, User], Awaitable[Response]]


def member_call(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The member behind the token (or the session); 401 without one."""

    async def call(request: Request) -> Response:
        user = await api_member(request)
        if isinstance(user, Response):
            return user
        if request.method != "GET":
            await rate_limit(request, "vote", account=user.id)
        return await handler(request, user)

    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


def _base(request: Request) -> str:
    return request.app.state.site.base_url


def _cid(request: Request) -> int:
    return path_int(request.path_params["cid"])


async def _body(request: Request) -> dict[str, Any]:
    return await json_or_form(request)


# -- collections -------------------------------------------------------------------------------
@member_call
async def list_collections(request: Request, user: User) -> Response:
    library = services(request).library
    paper = request.query_params.get("paper")

    def work():
        mine = library.mine(user)
        holding = library.choices(user, paper) if paper else None
        return mine, {c.id for c, holds in holding.collections if holds} if holding else None

    mine, holding = await run_in_threadpool(work)
    base = _base(request)
    out = []
    for c in mine:
        item = collection_json(c, base)
        if holding is not None:
            item["contains"] = c.id in holding
        out.append(item)
    return _json(out)


@member_call
async def create_collection(request: Request, user: User) -> Response:
    data = await _body(request)
    c = await run_in_threadpool(services(request).library.create, user, sent_text(data, "name", NAME_CHARS) or "",
                                sent_text(data, "description", DESCRIPTION_CHARS) or "",
                                sent_text(data, "visibility") or "private")
    c.role = "owner"
    return _json(collection_json(c, _base(request)), 201)


@member_call
async def get_collection(request: Request, user: User) -> Response:
    view = await run_in_threadpool(services(request).library.view, user, _cid(request))
    return _json(view_json(view, _base(request)))


@member_call
async def update_collection(request: Request, user: User) -> Response:
    data = await _body(request)
    c = await run_in_threadpool(lambda: services(request).library.update(
        user, _cid(request), name=sent_text(data, "name", NAME_CHARS),
        description=sent_text(data, "description", DESCRIPTION_CHARS), visibility=sent_text(data, "visibility"),
        slug=sent_text(data, "slug")))
    c.role = "owner"
    return _json(collection_json(c, _base(request)))


@member_call
async def delete_collection(request: Request, user: User) -> Response:
    await run_in_threadpool(services(request).library.delete, user, _cid(request))
    return Response(status_code=204, headers=NO_STORE)


@member_call
async def put_paper(request: Request, user: User) -> Response:
    c, paper, added = await run_in_threadpool(services(request).library.add_paper, user, _cid(request),
                                              request.path_params["arxiv_id"])
    return _json({"collection": c.id, "id": paper.arxiv_id, "added": added}, 201 if added else 200)


@member_call
async def delete_paper(request: Request, user: User) -> Response:
    c, gone = await run_in_threadpool(services(request).library.remove_paper, user, _cid(request),
                                      request.path_params["arxiv_id"])
    return _json({"collection": c.id, "id": request.path_params["arxiv_id"], "removed": gone})


@member_call
async def put_note(request: Request, user: User) -> Response:
    data = await _body(request)
    note = sent_text(data, "note", NOTE_CHARS)
    await run_in_threadpool(services(request).library.set_note, user, _cid(request),
                            request.path_params["arxiv_id"], note)
    return _json({"collection": _cid(request), "id": request.path_params["arxiv_id"], "note": note or None})


@member_call
async def put_member(request: Request, user: User) -> Response:
    data = await _body(request)
    m = await run_in_threadpool(services(request).library.add_member, user, _cid(request),
                                request.path_params["name"], str(data.get("role") or ""))
    return _json({"name": m.name, "role": m.role, "addedAt": iso(m.added_at)})


@member_call
async def delete_member(request: Request, user: User) -> Response:
    await run_in_threadpool(services(request).library.remove_member, user, _cid(request),
                            request.path_params["name"])
    return Response(status_code=204, headers=NO_STORE)


async def read_file_body(request: Request) -> str:
    """The import file: the raw body, or a multipart form's `file` field (at most MAX_IMPORT_BYTES)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        raw = await upload.read(MAX_IMPORT_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
        await form.close()
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_IMPORT_BYTES:
                break
            chunks.append(chunk)
        raw = b"".join(chunks) + (b"x" if size > MAX_IMPORT_BYTES else b"")
    if len(raw) > MAX_IMPORT_BYTES:
        raise Invalid(f"the file is too large to import (at most {MAX_IMPORT_BYTES // 1_000_000} MB)")
    if not raw.strip():
        raise Invalid("send a .bib or RIS file (the request body, or a form's `file` field)", field="file")
    return raw.decode("utf-8-sig", errors="replace")


async def import_file(request: Request) -> Response:
    """Rate-limited like submissions: an import may look papers up on arXiv."""
    user = await api_member(request)
    if isinstance(user, Response):
        return user
    await rate_limit(request, "submit", account=user.id)
    text = await read_file_body(request)
    report = await run_in_threadpool(services(request).library.import_file, user, _cid(request), text)
    return _json(report_json(report, _base(request)))


# -- reading states ---------------------------------------------------------------------------------
@member_call
async def reading_list(request: Request, user: User) -> Response:
    state = request.query_params.get("state") or "to_read"
    page = int_param(request, "page", 1, 1, 1000)
    items, _ = await run_in_threadpool(services(request).library.reading, user, state, page)
    return _json([{"paper": paper_json(p), "state": s.state, "updatedAt": iso(s.updated_at)} for s, p in items])


@member_call
async def put_state(request: Request, user: User) -> Response:
    data = await _body(request)
    state = data.get("state")
    if state is not None and not isinstance(state, str):
        raise Invalid("state must be to_read, read, hidden or null")
    arxiv_id, now = await run_in_threadpool(services(request).library.set_state, user,
                                            request.path_params["arxiv_id"], state)
    return _json({"id": arxiv_id, "state": now})


@member_call
async def delete_state(request: Request, user: User) -> Response:
    arxiv_id, now = await run_in_threadpool(services(request).library.set_state, user,
                                            request.path_params["arxiv_id"], None)
    return _json({"id": arxiv_id, "state": now})


__all__ = [
    "collection_json", "view_json", "report_json", "read_file_body", "list_collections", "create_collection",
    "get_collection", "update_collection", "delete_collection", "put_paper", "delete_paper", "put_note",
    "put_member", "delete_member", "import_file", "reading_list", "put_state", "delete_state",
]
