"""The JSON API, in Hugging Face's paper API shape, so `huggingface_hub.HfApi(endpoint=...)` works.

* GET /api/daily_papers   p, limit (1-100, default 50), date | week | month, submitter, sort=publishedAt|trending
* GET /api/papers/search  q (<= 250 characters), limit (1-120, default 20)
* GET /api/papers/{id}    one flat paper object, or 404
* GET /api/papers/new     a day's arXiv arrivals ranked by predicted interest (handler: web/arrivals.py)
* POST /api/papers/{id}/upvote, POST /api/papers/submit   web/votes.py, web/submissions.py
* GET /openapi.json       the OpenAPI 3.1 description (OPENAPI below)

Field names and nesting follow HF's responses (see tests/fixtures/hf_raw). Ids HF has and we do not
(author `_id`, `discussionId`, submitter `_id`) are synthesized: stable 24-hex digests of what they name.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dailypapers import days as days_mod
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import Listing, Organization, StoredPaper
from dailypapers.search.request import SearchRequest, clean_text
from dailypapers.web import community_openapi, follows_openapi, library_openapi, saved_openapi
from dailypapers.web.auth import page_user
from dailypapers.web.cache import PAGE_TTL, entry_response, make_entry
from dailypapers.web.guard import RATE_LIMITED
from dailypapers.web.requests import int_param, services
from dailypapers.web.site import site_of

MAX_LIMIT = 100
SEARCH_PARAMS = ("q", "limit")  # what HF's /api/papers/search reads
MAX_OFFSET = 100_000  # the deepest item a page may start at: never scanned further
MAX_PAGE = MAX_OFFSET // MAX_LIMIT  # so that p is one bound the OpenAPI document can state
API_CACHE_CONTROL = "public, max-age=60"


# -- serialization ---------------------------------------------------------------------------
def iso(value: dt.datetime | dt.date | None) -> str | None:
    """UTC with milliseconds, as HF writes times: 2026-08-03T12:00:00.000Z."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(), tzinfo=dt.timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    value = value.astimezone(dt.timezone.utc)
    if value.year >= 1000:  # isoformat pads the year to 4 digits, strftime's %Y may not: the same from here
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def synth_id(*parts: Any) -> str:
    """A stable 24-hex id (the shape of HF's ObjectIds) for things we have no id for."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


def author_ids(arxiv_id: str, names: list[str]) -> list[str]:
    """[synth_id("author", arxiv_id, i, name) for each author], hashing the common prefix once: an
    answer of 20 papers names ~160 authors, and this halves what their ids cost."""
    prefix = hashlib.sha1(f"author\x1f{arxiv_id}\x1f".encode())
    out = []
    for i, name in enumerate(names):
        h = prefix.copy()
        h.update(f"{i}\x1f{name}".encode())
        out.append(h.hexdigest()[:24])
    return out


@functools.lru_cache(maxsize=4096)
def org_id(name: str) -> str:
    """synth_id("org", name): an answer names the same few organizations over and over."""
    return synth_id("org", name)


def org_json(org: Organization | None) -> dict | None:
    if org is None:
        return None
    return {"_id": org_id(org.name), "name": org.name, "fullname": org.fullname or org.name,
            "avatar": org.avatar}


def user_json(name: str | None) -> dict | None:
    if not name:
        return None
    return {"_id": synth_id("user", name), "avatarUrl": None, "fullname": name, "name": name, "user": name,
            "type": "user", "isPro": False}


def listed_at(listing: Listing | None) -> dt.datetime | None:
    if listing is None:
        return None
    return listing.submitted_at or dt.datetime.combine(listing.day, dt.time(), tzinfo=dt.timezone.utc)


def paper_json(p: StoredPaper, listing: Listing | None = None) -> dict:
    """The `paper` object (also the flat answer of /api/papers/{id})."""
    arxiv_id = p.arxiv_id
    return {
        "id": arxiv_id,
        "authors": [
            {"_id": author_id, "name": name, "hidden": False}
            for author_id, name in zip(author_ids(arxiv_id, p.authors), p.authors)
        ],
        "publishedAt": iso(p.published),
        "submittedOnDailyAt": iso(listed_at(listing)),
        "title": p.title,
        "submittedOnDailyBy": user_json(listing.submitted_by if listing else None),
        "summary": p.abstract,
        "upvotes": p.upvotes,
        "discussionId": synth_id("discussion", arxiv_id),
        "projectPage": p.project_page,
        "githubRepo": p.github_repo,
        "ai_summary": p.ai_summary,
        "ai_keywords": list(p.ai_keywords),
        "githubStars": p.github_stars,
        "organization": org_json(p.organization),
        "withdrawn": p.withdrawn,
        "categories": list(p.categories),
        "version": p.version,
    }


def item_json(p: StoredPaper, listing: Listing | None, base_url: str) -> dict:
    """One element of /api/daily_papers (and of /api/papers/search)."""
    return {
        "paper": paper_json(p, listing),
        "publishedAt": iso(listed_at(listing) or p.published),
        "title": p.title,
        "summary": p.abstract,
        "thumbnail": f"{base_url}/static/og.png",
        "numComments": max(p.num_comments, listing.num_comments if listing else 0),
        "submittedBy": user_json(listing.submitted_by if listing else None),
        "organization": org_json(p.organization),
        "isAuthorParticipating": False,
    }


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def dumps_papers(data: Any) -> bytes:
    """The bytes `dumps` writes, for answers without floats (papers and their items: strings, ints,
    booleans, null), made by orjson at a twentieth of the CPU. orjson writes some floats otherwise
    (1e-05 as 0.00001), so answers that hold floats (the arrivals' scores) keep `dumps`."""
    try:
        return orjson.dumps(data)
    except TypeError:  # what orjson does not take and json does: ints past 64 bits, keys that are not strings
        return dumps(data)


def daily_items(data: Any) -> list:
    """The items of a /api/daily_papers or /api/papers/search answer (a list of {paper, ...})."""
    return data


async def cached_json(request: Request, key: tuple, build, *, gzip_level: int = 6,
                      items=None, dump=dumps) -> Response:
    """`items(data)`: the list of {paper: {id}} items in the answer; with it, a caller sending an
    API token gets the shared answer without the papers they hid ("not interested").
    `dump`: `dumps_papers` for answers that hold no floats."""
    site = site_of(request)
    full_key = ("api", key, site.papers.version())

    def work():
        data, extra = build()
        e = make_entry(dump(data), ttl=PAGE_TTL, level=gzip_level)
        e.extra = extra
        return e

    entry = await site.entry(full_key, work)
    if items is not None and "authorization" in request.headers:
        # a token that is not ours (huggingface_hub sends its own hf_ token) reads as a visitor
        user = await page_user(request)
        if user is not None:
            return await _without_hidden(request, user, entry, items, dump)
    return entry_response(request, entry, "application/json", API_CACHE_CONTROL, entry.extra)


async def _without_hidden(request: Request, user, entry, items, dump=dumps) -> Response:
    data = json.loads(entry.body)
    listed = items(data)
    ids = [item["paper"]["id"] for item in listed]
    states = await run_in_threadpool(services(request).library.states, user, ids)
    hidden = {k for k, v in states.items() if v == "hidden"}
    if hidden:
        listed[:] = [item for item in listed if item["paper"]["id"] not in hidden]
    headers = {"Cache-Control": "private, no-store", "Vary": "Authorization", **(entry.extra or {})}
    return Response(dump(data), status_code=entry.status, media_type="application/json", headers=headers)


# -- handlers ---------------------------------------------------------------------------------
async def daily_papers(request: Request) -> Response:
    qp = request.query_params
    limit = int_param(request, "limit", 50, 1, MAX_LIMIT)
    page = int_param(request, "p", 0, 0, MAX_PAGE)
    date, week, month = qp.get("date") or None, qp.get("week") or None, qp.get("month") or None
    submitter = clean_text(qp.get("submitter", ""))[:100] or None
    sort = qp.get("sort") or None
    site = site_of(request)
    base = site.base_url

    # Validate before touching the cache, so bad input is a 400 every time.
    if date is not None:
        days_mod.parse_day(date)
    if week is not None:
        days_mod.parse_week(week)
    if month is not None:
        days_mod.parse_month(month)
    if sort not in (None, "publishedAt", "trending"):
        raise Invalid("sort must be publishedAt or trending")

    def build():
        result = site.papers.api_daily(date=date, week=week, month=month, submitter=submitter, sort=sort,
                                       page=page, limit=limit)
        data = [item_json(e.paper, e.listing, base) for e in result.items]
        headers = {}
        if result.has_next:
            params = {k: v for k, v in qp.multi_items() if k != "p"}
            params["p"] = str(page + 1)
            headers["Link"] = f'<{base}/api/daily_papers?{urlencode(params)}>; rel="next"'
        return data, headers

    key = ("daily", date, week, month, submitter, sort, page, limit, site.papers.today())
    return await cached_json(request, key, build, items=daily_items, dump=dumps_papers)


async def paper(request: Request) -> Response:
    site = site_of(request)
    raw = request.path_params["arxiv_id"]

    def build():
        p, listings = site.papers.api_paper(raw)
        return paper_json(p, listings[0] if listings else None), {}

    return await cached_json(request, ("paper", raw), build, dump=dumps_papers)


async def search(request: Request) -> Response:
    site = site_of(request)
    # counted against the search limit (settings.rate_search) by web/guard.py: 429 + Retry-After
    search = SearchRequest.from_params(request.query_params, accept=SEARCH_PARAMS)
    base = site.base_url

    def build():
        if not search.q:
            result = site.papers.api_daily(page=0, limit=search.per_page)
            return [item_json(e.paper, e.listing, base) for e in result.items], {}
        results = site.services.search.search(search)
        hits = [h.paper for h in results.results]
        if results.redirect_id and not hits:
            try:
                hits = [site.papers.api_paper(results.redirect_id)[0]]
            except NotFound:
                hits = []
        return [item_json(p, None, base) for p in hits], {}

    # Most searches are asked once: gzip level 1, as for the search page (a third of level 6's CPU).
    return await cached_json(request, ("search", search.q, search.per_page, site.services.search.position()), build,
                             gzip_level=1, items=daily_items, dump=dumps_papers)


async def api_docs_page(request: Request) -> Response:
    """/api: the HTML page describing this API."""
    site = site_of(request)
    return await site.cached(request, ("api-docs",), lambda: ("api.html", {"title": "API"}),
                             cache_control="public, max-age=3600")


async def openapi(request: Request) -> Response:
    site = site_of(request)
    doc = dict(OPENAPI)
    doc["servers"] = [{"url": site.base_url}]
    entry = make_entry(dumps(doc), ttl=0)
    return entry_response(request, entry, "application/json", "public, max-age=3600")


# -- OpenAPI ---------------------------------------------------------------------------------
_str = {"type": "string"}
_nstr = {"type": ["string", "null"]}
_ORG = {
    "type": ["object", "null"],
    "properties": {"_id": _str, "name": _str, "fullname": _str, "avatar": _nstr},
    "required": ["name"],
}
_USER = {
    "type": ["object", "null"],
    "properties": {"_id": _str, "name": _str, "user": _str, "fullname": _str, "avatarUrl": _nstr,
                   "type": _str, "isPro": {"type": "boolean"}},
}
_PAPER = {
    "type": "object",
    "required": ["id", "authors", "title", "summary", "upvotes"],
    "properties": {
        "id": {"type": "string", "description": "arXiv id without version", "examples": ["2608.19880"]},
        "authors": {"type": "array", "items": {"type": "object", "required": ["_id", "name", "hidden"],
                    "properties": {"_id": _str, "name": _str, "hidden": {"type": "boolean"}}}},
        "publishedAt": {"type": ["string", "null"], "format": "date-time", "description": "arXiv v1 date"},
        "submittedOnDailyAt": {"type": ["string", "null"], "format": "date-time"},
        "submittedOnDailyBy": {"$ref": "#/components/schemas/User"},
        "title": _str,
        "summary": {"type": "string", "description": "the abstract"},
        "upvotes": {"type": "integer"},
        "discussionId": _str,
        "projectPage": _nstr,
        "githubRepo": _nstr,
        "githubStars": {"type": ["integer", "null"]},
        "ai_summary": _nstr,
        "ai_keywords": {"type": "array", "items": _str},
        "organization": {"$ref": "#/components/schemas/Organization"},
        "withdrawn": {"type": "boolean"},
        "categories": {"type": "array", "items": _str},
        "version": {"type": ["integer", "null"]},
    },
}
_ITEM = {
    "type": "object",
    "required": ["paper", "publishedAt", "title", "summary", "numComments", "isAuthorParticipating"],
    "properties": {
        "paper": {"$ref": "#/components/schemas/Paper"},
        "publishedAt": {"type": "string", "format": "date-time", "description": "when it was listed"},
        "title": _str,
        "summary": _str,
        "thumbnail": _str,
        "numComments": {"type": "integer"},
        "submittedBy": {"$ref": "#/components/schemas/User"},
        "organization": {"$ref": "#/components/schemas/Organization"},
        "isAuthorParticipating": {"type": "boolean"},
    },
}
_ERROR = {"type": "object", "properties": {"error": _str, "status": {"type": "integer"}}}
_ARRIVAL = {
    "allOf": [{"$ref": "#/components/schemas/DailyPaper"}, {
        "type": "object",
        "required": ["score", "reasons", "listedOn"],
        "properties": {
            "score": {"type": ["number", "null"], "description": "predicted interest (higher first); null: not scored"},
            "reasons": {"type": "array", "items": _str, "description": "the score's top reasons"},
            "listedOn": {"type": ["string", "null"], "format": "date", "description": "the first list it is on"},
        },
    }],
}
_DAY = {"type": ["string", "null"], "format": "date"}
_ARRIVALS = {
    "type": "object",
    "required": ["date", "total", "model", "note", "papers"],
    "properties": {
        "date": _DAY,
        "previous": _DAY,
        "next": _DAY,
        "sort": _str,
        "category": _nstr,
        "page": {"type": "integer"},
        "limit": {"type": "integer"},
        "total": {"type": "integer", "description": "the day's arrivals in the site's field (after ?category=)"},
        "unscored": {"type": "integer"},
        "categories": {"type": "array", "items": {"type": "object", "properties": {
            "name": _str, "count": {"type": "integer"}}}},
        "model": {"type": ["object", "null"], "properties": {"kind": {"type": "string", "enum": ["trained", "seed"]},
                  "note": _str, "trainedAt": {"type": "string", "format": "date-time"}}},
        "note": {"type": "string", "description": "what ranks the arrivals, in a sentence"},
        "papers": {"type": "array", "items": {"$ref": "#/components/schemas/Arrival"}},
    },
}


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _q(name: str, desc: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema}


OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "dailypapers API",
        "version": "1",
        "description": "Hugging Face-compatible paper API: point `huggingface_hub.HfApi(endpoint=...)` at this server. "
                       "Responses carry ETag and Cache-Control; send If-None-Match to get 304. CORS is open for GET.",
    },
    "paths": {
        "/api/daily_papers": {
            "get": {
                "summary": "Daily papers",
                "description": "Listed papers, newest list day first and most upvoted first within a day. "
                               "Given together, date, week and month narrow to the days they share (none in "
                               "common: an empty page). A `Link: <...>; rel=\"next\"` header points "
                               "to the next page when there is one.",
                "parameters": [
                    _q("p", "page number, from 0",
                       {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0}),
                    _q("limit", "items per page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
                    _q("date", "one list day, YYYY-MM-DD", {"type": "string", "format": "date"}),
                    _q("week", "an ISO week, YYYY-Www", {"type": "string", "pattern": "^\\d{4}-W\\d{2}$"}),
                    _q("month", "a month, YYYY-MM", {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}),
                    _q("submitter", "only papers submitted by this user", {"type": "string"}),
                    _q("sort", "publishedAt (default) or trending (time-decayed upvotes)",
                       {"type": "string", "enum": ["publishedAt", "trending"]}),
                ],
                "responses": {
                    "200": {"description": "a page of items", "headers": {"Link": {"schema": _str}},
                            "content": {"application/json": {"schema": {"type": "array",
                                        "items": {"$ref": "#/components/schemas/DailyPaper"}}}}},
                    "304": {"description": "not modified (If-None-Match)"},
                    "400": _err("a bad date, week, month, sort, limit or page"),
                },
            }
        },
        "/api/papers/search": {
            "get": {
                "summary": "Search papers",
                "description": "Hybrid (BM25 + semantic) search. The query language supports \"phrases\", -exclusions, "
                               "author:, cat: and year:. An empty q returns the latest listed papers.",
                "parameters": [
                    _q("q", "the query, at most 250 characters as sent (control characters count)",
                       {"type": "string", "maxLength": 250}),
                    _q("limit", "results", {"type": "integer", "minimum": 1, "maximum": 120, "default": 20}),
                ],
                "responses": {
                    "200": {"description": "results, best first", "content": {"application/json": {"schema": {
                        "type": "array", "items": {"$ref": "#/components/schemas/DailyPaper"}}}}},
                    "400": _err("q too long or a bad limit"),
                },
            }
        },
        "/api/papers/new": {
            "get": {
                "summary": "New arrivals",
                "description": "One day's arXiv arrivals in the site's categories, best predicted interest first "
                               "(unscored last). A `Link: <...>; rel=\"next\"` header points to the next page.",
                "parameters": [
                    _q("date", "an arrival day, YYYY-MM-DD (default: the latest)",
                       {"type": "string", "format": "date"}),
                    _q("category", "only arrivals in this arXiv category, e.g. cs.CL", {"type": "string"}),
                    _q("sort", "interest (default), upvotes or newest",
                       {"type": "string", "enum": ["interest", "upvotes", "newest"]}),
                    _q("page", "page number, from 1", {"type": "integer", "minimum": 1, "maximum": 200, "default": 1}),
                    _q("limit", "arrivals per page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
                ],
                "responses": {
                    "200": {"description": "a page of the day's arrivals", "headers": {"Link": {"schema": _str}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Arrivals"}}}},
                    "304": {"description": "not modified (If-None-Match)"},
                    "400": _err("a bad date, category, sort, page or limit"),
                },
            }
        },
        "/api/papers/{arxiv_id}": {
            "get": {
                "summary": "One paper",
                "parameters": [{"name": "arxiv_id", "in": "path", "required": True, "schema": _str,
                                "description": "e.g. 2608.19880 or hep-th/9901001 (a version suffix is ignored)"}],
                "responses": {
                    "200": {"description": "the paper", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Paper"}}}},
                    "404": _err("no such paper"),
                },
            }
        },
        "/papers/{arxiv_id}.md": {
            "get": {
                "summary": "One paper page as Markdown (huggingface_hub's HfApi.read_paper)",
                "parameters": [{"name": "arxiv_id", "in": "path", "required": True, "schema": _str}],
                "responses": {"200": {"description": "text/markdown"}, "404": {"description": "no such paper"}},
            }
        },
        "/feeds/daily.xml": {"get": {"summary": "RSS 2.0 feed of the latest daily list (Atom: /feeds/daily.atom)",
                                     "responses": {"200": {"description": "RSS 2.0"}}}},
        "/feeds/trending.xml": {"get": {"summary": "RSS 2.0 feed of trending papers (Atom: /feeds/trending.atom)",
                                        "responses": {"200": {"description": "RSS 2.0"}}}},
        "/feeds/search.xml": {"get": {"summary": "RSS 2.0 feed of a search, newest first (Atom: /feeds/search.atom)",
                                      "parameters": [{**_q("q", "the query (not blank)", {
                                          "type": "string", "minLength": 1, "maxLength": 250}), "required": True}],
                                      "responses": {"200": {"description": "RSS 2.0"},
                                                    "400": {"description": "no or bad q"}}}},
        "/feeds/new.xml": {"get": {"summary": "RSS 2.0 feed of the latest day's arrivals, top 50 by predicted interest "
                                              "(Atom: /feeds/new.atom)",
                                   "parameters": [_q("category", "only this arXiv category", {"type": "string"})],
                                   "responses": {"200": {"description": "RSS 2.0"},
                                                 "400": {"description": "a bad category"}}}},
    },
    "components": {
        "schemas": {"Paper": _PAPER, "DailyPaper": _ITEM, "Organization": _ORG, "User": _USER, "Error": _ERROR,
                    "Arrival": _ARRIVAL, "Arrivals": _ARRIVALS, **library_openapi.SCHEMAS,
                    **saved_openapi.OPENAPI_SCHEMAS,
                    **follows_openapi.SCHEMAS, **community_openapi.SCHEMAS},
        "securitySchemes": library_openapi.SECURITY_SCHEMES,
    },
}
OPENAPI["paths"].update(library_openapi.PATHS)  # collections and reading states (web/library_api.py)
OPENAPI["paths"].update(saved_openapi.OPENAPI_PATHS)  # saved searches (web/saved_api.py)
OPENAPI["paths"].update(follows_openapi.PATHS)  # follows (web/follows.py)
OPENAPI["paths"].update(community_openapi.PATHS)  # upvotes and submissions (web/votes.py, web/submissions.py)


def _document_guard(doc: dict) -> None:
    """What web/guard.py and web/security.py answer before any handler, on every operation they apply
    to: 429 on the rate-limited ones (a search, an export, every API write), 413 on those with a body,
    403 on an API write sent without a token (it is then a cookie request and needs a CSRF token), 401
    on every operation that takes a token (web/auth.py)."""
    limited = [re.compile(pattern) for pattern, _ in RATE_LIMITED]
    for path, operations in doc["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            if any(p.search(concrete) for p in limited) or (path.startswith("/api/") and method != "get"):
                responses.setdefault("429", {**_err("too many requests: wait as long as Retry-After says"),
                                             "headers": {"Retry-After": {"schema": {"type": "integer"}}}})
            if path.startswith("/api/") and method != "get":
                responses.setdefault("403", _err("no API token and no CSRF token: refused as a cross-site request"))
            if op.get("security"):
                responses.setdefault("401", _err("no or bad API token"))
            if "requestBody" in op:
                responses.setdefault("413", _err("the body is larger than this operation accepts"))


# The inputs that the same parsers read on every operation, stated once (days.py, ids.py and
# web/arrivals.py decide; tests/web/test_openapi_fuzz.py holds the server to these).
_YEAR = "(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"  # days.MIN_YEAR to MAX_YEAR
INPUT_PATTERNS = {
    "date": f"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$",
    "week": f"^{_YEAR}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
    "month": f"^{_YEAR}-(0[1-9]|1[0-2])$",
    "arxiv_id": "^([0-9]{4}\\.[0-9]{4,5}|[a-z][a-z-]+(\\.[A-Z]{2})?/[0-9]{7})(v[0-9]+)?$",
    "category": "^[A-Za-z-]{1,20}(\\.[A-Za-z-]{1,20})?$",
}
_INPUTS = {"date": "date", "from": "date", "to": "date", "week": "week", "month": "month", "arxiv_id": "arxiv_id",
           "paper": "arxiv_id", "category": "category"}
_INPUT_NOTES = {"date": f"years {days_mod.MIN_YEAR} to {days_mod.MAX_YEAR}",
                "week": "W53 only in a year that has one (else 400)",
                "arxiv_id": "an arXiv or Hugging Face paper URL is read too"}


def _document_inputs(doc: dict) -> None:
    """Patterns for the inputs above; and an optional query parameter sent empty is read as not sent
    (web/requests.int_param, and every handler's `or None`), which its schema must allow."""
    for operations in doc["paths"].values():
        for method, op in operations.items():
            for param in op.get("parameters", []):
                kind = _INPUTS.get(param["name"])
                if kind is not None and param["schema"].get("type") == "string":
                    param["schema"] = {**param["schema"], "pattern": INPUT_PATTERNS[kind]}
                    if param["in"] == "query" or method != "get":  # a GET of a bad path id is a 404
                        op["responses"].setdefault("400", _err(f"a bad {param['name']}"))
                    note = _INPUT_NOTES.get(kind)
                    if note and note not in param.get("description", ""):
                        param["description"] = "; ".join(filter(None, [param.get("description"), note]))
                if param["in"] != "query" or param.get("required"):
                    continue
                schema = param["schema"]
                if schema.get("type") == "string" and "anyOf" not in schema:
                    param["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
                elif schema.get("type") == "integer":  # web/requests.int_param
                    param["schema"] = {**schema, "type": ["integer", "string"], "maxLength": 0}


_document_guard(OPENAPI)
_document_inputs(OPENAPI)


__all__ = [
    "paper_json", "item_json", "OPENAPI", "daily_papers", "paper", "search", "openapi", "api_docs_page", "iso",
    "synth_id",
]
