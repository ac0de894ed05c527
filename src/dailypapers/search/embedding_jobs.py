"""Filling in embeddings: batched, resumable (each batch commits), with an ETA.

Also imports and exports precomputed embeddings, so bundled demo data ships
with its vectors and a new install does not spend minutes embedding.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dailypapers.search.embedder import document_text
from dailypapers.storage import EmbeddingJobStore, EmbeddingStore

# Rows fetched and committed together; a kill loses at most one batch of work.
COMMIT_EVERY = 256


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_missing(store: EmbeddingStore, embedder, *, batch_size: int = 32, limit: int | None = None) -> int:
    """Embed every paper without a vector from this model; returns how many were embedded."""

    todo = store.count_embedding_tasks(embedder.model_id)
    if limit is not None:
        todo = min(todo, limit)
    done = 0
    with tqdm(total=todo, unit="paper", desc="embed", disable=None, dynamic_ncols=True) as bar:
        while done < todo:
            rows = store.embedding_tasks(embedder.model_id, min(COMMIT_EVERY, todo - done))
            if not rows:
                break
            texts = [document_text(title, abstract) for _, title, abstract in rows]
            vectors = embedder.embed(texts, batch_size=batch_size).astype("<f4")
            store.put_embeddings(
                embedder.model_id,
                [(row[0], text_hash(t), v.tobytes()) for row, t, v in zip(rows, texts, vectors)],
            )
            done += len(rows)
            bar.update(len(rows))
    return done


def export_embeddings(store: EmbeddingJobStore, model_id: str, path: Path) -> int:
    ids: list[str] = []
    chunks: list[np.ndarray] = []
    for batch in store.iter_embeddings(model_id):
        ids.extend(i for i, _ in batch)
        chunks.append(np.frombuffer(b"".join(v for _, v in batch), dtype="<f4").reshape(len(batch), -1))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype="<f4")
    hashes = []
    papers = store.get_papers(ids)

    for i in ids:
        p = papers[i]
        hashes.append(text_hash(document_text(p.title, p.abstract)))
    # float16 halves the file; cosine against the float32 original stays above 0.9999.
    np.savez_compressed(
        path, ids=np.array(ids), text_hash=np.array(hashes), vectors=vectors.astype(np.float16), model_id=model_id
    )
    return len(ids)


def import_embeddings(store: EmbeddingJobStore, path: Path, model_id: str) -> tuple[int, int]:
    """Load vectors whose model and text still match; returns (imported, skipped)."""

    data = np.load(path, allow_pickle=False)
    if str(data["model_id"]) != model_id:
        return 0, len(data["ids"])
    ids = [str(i) for i in data["ids"]]
    hashes = [str(h) for h in data["text_hash"]]
    vectors = data["vectors"].astype("<f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    papers = store.get_papers(ids)
    rows, skipped = [], 0
    for i, h, v in zip(ids, hashes, vectors):
        p = papers.get(i)
        if p is None or text_hash(document_text(p.title, p.abstract)) != h:
            skipped += 1
            continue
        rows.append((i, h, v.tobytes()))
    for start in range(0, len(rows), 2000):
        store.put_embeddings(model_id, rows[start : start + 2000])
    return len(rows), skipped
