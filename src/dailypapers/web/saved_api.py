"""Saved searches in the JSON API, with API-token auth like the collections (web/library_api.py);
described in /openapi.json by web/saved_openapi.py.

* GET    /api/saved-searches              the member's saved searches
* POST   /api/saved-searches              {q, mode?, sort?, from?, to?, category?, has_code?, min_upvotes?,
                                          name?, alert?} -> 201 (saving the same search again returns it)
* GET    /api/saved-searches/{id}         one saved search
* PATCH  /api/saved-searches/{id}         {name?, alert?}
* DELETE /api/saved-searches/{id}
* GET    /api/saved-searches/{id}/papers  its newest matches, without your hidden papers (search rate limit)
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dailypapers.digests.saved import NAME_CHARS
from dailypapers.errors import Invalid
from dailypapers.models import SavedSearch, User
from dailypapers.web.api import iso, paper_json
from dailypapers.web.library_api import member_call
from dailypapers.web.requests import json_or_form, path_int, sent_text, services
from dailypapers.web.saved import saved_feed_url, search_url

NO_STORE = {"Cache-Control": "no-store"}


def saved_json(s: SavedSearch, base_url: str) -> dict:
    feed = base_url + saved_feed_url(s)
    return {
        "id": s.id, "name": s.name, "q": s.q, "params": s.params, "alert": s.alert,
        "createdAt": iso(s.created_at), "updatedAt": iso(s.updated_at), "searchUrl": base_url + search_url(s),
        "feeds": {"rss": feed, "atom": feed.removesuffix(".xml") + ".atom",
                  "json": feed.removesuffix(".xml") + ".json"},
    }


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers=NO_STORE)


def _base(request: Request) -> str:
    return request.app.state.site.base_url


def _sid(request: Request) -> int:
    return path_int(request.path_params["sid"])


def _params(data: dict) -> dict[str, str]:
    """The search's parameters as the search page would send them: text, numbers, or true for a flag."""
    params: dict[str, str] = {}
    for k, v in data.items():
        if v in (None, False, "") or k in ("name", "alert"):
            continue
        if v is True:
            params[k] = "1"
        elif isinstance(v, (str, int, float)):
            params[k] = str(v)
        else:
            raise Invalid(f"{k} must be a string, a number or a boolean")
    return params


@member_call
async def list_saved(request: Request, user: User) -> Response:
    searches = await run_in_threadpool(services(request).saved.mine, user)
    return _json([saved_json(s, _base(request)) for s in searches])


@member_call
async def create_saved(request: Request, user: User) -> Response:
    data = await json_or_form(request)
    params = _params(data)
    s = await run_in_threadpool(services(request).saved.save, user, params,
                                name=sent_text(data, "name", NAME_CHARS) or "",
                                alert=sent_text(data, "alert") or "none")
    return _json(saved_json(s, _base(request)), 201)


@member_call
async def get_saved(request: Request, user: User) -> Response:
    s = await run_in_threadpool(services(request).saved.get, user, _sid(request))
    return _json(saved_json(s, _base(request)))


@member_call
async def update_saved(request: Request, user: User) -> Response:
    data = await json_or_form(request)
    s = await run_in_threadpool(services(request).saved.update, user, _sid(request),
                                name=sent_text(data, "name", NAME_CHARS), alert=sent_text(data, "alert"))
    return _json(saved_json(s, _base(request)))


@member_call
async def delete_saved(request: Request, user: User) -> Response:
    await run_in_threadpool(services(request).saved.delete, user, _sid(request))
    return Response(status_code=204, headers=NO_STORE)


@member_call
async def saved_papers(request: Request, user: User) -> Response:
    svc = services(request).saved

    def work():
        return svc.matches(svc.get(user, _sid(request)))

    papers = await run_in_threadpool(work)
    return _json([paper_json(p) for p in papers])


__all__ = ["list_saved", "create_saved", "get_saved", "update_saved", "delete_saved", "saved_papers", "saved_json"]
