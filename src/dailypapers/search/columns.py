"""The filterable fields of every indexed paper as numpy columns: the semantic leg's predicate.

A filtered semantic search needs the papers that pass the filters as keys, to score them exactly
or to check the nearest neighbours against them. tantivy answers that too, but handing tens of
thousands of keys to Python costs ~1.6 us each (32 ms for 20k; BENCHMARKS.md, "Filtered
search"); a mask over these columns costs ~1 ms at 1M papers, whatever the filter.

One file, ``<index_dir>/columns.npz``, holds for each paper key (sorted): has code, upvotes, the
published day, the organization (an index into a list of names) and the categories (compressed
rows: ``cat_ptr`` and ``cat_ids`` into a list of names, with the archive of each category, as the
lexical index files them). It follows the store by ``seq`` like the other indexes
(:meth:`FilterColumns.sync`), is rewritten whole (tmp + rename) and read whole by each process when
it changed (1M papers: ~15 MB). It can express the form's filters and the query's ``cat:`` and
``year:``; :meth:`FilterColumns.passing` returns None for anything else (``author:``, phrases,
exclusions), which the engine answers through the lexical index.
"""

from __future__ import annotations

import datetime as dt
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
SCHEMA = 1
NO_DAY = int(np.iinfo(np.int32).min)  # no published date: fails every date filter
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
    """One loaded file."""

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
    def empty(cls) -> _Columns:
        return cls({
            "keys": np.zeros(0, np.uint64), "has_code": np.zeros(0, bool), "upvotes": np.zeros(0, np.int32),
            "day": np.zeros(0, np.int32), "org": np.zeros(0, np.int32), "cat_ptr": np.zeros(1, np.int64),
            "cat_ids": np.zeros(0, np.int32), "cats": np.zeros(0, "U1"), "orgs": np.zeros(0, "U1"),
            "last_seq": np.int64(0),
        })

    def with_category(self, names: list[str]) -> np.ndarray:
        """Mask of the papers filed under any of ``names``."""
        ids = [self._cat_index[n] for n in names if n in self._cat_index]
        mask = np.zeros(len(self.keys), dtype=bool)
        if ids:
            entries = np.flatnonzero(np.isin(self.cat_ids, ids))
            mask[np.searchsorted(self.cat_ptr, entries, side="right") - 1] = True
        return mask

    def with_organization(self, name: str) -> np.ndarray:
        i = self._org_index.get(organization_term(name))
        if i is None:
            return np.zeros(len(self.keys), dtype=bool)
        return self.org == i


class FilterColumns:
    """Readers call :meth:`passing`; the CLI calls :meth:`sync` / :meth:`rebuild`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cols: _Columns | None = None
        self._stamp: tuple[int, int, int] | None = None

    @property
    def file(self) -> Path:
        return self.path / FILE

    # -- readers -----------------------------------------------------------
    def _current(self) -> _Columns | None:
        try:
            st = os.stat(self.file)
        except OSError:
            self._cols, self._stamp = None, None
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._cols, self._stamp = self._read(), stamp
        return self._cols

    def _read(self) -> _Columns | None:
        try:
            with np.load(self.file, allow_pickle=False) as z:
                if int(z["schema"]) != SCHEMA:
                    return None
                return _Columns({k: z[k] for k in z.files})
        except (OSError, ValueError, KeyError):
            return None

    @property
    def last_seq(self) -> int:
        """The store seq the columns have seen (-1: no usable file)."""
        cols = self._current()
        return -1 if cols is None else cols.last_seq

    def __len__(self) -> int:
        cols = self._current()
        return 0 if cols is None else len(cols.keys)

    @staticmethod
    def expressible(parsed: ParsedQuery | None) -> bool:
        """Whether the query's own restrictions are columns (cat:, year:), not text (author:,
        phrases, exclusions)."""
        return parsed is None or not (parsed.authors or parsed.phrases or parsed.excluded_terms
                                      or parsed.excluded_phrases)

    def passing(self, parsed: ParsedQuery | None, filters: SearchFilters | None) -> np.ndarray | None:
        """The sorted keys of the papers passing the query's ``cat:`` / ``year:`` and the form's
        filters (as the lexical index's ``filter_clauses`` reads them), or None when there are no
        columns or the query restricts by text."""
        if not self.expressible(parsed):
            return None
        cols = self._current()
        if cols is None:
            return None
        f = filters or SearchFilters()
        mask = np.ones(len(cols.keys), dtype=bool)
        date_from, date_to = f.date_from, f.date_to
        if parsed is not None and parsed.year_from:
            y = dt.date(parsed.year_from, 1, 1)
            date_from = max(date_from, y) if date_from else y
        if parsed is not None and parsed.year_to:
            y = dt.date(parsed.year_to, 12, 31)
            date_to = min(date_to, y) if date_to else y
        if date_from or date_to:
            mask &= cols.day != NO_DAY
            if date_from:
                mask &= cols.day >= _day(date_from)
            if date_to:
                mask &= cols.day <= _day(date_to)
        if f.category:
            c = normalize_category(f.category)
            mask &= cols.with_category([c]) if c else False
        if parsed is not None and parsed.categories:
            mask &= cols.with_category(list(parsed.categories))
        if f.has_code:
            mask &= cols.has_code
        if f.min_upvotes:
            mask &= cols.upvotes >= int(f.min_upvotes)
        if f.organization:
            mask &= cols.with_organization(f.organization)
        return cols.keys[mask]

    # -- writers -----------------------------------------------------------
    def rebuild(self, store, progress: Progress | None = None) -> int:
        return self._update(store, _Columns.empty(), progress)

    def sync(self, store, progress: Progress | None = None) -> int:
        """Bring the columns in step with the store: papers changed since the last sync (by seq)."""
        return self._update(store, self._read() or _Columns.empty(), progress)

    def _update(self, store, base: _Columns, progress: Progress | None) -> int:
        rows: dict[int, StoredPaper] = {}
        since = base.last_seq
        for seq, papers in iter_changed(store, since):
            for p in papers:
                rows[paper_key(p.arxiv_id)] = p
            since = seq
            if progress:
                progress(len(rows), 0)
        if not rows and since == base.last_seq and self.file.exists():
            return 0
        cats, orgs = list(base.cats), list(base.orgs)
        cat_index = {c: i for i, c in enumerate(cats)}
        org_index = {o: i for i, o in enumerate(orgs)}
        new_keys = np.fromiter(rows, dtype=np.uint64, count=len(rows))
        new_code = np.fromiter((bool(p.github_repo) for p in rows.values()), dtype=bool, count=len(rows))
        new_up = np.fromiter((int(p.upvotes) for p in rows.values()), dtype=np.int32, count=len(rows))
        new_day = np.fromiter((_day(p.published) for p in rows.values()), dtype=np.int32, count=len(rows))
        new_org = np.full(len(rows), -1, dtype=np.int32)
        new_len = np.zeros(len(rows), dtype=np.int64)
        new_cats: list[int] = []
        for n, p in enumerate(rows.values()):
            if p.organization is not None and p.organization.name:
                name = organization_term(p.organization.name)
                if name not in org_index:
                    org_index[name] = len(orgs)
                    orgs.append(name)
                new_org[n] = org_index[name]
            names = paper_categories(p)
            for c in names:
                if c not in cat_index:
                    cat_index[c] = len(cats)
                    cats.append(c)
                new_cats.append(cat_index[c])
            new_len[n] = len(names)
        # the old rows of papers that did not change, then the changed ones, sorted by key
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
        arrays: dict[str, Any] = {
            "keys": keys[order],
            "has_code": np.concatenate([base.has_code[keep], new_code])[order],
            "upvotes": np.concatenate([base.upvotes[keep], new_up])[order],
            "day": np.concatenate([base.day[keep], new_day])[order],
            "org": np.concatenate([base.org[keep], new_org])[order],
            "cat_ptr": sorted_ptr.astype(np.int64),
            "cat_ids": entries[src].astype(np.int32),
            "cats": np.asarray(cats if cats else [""], dtype=str)[: len(cats)],
            "orgs": np.asarray(orgs if orgs else [""], dtype=str)[: len(orgs)],
            "last_seq": np.int64(since),
            "schema": np.int64(SCHEMA),
        }
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{FILE}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, self.file)
        return len(rows)


__all__ = ["FilterColumns", "NO_DAY", "FILE"]
