"""Embeddings: the vectors search and digests read, with their own seq for index catch-up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import chunks


class EmbeddingQueries(SQLiteBase):
    def embedding_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]:
        """(arxiv_id, title, abstract) of papers with no embedding from this model."""
        return self.read(
            "SELECT p.arxiv_id, p.title, p.abstract FROM papers p "
            "LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id "
            "WHERE e.arxiv_id IS NULL OR e.model_id != ? ORDER BY p.arxiv_id LIMIT ?",
            (model_id, limit),
        )

    def count_embedding_tasks(self, model_id: str) -> int:
        return self.read(
            "SELECT COUNT(*) FROM papers p LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id "
            "WHERE e.arxiv_id IS NULL OR e.model_id != ?",
            (model_id,),
        )[0][0]

    def put_embeddings(self, model_id: str, rows: Iterable[tuple[str, str, bytes]]) -> int:
        """Store (or replace) embeddings; each row gets the next embedding seq, which is how the
        vector index finds what to add without scanning every vector."""
        with self.write() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM embeddings").fetchone()[0]
            data = [(arxiv_id, model_id, text_hash, vector, seq + k)
                    for k, (arxiv_id, text_hash, vector) in enumerate(rows, start=1)]
            conn.executemany(
                "INSERT INTO embeddings (arxiv_id, model_id, text_hash, vector, seq) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(arxiv_id) DO UPDATE SET "
                # the sentence vectors stay while the text and the model they were made from do
                "sentences = CASE WHEN embeddings.model_id = excluded.model_id "
                "AND embeddings.text_hash = excluded.text_hash THEN embeddings.sentences END, "
                "model_id = excluded.model_id, "
                "text_hash = excluded.text_hash, vector = excluded.vector, seq = excluded.seq",
                data,
            )
        return len(data)

    def max_embedding_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM embeddings")[0][0]

    def iter_embeddings(self, model_id: str, batch_size: int = 5000, *,
                        after_seq: int | None = None) -> Iterator[list[tuple[str, bytes]]]:
        """[(arxiv_id, vector blob)] batches: all of them by id, or (after_seq) those written since."""
        # keyset pagination; the third column is the key of the next page
        last: str | int
        if after_seq is None:
            sql, last = ("SELECT arxiv_id, vector, arxiv_id FROM embeddings WHERE model_id = ? AND arxiv_id > ? "
                         "ORDER BY arxiv_id LIMIT ?"), ""
        else:
            sql, last = ("SELECT arxiv_id, vector, seq FROM embeddings WHERE model_id = ? AND seq > ? "
                         "ORDER BY seq LIMIT ?"), after_seq
        while True:
            rows = self.read(sql, (model_id, last, batch_size))
            if not rows:
                return
            yield [(r[0], r[1]) for r in rows]
            last = rows[-1][2]

    def embeddings_for(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """(model_id, float32 vector) for each paper that has an embedding."""
        out: dict[str, tuple[str, bytes]] = {}
        for chunk in chunks(sorted(set(arxiv_ids))):
            marks = ",".join("?" * len(chunk))
            for aid, model, vec in self.read(
                f"SELECT arxiv_id, model_id, vector FROM embeddings WHERE arxiv_id IN ({marks})", chunk
            ):
                out[aid] = (model, vec)
        return out

    # -- sentence vectors (search/sentences.py) ----------------------------------------------
    def sentence_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]:
        """(arxiv_id, title, abstract) of papers with this model's vector but no sentence vectors yet."""
        return self.read(
            "SELECT e.arxiv_id, p.title, p.abstract FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id "
            "WHERE e.model_id = ? AND e.sentences IS NULL ORDER BY e.arxiv_id LIMIT ?",
            (model_id, limit),
        )

    def count_sentence_tasks(self, model_id: str) -> int:
        return self.read("SELECT COUNT(*) FROM embeddings WHERE model_id = ? AND sentences IS NULL",
                         (model_id,))[0][0]

    def put_sentences(self, model_id: str, rows: Iterable[tuple[str, bytes]]) -> int:
        """Store papers' sentence vectors, where their embedding is still from this model."""
        with self.write() as conn:
            cur = conn.executemany(
                "UPDATE embeddings SET sentences = ? WHERE arxiv_id = ? AND model_id = ?",
                [(blob, arxiv_id, model_id) for arxiv_id, blob in rows],
            )
            return cur.rowcount

    def sentences_for(self, model_id: str, arxiv_ids: Sequence[str]) -> dict[str, bytes]:
        """The sentence vector blobs of these papers that have them (from this model)."""
        out: dict[str, bytes] = {}
        for chunk in chunks(list(arxiv_ids)):
            marks = ",".join("?" * len(chunk))
            for aid, blob in self.read(
                f"SELECT arxiv_id, sentences FROM embeddings WHERE arxiv_id IN ({marks}) "
                "AND model_id = ? AND sentences IS NOT NULL", (*chunk, model_id)
            ):
                out[aid] = blob
        return out
