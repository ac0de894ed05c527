"""A running server keeps its node's indexes caught up with the database.

Each web node has its own tantivy and vector index in its data folder. The follower checks the
store's paper and embedding seqs twice a second and, when either moved past what the indexes
hold, runs ``SearchEngine.sync`` (which reads only the changes, by seq). A paper, vote or
curator action written through any node is then searchable on every node within about a second.
A vote changes counts, not text: it moves the filter columns and the lexical index's upvote
overlay, and costs no tantivy commit (search/lexical.py).

One process per node does the writing: the follower that holds ``follow.lock`` in the index
folder (flock, released when the process dies). Other worker processes of the node only read, and
pick up each commit from the index files.
"""

from __future__ import annotations

import logging
import threading

from dailypapers.search.engine import SearchEngine
from dailypapers.storage.locks import file_lock

log = logging.getLogger("dailypapers.search")

INTERVAL = 0.5  # seconds between looks at the store's seqs
MAX_BACKOFF = 10.0  # seconds between tries while the database is unreachable


class IndexFollower:
    def __init__(self, engine: SearchEngine, *, interval: float = INTERVAL):
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, int] | None = None

    def start(self) -> IndexFollower:
        self._thread = threading.Thread(target=self._run, name="dailypapers-index-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        # Only one process per index folder follows; the others serve reads from its commits.
        while not self._stop.is_set():
            with file_lock(self.engine.index_dir / "follow.lock") as mine:
                if mine:
                    self._follow()
                    return
            self._stop.wait(5.0)

    def _follow(self) -> None:
        wait = self.interval
        while not self._stop.wait(wait):
            try:
                self.step()
                wait = self.interval
            except Exception as e:  # noqa: BLE001 - a lost database must not end the follower
                wait = min(max(wait * 2, 1.0), MAX_BACKOFF)
                log.warning("search index catch-up failed (%s); retrying in %.0f s", e, wait)

    def step(self) -> bool:
        """Sync once if the store moved since the last look; True if it synced."""
        store = self.engine.store
        now = (store.max_seq(), store.max_embedding_seq())
        if now == self._seen:
            return False
        self.engine.sync()
        self._seen = now
        return True
