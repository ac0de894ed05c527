"""Papers: ingest batches (papers and their listings in one transaction, new papers by COPY) and reads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import psycopg

from dailypapers.clock import utcnow
from dailypapers.models import Listing, Outcome, Paper, StoredPaper
from dailypapers.storage.merge import merge_paper
from dailypapers.storage.postgres.base import PostgresBase
from dailypapers.storage.rows import (
    PAPER_COLUMNS,
    SELECT_PAPER,
    format_ts,
    listing_row,
    paper_row,
    row_listing,
    row_paper,
)

_SEQ = len(PAPER_COLUMNS) + 4  # where the seq is in a SELECT_PAPER row


def stored_papers(conn: psycopg.Connection, ids: Sequence[str]) -> dict[str, StoredPaper]:
    return {r[0]: row_paper(r) for r in conn.execute(f"{SELECT_PAPER} WHERE arxiv_id = ANY(%s)", (list(ids),))}


class PaperQueries(PostgresBase):
    def ingest_batch(
        self, papers: Sequence[Paper], listings: Sequence[Listing] = (), state: tuple[str, str] | None = None
    ) -> tuple[list[str], list[str]]:
        """Upsert papers, then listings, in one transaction; returns an Outcome per record.

        New papers go in by COPY; changed ones by one UPDATE each. Every changed paper takes the
        next value of paper_seq (under the content lock, so in commit order). `state` (a resume
        checkpoint) is saved in the same transaction."""
        now = format_ts(utcnow())
        outcomes: list[str] = []
        with self.write() as conn:
            stored: dict[str, Paper] = dict(stored_papers(conn, [p.arxiv_id for p in papers]))
            writes: list[tuple[bool, tuple]] = []  # (new?, row), in batch order: seqs follow it
            stale: list[str] = []
            for incoming in papers:
                old = stored.get(incoming.arxiv_id)
                merged = merge_paper(old, incoming) if old is not None else incoming
                row = paper_row(merged)
                if old is None:
                    writes.append((True, row))
                    outcomes.append(Outcome.ADDED)
                elif row != paper_row(old):
                    writes.append((False, row))
                    outcomes.append(Outcome.UPDATED)
                    if (merged.title, merged.abstract) != (old.title, old.abstract):
                        stale.append(merged.arxiv_id)
                else:
                    outcomes.append(Outcome.UNCHANGED)
                stored[incoming.arxiv_id] = merged  # a batch may hold the same paper twice
            if writes:
                seqs = [r[0] for r in conn.execute("SELECT nextval('paper_seq') FROM generate_series(1, %s)",
                                                   (len(writes),))]
                with conn.cursor().copy(f"COPY papers ({', '.join(PAPER_COLUMNS)}, added_at, modified_at, seq) "
                                        "FROM STDIN") as copy:
                    for (new, row), seq in zip(writes, seqs):
                        if new:
                            copy.write_row((*row, now, now, seq))
                sets = ", ".join(f"{c} = %s" for c in PAPER_COLUMNS[1:])
                changed = [(*row[1:], now, seq, row[0]) for (new, row), seq in zip(writes, seqs) if not new]
                if changed:
                    with conn.cursor() as cur:
                        cur.executemany(f"UPDATE papers SET {sets}, modified_at = %s, seq = %s WHERE arxiv_id = %s",
                                        changed)
            if stale:
                # New text means a new embedding; `embed` picks these up again.
                conn.execute("DELETE FROM embeddings WHERE arxiv_id = ANY(%s)", (stale,))
            listing_outcomes = self._upsert_listings(conn, listings) if listings else []
            if state is not None:
                self._set_state(conn, *state)
        return outcomes, listing_outcomes

    def _upsert_listings(self, conn: psycopg.Connection, listings: Sequence[Listing]) -> list[str]:
        keys = [(item.day.isoformat(), item.arxiv_id) for item in listings]
        old = {
            (r[0], r[1]): listing_row(row_listing(r))
            for r in conn.execute(
                "SELECT l.day, l.arxiv_id, l.rank, l.submitted_by, l.submitted_at, l.upvotes, l.num_comments, "
                "l.source FROM listings l JOIN unnest(%s::date[], %s::text[]) AS k(day, arxiv_id) "
                "ON l.day = k.day AND l.arxiv_id = k.arxiv_id",
                ([k[0] for k in keys], [k[1] for k in keys]),
            )
        }
        outcomes, changed = [], set()
        for item in listings:
            row = listing_row(item)
            before = old.get(row[:2])
            if before == row:
                outcomes.append(Outcome.UNCHANGED)
                continue
            conn.execute(
                "INSERT INTO listings (day, arxiv_id, rank, submitted_by, submitted_at, upvotes, num_comments, "
                "source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (day, arxiv_id) DO UPDATE SET "
                "rank = excluded.rank, submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at, "
                "upvotes = excluded.upvotes, num_comments = excluded.num_comments, source = excluded.source",
                row,
            )
            outcomes.append(Outcome.ADDED if before is None else Outcome.UPDATED)
            old[row[:2]] = row
            changed.add(item.arxiv_id)
        if changed:
            # The HF base count is the best count across the paper's listings; a paper whose count
            # moves takes a new seq so the search filters follow. Seqs go in arxiv_id order, as in
            # SQLite, so both backends number the same changes alike (and a search index built from
            # either holds its papers in the same order).
            moved = conn.execute(
                "SELECT arxiv_id, best FROM (SELECT p.arxiv_id, p.hf_upvotes, COALESCE((SELECT MAX(upvotes) "
                "FROM listings l WHERE l.arxiv_id = p.arxiv_id), 0) AS best FROM papers p "
                "WHERE p.arxiv_id = ANY(%s)) m WHERE hf_upvotes != best",
                (sorted(changed),),
            ).fetchall()
            if moved:
                moved.sort()
                seqs = [r[0] for r in conn.execute("SELECT nextval('paper_seq') FROM generate_series(1, %s)",
                                                   (len(moved),))]
                with conn.cursor() as cur:
                    cur.executemany("UPDATE papers SET hf_upvotes = %s, seq = %s WHERE arxiv_id = %s",
                                    [(best, seq, arxiv_id) for (arxiv_id, best), seq in zip(moved, seqs)])
        return outcomes

    def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        rows = self.read(f"{SELECT_PAPER} WHERE arxiv_id = %s", (arxiv_id,))
        return row_paper(rows[0]) if rows else None

    def get_papers(self, arxiv_ids: Sequence[str]) -> dict[str, StoredPaper]:
        with self.connection() as conn:
            return stored_papers(conn, arxiv_ids)

    def iter_papers(self, batch_size: int = 1000) -> Iterator[StoredPaper]:
        last = ""
        while True:
            rows = self.read(f"{SELECT_PAPER} WHERE arxiv_id > %s ORDER BY arxiv_id LIMIT %s", (last, batch_size))
            if not rows:
                return
            yield from (row_paper(r) for r in rows)
            last = rows[-1][0]

    def papers_changed_since(self, seq: int, limit: int = 1000) -> list[tuple[int, StoredPaper]]:
        rows = self.read(f"{SELECT_PAPER} WHERE seq > %s ORDER BY seq, arxiv_id LIMIT %s", (seq, limit))
        return [(r[_SEQ], row_paper(r)) for r in rows]

    def text_changed_since(self, seq: int, arxiv_ids: Sequence[str]) -> set[str]:
        # text_seq is kept by a trigger (migration 0007); NULL counts as changed
        rows = self.read("SELECT arxiv_id FROM papers WHERE arxiv_id = ANY(%s) AND (text_seq IS NULL OR text_seq > %s)",
                         (list(arxiv_ids), seq))
        return {r[0] for r in rows}

    def max_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM papers")[0][0]

