"""The filterable fields of every indexed paper as numpy columns: the semantic leg's predicate.

A filtered semantic search needs the papers that pass the filters as keys, to score them exactly
or to check the nearest neighbours against them. tantivy answers that too, but handing tens of
thousands of keys to Python costs ~1.6 us each (32 ms for 20k; BENCHMARKS.md, "Search speed");
a mask over these columns costs a few ms at 1M papers, whatever the filter.

For each paper key (sorted): has code, upvotes, the published day, the organization (an index into
a list of names) and the categories (compressed rows: ``cat_ptr`` and ``cat_ids`` into a list of
names, with the archive of each category, as the lexical index files them; and turned around,
``cat_rows``/``cat_starts``: the rows under each category). They follow the store by ``seq`` like
the other indexes (:meth:`FilterColumns.sync`) in two files beside them:

* ``columns.bin``: every paper, rewritten (tmp + rename) only when the changes since it outgrow
  the delta (``DELTA_SHARE``; 3M papers: ~100 MB);
* ``columns-delta.bin``: the papers changed since, rewritten on every sync (votes move upvotes all
  day; the server's index follower syncs twice a second).

A file is ``MAGIC``, the length of a JSON header (``SCHEMA``, the seq, the names, where each array
sits), the header, then each array as fixed-width little-endian values at a 64-byte boundary.
Readers map the file and view the arrays in place, so every process on a node shares one copy in
the page cache; a file of another schema counts as missing and the next sync rebuilds it. The
change feed is read a page at a time straight into such arrays (~40 bytes a paper: a dict of rows
took ~650 bytes a paper, 2 GB at 3M).

The columns express the form's filters and the query's ``cat:`` and ``year:``;
:meth:`FilterColumns.passing` returns None for anything else (``author:``, phrases, exclusions),
which the engine answers through the lexical index.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import mmap
import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.models import StoredPaper
from dailypapers.search.catchup import iter_changed, paper_keys
from dailypapers.search.lexical import organization_term, paper_categories
from dailypapers.search.query import ParsedQuery, SearchFilters, normalize_category

FILE = "columns.bin"
DELTA_FILE = "columns-delta.bin"
OLD_FILES = ("columns.npz", "columns-delta.npz")  # schema 2, removed on the next write
MAGIC = b"DPCOLS\x00\x00"
SCHEMA = 3
ALIGN = 64
NO_DAY = int(np.iinfo(np.int32).min)  # no published date: fails every date filter
DELTA_SHARE = 0.02  # the delta is folded into the full file past this share of papers...
DELTA_MIN = 20_000  # ...or this many, whichever is more
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

Progress = Callable[[int, int], None]


def _day(value: dt.datetime | dt.date | None) -> int:
    if value is None:
        return NO_DAY
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int((value - _EPOCH).total_seconds() // 86400)
    return (value - _EPOCH.date()).days


def _present(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which rows of the sorted ``table`` hold one of ``keys`` (one binary search per key, so a
    small delta against millions of rows costs little)."""
    out = np.zeros(len(table), dtype=bool)
    if len(table) and len(keys):
        pos = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        out[pos[table[pos] == keys]] = True
    return out


class _Columns:
    """The columns of one file (arrays in memory, or views of the mapped file)."""

    def __init__(self, arrays: dict[str, Any], cats: list[str], orgs: list[str], last_seq: int):
        self.keys: np.ndarray = arrays["keys"]
        self.has_code: np.ndarray = arrays["has_code"]
        self.upvotes: np.ndarray = arrays["upvotes"]
        self.day: np.ndarray = arrays["day"]
        self.org: np.ndarray = arrays["org"]
        self.cat_ptr: np.ndarray = arrays["cat_ptr"]
        self.cat_ids: np.ndarray = arrays["cat_ids"]
        self.cats = [str(c) for c in cats]
        self.orgs = [str(o) for o in orgs]
        self.last_seq = int(last_seq)
        self._cat_index = {c: i for i, c in enumerate(self.cats)}
        self._org_index = {o: i for i, o in enumerate(self.orgs)}
        if "cat_rows" in arrays:  # stored with the file
            self.__dict__["rows_by_category"] = (arrays["cat_rows"], arrays["cat_starts"])

    @classmethod
    def empty(cls, last_seq: int = 0) -> _Columns:
        return cls({
            "keys": np.zeros(0, np.uint64), "has_code": np.zeros(0, bool), "upvotes": np.zeros(0, np.int32),
            "day": np.zeros(0, np.int32), "org": np.zeros(0, np.int32), "cat_ptr": np.zeros(1, np.int64),
            "cat_ids": np.zeros(0, np.int32),
        }, [], [], last_seq)

    def __len__(self) -> int:
        return len(self.keys)

    def mask(self, parsed: ParsedQuery | None, f: SearchFilters) -> np.ndarray:
        """Which papers pass (as the lexical index's ``filter_clauses`` reads the same filters)."""
        mask = np.ones(len(self.keys), dtype=bool)
        date_from, date_to = f.date_from, f.date_to
        if parsed is not None and parsed.year_from:
            y = dt.date(parsed.year_from, 1, 1)
            date_from = max(date_from, y) if date_from else y
        if parsed is not None and parsed.year_to:
            y = dt.date(parsed.year_to, 12, 31)
            date_to = min(date_to, y) if date_to else y
        if date_from or date_to:
            mask &= self.day != NO_DAY
            if date_from:
                mask &= self.day >= _day(date_from)
            if date_to:
                mask &= self.day <= _day(date_to)
        if f.category:
            c = normalize_category(f.category)
            mask &= self._with_category([c]) if c else False
        if parsed is not None and parsed.categories:
            mask &= self._with_category(list(parsed.categories))
        if f.has_code:
            mask &= self.has_code
        if f.min_upvotes:
            mask &= self.upvotes >= int(f.min_upvotes)
        if f.organization:
            i = self._org_index.get(organization_term(f.organization))
            mask &= (self.org == i) if i is not None else False
        return mask

    @functools.cached_property
    def rows_by_category(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, starts): the rows filed under category c are rows[starts[c]:starts[c + 1]], the
        compressed rows turned around (4 bytes an entry; written with the file)."""
        row_of_entry = np.repeat(np.arange(len(self.keys), dtype=np.int32), np.diff(self.cat_ptr))
        order = np.argsort(self.cat_ids, kind="stable")
        starts = np.searchsorted(self.cat_ids[order], np.arange(len(self.cats) + 1)).astype(np.int64)
        return row_of_entry[order], starts

    def _with_category(self, names: list[str]) -> np.ndarray:
        mask = np.zeros(len(self.keys), dtype=bool)
        rows, starts = self.rows_by_category
        for c in {self._cat_index[n] for n in names if n in self._cat_index}:
            mask[rows[starts[c] : starts[c + 1]]] = True
        return mask


class Passing:
    """The papers passing some filters: a mask over the full file's sorted keys and one over the
    delta's. Counting and checking candidates need no list of keys (300k at 1M for cs.CV)."""

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray]]):
        self.parts = [(keys, mask) for keys, mask in parts if len(keys)]
        self._n = sum(int(np.count_nonzero(mask)) for _, mask in self.parts)

    def __len__(self) -> int:
        return self._n

    def keys(self) -> np.ndarray:
        """The keys of the papers passing (sorted within each file)."""
        return np.concatenate([keys[mask] for keys, mask in self.parts]) if self.parts else np.zeros(0, np.uint64)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` pass."""
        out = np.zeros(len(keys), dtype=bool)
        for table, mask in self.parts:
            at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
            out |= (table[at] == keys) & mask[at]
        return out


class _Loaded:
    """The full file, the delta, and which of the full file's papers the delta replaces."""

    def __init__(self, base: _Columns, delta: _Columns | None):
        self.base, self.delta = base, delta
        self.replaced = _present(base.keys, delta.keys) if delta is not None and len(delta) else None
        self.last_seq = max(base.last_seq, delta.last_seq if delta is not None else -1)

    def passing(self, parsed: ParsedQuery | None, f: SearchFilters) -> Passing:
        mask = self.base.mask(parsed, f)
        if self.replaced is not None:
            mask &= ~self.replaced
        parts = [(self.base.keys, mask)]
        if self.delta is not None:
            parts.append((self.delta.keys, self.delta.mask(parsed, f)))
        return Passing(parts)


class FilterColumns:
    """Readers call :meth:`passing`; the CLI and the server's index follower call :meth:`sync`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._stamp: tuple | None = None

    @property
    def file(self) -> Path:
        return self.path / FILE

    @property
    def delta_file(self) -> Path:
        return self.path / DELTA_FILE

    # -- readers -----------------------------------------------------------
    @staticmethod
    def _file_stamp(path: Path) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _current(self) -> _Loaded | None:
        stamp = (self._file_stamp(self.file), self._file_stamp(self.delta_file))
        if stamp[0] is None:
            self._loaded, self._stamp = None, stamp
            return None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    loaded = self._loaded
                    base = loaded.base if loaded is not None and self._stamp and self._stamp[0] == stamp[0] else None
                    base = base or _read(self.file)
                    delta = _read(self.delta_file) if stamp[1] is not None else None
                    if delta is not None and base is not None and delta.last_seq < base.last_seq:
                        delta = None  # left from before the full file was last rewritten
                    self._loaded = _Loaded(base, delta) if base is not None else None
                    self._stamp = stamp
        return self._loaded

    @property
    def last_seq(self) -> int:
        """The store seq the columns have seen (-1: no usable file)."""
        loaded = self._current()
        return -1 if loaded is None else loaded.last_seq

    def __len__(self) -> int:
        loaded = self._current()
        if loaded is None:
            return 0
        replaced = int(loaded.replaced.sum()) if loaded.replaced is not None else 0
        return len(loaded.base) - replaced + (len(loaded.delta) if loaded.delta is not None else 0)

    @staticmethod
    def expressible(parsed: ParsedQuery | None) -> bool:
        """Whether the query's own restrictions are columns (cat:, year:), not text (author:,
        phrases, exclusions)."""
        return parsed is None or not (parsed.authors or parsed.phrases or parsed.excluded_terms
                                      or parsed.excluded_phrases)

    def passing(self, parsed: ParsedQuery | None, filters: SearchFilters | None) -> Passing | None:
        """The papers passing the query's ``cat:`` / ``year:`` and the form's filters, or None when
        there are no columns or the query restricts by text."""
        if not self.expressible(parsed):
            return None
        loaded = self._current()
        if loaded is None:
            return None
        return loaded.passing(parsed, filters or SearchFilters())

    # -- writers -----------------------------------------------------------
    def rebuild(self, store, progress: Progress | None = None) -> int:
        changed = _changed(store, 0, progress)
        _write(self.file, changed)
        self.delta_file.unlink(missing_ok=True)
        return len(changed)

    def sync(self, store, progress: Progress | None = None) -> int:
        """Bring the columns in step with the store: the papers changed since the last sync (by
        seq) go to the delta, or with it into the full file once it has grown."""
        base = _read(self.file)
        if base is None:
            return self.rebuild(store, progress)
        delta = _read(self.delta_file)
        if delta is not None and delta.last_seq < base.last_seq:
            delta = None
        since = delta.last_seq if delta is not None else base.last_seq
        changed = _changed(store, since, progress)
        if not len(changed):
            return 0
        delta = _merge(delta or _Columns.empty(since), changed)
        if len(delta) > max(DELTA_MIN, DELTA_SHARE * len(base)):
            _write(self.file, _merge(base, delta))
            self.delta_file.unlink(missing_ok=True)
        else:
            _write(self.delta_file, delta)
        return len(changed)


class _Builder:
    """The change feed, a page at a time, into fixed-width arrays with a list of names."""

    def __init__(self) -> None:
        self.cats: list[str] = []
        self.orgs: list[str] = []
        self._cat_index: dict[str, int] = {}
        self._org_index: dict[str, int] = {}
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self.rows = 0

    def _name(self, name: str, names: list[str], index: dict[str, int]) -> int:
        i = index.get(name)
        if i is None:
            i = index[name] = len(names)
            names.append(name)
        return i

    def add(self, papers: list[StoredPaper]) -> None:
        n = len(papers)
        org = np.full(n, -1, dtype=np.int32)
        lengths = np.zeros(n, dtype=np.int64)
        entries: list[int] = []
        for i, p in enumerate(papers):
            if p.organization is not None and p.organization.name:
                org[i] = self._name(organization_term(p.organization.name), self.orgs, self._org_index)
            names = paper_categories(p)
            lengths[i] = len(names)
            entries.extend(self._name(c, self.cats, self._cat_index) for c in names)
        self._chunks.append((
            paper_keys([p.arxiv_id for p in papers]),
            np.fromiter((bool(p.github_repo) for p in papers), dtype=bool, count=n),
            np.fromiter((int(p.upvotes) for p in papers), dtype=np.int32, count=n),
            np.fromiter((_day(p.published) for p in papers), dtype=np.int32, count=n),
            org, lengths, np.asarray(entries, dtype=np.int32),
        ))
        self.rows += n

    def columns(self, last_seq: int) -> _Columns:
        """The rows sorted by key; a paper that changed more than once keeps its last row."""
        if not self._chunks:
            return _Columns.empty(last_seq)
        keys, code, up, day, org, lengths, entries = (np.concatenate(c) for c in zip(*self._chunks))
        self._chunks = []
        order = np.argsort(keys, kind="stable")
        last = np.ones(len(order), dtype=bool)
        last[:-1] = keys[order[1:]] != keys[order[:-1]]
        return _take(keys, code, up, day, org, lengths, entries, order[last], self.cats, self.orgs, last_seq)


def _take(keys, code, up, day, org, lengths, entries, rows: np.ndarray, cats: list[str], orgs: list[str],
          last_seq: int) -> _Columns:
    """Rows ``rows`` of some columns (their categories as ``lengths`` and flat ``entries``), in that order."""
    ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    new_len = lengths[rows].astype(np.int64)
    new_ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(new_len, out=new_ptr[1:])
    # entry j of new row r comes from ptr[rows[r]] + (j - new_ptr[r])
    src = np.repeat(ptr[:-1][rows] - new_ptr[:-1], new_len) + np.arange(int(new_ptr[-1]))
    return _Columns({
        "keys": keys[rows], "has_code": code[rows], "upvotes": up[rows], "day": day[rows], "org": org[rows],
        "cat_ptr": new_ptr, "cat_ids": entries[src].astype(np.int16 if len(cats) < 2**15 else np.int32),
    }, cats, orgs, last_seq)


def _changed(store, since: int, progress: Progress | None) -> _Columns:
    builder = _Builder()
    for seq, papers in iter_changed(store, since):
        builder.add(papers)
        since = seq
        if progress:
            progress(builder.rows, 0)
    return builder.columns(since)


def _merge(base: _Columns, new: _Columns) -> _Columns:
    """``base`` with the rows of ``new`` added or replacing its own, sorted by key, in one list of
    names; its seq is ``new``'s."""
    cats, orgs = list(base.cats), list(base.orgs)
    cat_index = {c: i for i, c in enumerate(cats)}
    org_index = {o: i for i, o in enumerate(orgs)}
    for names, index, more in ((cats, cat_index, new.cats), (orgs, org_index, new.orgs)):
        for name in more:
            if name not in index:
                index[name] = len(names)
                names.append(name)
    cat_map = np.array([cat_index[c] for c in new.cats], dtype=np.int32)
    org_map = np.array([org_index[o] for o in new.orgs] + [-1], dtype=np.int32)  # org -1 stays -1
    keep = ~_present(base.keys, new.keys)
    base_len = np.diff(base.cat_ptr)
    keys = np.concatenate([base.keys[keep], new.keys])
    lengths = np.concatenate([base_len[keep], np.diff(new.cat_ptr)])
    entries = np.concatenate([base.cat_ids[np.repeat(keep, base_len)].astype(np.int32),
                              cat_map[new.cat_ids.astype(np.int64)]])
    return _take(keys, np.concatenate([base.has_code[keep], new.has_code]),
                 np.concatenate([base.upvotes[keep], new.upvotes]), np.concatenate([base.day[keep], new.day]),
                 np.concatenate([base.org[keep], org_map[new.org]]), lengths, entries,
                 np.argsort(keys, kind="stable"), cats, orgs, new.last_seq)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _read(path: Path) -> _Columns | None:
    """The columns of a file, viewed in place in its mapping; None for a missing, damaged or
    other-schema file."""
    try:
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
    try:
        if mapped[: len(MAGIC)] != MAGIC:
            return None
        (head_len,) = struct.unpack_from("<Q", mapped, len(MAGIC))
        head = json.loads(mapped[len(MAGIC) + 8 : len(MAGIC) + 8 + head_len])
        if head.get("schema") != SCHEMA:
            return None
        start = _aligned(len(MAGIC) + 8 + head_len)
        arrays: dict[str, np.ndarray] = {}
        for name, (dtype, count, offset) in head["arrays"].items():
            kind = np.dtype(dtype)
            at = start + int(offset)
            if at + int(count) * kind.itemsize > len(mapped):
                return None
            arrays[name] = (np.frombuffer(mapped, dtype=kind, count=int(count), offset=at) if count
                            else np.zeros(0, kind))
        return _Columns(arrays, head["cats"], head["orgs"], head["last_seq"])
    except (ValueError, KeyError, TypeError, struct.error):
        return None


def _write(path: Path, cols: _Columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, starts = cols.rows_by_category
    arrays = {
        "keys": cols.keys.astype("<u8", copy=False), "has_code": cols.has_code.astype(bool, copy=False),
        "upvotes": cols.upvotes.astype("<i4", copy=False), "day": cols.day.astype("<i4", copy=False),
        "org": cols.org.astype("<i4", copy=False),
        "cat_ptr": cols.cat_ptr.astype("<i4" if int(cols.cat_ptr[-1]) < 2**31 else "<i8", copy=False),
        "cat_ids": cols.cat_ids.astype("<i2" if len(cols.cats) < 2**15 else "<i4", copy=False),
        "cat_rows": rows.astype("<i4", copy=False), "cat_starts": starts.astype("<i8", copy=False),
    }
    layout: dict[str, tuple[str, int, int]] = {}
    offset = 0
    for name, a in arrays.items():
        offset = _aligned(offset)
        layout[name] = (a.dtype.str, len(a), offset)
        offset += a.nbytes
    head = json.dumps({"schema": SCHEMA, "last_seq": cols.last_seq, "rows": len(cols), "cats": cols.cats,
                       "orgs": cols.orgs, "arrays": layout}).encode()
    start = _aligned(len(MAGIC) + 8 + len(head))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(MAGIC + struct.pack("<Q", len(head)) + head)
        for name, a in arrays.items():
            fh.write(b"\0" * (start + layout[name][2] - fh.tell()))
            fh.write(np.ascontiguousarray(a).data)
    os.replace(tmp, path)
    for old in OLD_FILES:
        (path.parent / old).unlink(missing_ok=True)


__all__ = ["FilterColumns", "Passing", "NO_DAY", "FILE", "DELTA_FILE"]
