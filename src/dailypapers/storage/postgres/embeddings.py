"""Embeddings: the vectors search and digests read, with their own seq for index catch-up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from dailypapers.storage.postgres.base import PostgresBase

_TASKS = "FROM papers p LEFT JOIN embeddings e ON e.arxiv_id = p.arxiv_id WHERE e.arxiv_id IS NULL OR e.model_id != %s"


class EmbeddingQueries(PostgresBase):
    def embedding_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]:
        """(arxiv_id, title, abstract) of papers with no embedding from this model."""
        return self.read(f"SELECT p.arxiv_id, p.title, p.abstract {_TASKS} ORDER BY p.arxiv_id LIMIT %s",
                         (model_id, limit))

    def count_embedding_tasks(self, model_id: str) -> int:
        return self.read(f"SELECT COUNT(*) {_TASKS}", (model_id,))[0][0]

    def put_embeddings(self, model_id: str, rows: Iterable[tuple[str, str, bytes]]) -> int:
        """Store (or replace) embeddings; each row takes the next embedding_seq, in commit order."""
        data = [(arxiv_id, model_id, text_hash, vector) for arxiv_id, text_hash, vector in rows]
        with self.write() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO embeddings (arxiv_id, model_id, text_hash, vector, seq) "
                "VALUES (%s, %s, %s, %s, nextval('embedding_seq')) ON CONFLICT (arxiv_id) DO UPDATE SET "
                # the sentence vectors stay while the text and the model they were made from do
                "sentences = CASE WHEN embeddings.model_id = excluded.model_id "
                "AND embeddings.text_hash = excluded.text_hash THEN embeddings.sentences END, "
                "model_id = excluded.model_id, text_hash = excluded.text_hash, vector = excluded.vector, "
                "seq = excluded.seq",
                data,
            )
        return len(data)

    def max_embedding_seq(self) -> int:
        return self.read("SELECT COALESCE(MAX(seq), 0) FROM embeddings")[0][0]

    def iter_embeddings(self, model_id: str, batch_size: int = 5000, *,
                        after_seq: int | None = None) -> Iterator[list[tuple[str, bytes]]]:
        """[(arxiv_id, vector)] batches: all of them by id, or (after_seq) those written since."""
        by_seq = after_seq is not None
        key = "seq" if by_seq else "arxiv_id"
        last: str | int = after_seq if after_seq is not None else ""
        while True:
            rows = self.read(f"SELECT arxiv_id, vector, {key} FROM embeddings WHERE model_id = %s AND {key} > %s "
                             f"ORDER BY {key} LIMIT %s", (model_id, last, batch_size))
            if not rows:
                return
            yield [(r[0], bytes(r[1])) for r in rows]
            last = rows[-1][2]

    def embeddings_for(self, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        rows = self.read("SELECT arxiv_id, model_id, vector FROM embeddings WHERE arxiv_id = ANY(%s)",
                         (sorted(set(arxiv_ids)),))
        return {r[0]: (r[1], bytes(r[2])) for r in rows}

    # -- sentence vectors (search/sentences.py) ----------------------------------------------
    def sentence_tasks(self, model_id: str, limit: int) -> list[tuple[str, str, str]]:
        """(arxiv_id, title, abstract) of papers with this model's vector but no sentence vectors yet."""
        return self.read(
            "SELECT e.arxiv_id, p.title, p.abstract FROM embeddings e JOIN papers p ON p.arxiv_id = e.arxiv_id "
            "WHERE e.model_id = %s AND e.sentences IS NULL ORDER BY e.arxiv_id LIMIT %s",
            (model_id, limit),
        )

    def count_sentence_tasks(self, model_id: str) -> int:
        return self.read("SELECT COUNT(*) FROM embeddings WHERE model_id = %s AND sentences IS NULL",
                         (model_id,))[0][0]

    def put_sentences(self, model_id: str, rows: Iterable[tuple[str, bytes]]) -> int:
        """Store papers' sentence vectors, where their embedding is still from this model."""
        data = [(blob, arxiv_id, model_id) for arxiv_id, blob in rows]
        with self.write() as conn, conn.cursor() as cur:
            cur.executemany("UPDATE embeddings SET sentences = %s WHERE arxiv_id = %s AND model_id = %s", data)
            return len(data) if cur.rowcount < 0 else cur.rowcount

    def sentences_for(self, model_id: str, arxiv_ids: Sequence[str]) -> dict[str, bytes]:
        """The sentence vector blobs of these papers that have them (from this model)."""
        rows = self.read("SELECT arxiv_id, sentences FROM embeddings WHERE arxiv_id = ANY(%s) AND model_id = %s "
                         "AND sentences IS NOT NULL", (list(arxiv_ids), model_id))
        return {r[0]: bytes(r[1]) for r in rows}
