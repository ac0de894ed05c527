"""The OpenAPI description of the upvote and submit calls (web/votes.py, web/submissions.py), merged
into /openapi.json by web/api.py beside the library's. Plain data: no handler imports it."""

from __future__ import annotations

_str = {"type": "string"}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
TAG = "Community"
_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_401 = {"401": {"description": "no or bad API token (or, without one, no session)", **_ERROR}}
_403 = {"403": {"description": "an unverified or disabled account; or no API token and no CSRF token", **_ERROR}}

VOTE = {
    "type": "object",
    "required": ["id", "voted", "upvotes", "votes", "hfUpvotes"],
    "properties": {
        "id": {"type": "string", "description": "the paper's arXiv id, without version"},
        "voted": {"type": "boolean", "description": "your upvote is now in place"},
        "upvotes": {"type": "integer", "description": "hfUpvotes + votes, as the pages show"},
        "votes": {"type": "integer", "description": "members' upvotes here"},
        "hfUpvotes": {"type": "integer", "description": "the count imported from Hugging Face"},
    },
}
SCHEMAS = {"Vote": VOTE}

# web/votes.want_vote: a JSON boolean, or a form's word for one; absent, null or "" toggles.
_WORDS = ["", "1", "true", "on", "yes", "up", "0", "false", "off", "no", "down"]
_VOTE_FIELD = {"description": "true: upvote, false: take it back; left out: toggle (a word's case and the "
                              "spaces around it are ignored)"}

PATHS: dict = {
    "/api/papers/{arxiv_id}/upvote": {
        "post": {
            "summary": "Upvote a paper, take the upvote back, or toggle it", "tags": [TAG], "security": _BEARER,
            "description": "One upvote per member per paper. With the session cookie instead of a token the "
                           "call needs the X-CSRF-Token header, as the site's own pages send it.",
            "parameters": [{"name": "arxiv_id", "in": "path", "required": True, "schema": _str,
                            "description": "e.g. 2608.19880 or hep-th/9901001"}],
            "requestBody": {"required": False, "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "vote": {**_VOTE_FIELD, "anyOf": [{"type": ["boolean", "null"]},
                                                      {"type": "string", "enum": _WORDS}]}}}},
                "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                    "vote": {**_VOTE_FIELD, "type": "string", "enum": _WORDS}}}}}},
            "responses": {"200": {"description": "the paper's counts now",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Vote"}}}},
                          "400": {"description": "a bad vote or body", **_ERROR}, **_401, **_403,
                          "404": {"description": "no such paper here (or not an arXiv id)", **_ERROR}},
        },
    },
    "/api/papers/submit": {
        "post": {
            "summary": "Submit a paper to today's list", "tags": [TAG], "security": _BEARER,
            "description": "An arXiv id or an arXiv or Hugging Face paper URL, as `id` or `url`. The paper must "
                           "be on arXiv (looked up there when this site lacks it), not withdrawn, first "
                           "published within the site's age limit and not on today's list yet, and a member "
                           "submits at most the site's daily number; each refusal is a 400 saying which.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"id": {"type": "string", "examples": ["2608.19880"]},
                                                 "url": {"type": "string",
                                                         "examples": ["https://arxiv.org/abs/2608.19880"]}},
                "anyOf": [{"required": ["id"]}, {"required": ["url"]}]}}}},
            "responses": {"201": {"description": "listed today", "content": {"application/json": {"schema": {
                "type": "object", "required": ["id", "day", "paper"],
                "properties": {"id": {"type": "string", "description": "the paper's arXiv id"},
                               "day": {"type": "string", "format": "date", "description": "today's list"},
                               "paper": {"$ref": "#/components/schemas/Paper"}}}}}},
                          "400": {"description": "no id, not an arXiv id, or a refusal (the message says which)",
                                  **_ERROR}, **_401, **_403},
        },
    },
}

__all__ = ["PATHS", "SCHEMAS", "TAG"]
