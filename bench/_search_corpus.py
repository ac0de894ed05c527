"""Shared by the search benches: the ~64k real paper corpus, its vectors, and scaled copies.

Corpus: every paper of ../shared/data/arxiv-daily-cs (57,852) plus the Hugging Face daily papers
not among them, deduplicated by arXiv id (the same set and order as bench/embed_corpus.py writes
to bench/cache/corpus68k.npz). HF papers keep their upvotes (as a listing), dates, GitHub links.

Scaling to N papers: copy k = 1, 2, ... of paper P gets the id ``P-r<k>`` and the same metadata;
its vector is P's vector plus Gaussian noise (sigma = 0.02 per component, i.e. a noise vector of
norm ~0.39 on a unit vector), renormalized: copies sit near their original, as near-duplicate
papers would, without being identical.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from dailypapers.models import Listing, Organization, Paper  # noqa: E402

CACHE = REPO / "bench" / "cache"
REPLICA_SIGMA = 0.02


def _jsonl_gz(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _ts(value):
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _org(row: dict | None) -> Organization | None:
    """The flattened HF rows carry the organization's display name only: it stands in for the name."""
    name = (row or {}).get("organization")
    return Organization(str(name)) if name else None


def load_corpus(data: Path) -> tuple[list[Paper], dict[str, tuple[int, str]], dict[str, dict]]:
    """(papers, {id: (upvotes, list_date)}, {id: hf row}) in corpus68k order."""
    papers: list[Paper] = []
    seen: set[str] = set()
    hf: dict[str, dict] = {}
    for d in _jsonl_gz(data / "hf-daily-papers" / "hf_daily_papers.jsonl.gz"):
        pid = str(d.get("arxiv_id") or "").strip()
        if pid and pid not in hf:
            hf[pid] = d
    for d in _jsonl_gz(data / "arxiv-daily-cs" / "arxiv_cs_papers_dedup.jsonl.gz"):
        pid = str(d["id"]).strip()
        if pid in seen:
            continue
        seen.add(pid)
        h = hf.get(pid)
        papers.append(
            Paper(
                arxiv_id=pid, title=" ".join((d.get("title") or "").split()),
                abstract=" ".join((d.get("abstract") or "").split()), authors=d.get("authors") or [],
                categories=d.get("categories") or [],
                published=_ts(h.get("paper_publishedAt")) if h else None,
                github_repo=(h.get("githubRepo") if h else None), organization=_org(h),
            )
        )
    for pid, d in hf.items():
        if pid in seen:
            continue
        seen.add(pid)
        papers.append(
            Paper(
                arxiv_id=pid, title=" ".join((d.get("title") or "").split()),
                abstract=" ".join((d.get("summary") or "").split()), authors=d.get("authors") or [],
                published=_ts(d.get("paper_publishedAt")), github_repo=d.get("githubRepo"), organization=_org(d),
            )
        )
    votes = {pid: (int(d.get("upvotes") or 0), d.get("list_date")) for pid, d in hf.items()}
    return papers, votes, hf


def corpus_vectors(path: Path | None = None) -> tuple[list[str], np.ndarray, str] | None:
    path = path or CACHE / "corpus68k.npz"
    if not path.exists():
        return None
    z = np.load(path, allow_pickle=False)
    return [str(i) for i in z["ids"]], z["vectors"], str(z["model_id"])


def ingest(store, papers: list[Paper], votes: dict, copies: int = 1, batch: int = 5000, say=print) -> int:
    """Ingest papers (and `copies - 1` replicas of each) with their upvote listings."""
    n = 0
    for k in range(copies):
        for i in range(0, len(papers), batch):
            chunk = papers[i : i + batch]
            out, listings = [], []
            for p in chunk:
                q = p if k == 0 else p.replace(arxiv_id=f"{p.arxiv_id}-r{k}")
                out.append(q)
                v = votes.get(p.arxiv_id)
                if v and v[1]:
                    day = dt.date.fromisoformat(v[1])
                    listings.append(Listing(arxiv_id=q.arxiv_id, day=day, upvotes=v[0], source="hf"))
            store.ingest_batch(out, listings)
            n += len(out)
        say(f"  ingested copy {k + 1}/{copies}: {n} papers")
    return n


def corpus_sentences(path: Path | None = None) -> tuple[list[str], np.ndarray, np.ndarray, str] | None:
    """The corpus' title and abstract sentence vectors (ids, sentences per paper, int8 rows, model id), made
    by bench/embed_sentences.py; None when not made yet."""
    path = path or CACHE / "corpus68k-sentences.npz"
    if not path.exists():
        return None
    z = np.load(path, allow_pickle=False)
    return [str(i) for i in z["ids"]], z["counts"], z["rows"], str(z["model_id"])


def store_sentences(store, papers: list[Paper], vectors: np.ndarray, model_id: str) -> int:
    """The papers' own vectors and their sentence vectors (corpus_sentences) into the store's
    embeddings table, where the engine reads the sentences of its candidates; 0 without the cache."""
    from dailypapers.search.embedder import document_text
    from dailypapers.search.embedding_jobs import text_hash

    found = corpus_sentences()
    if found is None or found[3] != model_id:
        return 0
    ids, counts, rows, _ = found
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    at = {i: (int(a), int(n)) for i, a, n in zip(ids, starts, counts)}
    done = 0
    for s in range(0, len(papers), 5000):
        part = [(p, v) for p, v in zip(papers[s : s + 5000], vectors[s : s + 5000]) if p.arxiv_id in at]
        store.put_embeddings(model_id, [(p.arxiv_id, text_hash(document_text(p.title, p.abstract)),
                                         np.asarray(v, dtype="<f4").tobytes()) for p, v in part])
        blobs = []
        for p, _ in part:
            a, n = at[p.arxiv_id]
            blobs.append((p.arxiv_id, rows[a : a + n].tobytes()))
        done += store.put_sentences(model_id, blobs)
    return done


def replica_vectors(base: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    if k == 0:
        return base.astype(np.float32)
    rng = np.random.default_rng(seed * 1000 + k)
    v = base.astype(np.float32) + rng.normal(0, REPLICA_SIGMA, base.shape).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic_vectors(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    """Stand-in vectors when the real ones are not cached yet: unit vectors around 2,000 topics."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((2000, dim)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    v = centers[rng.integers(0, 2000, n)] + rng.normal(0, 0.045, (n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def bench_embedder(model_dir: Path | None = None, threads: int | None = 1):
    """The packaged model, else the first model converted under bench/cache/models (said so).
    One intra-op thread, as the server runs the query model (app.py, cli/serve.py): with
    onnxruntime's default of one per core, its pool thread spins after each query on the core the
    request's other leg needs (in-process hybrid p50 at 64k 22.8-26.3 ms against 16.6-16.9,
    BENCHMARKS.md "The in-process benches ran the query model on two threads")."""
    from dailypapers.search.embedder import load_embedder

    emb = load_embedder(model_dir, threads=threads)
    if emb is not None:
        return emb, str(model_dir or "packaged model")
    for name in ("int8-256", "none-256", "int8-128", "none-128"):
        d = CACHE / "models" / name
        if d.exists():
            emb = load_embedder(d, threads=threads)
            if emb is not None:
                return emb, f"bench/cache/models/{name} (no packaged model yet)"
    return None, "no model"
