"""Filling in embeddings: batched, resumable (each batch commits), with an ETA.

Also imports and exports precomputed embeddings, so bundled demo data ships
with its vectors and a new install does not spend minutes embedding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dailypapers.search import sentences
from dailypapers.search.embedder import document_text
from dailypapers.storage import EmbeddingJobStore, EmbeddingStore

# Rows fetched and committed together; a kill loses at most one batch of work.
COMMIT_EVERY = 256


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _in_batches(todo: int, desc: str, fetch: Callable[[int], list], handle: Callable[[list], None]) -> int:
    """Up to ``todo`` tasks, COMMIT_EVERY at a time: ``fetch(n)`` the next ones, ``handle`` (and
    commit) them; stops early when none are left. Returns how many were done."""
    done = 0
    with tqdm(total=todo, unit="paper", desc=desc, disable=None, dynamic_ncols=True) as bar:
        while done < todo:
            rows = fetch(min(COMMIT_EVERY, todo - done))
            if not rows:
                break
            handle(rows)
            done += len(rows)
            bar.update(len(rows))
    return done


def embed_missing(store: EmbeddingStore, embedder, *, batch_size: int = 32, limit: int | None = None) -> int:
    """Embed every paper without a vector from this model; returns how many were embedded."""

    def handle(rows: list[tuple[str, str, str]]) -> None:
        texts = [document_text(title, abstract) for _, title, abstract in rows]
        vectors = embedder.embed(texts, batch_size=batch_size).astype("<f4")
        store.put_embeddings(
            embedder.model_id,
            [(row[0], text_hash(t), v.tobytes()) for row, t, v in zip(rows, texts, vectors)],
        )

    todo = store.count_embedding_tasks(embedder.model_id)
    todo = todo if limit is None else min(todo, limit)
    return _in_batches(todo, "embed", lambda n: store.embedding_tasks(embedder.model_id, n), handle)


def embed_sentences(store: EmbeddingStore, embedder, *, batch_size: int = 32, limit: int | None = None) -> int:
    """Embed the title and abstract sentences of every paper that has this model's vector but no
    sentence vectors (search/sentences.py); returns how many papers were done."""

    def handle(rows: list[tuple[str, str, str]]) -> None:
        split = [sentences.texts(title or "", abstract or "") for _, title, abstract in rows]
        flat = [s for parts in split for s in parts]
        vectors = embedder.embed(flat, batch_size=batch_size) if flat else np.zeros((0, embedder.dim), np.float32)
        blobs, at = [], 0
        for parts in split:
            blobs.append(sentences.encode(vectors[at : at + len(parts)]))
            at += len(parts)
        store.put_sentences(embedder.model_id, [(row[0], blob) for row, blob in zip(rows, blobs)])

    todo = store.count_sentence_tasks(embedder.model_id)
    todo = todo if limit is None else min(todo, limit)
    return _in_batches(todo, "embed sentences", lambda n: store.sentence_tasks(embedder.model_id, n), handle)


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
