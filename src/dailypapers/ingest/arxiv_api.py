"""The arXiv search API (Atom): metadata for one id or a list of ids.

`ArxivClient.fetch(ids)` asks https://export.arxiv.org/api/query with
`id_list=` in batches, paces its requests (one per `delay` seconds, measured
from the start of the previous request) and retries 503/5xx replies, honouring
`Retry-After`. It never raises for one bad record: every requested id ends up
in exactly one of `FetchResult.papers`, `.missing` (arXiv has no such paper) or
`.rejected` (the id is malformed, or arXiv's answer for it could not be used).
It raises `ArxivError` only when arXiv cannot be reached or keeps failing.

`parse_atom` is the pure parser; it reads both the current Atom layout
(namespaces declared on <feed>) and the pre-2020 one (declared per element).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from lxml import etree

from dailypapers.ids import ArxivId, BadArxivId, parse_arxiv_id
from dailypapers.ingest.sources import parse_iso_time
from dailypapers.models import Paper

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"

USER_AGENT = "dailypapers/0.1 (self-hosted paper discovery; +https://github.com/)"
DEFAULT_BATCH_SIZE = 100
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on one Retry-After

# arXiv marks withdrawals in the comment ("This paper has been withdrawn by the
# author ...") and usually in the abstract too ("This submission has been
# withdrawn by arXiv administrators ...").
_WITHDRAWN_RE = re.compile(
    r"\b(?:has|have)\s+been\s+withdrawn\b|\b(?:paper|article|submission|manuscript)\s+(?:is\s+)?withdrawn\b"
    r"|^\W*withdrawn\b",
    re.IGNORECASE,
)


class ArxivError(Exception):
    """arXiv could not be used; the message is one line, for the user."""


class ArxivTimeout(ArxivError):
    """arXiv did not answer within the client's timeout, on every try."""


NO_ANSWER = "no answer within"  # how polite_get describes a timed-out try


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace (line breaks included) to one space."""
    return " ".join(text.split()) if text else ""


def is_withdrawn(comment: str | None, abstract: str | None) -> bool:
    return bool(
        (comment and _WITHDRAWN_RE.search(comment)) or (abstract and _WITHDRAWN_RE.search(abstract[:300]))
    )


def parse_retry_after(value: str | None, *, cap: float = MAX_RETRY_AFTER) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - dt.datetime.now(dt.timezone.utc)).total_seconds()
    return min(max(seconds, 0.0), cap)


class Pacer:
    """At most one request per `delay` seconds, measured from the previous request's start.

    The start is when the request line goes on the wire (httpx's trace hook),
    not when the call began: the first request also opens the connection, and
    counting that time would let the server see the next request too early.
    """

    def __init__(self, delay: float, sleep: Callable[[float], None], clock: Callable[[], float] = time.monotonic):
        self.delay = delay
        self.sleep = sleep
        self.clock = clock
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None and self.delay > 0:
            remaining = self._last + self.delay - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self._last = self.clock()  # replaced by the send time when the trace hook fires

    def trace(self, event: str, info: dict) -> None:
        if event.endswith("send_request_headers.started"):
            self._last = self.clock()

    @property
    def extensions(self) -> dict:
        return {"trace": self.trace}


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True, remove_blank_text=False)


def _entry_ref(entry) -> str:
    return collapse(entry.findtext(f"{ATOM}id")) or "entry without <id>"


def _is_error_entry(entry) -> bool:
    ident = entry.findtext(f"{ATOM}id") or ""
    return "/api/errors" in ident or collapse(entry.findtext(f"{ATOM}title")) == "Error"


def _parse_entry(entry) -> Paper:
    ident = collapse(entry.findtext(f"{ATOM}id"))
    if not ident:
        raise ValueError("missing <id>")
    try:
        arxiv = parse_arxiv_id(ident)
    except BadArxivId:
        raise ValueError(f"<id> is not an arXiv abstract URL: {ident!r}") from None
    title = collapse(entry.findtext(f"{ATOM}title"))
    if not title:
        raise ValueError("missing title")
    authors = [collapse(a.findtext(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")]
    authors = [a for a in authors if a]
    if not authors:
        raise ValueError("no authors")
    abstract = collapse(entry.findtext(f"{ATOM}summary"))
    primary_el = entry.find(f"{ARXIV}primary_category")
    primary = (primary_el.get("term") or "").strip() if primary_el is not None else ""
    categories = [primary] if primary else []
    for c in entry.findall(f"{ATOM}category"):
        term = (c.get("term") or "").strip()
        if term and term not in categories:
            categories.append(term)
    comment = collapse(entry.findtext(f"{ARXIV}comment")) or None
    return Paper(
        arxiv_id=arxiv.id,
        version=arxiv.version,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=categories,
        published=parse_iso_time(entry.findtext(f"{ATOM}published")),
        updated=parse_iso_time(entry.findtext(f"{ATOM}updated")),
        comment=comment,
        withdrawn=is_withdrawn(comment, abstract),
    )


def parse_atom(xml: bytes, *, source: str = "arXiv API") -> tuple[list[Paper], list[tuple[str, str]]]:
    """Papers in an Atom feed, and (entry ref, reason) for entries that are unusable.

    arXiv's error entries (title "Error", id .../api/errors#...) are returned as
    rejections whose reason is arXiv's own message. A feed that is not XML at
    all raises ArxivError naming `source`.
    """
    try:
        root = etree.fromstring(xml, parser=_xml_parser())
    except etree.XMLSyntaxError as e:
        raise ArxivError(f"{source}: malformed XML: {e}") from None
    if root.tag != f"{ATOM}feed":
        raise ArxivError(f"{source}: not an Atom feed (root element {root.tag!r})")
    papers: list[Paper] = []
    rejected: list[tuple[str, str]] = []
    for entry in root.iter(f"{ATOM}entry"):
        ref = _entry_ref(entry)
        if _is_error_entry(entry):
            rejected.append((ref, f"arXiv API error: {collapse(entry.findtext(f'{ATOM}summary')) or 'unknown'}"))
            continue
        try:
            papers.append(_parse_entry(entry))
        except ValueError as e:
            rejected.append((ref, str(e)))
    return papers, rejected


@dataclass
class FetchResult:
    papers: list[Paper] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids arXiv does not know
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (id as given, reason)


def polite_get(
    client: httpx.Client,
    url: str,
    params: dict[str, str],
    *,
    pacer: Pacer,
    timeout: float,
    max_retries: int,
    backoff: float,
    max_retry_after: float,
    sleep,
) -> tuple[httpx.Response | None, str]:
    """GET with pacing; retries transport errors, 429 and 5xx (honouring Retry-After).

    Returns (the first response below 500 that is not a 429, "") or, when every
    attempt failed, (None, a description of the last problem).
    """
    last_problem = ""
    for attempt in range(max_retries + 1):
        pacer.wait()
        try:
            response = client.get(url, params=params, timeout=timeout, extensions=pacer.extensions)
        except httpx.TimeoutException as e:
            last_problem = f"{NO_ANSWER} {timeout:g} s ({type(e).__name__})"
            wait = backoff * 2**attempt
        except httpx.TransportError as e:
            last_problem = f"{type(e).__name__}: {e}"
            wait = backoff * 2**attempt
        else:
            if response.status_code < 500 and response.status_code != 429:
                return response, ""
            last_problem = f"HTTP {response.status_code}"
            wait = parse_retry_after(response.headers.get("Retry-After"), cap=max_retry_after)
            if wait is None:
                wait = backoff * 2**attempt
        if attempt < max_retries:
            sleep(wait)
    return None, last_problem


class PoliteClient:
    """An arXiv endpoint reached through one paced, retrying GET (``polite_get``). Closes the
    httpx client it made (not one it was given); usable in `with`."""

    def _connect(self, base_url: str, *, delay: float, timeout: float, client: httpx.Client | None,
                 max_retries: int, sleep: Callable[[float], None], backoff: float, max_retry_after: float) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})
        self.pacer = Pacer(delay, sleep)

    def _paced_get(self, params: dict[str, str]) -> tuple[httpx.Response | None, str]:
        return polite_get(
            self.client, self.base_url, params, pacer=self.pacer, timeout=self.timeout,
            max_retries=self.max_retries, backoff=self.backoff, max_retry_after=self.max_retry_after,
            sleep=self.sleep,
        )

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ArxivClient(PoliteClient):
    """Looks papers up by id in the arXiv search API."""

    def __init__(
        self,
        base_url: str,
        *,
        delay: float = 3.0,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backoff: float = 5.0,
        max_retry_after: float = MAX_RETRY_AFTER,
    ):
        self._connect(base_url, delay=delay, timeout=timeout, client=client, max_retries=max_retries, sleep=sleep,
                      backoff=backoff, max_retry_after=max_retry_after)
        self.batch_size = max(1, batch_size)

    # -- HTTP ---------------------------------------------------------------

    def _get(self, params: dict[str, str]) -> httpx.Response:
        """GET with pacing and retries; returns the final response (any status below 500)."""
        response, problem = self._paced_get(params)
        if response is None:
            error = ArxivTimeout if problem.startswith(NO_ANSWER) else ArxivError
            raise error(
                f"arXiv API at {self.base_url} failed {self.max_retries + 1} times (last: {problem}); try again later"
            )
        return response

    def _query(self, ids: list[ArxivId]) -> tuple[int, bytes]:
        params = {"id_list": ",".join(str(i) for i in ids), "start": "0", "max_results": str(len(ids))}
        response = self._get(params)
        return response.status_code, response.content

    # -- lookups ------------------------------------------------------------

    def fetch(self, ids: list[str], *, check_ids: bool = True) -> FetchResult:
        """Papers for `ids` (plain, versioned, or URLs). See the module docstring.

        With check_ids=False, ids that do not parse locally are still sent to
        arXiv (and rejected by it); this exists for tests of arXiv's own 400.
        """
        result = FetchResult()
        wanted: list[tuple[str, ArxivId]] = []
        seen: set[str] = set()
        for text in ids:
            try:
                arxiv = parse_arxiv_id(text)
            except BadArxivId:
                if check_ids:
                    result.rejected.append((text, f"not an arXiv id: {text!r}"))
                    continue
                arxiv = ArxivId(text.strip(), None)
            if str(arxiv) in seen:
                continue
            seen.add(str(arxiv))
            wanted.append((text, arxiv))
        for start in range(0, len(wanted), self.batch_size):
            self._fetch_batch(wanted[start : start + self.batch_size], result)
        return result

    def lookup(self, arxiv_id: str) -> Paper | None:
        """One paper, or None when arXiv has no such id; ArxivError when it cannot be looked up."""
        result = self.fetch([arxiv_id])
        if result.rejected:
            ref, reason = result.rejected[0]
            raise ArxivError(f"{ref}: {reason}")
        return result.papers[0] if result.papers else None

    def _fetch_batch(self, batch: list[tuple[str, ArxivId]], result: FetchResult) -> None:
        source = f"arXiv API id_list={','.join(str(a) for _, a in batch)}"
        status, body = self._query([a for _, a in batch])
        if status == 400 and len(batch) > 1:
            # arXiv refuses the whole list for one malformed id: ask one by one.
            for one in batch:
                self._fetch_batch([one], result)
            return
        if status != 200:
            reason = f"HTTP {status}"
            try:
                _, errors = parse_atom(body, source=source)
            except ArxivError:
                errors = []
            if errors:
                reason = f"{reason}: {errors[0][1]}"
            if status == 400:
                result.rejected.append((batch[0][0], f"arXiv API refused the id ({reason})"))
                return
            raise ArxivError(f"{source}: unexpected {reason}")
        try:
            papers, problems = parse_atom(body, source=source)
        except ArxivError as e:
            result.rejected.extend((text, str(e)) for text, _ in batch)
            return
        by_id: dict[str, Paper] = {}
        for p in papers:
            by_id.setdefault(p.arxiv_id, p)
        # An entry for a real paper that could not be parsed (no title...) is a
        # rejection; error entries in a 200 reply and entry-less feeds both mean
        # "no such paper".
        bad: dict[str, str] = {}
        for ref, reason in problems:
            try:
                bad.setdefault(parse_arxiv_id(ref).id, reason)
            except BadArxivId:
                pass
        for text, arxiv in batch:
            paper = by_id.get(arxiv.id)
            if paper is not None:
                result.papers.append(paper)
            elif arxiv.id in bad:
                result.rejected.append((text, bad[arxiv.id]))
            else:
                result.missing.append(text)


__all__ = [
    "ArxivClient", "ArxivError", "ArxivTimeout", "FetchResult", "parse_atom", "is_withdrawn", "parse_retry_after",
]
