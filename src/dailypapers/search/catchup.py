"""What the indexes beside the database share: a stable key per paper, and the change feed.

Both indexes (tantivy and the vector index) catch up from the store by sequence number and key
papers the same way, so a lexical hit can be looked up in the vector index without a table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np

from dailypapers.models import StoredPaper

KEY_MASK = (1 << 63) - 1


def paper_key(arxiv_id: str) -> int:
    """A stable 63-bit key for an arXiv id (fits tantivy's i64 and usearch's u64)."""
    digest = hashlib.blake2b(arxiv_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & KEY_MASK


def paper_keys(arxiv_ids: Sequence[str]) -> np.ndarray:
    return np.fromiter((paper_key(i) for i in arxiv_ids), dtype=np.uint64, count=len(arxiv_ids))


def iter_changed(store, since: int, batch: int = 2000) -> Iterator[tuple[int, list[StoredPaper]]]:
    """Papers with seq > since, a page at a time: yields (seq reached, papers).

    Every change has its own seq (see SQLiteStore.ingest_batch), so a page never splits one.
    """
    while True:
        rows = store.papers_changed_since(since, batch)
        if not rows:
            return
        since = rows[-1][0]
        yield since, [p for _, p in rows]
