"""The OpenAPI description of the saved-search calls (web/saved_api.py), merged into /openapi.json
by web/api.py. Plain data: no handler imports it."""

from __future__ import annotations

from dailypapers.digests.saved import ALERT_LABELS

_str = {"type": "string"}
_time = {"type": "string", "format": "date-time"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_TAG = "Saved searches"
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ALERT = {"type": "string", "enum": list(ALERT_LABELS),
          "description": "none; digest: a section of your next digest; daily or weekly (Mondays): an email of its own. "
                         "Only papers you were never sent, never ones you hid."}
# In a request body null is the same as leaving the field out (web/saved_api.py).
_nstr = {"type": ["string", "null"]}
_NALERT = {"anyOf": [_ALERT, {"type": "null"}]}
SAVED_SCHEMA = {
    "type": "object", "required": ["id", "name", "q", "params", "alert", "feeds"],
    "properties": {
        "id": {"type": "integer"}, "name": _str, "q": _str, "alert": _ALERT, "createdAt": _time, "updatedAt": _time,
        "params": {"type": "object", "additionalProperties": _str,
                   "description": "the search's parameters, as /papers/search takes them"},
        "searchUrl": _str,
        "feeds": {"type": "object", "description": "its feed (secret: anyone with the address reads it)",
                  "properties": {"rss": _str, "atom": _str, "json": _str}},
    },
}


def _op(summary: str, ok: dict, *codes: str, body: dict | None = None, params: bool = True) -> dict:
    text = {"400": "bad input (the message says which)", "403": "unverified or disabled account",
            "404": "no such saved search (or not yours)"}
    responses = {**ok, "401": {"description": "no or bad API token"},
                 **{c: {"description": text[c], "content": {"application/json": {
                     "schema": {"$ref": "#/components/schemas/Error"}}}} for c in codes}}
    op: dict = {"summary": summary, "tags": [_TAG], "security": _BEARER, "responses": responses}
    if params:
        op["parameters"] = [_ID]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _ok(desc: str, schema: dict | None, status: str = "200") -> dict:
    out: dict = {"description": desc}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return {status: out}


_ONE = {"$ref": "#/components/schemas/SavedSearch"}
OPENAPI_SCHEMAS = {"SavedSearch": SAVED_SCHEMA}
OPENAPI_PATHS: dict = {
    "/api/saved-searches": {
        "get": _op("Your saved searches", _ok("oldest first", {"type": "array", "items": _ONE}), params=False),
        "post": _op("Save a search", _ok("saved (or the same search saved before)", _ONE, "201"), "400", "403",
                    params=False, body={"type": "object", "required": ["q"], "properties": {
                        "q": {"type": "string", "maxLength": 250}, "mode": _nstr, "sort": _nstr, "from": _nstr,
                        "to": _nstr, "category": _nstr, "has_code": {"type": ["boolean", "null"]},
                        "min_upvotes": {"type": ["integer", "null"]},
                        "name": {"type": ["string", "null"], "maxLength": 100}, "alert": _NALERT}}),
    },
    "/api/saved-searches/{id}": {
        "get": _op("One saved search", _ok("the saved search", _ONE), "404"),
        "patch": _op("Rename it or change its alert", _ok("the saved search", _ONE), "400", "404",
                     body={"type": "object", "properties": {"name": {"type": ["string", "null"], "maxLength": 100},
                                                            "alert": _NALERT}}),
        "delete": _op("Delete it (and its feed)", _ok("deleted", None, "204"), "404"),
    },
    "/api/saved-searches/{id}/papers": {
        "get": _op("Its newest matches, without the papers you hid",
                   _ok("papers, newest first", {"type": "array", "items": {"$ref": "#/components/schemas/Paper"}}),
                   "404"),
    },
}

__all__ = ["OPENAPI_PATHS", "OPENAPI_SCHEMAS"]
