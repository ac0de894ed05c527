"""Papers: ingest batches (papers and their listings in one transaction) and paper reads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from dailypapers.clock import utcnow
from dailypapers.models import Listing, Outcome, Paper, StoredPaper
from dailypapers.storage.merge import merge_paper
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import (
    PAPER_COLUMNS,
    SELECT_PAPER,
    chunks,
    format_ts,
    listing_row,
    paper_row,
    row_paper,
)


class PaperQueries(SQLiteBase):
    def _stored(self, conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, StoredPaper]:
        """The stored papers among `ids`, on the given connection (the writer's inside a batch)."""
        found: dict[str, StoredPaper] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"{SELECT_PAPER} WHERE arxiv_id IN ({marks})", chunk):
                found[r[0]] = row_paper(r)
        return found

    def ingest_batch(
        self, papers: Sequence[Paper], listings: Sequence[Listing] = (), state: tuple[str, str] | None = None
    ) -> tuple[list[str], list[str]]:
        """Upsert papers, then listings, in one transaction; returns an Outcome per record.

        `state` (key, value) is saved in the same transaction: a resume checkpoint
        can never disagree with what was committed.
        """
        now = format_ts(utcnow())
        paper_outcomes: list[str] = []
        listing_outcomes: list[str] = []
        with self.write() as conn:
            # Every changed paper gets its own seq, so readers can page through changes by seq.
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
            stored: dict[str, Paper] = dict(self._stored(conn, [p.arxiv_id for p in papers]))
            inserts, updates, stale_embeddings = [], [], []
            for incoming in papers:
                old = stored.get(incoming.arxiv_id)
                merged = merge_paper(old, incoming) if old is not None else incoming
                row = paper_row(merged)
                if old is None:
                    seq += 1
                    inserts.append(row + (now, now, seq))
                    paper_outcomes.append(Outcome.ADDED)
                elif row != paper_row(old):
                    seq += 1
                    updates.append(row[1:] + (now, seq, row[0]))
                    paper_outcomes.append(Outcome.UPDATED)
                    if (merged.title, merged.abstract) != (old.title, old.abstract):
                        stale_embeddings.append((merged.arxiv_id,))
                else:
                    paper_outcomes.append(Outcome.UNCHANGED)
                stored[incoming.arxiv_id] = merged  # a batch may hold the same paper twice
            cols = ", ".join(PAPER_COLUMNS)
            conn.executemany(
                f"INSERT INTO papers ({cols}, added_at, modified_at, seq) "
                f"VALUES ({', '.join('?' * (len(PAPER_COLUMNS) + 3))})",
                inserts,
            )
            sets = ", ".join(f"{c} = ?" for c in PAPER_COLUMNS[1:])
            conn.executemany(
                f"UPDATE papers SET {sets}, modified_at = ?, seq = ? WHERE arxiv_id = ?", updates
            )
            # New text means a new embedding; `embed` picks these up again.
            conn.executemany("DELETE FROM embeddings WHERE arxiv_id = ?", stale_embeddings)
            if listings:
                listing_outcomes = self._upsert_listings(conn, listings)
            if state is not None:
                self._set_state(conn, *state)
        return paper_outcomes, listing_outcomes

    def _upsert_listings(self, conn: sqlite3.Connection, listings: Sequence[Listing]) -> list[str]:
        outcomes = []
        changed_papers: set[str] = set()
        for item in listings:
            row = listing_row(item)
            old = conn.execute(
                "SELECT day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, source "
                "FROM listings WHERE day = ? AND arxiv_id = ?",
                row[:2],
            ).fetchone()
            if old is None:
                # columns named, since 0002 adds pinned, hidden and submitter_id
                conn.execute(
                    "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, "
                    "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                outcomes.append(Outcome.ADDED)
            elif tuple(old) != row:
                conn.execute(
                    "UPDATE listings SET rank = ?, submitted_by = ?, submitted_at = ?, upvotes = ?, "
                    "num_comments = ?, source = ? WHERE day = ? AND arxiv_id = ?",
                    row[2:] + row[:2],
                )
                outcomes.append(Outcome.UPDATED)
            else:
                outcomes.append(Outcome.UNCHANGED)
                continue
            changed_papers.add(item.arxiv_id)
        # The imported base count is the paper's best-known HF count across its listings. A paper
        # whose count changes gets a new seq, so the next index sync carries it to the search
        # filters (min upvotes), as a member's vote does.
        for chunk in chunks(sorted(changed_papers)):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT p.arxiv_id, p.hf_upvotes, (SELECT COALESCE(MAX(upvotes), 0) FROM listings l "
                f"WHERE l.arxiv_id = p.arxiv_id) FROM papers p WHERE p.arxiv_id IN ({marks}) ORDER BY p.arxiv_id",
                chunk,
            ).fetchall()
            moved = [(new, arxiv_id) for arxiv_id, old, new in rows if old != new]
            if moved:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
                conn.executemany("UPDATE papers SET hf_upvotes = ?, seq = ? WHERE arxiv_id = ?",
                                 [(n, seq + k, a) for k, (n, a) in enumerate(moved, start=1)])
        return outcomes

    def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        rows = self.read(f"{SELECT_PAPER} WHERE arxiv_id = ?", (arxiv_id,))
        return row_paper(rows[0]) if rows else None

    def get_papers(self, arxiv_ids: Sequence[str]) -> dict[str, StoredPaper]:
        return self._stored(self._reader(), arxiv_ids)

    def iter_papers(self, batch_size: int = 1000) -> Iterator[StoredPaper]:
        last = ""
        while True:
            rows = self.read(
                f"{SELECT_PAPER} WHERE arxiv_id > ? ORDER BY arxiv_id LIMIT ?", (last, batch_size)
            )
            if not rows:
                return
            for r in rows:
                yield row_paper(r)
            last = rows[-1][0]

    def papers_changed_since(self, seq: int, limit: int = 1000) -> list[tuple[int, StoredPaper]]:
        rows = self.read(f"{SELECT_PAPER} WHERE seq > ? ORDER BY seq, arxiv_id LIMIT ?", (seq, limit))
        return [(r[25], row_paper(r)) for r in rows]

    def text_changed_since(self, seq: int, arxiv_ids: Sequence[str]) -> set[str]:
        # text_seq is kept by a trigger (migration 0011); NULL counts as changed
        found: set[str] = set()
        for chunk in chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.read(
                f"SELECT arxiv_id FROM papers WHERE arxiv_id IN ({marks}) AND (text_seq IS NULL OR text_seq > ?)",
                (*chunk, seq)))
        return found

    def max_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM papers")[0][0]
