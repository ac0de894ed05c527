"""The filterable fields of every indexed paper as numpy columns: the semantic leg's predicate.

A filtered semantic search needs the papers that pass the filters as keys, to score them exactly
or to check the nearest neighbours against them. tantivy answers that too, but handing tens of
thousands of keys to Python costs ~1.6 us each (32 ms for 20k; BENCHMARKS.md, "Search speed");
a mask over these columns costs a few ms at 1M papers, whatever the filter.

For each paper key (sorted): has code, upvotes, the published day, the organization (an index into
a list of names) and the categories (compressed rows: ``cat_ptr`` and ``cat_ids`` into a list of
names, with the archive of each category, as the lexical index files them). They follow the store
by ``seq`` like the other indexes (:meth:`FilterColumns.sync`) in two files beside them:

* ``columns.npz``: every paper, rewritten (tmp + rename) only when the changes since it outgrow
  the delta (``DELTA_SHARE``; 1M papers: ~25 MB, ~1 s);
* ``columns-delta.npz``: the papers changed since, rewritten on every sync (votes move upvotes all
  day; the server's index follower syncs twice a second).

Each process reads a file whole when it changed. The columns express the form's filters and the
query's ``cat:`` and ``year:``; :meth:`FilterColumns.passing` returns None for anything else
(``author:``, phrases, exclusions), which the engine answers through the lexical index.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.models import StoredPaper
from dailypapers.search.catchup import iter_changed, paper_key
from dailypapers.search.lexical import organization_term, paper_categories
from dailypapers.search.query import ParsedQuery, SearchFilters, normalize_category

FILE = "columns.npz"
DELTA_FILE = "columns-delta.npz"
SCHEMA = 2
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


class _Columns:
    """The columns of one file."""

    def __init__(self, arrays: dict[str, Any]):
        self.keys: np.ndarray = arrays["keys"]
        self.has_code: np.ndarray = arrays["has_code"]
        self.upvotes: np.ndarray = arrays["upvotes"]
        self.day: np.ndarray = arrays["day"]
        self.org: np.ndarray = arrays["org"]
        self.cat_ptr: np.ndarray = arrays["cat_ptr"]
        self.cat_ids: np.ndarray = arrays["cat_ids"]
        self.cats: list[str] = [str(c) for c in arrays["cats"]]
        self.orgs: list[str] = [str(o) for o in arrays["orgs"]]
        self.last_seq = int(arrays["last_seq"])
        self._cat_index = {c: i for i, c in enumerate(self.cats)}
        self._org_index = {o: i for i, o in enumerate(self.orgs)}

    @classmethod
    def empty(cls, last_seq: int = 0) -> _Columns:
        return cls({
            "keys": np.zeros(0, np.uint64), "has_code": np.zeros(0, bool), "upvotes": np.zeros(0, np.int32),
            "day": np.zeros(0, np.int32), "org": np.zeros(0, np.int32), "cat_ptr": np.zeros(1, np.int64),
            "cat_ids": np.zeros(0, np.int32), "cats": np.zeros(0, "U1"), "orgs": np.zeros(0, "U1"),
            "last_seq": np.int64(last_seq),
        })

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
        compressed rows turned around, made once per file (4 bytes an entry)."""
        row_of_entry = np.repeat(np.arange(len(self.keys), dtype=np.int32), np.diff(self.cat_ptr))
        order = np.argsort(self.cat_ids, kind="stable")
        starts = np.searchsorted(self.cat_ids[order], np.arange(len(self.cats) + 1))
        return row_of_entry[order], starts

    def _with_category(self, names: list[str]) -> np.ndarray:
        mask = np.zeros(len(self.keys), dtype=bool)
        rows, starts = self.rows_by_category
        for c in {self._cat_index[n] for n in names if n in self._cat_index}:
            mask[rows[starts[c] : starts[c + 1]]] = True
        return mask

    def arrays(self) -> dict[str, Any]:
        return {"keys": self.keys, "has_code": self.has_code, "upvotes": self.upvotes, "day": self.day, "org": self.org,
                "cat_ptr": self.cat_ptr, "cat_ids": self.cat_ids, "cats": self.cats, "orgs": self.orgs}


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
        self.replaced = np.isin(base.keys, delta.keys) if delta is not None and len(delta) else None
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
        changed, seq = _changed(store, 0, progress)
        _write(self.file, _merge(_Columns.empty(), changed, seq))
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
        changed, seq = _changed(store, since, progress)
        if not changed:
            return 0
        delta = _merge(delta or _Columns.empty(since), changed, seq)
        if len(delta) > max(DELTA_MIN, DELTA_SHARE * len(base)):
            _write(self.file, _merge(base, _rows_of(delta), seq))
            self.delta_file.unlink(missing_ok=True)
        else:
            _write(self.delta_file, delta)
        return len(changed)


_Row = tuple[bool, int, int, str | None, list[str]]  # has code, upvotes, day, organization, categories


def _row(p: StoredPaper) -> _Row:
    org = organization_term(p.organization.name) if p.organization is not None and p.organization.name else None
    return (bool(p.github_repo), int(p.upvotes), _day(p.published), org, paper_categories(p))


def _changed(store, since: int, progress: Progress | None) -> tuple[dict[int, _Row], int]:
    rows: dict[int, _Row] = {}
    for seq, papers in iter_changed(store, since):
        for p in papers:
            rows[paper_key(p.arxiv_id)] = _row(p)
        since = seq
        if progress:
            progress(len(rows), 0)
    return rows, since


def _rows_of(cols: _Columns) -> dict[int, _Row]:
    """The rows of a (small) set of columns, to merge them into another."""
    out: dict[int, _Row] = {}
    for n, key in enumerate(cols.keys.tolist()):
        org = cols.orgs[cols.org[n]] if cols.org[n] >= 0 else None
        cats = [cols.cats[c] for c in cols.cat_ids[cols.cat_ptr[n]: cols.cat_ptr[n + 1]].tolist()]
        out[key] = (bool(cols.has_code[n]), int(cols.upvotes[n]), int(cols.day[n]), org, cats)
    return out


def _merge(base: _Columns, rows: dict[int, _Row], last_seq: int) -> _Columns:
    """``base`` with ``rows`` added or replaced, sorted by key."""
    cats, orgs = list(base.cats), list(base.orgs)
    cat_index = {c: i for i, c in enumerate(cats)}
    org_index = {o: i for i, o in enumerate(orgs)}
    n_new = len(rows)
    new_keys = np.fromiter(rows, dtype=np.uint64, count=n_new)
    new_code = np.fromiter((r[0] for r in rows.values()), dtype=bool, count=n_new)
    new_up = np.fromiter((r[1] for r in rows.values()), dtype=np.int32, count=n_new)
    new_day = np.fromiter((r[2] for r in rows.values()), dtype=np.int32, count=n_new)
    new_org = np.full(n_new, -1, dtype=np.int32)
    new_len = np.zeros(n_new, dtype=np.int64)
    new_cats: list[int] = []
    for n, (_, _, _, org, names) in enumerate(rows.values()):
        if org is not None:
            if org not in org_index:
                org_index[org] = len(orgs)
                orgs.append(org)
            new_org[n] = org_index[org]
        for c in names:
            if c not in cat_index:
                cat_index[c] = len(cats)
                cats.append(c)
            new_cats.append(cat_index[c])
        new_len[n] = len(names)
    keep = ~np.isin(base.keys, new_keys)
    old_len = np.diff(base.cat_ptr)
    old_entry_row = np.repeat(np.arange(len(base.keys)), old_len)
    keys = np.concatenate([base.keys[keep], new_keys])
    lengths = np.concatenate([old_len[keep], new_len])
    entries = np.concatenate([base.cat_ids[keep[old_entry_row]], np.asarray(new_cats, dtype=np.int32)])
    order = np.argsort(keys, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(lengths)])
    sorted_len = lengths[order]
    sorted_ptr = np.concatenate([[0], np.cumsum(sorted_len)])
    # entry j of sorted row r comes from ptr[order[r]] + (j - sorted_ptr[r])
    src = np.repeat(ptr[:-1][order] - sorted_ptr[:-1], sorted_len) + np.arange(int(sorted_ptr[-1]))
    return _Columns({
        "keys": keys[order],
        "has_code": np.concatenate([base.has_code[keep], new_code])[order],
        "upvotes": np.concatenate([base.upvotes[keep], new_up])[order],
        "day": np.concatenate([base.day[keep], new_day])[order],
        "org": np.concatenate([base.org[keep], new_org])[order],
        "cat_ptr": sorted_ptr.astype(np.int64),
        "cat_ids": entries[src].astype(np.int16 if len(cats) < 2**15 else np.int32),
        "cats": cats, "orgs": orgs, "last_seq": np.int64(last_seq),
    })


def _read(path: Path) -> _Columns | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            if int(z["schema"]) != SCHEMA:
                return None
            return _Columns({k: z[k] for k in z.files})
    except (OSError, ValueError, KeyError):
        return None


def _write(path: Path, cols: _Columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = cols.arrays()
    arrays["cats"] = np.asarray(cols.cats or [""], dtype=str)[: len(cols.cats)]
    arrays["orgs"] = np.asarray(cols.orgs or [""], dtype=str)[: len(cols.orgs)]
    arrays["cat_ptr"] = cols.cat_ptr.astype(np.int32 if int(cols.cat_ptr[-1]) < 2**31 else np.int64)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays, last_seq=np.int64(cols.last_seq), schema=np.int64(SCHEMA))
    os.replace(tmp, path)


__all__ = ["FilterColumns", "Passing", "NO_DAY", "FILE", "DELTA_FILE"]
