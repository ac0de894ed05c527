"""Hugging Face Daily Papers: files of `/api/daily_papers?date=` responses.

Formats seen in the archive: a plain JSON list of items; a JSON list of
Python-repr strings (late 2024); and {"status", "date", "count", "data": [...]}
whose data holds such strings. The list day comes from the file's `date`, else
its name (YYYY-MM-DD.json[.gz]), else each item's submission date.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest.pipeline import Item, Rejection
from dailypapers.ingest.sources import (
    decode_utf8,
    expand_paths,
    parse_iso_time,
    read_bytes,
)
from dailypapers.models import Listing, Organization, Paper

_DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
PATTERNS = ("*.json", "*.json.gz")


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _organization(raw: Any) -> Organization | None:
    if isinstance(raw, dict) and raw.get("name"):
        return Organization(str(raw["name"]), raw.get("fullname") or None, raw.get("avatar") or None)
    return None


def _submitter(item: dict, paper: dict) -> str | None:
    for raw in (paper.get("submittedOnDailyBy"), item.get("submittedBy")):
        if isinstance(raw, dict):
            name = raw.get("user") or raw.get("name")
            if name:
                return str(name)
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_item(item: Any, day: dt.date | None, rank: int) -> Item:
    """One API item -> paper + listing. Raises ValueError with a reason."""
    if isinstance(item, str):
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
            raise ValueError(f"not a Python-repr item ({type(e).__name__})") from None
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise ValueError("item has no 'paper' object")
    paper = item["paper"]
    try:
        arxiv = parse_arxiv_id(str(paper.get("id", "")))
    except BadArxivId as e:
        raise ValueError(str(e)) from None
    title = _text(paper.get("title") or item.get("title"))
    abstract = _text(paper.get("summary") or item.get("summary"))
    authors_raw = paper.get("authors")
    if not title:
        raise ValueError(f"paper {arxiv.id} has no title")
    if not abstract:
        raise ValueError(f"paper {arxiv.id} has no abstract")
    if not isinstance(authors_raw, list):
        raise ValueError(f"paper {arxiv.id} has no author list")
    authors = [_text(a.get("name")) for a in authors_raw if isinstance(a, dict) and _text(a.get("name"))]
    keywords = paper.get("ai_keywords")
    record = Paper(
        arxiv_id=arxiv.id,
        version=arxiv.version,
        title=title,
        abstract=abstract,
        authors=authors,
        published=parse_iso_time(paper.get("publishedAt")),
        github_repo=paper.get("githubRepo") or None,
        github_stars=_int(paper.get("githubStars")),
        project_page=paper.get("projectPage") or None,
        organization=_organization(paper.get("organization")) or _organization(item.get("organization")),
        ai_summary=_text(paper.get("ai_summary")) or None,
        ai_keywords=[_text(k) for k in keywords if _text(k)] if isinstance(keywords, list) else [],
    )
    submitted_at = parse_iso_time(paper.get("submittedOnDailyAt")) or parse_iso_time(item.get("publishedAt"))
    list_day = day or (submitted_at.date() if submitted_at else None)
    if list_day is None:
        raise ValueError(f"paper {arxiv.id}: no list day (file has no date and item no submission time)")
    record.observed_at = dt.datetime.combine(list_day, dt.time(), dt.timezone.utc)
    listing = Listing(
        arxiv_id=arxiv.id,
        day=list_day,
        rank=rank,
        submitted_by=_submitter(item, paper),
        submitted_at=submitted_at,
        upvotes=_int(paper.get("upvotes")) or 0,
        num_comments=_int(item.get("numComments")) or 0,
        source="hf",
    )
    return Item(record, listing)


def day_from_name(path: Path) -> dt.date | None:
    m = _DAY_IN_NAME.search(path.name)
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def read_file(path: Path) -> Iterator[Item | Rejection]:
    where = str(path)
    try:
        data = json.loads(decode_utf8(read_bytes(path), where))
    except (OSError, EOFError) as e:
        yield Rejection(where, f"cannot read file: {e}")
        return
    except ValueError as e:
        yield Rejection(where, f"malformed JSON: {e}")
        return
    day = day_from_name(path)
    if isinstance(data, dict):
        if isinstance(data.get("date"), str):
            try:
                day = dt.date.fromisoformat(data["date"])
            except ValueError:
                pass
        data = data.get("data")
    if not isinstance(data, list):
        yield Rejection(where, "expected a list of daily-paper items (or an object with 'data')")
        return
    for index, raw in enumerate(data):
        try:
            yield parse_item(raw, day, rank=index + 1)
        except ValueError as e:
            yield Rejection(f"{where}: item {index + 1}", str(e))


def read(path: Path, on_file=None) -> Iterator[Item | Rejection]:
    """Every item of a file or of a folder of files, in file-name order."""
    for file in expand_paths(path, PATTERNS):
        yield from read_file(file)
        if on_file:
            on_file(file)
