"""Helpers shared by the search tests: real papers from tests/fixtures/papers500.jsonl in a real store.

The fixture holds 500 real papers: 350 from the Hugging Face Daily Papers data (with dates,
upvotes, GitHub links) and 150 from the arXiv cs listings (with categories, without dates);
200 of the HF ones also carry their arXiv categories.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np

from dailypapers.models import Listing, Paper

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "papers500.jsonl"


def fixture_rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def row_paper(r: dict) -> Paper:
    return Paper(
        arxiv_id=r["arxiv_id"], title=r["title"], abstract=r["abstract"], authors=r["authors"],
        categories=r["categories"], published=_ts(r["published"]), github_repo=r["github_repo"],
        ai_summary=r["ai_summary"], ai_keywords=r["ai_keywords"],
    )


def load_papers(store, rows: list[dict] | None = None, batch: int = 200) -> list[dict]:
    """Ingest fixture rows (with a listing for upvotes where known), in batches."""
    rows = fixture_rows() if rows is None else rows
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        listings = [
            Listing(arxiv_id=r["arxiv_id"], day=dt.date.fromisoformat(r["list_date"]), upvotes=r["upvotes"],
                    source="hf")
            for r in chunk
            if r.get("list_date")
        ]
        store.ingest_batch([row_paper(r) for r in chunk], listings)
    return rows


def unit_vectors(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class FakeEmbedder:
    """A deterministic stand-in with the Embedder interface, for tests that need no model.

    Texts map to fixed random unit vectors seeded by a hash of their first sentence, so a query
    equal to a paper's title gets the vector of ``document_text(title, abstract)``: the paper is
    its nearest neighbour, and nearest-neighbour results are predictable.
    """

    def __init__(self, dim: int = 384, model_id: str = "fake-384"):
        self.dim = dim
        self.model_id = model_id
        self.max_tokens = 256
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        import hashlib

        head = text.split(". ")[0].strip()
        seed = int.from_bytes(hashlib.sha1(head.encode()).digest()[:8], "little")
        return unit_vectors(1, self.dim, seed)[0]

    def embed(self, texts, batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vec(t) for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self._vec(text)
