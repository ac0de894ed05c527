"""Bulk JSONL: the Kaggle arXiv metadata snapshot and the arxiv-daily-cs dumps.

The file is streamed a line at a time, so memory stays flat whatever its size.
Each item carries the byte offset (in the decompressed stream) just after its
line; the caller checkpoints it after a commit, and a rerun on the same file
skips what was already committed.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest.pipeline import Item, Rejection
from dailypapers.ingest.sources import GZIP_MAGIC, open_binary
from dailypapers.models import Paper

_AND = re.compile(r",\s*and\s+|\s+and\s+|,\s*")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    # Most strings are already clean; collapsing whitespace is the slow path.
    if "  " in value or "\n" in value or "\t" in value or "\r" in value:
        return " ".join(value.split())
    return value.strip()


def split_authors(text: str) -> list[str]:
    """'A. One, B. Two and C. Three' -> ['A. One', 'B. Two', 'C. Three']."""
    return [name for name in (_text(part) for part in _AND.split(_text(text))) if name]


def _rfc2822(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _day(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value[:10]), dt.time(), dt.timezone.utc)
    except ValueError:
        return None


def _authors(record: dict) -> list[str]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if isinstance(parts, list) and parts:
                last, first, suffix = (list(parts) + ["", "", ""])[:3]
                names.append(_text(f"{first} {last} {suffix}"))
        if names:
            return [n for n in names if n]
    raw = record.get("authors")
    if isinstance(raw, list):
        return [_text(a) for a in raw if _text(a)]
    if isinstance(raw, str):
        return split_authors(raw)
    return []


def _categories(raw: Any) -> list[str]:
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [c for c in raw if isinstance(c, str) and c]
    return []


def parse_record(record: Any) -> Paper:
    """One JSON object in either format -> Paper. Raises ValueError with a reason."""
    if not isinstance(record, dict):
        raise ValueError("line is not a JSON object")
    try:
        arxiv = parse_arxiv_id(str(record.get("id", "")))
    except BadArxivId as e:
        raise ValueError(str(e)) from None
    title = _text(record.get("title"))
    abstract = _text(record.get("abstract") or record.get("summary"))
    if not title:
        raise ValueError(f"paper {arxiv.id} has no title")
    if not abstract:
        raise ValueError(f"paper {arxiv.id} has no abstract")
    authors = _authors(record)
    if not authors:
        raise ValueError(f"paper {arxiv.id} has no authors")
    versions = record.get("versions")
    version, published, updated = arxiv.version, None, None
    if isinstance(versions, list) and versions:
        first, last = versions[0], versions[-1]
        published = _rfc2822(first.get("created")) if isinstance(first, dict) else None
        updated = _rfc2822(last.get("created")) if isinstance(last, dict) else None
        label = last.get("version") if isinstance(last, dict) else None
        if isinstance(label, str) and label[1:].isdigit():
            version = int(label[1:])
    # arxiv-daily-cs records the day the paper was first listed (and no submission time).
    listed = _day(record.get("first_listed"))
    if published is None:
        published = listed
    comment = _text(record.get("comments") or record.get("comment")) or None
    return Paper(
        arxiv_id=arxiv.id,
        version=version,
        title=title,
        abstract=abstract,
        authors=authors,
        categories=_categories(record.get("categories")),
        published=published,
        announced=listed.date() if listed else None,
        updated=updated or published,
        comment=comment,
        withdrawn=bool(comment and "withdrawn" in comment.lower()),
    )


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def read(path: Path, *, start: int = 0, on_bytes=None) -> Iterator[Item | Rejection]:
    """Yield items from `path`, skipping the first `start` (decompressed) bytes."""
    where = str(path)
    offset = 0
    with open_binary(path) as f:
        if start:
            if hasattr(f, "seekable") and not is_gzip(path):
                f.seek(start)
                offset = start
            else:
                while offset < start:
                    chunk = f.read(min(1 << 20, start - offset))
                    if not chunk:
                        break
                    offset += len(chunk)
        line_no = 0
        for raw in f:
            line_no += 1
            offset += len(raw)
            if on_bytes:
                on_bytes(len(raw))
            line = raw.strip()
            if not line:
                continue
            ref = f"{where}:{line_no}" if not start else f"{where}: line at byte {offset - len(raw)}"
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as bad:
                    yield Rejection(ref, f"not valid UTF-8 at column {bad.start + 1}")
                    continue
                yield Rejection(ref, f"malformed JSON: {e}")
                continue
            try:
                yield Item(parse_record(record), position=offset)
            except ValueError as e:
                yield Rejection(ref, str(e))
