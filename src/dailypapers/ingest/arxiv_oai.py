"""arXiv OAI-PMH harvest (ListRecords, metadataPrefix arXiv or arXivRaw).

Usage -- the caller stores each page, THEN commits it:

    harvester = OAIHarvester(settings.arxiv_oai_url, store, set_spec="cs")
    for page in harvester.pages():
        store.ingest_batch(page.papers)
        harvester.commit(page)        # saves the place; only after the papers are stored

(`harvester.run()` is that loop, with counting.) `commit(page)` saves the
resumption token that is still to be requested under `checkpoint_key`, so a
killed harvest restarts at the first page that was not committed: no committed
page is fetched twice, and no page is skipped. Asking for the next page
without committing the previous one is a programming error (ArxivError).

When the last page (no resumptionToken) is committed, the checkpoint is
cleared and `oai:last_harvest:<prefix>:<set>` is set to the date of the first
response of that harvest; a later harvest without `from_date` starts from that
date (inclusive; upserts are idempotent, so the overlap is harmless).

Politeness: one request per `delay` seconds (from the previous request's
start); 503 with Retry-After sleeps that long (capped) and retries; other 5xx
and network errors back off exponentially; after `max_retries` it gives up
with ArxivError. OAI errors: noRecordsMatch ends the harvest cleanly;
badResumptionToken clears the saved place and raises ArxivError; anything
else raises ArxivError naming the request.

A record that cannot be used (no title, bad id...) is listed in
`page.rejected` with a reason and the rest of the page is kept. Records whose
header says status="deleted" are listed in `page.deleted`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

import httpx
from lxml import etree

from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest.announce import stamp
from dailypapers.ingest.arxiv_api import (
    MAX_RETRY_AFTER,
    ArxivError,
    PoliteClient,
    collapse,
    is_withdrawn,
)
from dailypapers.ingest.pipeline import IngestSummary, Rejection
from dailypapers.ingest.sources import parse_iso_time
from dailypapers.models import Paper

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV_FMT = "{http://arxiv.org/OAI/arXiv/}"
ARXIVRAW_FMT = "{http://arxiv.org/OAI/arXivRaw/}"
FORMATS = ("arXiv", "arXivRaw")
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


class OAIError(ArxivError):
    """An OAI-PMH <error code="..."> reply."""

    def __init__(self, code: str, message: str, source: str = "", response_date: dt.datetime | None = None):
        self.code = code
        self.message = message
        self.source = source
        self.response_date = response_date
        where = f" ({source})" if source else ""
        super().__init__(f"arXiv OAI-PMH error {code}: {message}{where}")


@dataclass
class OAIPage:
    papers: list[Paper] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # arXiv ids whose header says status="deleted"
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (record ref, reason)
    resumption_token: str | None = None  # None: this was the last page
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: dt.datetime | None = None
    source: str = ""  # the request, for messages


# -- parsing -----------------------------------------------------------------


def _rfc2822(text: str | None) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    try:
        value = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def split_authors(text: str | None) -> list[str]:
    """"A. One, B. Two (MIT, Cambridge) and C. Three" -> ["A. One", "B. Two", "C. Three"].

    Splits on commas and the word "and" outside parentheses, drops
    parenthesised affiliations, and keeps "Jr." with the name before it.
    """
    text = collapse(text)
    if not text:
        return []
    pieces: list[str] = []
    depth = 0
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if depth == 0:
            if ch == ",":
                pieces.append("".join(current))
                current = []
                i += 1
                continue
            m = re.match(r"\s+and\s+", text[i:])
            if m and (not current or current[-1] != ","):
                pieces.append("".join(current))
                current = []
                i += m.end()
                continue
        current.append(ch)
        i += 1
    pieces.append("".join(current))
    names: list[str] = []
    for piece in pieces:
        piece = re.sub(r"^\s*and\s+", "", piece)
        bare = collapse(_strip_parens(piece)) or collapse(piece)
        if not bare:
            continue
        if names and bare.lower() in _SUFFIXES:
            names[-1] = f"{names[-1]} {bare}"
            continue
        names.append(bare)
    return names


def _strip_parens(text: str) -> str:
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _require_id(text: str | None) -> tuple[str, int | None]:
    raw = collapse(text)
    if not raw:
        raise ValueError("missing <id>")
    try:
        arxiv = parse_arxiv_id(raw)
    except BadArxivId:
        raise ValueError(f"bad arXiv id {raw!r}") from None
    return arxiv.id, arxiv.version


def _common(meta, ns: str) -> dict:
    title = collapse(meta.findtext(f"{ns}title"))
    if not title:
        raise ValueError("missing title")
    abstract = collapse(meta.findtext(f"{ns}abstract"))
    if not abstract:
        raise ValueError("missing abstract")
    comment = collapse(meta.findtext(f"{ns}comments")) or None
    return {
        "title": title,
        "abstract": abstract,
        "categories": collapse(meta.findtext(f"{ns}categories")).split(),
        "comment": comment,
        "withdrawn": is_withdrawn(comment, abstract),
    }


def _parse_arxivraw(meta) -> Paper:
    ns = ARXIVRAW_FMT
    arxiv_id, _ = _require_id(meta.findtext(f"{ns}id"))
    versions: list[tuple[int, dt.datetime | None]] = []
    for v in meta.findall(f"{ns}version"):
        m = re.fullmatch(r"v(\d+)", (v.get("version") or "").strip())
        if not m:
            raise ValueError(f"bad version attribute {v.get('version')!r}")
        versions.append((int(m.group(1)), _rfc2822(v.findtext(f"{ns}date"))))
    versions.sort(key=lambda item: item[0])
    fields = _common(meta, ns)
    authors = split_authors(meta.findtext(f"{ns}authors"))
    if not authors:
        raise ValueError("missing authors")
    return Paper(
        arxiv_id=arxiv_id,
        version=versions[-1][0] if versions else None,
        authors=authors,
        published=versions[0][1] if versions else None,
        updated=versions[-1][1] if versions else None,
        **fields,
    )


def _parse_arxiv(meta) -> Paper:
    ns = ARXIV_FMT
    arxiv_id, _ = _require_id(meta.findtext(f"{ns}id"))
    authors: list[str] = []
    for a in meta.iterfind(f"{ns}authors/{ns}author"):
        parts = [collapse(a.findtext(f"{ns}{tag}")) for tag in ("forenames", "keyname", "suffix")]
        name = " ".join(p for p in parts if p)
        if name:
            authors.append(name)
    if not authors:
        raise ValueError("missing authors")
    fields = _common(meta, ns)
    created = parse_iso_time(meta.findtext(f"{ns}created"))
    return Paper(
        arxiv_id=arxiv_id,
        version=None,  # the arXiv format does not say
        authors=authors,
        published=created,
        updated=parse_iso_time(meta.findtext(f"{ns}updated")) or created,
        **fields,
    )


def _int_attr(el, name: str) -> int | None:
    value = el.get(name)
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_oai(xml: bytes, *, source: str = "") -> OAIPage:
    """One ListRecords (or GetRecord) reply. Raises OAIError for an OAI <error>,
    ArxivError (naming `source`) when the reply is not OAI-PMH XML."""
    where = source or "OAI-PMH reply"
    try:
        root = etree.fromstring(
            xml, parser=etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as e:
        raise ArxivError(f"{where}: malformed XML: {e}") from None
    if root.tag != f"{OAI}OAI-PMH":
        raise ArxivError(f"{where}: not an OAI-PMH response (root element {root.tag!r})")
    response_date = parse_iso_time(root.findtext(f"{OAI}responseDate"))
    error = root.find(f"{OAI}error")
    if error is not None:
        raise OAIError(error.get("code") or "unknown", collapse(error.text), source, response_date)
    page = OAIPage(response_date=response_date, source=source)
    for n, record in enumerate(root.iter(f"{OAI}record"), start=1):
        header = record.find(f"{OAI}header")
        identifier = collapse(header.findtext(f"{OAI}identifier")) if header is not None else ""
        ref = identifier or f"record #{n}"
        if header is not None and header.get("status") == "deleted":
            try:
                page.deleted.append(parse_arxiv_id(identifier.rsplit(":", 1)[-1]).id)
            except BadArxivId:
                page.rejected.append((ref, "deleted record with a bad identifier"))
            continue
        meta_el = record.find(f"{OAI}metadata")
        meta = meta_el[0] if meta_el is not None and len(meta_el) else None
        try:
            if meta is None:
                raise ValueError("no <metadata>")
            if meta.tag == f"{ARXIVRAW_FMT}arXivRaw":
                page.papers.append(_parse_arxivraw(meta))
            elif meta.tag == f"{ARXIV_FMT}arXiv":
                page.papers.append(_parse_arxiv(meta))
            else:
                raise ValueError(f"unsupported metadata format {meta.tag!r}")
        except ValueError as e:
            page.rejected.append((ref, str(e)))
    token_el = root.find(f"{OAI}ListRecords/{OAI}resumptionToken")
    if token_el is not None:
        page.resumption_token = collapse(token_el.text) or None
        page.complete_list_size = _int_attr(token_el, "completeListSize")
        page.cursor = _int_attr(token_el, "cursor")
    return page


# -- harvesting --------------------------------------------------------------


def last_harvest_key(metadata_prefix: str, set_spec: str | None) -> str:
    return f"oai:last_harvest:{metadata_prefix}:{set_spec or ''}"


class OAIHarvester(PoliteClient):
    def __init__(
        self,
        base_url: str,
        store,
        *,
        metadata_prefix: str = "arXivRaw",
        set_spec: str | None = None,
        from_date: dt.date | None = None,
        until_date: dt.date | None = None,
        delay: float = 3.0,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 5,
        backoff: float = 5.0,
        max_retry_after: float = MAX_RETRY_AFTER,
        holidays: Collection[dt.date] = (),
    ):
        if metadata_prefix not in FORMATS:
            raise ArxivError(f"unsupported OAI metadata format {metadata_prefix!r}: use arXiv or arXivRaw")
        self._connect(base_url, delay=delay, timeout=timeout, client=client, max_retries=max_retries, sleep=sleep,
                      backoff=backoff, max_retry_after=max_retry_after)
        self.store = store
        self.holidays = holidays
        self.metadata_prefix = metadata_prefix
        self.set_spec = set_spec or None
        self.until_date = until_date
        # No --from: continue from where the last complete harvest began.
        self.from_date = from_date
        self.from_is_default = False
        if from_date is None:
            saved = store.get_state(last_harvest_key(metadata_prefix, self.set_spec))
            if saved:
                self.from_date = dt.date.fromisoformat(saved)
                self.from_is_default = True
        self.checkpoint_key = (
            f"oai:{metadata_prefix}:{self.set_spec or ''}:"
            f"{self.from_date.isoformat() if self.from_date else ''}:"
            f"{until_date.isoformat() if until_date else ''}"
        )
        state = self._load_checkpoint()
        self.resumed_token: str | None = state.get("token")  # set when this run resumes a killed one
        self._started: str | None = state.get("started")
        self._pages_done: int = int(state.get("pages", 0))
        self._records_done: int = int(state.get("records", 0))
        self._pending: OAIPage | None = None

    # -- state --------------------------------------------------------------

    def _load_checkpoint(self) -> dict:
        raw = self.store.get_state(self.checkpoint_key)
        if not raw:
            return {}
        try:
            state = json.loads(raw)
        except ValueError:
            return {}
        return state if isinstance(state, dict) and state.get("token") else {}

    def clear_checkpoint(self) -> None:
        self.store.set_state(self.checkpoint_key, "")

    def commit(self, page: OAIPage) -> None:
        """Record that `page`'s papers are stored: the next run starts after it."""
        if page is not self._pending:
            raise ArxivError("commit() got a page that is not the one last yielded by pages()")
        self._pending = None
        self._pages_done += 1
        self._records_done += len(page.papers) + len(page.deleted) + len(page.rejected)
        if self._started is None and page.response_date is not None:
            self._started = page.response_date.date().isoformat()
        if page.resumption_token:
            state = {
                "token": page.resumption_token,
                "cursor": page.cursor,
                "complete_list_size": page.complete_list_size,
                "pages": self._pages_done,
                "records": self._records_done,
                "started": self._started,
            }
            self.store.set_state(self.checkpoint_key, json.dumps(state))
        else:
            self._finish(self._started)

    def _finish(self, started: str | None) -> None:
        self.clear_checkpoint()
        if started:
            self.store.set_state(last_harvest_key(self.metadata_prefix, self.set_spec), started)

    # -- HTTP ---------------------------------------------------------------

    def _initial_params(self) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.metadata_prefix}
        if self.set_spec:
            params["set"] = self.set_spec
        if self.from_date:
            params["from"] = self.from_date.isoformat()
        if self.until_date:
            params["until"] = self.until_date.isoformat()
        return params

    def _describe(self, params: dict[str, str]) -> str:
        shown = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.base_url}?{shown}"

    def _get(self, params: dict[str, str]) -> bytes:
        source = self._describe(params)
        response, problem = self._paced_get(params)
        if response is None:
            raise ArxivError(
                f"arXiv OAI-PMH failed {self.max_retries + 1} times for {source} (last: {problem}); "
                "the harvest can be resumed later"
            )
        if response.status_code != 200:
            # Some OAI servers send their <error> with a 4xx status.
            try:
                parse_oai(response.content, source=source)
            except OAIError:
                raise
            except ArxivError:
                pass
            raise ArxivError(f"arXiv OAI-PMH answered HTTP {response.status_code} for {source}")
        return response.content

    # -- the harvest --------------------------------------------------------

    def pages(self) -> Iterator[OAIPage]:
        """Pages of records, resuming from the saved token if there is one.

        The caller must store each page's papers and call commit(page) before
        asking for the next page.
        """
        token = self.resumed_token
        while True:
            if self._pending is not None:
                raise ArxivError("pages(): commit(page) must be called after storing a page, before the next one")
            params = {"verb": "ListRecords", "resumptionToken": token} if token else self._initial_params()
            source = self._describe(params)
            try:
                page = parse_oai(self._get(params), source=source)
            except OAIError as e:
                if e.code == "noRecordsMatch" and token is None:
                    # Nothing new: a complete (empty) harvest.
                    started = self._started or (e.response_date.date().isoformat() if e.response_date else None)
                    self._finish(started)
                    return
                if e.code == "badResumptionToken" and token is not None:
                    self.clear_checkpoint()
                    saved = " saved" if token == self.resumed_token else ""
                    raise ArxivError(
                        f"arXiv OAI-PMH no longer accepts the{saved} resumption token {token!r} "
                        f"(tokens expire): {e.message}. The saved place was cleared; run the harvest "
                        "again to start it over (already stored papers are simply updated)."
                    ) from None
                raise
            self._pending = page
            yield page
            token = page.resumption_token
            if not token:
                return

    def run(self, on_page: Callable[[OAIPage], None] | None = None):
        """Harvest to the end, storing and committing each page; returns an IngestSummary."""
        summary = IngestSummary()
        for page in self.pages():
            if page.papers:
                outcomes, _ = self.store.ingest_batch([stamp(p, self.holidays) for p in page.papers], [])
                for outcome in outcomes:
                    summary.count(outcome)
            for ref, reason in page.rejected:
                summary.rejected += 1
                if len(summary.rejections) < 50:
                    summary.rejections.append(Rejection(f"{page.source}, record {ref}", reason))
            self.commit(page)
            if on_page:
                on_page(page)
        return summary


__all__ = ["OAIHarvester", "OAIPage", "OAIError", "parse_oai", "split_authors", "last_harvest_key"]
