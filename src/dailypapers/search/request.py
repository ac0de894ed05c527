"""One search request (the search box, its filters, sort and paging), parsed and validated once.

The web layer builds it from query parameters with :meth:`SearchRequest.from_params`; Python
callers construct it directly. Either way the checks run when it is made (``__post_init__``), so
the engine trusts any SearchRequest it is given. Every check has one message, raised as
:class:`BadQuery` (an ``Invalid``: HTTP 400).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from dailypapers import days
from dailypapers.errors import Invalid
from dailypapers.search.query import SearchFilters, normalize_category

MAX_QUERY_CHARS = 250  # Hugging Face's limit for /api/papers/search; the site uses the same
MAX_PER_PAGE = 120  # Hugging Face's largest `limit`
MAX_PAGE = 500
MAX_UPVOTES = 1_000_000
MODES = ("hybrid", "lexical", "semantic")
SORTS = ("relevance", "newest", "upvotes")
PARAMS = ("q", "mode", "sort", "from", "to", "category", "has_code", "min_upvotes", "organization", "page", "limit")
MAX_ORGANIZATION_CHARS = 100
EMPTY_QUERY = "Type something to search for."
_TRUE = ("1", "on", "true", "yes")
_WHOLE = re.compile(r"\d{1,9}")


class SearchError(Invalid):
    """A search that cannot run; the message is meant for the user."""


class BadQuery(SearchError):
    """The request is malformed (empty, too long, unknown mode...): HTTP 400."""


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    mode: str = "hybrid"
    sort: str = "relevance"
    filters: SearchFilters = field(default_factory=SearchFilters)
    page: int = 1
    per_page: int = 20

    def __post_init__(self) -> None:
        if self.filters is None:  # callers may pass filters=None for "no filters"
            object.__setattr__(self, "filters", SearchFilters())
        if len(self.q) > MAX_QUERY_CHARS:
            raise BadQuery(f"The query is too long ({len(self.q)} characters; at most {MAX_QUERY_CHARS}).")
        if self.mode not in MODES:
            raise BadQuery(f"Unknown search mode {self.mode!r}: use one of {', '.join(MODES)}.")
        if self.sort not in SORTS:
            raise BadQuery(f"Unknown sort {self.sort!r}: use one of {', '.join(SORTS)}.")
        if not _int_in(self.page, 1, MAX_PAGE):
            raise BadQuery(f"The page number must be between 1 and {MAX_PAGE}.")
        if not _int_in(self.per_page, 1, MAX_PER_PAGE):
            raise BadQuery(f"Results per page (limit) must be between 1 and {MAX_PER_PAGE}.")
        f = self.filters
        if f.category and normalize_category(f.category) is None:
            raise BadQuery(f"Not a category: {f.category!r} (expected e.g. cs.CL or cs).")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise BadQuery("The start date is after the end date.")
        if f.min_upvotes is not None and not _int_in(f.min_upvotes, 0, MAX_UPVOTES):
            raise BadQuery(f"Minimum upvotes must be between 0 and {MAX_UPVOTES}.")
        if f.organization is not None and len(f.organization) > MAX_ORGANIZATION_CHARS:
            raise BadQuery(f"The organization name is too long (at most {MAX_ORGANIZATION_CHARS} characters).")

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, defaults: SearchRequest | None = None,
                    accept: Collection[str] = PARAMS, require_q: bool = False) -> SearchRequest:
        """The request in these query parameters. Only those named in `accept` are read (HF's API
        reads q and limit); the other fields come from `defaults`."""
        base = defaults or cls()
        given = {k: params.get(k, "") for k in accept}

        def get(name: str) -> str:
            return given.get(name, "")

        values: dict = {}
        if "q" in accept:
            raw_q = get("q") or ""
            if len(raw_q) > MAX_QUERY_CHARS:  # counted as sent, as the OpenAPI maxLength counts it
                raise BadQuery(f"The query is too long ({len(raw_q)} characters; at most {MAX_QUERY_CHARS}).")
            values["q"] = clean_text(raw_q)
        if get("mode"):
            values["mode"] = get("mode")
        if get("sort"):
            values["sort"] = get("sort")
        if get("page"):
            values["page"] = _whole(get("page"), "page")
        if get("limit"):
            values["per_page"] = _whole(get("limit"), "limit")
        changes: dict = {}
        if get("from"):
            changes["date_from"] = days.parse_day(get("from"))
        if get("to"):
            changes["date_to"] = days.parse_day(get("to"))
        if "category" in accept:
            changes["category"] = clean_text(get("category") or "") or None
        if "has_code" in accept:
            changes["has_code"] = get("has_code") in _TRUE
        if get("min_upvotes"):
            changes["min_upvotes"] = _whole(get("min_upvotes"), "min_upvotes")
        if "organization" in accept:
            changes["organization"] = clean_text(get("organization") or "") or None
        if changes:
            values["filters"] = dataclasses.replace(base.filters, **changes)
        request = dataclasses.replace(base, **values)
        return request.needing_query() if require_q else request

    def needing_query(self) -> SearchRequest:
        """This request, when it has something to search for."""
        if not self.q.strip():
            raise BadQuery(EMPTY_QUERY)
        return self

    def params(self, **changes) -> dict[str, str]:
        """The query parameters that give this request back (defaults left out), with `changes`."""
        f = self.filters
        values = {
            "q": self.q, "sort": self.sort if self.sort != "relevance" else "",
            "mode": self.mode if self.mode != "hybrid" else "",
            "from": f.date_from.isoformat() if f.date_from else "",
            "to": f.date_to.isoformat() if f.date_to else "",
            "category": f.category or "", "has_code": "1" if f.has_code else "",
            "min_upvotes": "" if f.min_upvotes is None else str(f.min_upvotes),
            "organization": f.organization or "",
            "page": "" if self.page == 1 else str(self.page),
        }
        values.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v != ""}


def clean_text(value: str) -> str:
    """Drop NULs, other C0/C1 controls and lone surrogates from user input."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        value = value.encode("utf-8", "replace").decode("utf-8", "replace")
    return "".join(ch for ch in value if ch >= " " and not ("\x7f" <= ch <= "\x9f")).strip()


def _whole(raw: str, name: str) -> int:
    raw = raw.strip()
    if not _WHOLE.fullmatch(raw):
        raise BadQuery(f"{name} must be a whole number.")
    return int(raw)


def _int_in(value, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


__all__ = [
    "SearchRequest", "SearchError", "BadQuery", "clean_text", "MAX_QUERY_CHARS", "MAX_PER_PAGE", "MAX_PAGE",
    "MODES", "SORTS", "EMPTY_QUERY",
]
