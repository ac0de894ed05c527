"""The OpenAPI description of the follows calls (web/follows.py), merged into /openapi.json by
web/api.py beside the library's. Plain data: no handler imports it."""

from __future__ import annotations

_str = {"type": "string"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
TAG = "Follows"
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

FOLLOW = {
    "type": "object",
    "required": ["id", "kind", "name", "key", "createdAt"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["author", "org"]},
        "name": {"type": "string", "description": "as followed: an author's name, or an organization's name as "
                                                  "in /orgs/{name}"},
        "key": {"type": "string", "description": "what papers are matched on: an author's surname and first "
                                                 "initial, folded (spellings are then compared in full)"},
        "createdAt": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS = {"Follow": FOLLOW}
_LIST = {"type": "array", "items": {"$ref": "#/components/schemas/Follow"}}
_ONE = {"application/json": {"schema": {"$ref": "#/components/schemas/Follow"}}}
_401 = {"401": {"description": "no or bad API token"}}

PATHS: dict = {
    "/api/follows": {
        "get": {"summary": "The authors and organizations you follow", "tags": [TAG], "security": _BEARER,
                "responses": {"200": {"description": "authors first, then organizations, by name",
                                      "content": {"application/json": {"schema": _LIST}}}, **_401}},
        "post": {
            "summary": "Follow an author or an organization", "tags": [TAG], "security": _BEARER,
            "description": "Their new papers come to For you (\"you follow X\") and your digests. An author is "
                           "matched by name with the spellings merged (accents, case and spacing ignored; an "
                           "initial matches a first name): following a spelling of an author you already follow "
                           "returns that follow (200). An organization must have papers here.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["kind", "name"],
                "properties": {"kind": {"type": "string", "enum": ["author", "org"]},
                               "name": {"type": "string", "maxLength": 200}}}}}},
            "responses": {"201": {"description": "followed", "content": _ONE},
                          "200": {"description": "already followed (maybe under another spelling)", "content": _ONE},
                          "400": {"description": "bad kind or name", **_ERROR}, **_401,
                          "403": {"description": "unverified or disabled account", **_ERROR},
                          "404": {"description": "no organization of that name", **_ERROR}},
        },
    },
    "/api/follows/{id}": {
        "delete": {"summary": "Unfollow", "tags": [TAG], "security": _BEARER,
                   "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                   "responses": {"204": {"description": "unfollowed"}, **_401,
                                 "404": {"description": "not one of your follows", **_ERROR}}},
    },
}

__all__ = ["PATHS", "SCHEMAS", "TAG"]
