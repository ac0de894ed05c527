"""The OpenAPI description of the collections and reading-state calls (web/library_api.py), merged
into /openapi.json by web/api.py. Plain data: no handler imports it."""

from __future__ import annotations

_str = {"type": "string"}
_nstr = {"type": ["string", "null"]}
_time = {"type": "string", "format": "date-time"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
TAG = "Library"

COLLECTION = {
    "type": "object",
    "required": ["id", "name", "visibility", "owner", "paperCount"],
    "properties": {
        "id": {"type": "integer"},
        "name": _str,
        "description": _str,
        "visibility": {"type": "string", "enum": ["private", "shared", "public"],
                       "description": "private: the owner alone; shared: the owner and its members; "
                                      "public: anyone reads it at publicUrl"},
        "slug": {"type": ["string", "null"], "description": "the public page's address, /c/{slug}"},
        "owner": _str,
        "role": {"type": ["string", "null"], "enum": ["owner", "editor", "viewer", None],
                 "description": "the caller's role"},
        "paperCount": {"type": "integer"},
        "createdAt": _time,
        "updatedAt": _time,
        "url": _str,
        "publicUrl": _nstr,
        "contains": {"type": "boolean", "description": "with ?paper=: the paper is in it"},
    },
}
COLLECTION_DETAIL = {
    "allOf": [{"$ref": "#/components/schemas/Collection"}, {
        "type": "object",
        "properties": {
            "papers": {"type": "array", "description": "newest first", "items": {"type": "object", "properties": {
                "paper": {"$ref": "#/components/schemas/Paper"}, "addedAt": _time, "addedBy": _nstr,
                "note": {"type": ["string", "null"], "description": "your own note (nobody else's)"}}}},
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "name": _str, "role": {"type": "string", "enum": ["editor", "viewer"]}, "addedAt": _time}}},
        },
    }],
}
IMPORT_REPORT = {
    "type": "object",
    "properties": {
        "collection": {"$ref": "#/components/schemas/Collection"},
        "entries": {"type": "integer", "description": "entries read from the file"},
        "added": {"type": "array", "items": _str, "description": "arXiv ids added, in the file's order"},
        "already": {"type": "array", "items": _str},
        "fetched": {"type": "array", "items": _str, "description": "looked up on arXiv and stored"},
        "notFound": {"type": "array", "items": {"type": "object", "properties": {"id": _str, "reason": _str}}},
        "withoutId": {"type": "array", "description": "entries naming no arXiv id (not added)",
                      "items": {"type": "object", "properties": {"key": _nstr, "title": _nstr,
                                                                 "line": {"type": ["integer", "null"]},
                                                                 "problem": _nstr}}},
        "problems": {"type": "array", "items": _str},
    },
}
READING_ITEM = {
    "type": "object",
    "properties": {"paper": {"$ref": "#/components/schemas/Paper"},
                   "state": {"type": "string", "enum": ["to_read", "read", "hidden"]}, "updatedAt": _time},
}
STATE = {"type": "object", "properties": {"id": _str,
                                          "state": {"type": ["string", "null"],
                                                    "enum": ["to_read", "read", "hidden", None]}}}

SCHEMAS = {"Collection": COLLECTION, "CollectionDetail": COLLECTION_DETAIL, "ImportReport": IMPORT_REPORT,
           "ReadingItem": READING_ITEM, "ReadingState": STATE}
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "an API token from your settings page"}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(desc: str, schema: dict | None = None, status: str = "200") -> dict:
    out: dict = {status: {"description": desc}}
    if schema is not None:
        out[status]["content"] = {"application/json": {"schema": schema}}
    out["401"] = {"description": "no or bad API token"}
    return out


def _errors(*codes: str) -> dict:
    text = {"400": "bad input (the message says which)", "403": "you may see it but not do this",
            "404": "no such collection or paper, or not shared with you", "429": "too many requests"}
    return {c: {"description": text[c], "content": {"application/json": {"schema": _ref("Error")}}} for c in codes}


def _op(summary: str, responses: dict, *, body: dict | None = None, params: list | None = None,
        description: str | None = None) -> dict:
    op: dict = {"summary": summary, "tags": [TAG], "security": _BEARER, "responses": responses}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


_CID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_PAPER = {"name": "arxiv_id", "in": "path", "required": True, "schema": _str,
          "description": "e.g. 2608.19880 or hep-th/9901001"}
_NAME = {"name": "name", "in": "path", "required": True, "schema": _str, "description": "a member's user name"}
_FIELDS: dict[str, dict] = {"name": {"type": "string", "maxLength": 100},
                            "description": {"type": "string", "maxLength": 2000},
                            "visibility": {"type": "string", "enum": ["private", "shared", "public"]}}

def _nullable(schema: dict) -> dict:
    """In a PATCH body null leaves the field as it is (web/library_api.py)."""
    out = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


PATHS: dict = {
    "/api/collections": {
        "get": _op("Your collections", {**_ok("your own and the ones shared with you, most recently changed first",
                                              {"type": "array", "items": _ref("Collection")}), **_errors("404")},
                   params=[{"name": "paper", "in": "query", "required": False, "schema": _str,
                            "description": "an arXiv id: each collection says whether it holds it (`contains`)"}]),
        "post": _op("Create a collection", {**_ok("created", _ref("Collection"), "201"), **_errors("400", "403")},
                    body={"type": "object", "required": ["name"], "properties": _FIELDS}),
    },
    "/api/collections/{id}": {
        "get": _op("One collection: its papers (with your notes) and members",
                   {**_ok("the collection", _ref("CollectionDetail")), **_errors("404")}, params=[_CID]),
        "patch": _op("Rename, describe, change the visibility or the public address (owner)",
                     {**_ok("the collection", _ref("Collection")), **_errors("400", "403", "404")}, params=[_CID],
                     body={"type": "object", "properties": {
                         **{k: _nullable(v) for k, v in _FIELDS.items()}, "slug": {
                             "type": ["string", "null"], "description": "3-60 of a-z, 0-9 and -, not only digits; "
                                                                       "empty removes it"}}}),
        "delete": _op("Delete a collection (owner)", {"204": {"description": "deleted"},
                                                      **_errors("403", "404")}, params=[_CID]),
    },
    "/api/collections/{id}/papers/{arxiv_id}": {
        "put": _op("Add a paper (owner, editors); one this site lacks is fetched from arXiv",
                   {**_ok("already there", {"type": "object"}), "201": {"description": "added"},
                    **_errors("400", "403", "404")}, params=[_CID, _PAPER]),
        "delete": _op("Remove a paper (owner, editors)", {**_ok("removed", {"type": "object"}),
                                                          **_errors("403", "404")}, params=[_CID, _PAPER]),
    },
    "/api/collections/{id}/notes/{arxiv_id}": {
        "put": _op("Your private note on a paper of the collection (an empty note deletes it)",
                   {**_ok("saved", {"type": "object"}), **_errors("400", "403", "404")}, params=[_CID, _PAPER],
                   body={"type": "object", "properties": {"note": {"type": "string", "maxLength": 5000}}}),
    },
    "/api/collections/{id}/members/{name}": {
        "put": _op("Share with a member, or change their role (owner); a private collection becomes shared",
                   {**_ok("the member", {"type": "object"}), **_errors("400", "403", "404")}, params=[_CID, _NAME],
                   body={"type": "object", "required": ["role"],
                         "properties": {"role": {"type": "string", "enum": ["editor", "viewer"]}}}),
        "delete": _op("Remove a member (owner), or leave (the member)", {"204": {"description": "removed"},
                                                                          **_errors("403", "404")},
                      params=[_CID, _NAME]),
    },
    "/api/collections/{id}/import": {
        "post": {**_op("Import a .bib or RIS file (owner, editors)",
                       {**_ok("what happened to every entry", _ref("ImportReport")), **_errors("400", "403", "404",
                                                                                              "429")},
                       params=[_CID],
                       description="Papers with an arXiv id are added (fetched from arXiv when this site lacks "
                                   "them, at most 100 per import); entries without one, ids arXiv does not know "
                                   "and failed lookups are reported, never dropped. Rate-limited like submissions."),
                 "requestBody": {"required": True, "content": {
                     "application/x-bibtex": {"schema": _str}, "application/x-research-info-systems": {"schema": _str},
                     "text/plain": {"schema": _str},
                     "multipart/form-data": {"schema": {"type": "object", "properties": {
                         "file": {"type": "string", "format": "binary"}}}}}}},
    },
    "/api/account/export": {
        "get": _op("Everything the site keeps about you, as one JSON document (docs/accounts.md)",
                   {**_ok("profile, votes, comments, submissions, collections, notes, reading states, "
                          "list visits, subscriptions and API tokens' metadata (never a secret)",
                          {"type": "object", "required": ["format", "version", "profile"]}),
                    "401": {"description": "no valid API token"}},
                   description="The same file as /settings/export.json, sent as an attachment."),
    },
    "/api/reading": {
        "get": _op("Your papers in one reading state, most recently marked first",
                   {**_ok("a page of 100", {"type": "array", "items": _ref("ReadingItem")}), **_errors("400")},
                   params=[{"name": "state", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["to_read", "read", "hidden"], "default": "to_read"}},
                           {"name": "page", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}}]),
    },
    "/api/reading/{arxiv_id}": {
        "put": _op("Set your state of a paper (hidden: not interested; null clears it)",
                   {**_ok("the state now", _ref("ReadingState")), **_errors("400", "404")}, params=[_PAPER],
                   body={"type": "object", "properties": {"state": {
                       "type": ["string", "null"], "enum": ["to_read", "read", "hidden", None]}}}),
        "delete": _op("Clear your state of a paper", {**_ok("cleared", _ref("ReadingState")),
                                                      **_errors("400", "404")},
                      params=[_PAPER]),
    },
    "/c/{ref}/feed.xml": {"get": {"summary": "RSS 2.0 feed of a public collection, newest first (Atom: "
                                             "/c/{ref}/feed.atom)",
                                  "parameters": [{"name": "ref", "in": "path", "required": True, "schema": _str,
                                                  "description": "the collection's slug or id"}],
                                  "responses": {"200": {"description": "RSS 2.0"},
                                                "404": {"description": "no such public collection"}}}},
}

__all__ = ["PATHS", "SCHEMAS", "SECURITY_SCHEMES", "TAG"]
