"""BEIR-style evaluation of the search engine: nDCG@10, recall@100 and MRR@10 per mode.

``evaluate_beir(DIR)`` loads a BEIR folder (``corpus.jsonl[.gz]``, ``queries.jsonl``,
``qrels/*.tsv``), ingests the corpus into a temporary SQLite store (or the empty database
``database_url`` names, such as PostgreSQL), builds the real lexical and vector indexes, and
runs every query through :meth:`SearchEngine.search` in each mode, the same code path users hit.
Metrics follow trec_eval / BEIR (linear gain nDCG, binary recall and MRR; a query with no results scores 0).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from dailypapers.models import Paper
from dailypapers.search import fusion
from dailypapers.search.embedder import document_text
from dailypapers.search.embedding_jobs import embed_sentences
from dailypapers.search.engine import MAX_QUERY_CHARS, BadQuery, SearchEngine
from dailypapers.search.query import SearchFilters, parse_query
from dailypapers.storage import open_store

DEFAULT_MODES = ("lexical", "semantic", "hybrid")
CUTOFF_NDCG = 10
CUTOFF_RECALL = 100
CUTOFF_MRR = 10


# -- metrics ----------------------------------------------------------------------------------
def ndcg_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gain (trec_eval's ndcg_cut): sum rel_i / log2(i + 1)."""
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    if idcg == 0:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k]):
        if doc in seen:
            continue
        seen.add(doc)
        dcg += max(rels.get(doc, 0), 0) / math.log2(i + 2)
    return dcg / idcg


def recall_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if rels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_run(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Mean metrics over the judged queries (those with at least one relevant document)."""
    judged = [q for q, rels in qrels.items() if any(r > 0 for r in rels.values())]
    if not judged:
        return {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "queries": 0}
    n = len(judged)
    return {
        "ndcg@10": sum(ndcg_at_k(run.get(q, []), qrels[q], CUTOFF_NDCG) for q in judged) / n,
        "recall@100": sum(recall_at_k(run.get(q, []), qrels[q], CUTOFF_RECALL) for q in judged) / n,
        "mrr@10": sum(mrr_at_k(run.get(q, []), qrels[q], CUTOFF_MRR) for q in judged) / n,
        "queries": n,
    }


def cross_validate(
    per_query: Mapping[Hashable, Mapping[str, float]],
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
) -> dict:
    """k-fold cross-validation over queries of a parameter choice.

    ``per_query`` maps each candidate parameter setting to {query id: metric}. For each seed the
    queries are shuffled and cut into ``folds``; on each fold the setting with the best mean on
    the other folds is picked and scored on the held-out fold. Returns the mean and standard
    deviation of the held-out scores and how often each setting was picked.
    """
    import random
    from collections import Counter

    if not per_query:
        raise ValueError("nothing to cross-validate")
    qids = sorted(next(iter(per_query.values())))
    if len(qids) < folds:
        raise ValueError(f"{len(qids)} queries cannot make {folds} folds")
    held: list[float] = []
    picked: Counter = Counter()
    for seed in seeds:
        order = qids[:]
        random.Random(seed).shuffle(order)
        for f in range(folds):
            test = order[f::folds]
            test_set = set(test)
            train = [q for q in order if q not in test_set]
            best = max(per_query, key=lambda p: sum(per_query[p][q] for q in train))
            picked[best] += 1
            held.append(sum(per_query[best][q] for q in test) / len(test))
    return {"mean": statistics.mean(held), "sd": statistics.pstdev(held), "picked": picked}


# -- BEIR files -------------------------------------------------------------------------------
def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{folder} has no {name}[.gz]: not a BEIR folder")


def load_corpus(folder: Path) -> dict[str, tuple[str, str]]:
    out = {}
    with _open_text(_find(folder, "corpus.jsonl")) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out[str(d["_id"])] = (d.get("title") or "", d.get("text") or "")
    return out


def load_queries(folder: Path) -> dict[str, str]:
    out = {}
    with _open_text(_find(folder, "queries.jsonl")) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                out[str(d["_id"])] = d.get("text") or ""
    return out


def default_qrels(folder: Path) -> Path:
    """qrels/test.tsv if present, else the only (or first, by name) .tsv in qrels/."""
    qdir = folder / "qrels"
    if (qdir / "test.tsv").exists():
        return qdir / "test.tsv"
    found = sorted(qdir.glob("*.tsv"))
    if not found:
        raise FileNotFoundError(f"{qdir} holds no .tsv relevance judgements")
    return found[0]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with _open_text(Path(path)) as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # header or blank
            out.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    return out


# -- running ----------------------------------------------------------------------------------
class _CachedQueries:
    """An Embedder facade that answers embed_query from precomputed vectors when it can."""

    def __init__(self, embedder, model_id: str, dim: int, cached: Mapping[str, np.ndarray], queries=None):
        self._embedder = embedder
        self._queries = queries or embedder  # the model as the server loads it, when given
        self.model_id = model_id
        self.dim = dim
        self.max_tokens = getattr(embedder, "max_tokens", 256)
        self._cached = cached

    def embed_query(self, text: str) -> np.ndarray:
        v = self._cached.get(text)
        if v is not None:
            return v
        if self._queries is None:
            raise KeyError(f"no cached vector for query {text[:60]!r} and no embedder")
        return self._queries.embed_query(text)

    def embed(self, texts, batch_size: int = 32):
        return self._embedder.embed(texts, batch_size)


def load_vectors_cache(path: Path) -> dict:
    z = np.load(path, allow_pickle=False)
    out = {k: z[k] for k in z.files}
    if "model_id" in out:
        out["model_id"] = str(out["model_id"])
    return out


class BeirRun:
    """A BEIR corpus in a temporary store + indexes; runs queries per mode."""

    def __init__(
        self,
        folder: str | Path,
        qrels: str | Path | None = None,
        *,
        embedder=None,
        vectors_cache: str | Path | None = None,
        workdir: str | Path | None = None,
        progress: Callable[[str], None] | None = None,
        database_url: str | None = None,
        query_embedder=None,
        sentences: bool = True,
    ):
        """``query_embedder``: embeds the queries, so that their latency is the server's (one
        onnxruntime thread); ``embedder`` embeds the corpus, and the queries without it.
        ``sentences``: the documents' sentence vectors are made and searched (the
        ``embed_sentences`` setting)."""
        self.folder = Path(folder)
        say = progress or (lambda msg: None)
        self.corpus = load_corpus(self.folder)
        self.queries = load_queries(self.folder)
        self.qrels_path = Path(qrels) if qrels else default_qrels(self.folder)
        self.qrels = {q: r for q, r in load_qrels(self.qrels_path).items() if q in self.queries}
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dp-beir-")
            workdir = self._tmp.name
        work = Path(workdir)
        self.store = open_store(database_url or f"sqlite:///{work / 'beir.db'}")
        self.store.migrate()
        if database_url and self.store.max_seq():
            self.store.close()
            raise ValueError("the evaluation database must be empty: it would search what it holds too")
        ids = list(self.corpus)
        say(f"ingesting {len(ids)} documents")
        for i in range(0, len(ids), 2000):
            chunk = ids[i : i + 2000]
            self.store.ingest_batch(
                [Paper(arxiv_id=d, title=self.corpus[d][0], abstract=self.corpus[d][1], authors=[]) for d in chunk]
            )

        # Document vectors: from the cache when given (and complete), else from the embedder.
        vectors: np.ndarray | None = None
        model_id, dim = "", 0  # set with the vectors; unused without them
        cache = Path(vectors_cache) if vectors_cache else None
        if cache is not None and cache.exists():
            z = load_vectors_cache(cache)
            vec_ids = [str(x) for x in z["ids"]] if "ids" in z else ids
            vectors = np.asarray(z["vectors"], dtype=np.float32)
            if len(vec_ids) != len(vectors):
                raise ValueError(f"{cache}: {len(vec_ids)} ids but {len(vectors)} vectors")
            model_id = str(z.get("model_id") or getattr(embedder, "model_id", "cached"))
            dim = vectors.shape[1]
            ids_for_vectors = vec_ids
        elif embedder is not None:
            say(f"embedding {len(ids)} documents with {embedder.model_id}")
            vectors = embedder.embed([document_text(*self.corpus[d]) for d in ids])
            model_id, dim, ids_for_vectors = embedder.model_id, embedder.dim, ids
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cache, ids=np.array(ids), vectors=vectors.astype(np.float16), model_id=model_id)
        self.semantic = vectors is not None and (embedder is not None or self._has_query_vectors(cache))
        if vectors is not None:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
            self.store.put_embeddings(
                model_id,
                ((d, "beir", v.astype("<f4").tobytes()) for d, v in zip(ids_for_vectors, vectors)),
            )
        if vectors is not None and sentences:
            self._put_sentences(model_id, cache, embedder, say)
        query_cache = {}
        if cache is not None and cache.exists():
            z = load_vectors_cache(cache)
            if "query_ids" in z and "query_vectors" in z:
                for qid, v in zip(z["query_ids"], z["query_vectors"]):
                    text = self.queries.get(str(qid))
                    if text is not None:
                        query_cache[self._q(text)] = np.asarray(v, dtype=np.float32)
        engine_embedder = None
        if self.semantic:
            engine_embedder = _CachedQueries(embedder, model_id, dim, query_cache, query_embedder)
        self.engine = SearchEngine(self.store, work / "index", engine_embedder, read_sentences=sentences)
        say("building indexes")
        self.engine.rebuild()

    def _put_sentences(self, model_id: str, cache: Path | None, embedder, say: Callable[[str], None]) -> None:
        """Each document's sentence vectors: from ``<cache>-sentences.npz`` when it is there, else
        embedded by the embedding job (and cached)."""
        path = cache.with_name(cache.stem + "-sentences.npz") if cache is not None else None
        if path is not None and path.exists():
            z = np.load(path, allow_pickle=False)
            if str(z["model_id"]) == model_id:
                ids, counts, rows = [str(i) for i in z["ids"]], z["counts"], z["rows"]
                starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
                self.store.put_sentences(model_id, [(i, rows[a : a + n].tobytes())
                                                    for i, a, n in zip(ids, starts, counts)])
                return
        if embedder is None or getattr(embedder, "model_id", None) != model_id:
            return
        say("embedding the documents' sentences")
        embed_sentences(self.store, embedder)
        if path is not None:
            ids = list(self.corpus)
            blobs = self.store.sentences_for(model_id, ids)
            dim = embedder.dim
            have = [i for i in ids if i in blobs]
            rows = np.frombuffer(b"".join(blobs[i] for i in have), dtype=np.int8).reshape(-1, dim)
            np.savez(path, ids=np.array(have), counts=np.array([len(blobs[i]) // dim for i in have]),
                     rows=rows, model_id=model_id)

    @staticmethod
    def _has_query_vectors(cache: Path | None) -> bool:
        if cache is None or not cache.exists():
            return False
        return "query_vectors" in np.load(cache, allow_pickle=False).files

    @staticmethod
    def _q(text: str) -> str:
        return text[:MAX_QUERY_CHARS]

    def close(self) -> None:
        self.engine.close()
        self.store.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()

    def rankings(self, mode: str, k: int = CUTOFF_RECALL) -> tuple[dict[str, list[str]], list[float]]:
        """Ranked doc ids per judged query, and per-query latency in seconds."""

        run: dict[str, list[str]] = {}
        times: list[float] = []
        for qid in self.qrels:
            text = self._q(self.queries[qid])
            t = time.perf_counter()
            try:
                res = self.engine.search(text, mode=mode, per_page=k)
                run[qid] = [h.paper.arxiv_id for h in res.results]
            except BadQuery:
                run[qid] = []
            times.append(time.perf_counter() - t)
        return run, times

    def fusion_inputs(self, depth: int | None = None) -> dict[str, dict[str, list[tuple[str, float]]]]:
        """Per judged query, what hybrid search fuses: the two legs' scored lists as returned
        (``lexical``, ``semantic``) and as completed with each ranker's score for the other's
        papers (``lexical+``, ``semantic+``), for tuning the fusion without re-running searches.
        ``semantic+`` has each paper's closest sentence mixed in (the engine mixes it into the head of
        a first fusion only, ``fusion.SENTENCE_DEPTH``); ``semantic`` (the vector
        index's list) and ``cosine+`` have the papers' own cosines, and ``sentences`` [(id, closest
        sentence's cosine)], to tune the mix."""
        depth = depth or fusion.DEPTH
        engine, none = self.engine, SearchFilters()
        out = {}
        for qid in self.qrels:
            parsed = parse_query(self._q(self.queries[qid]))
            lex, _ = engine.lexical.search_with_count(parsed, none, depth, 0, count=False)
            found = engine._semantic(parsed, none, depth)
            sem = found[0] if found is not None else []
            legs = engine._fusion_lists(parsed, none, lex, sem, complete=False)
            full = engine._fusion_lists(parsed, none, lex, sem, complete=True)
            # each candidate's closest sentence, for the mix (the engine's, over every candidate)
            qvec: Future = Future()
            qvec.set_result(engine.embedder.embed_query(parsed.text) if engine.embedder is not None else None)
            closest = engine._closest_sentences(qvec, [i for i, _ in full["semantic"]])
            out[qid] = {
                "lexical": legs["lexical"],
                "semantic": legs["semantic"],
                "lexical+": full["lexical"],
                "semantic+": fusion.with_sentences(full["semantic"], closest),
                "cosine+": full["semantic"],
                "sentences": list(closest.items()),
            }
        return out

    def evaluate(self, modes: Iterable[str] = DEFAULT_MODES) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for mode in modes:
            if mode != "lexical" and not self.semantic:
                out[mode] = {"skipped": "no embedding model and no precomputed vectors"}
                continue
            run, times = self.rankings(mode)
            metrics = score_run(run, self.qrels)
            metrics["p50_ms"] = statistics.median(times) * 1000 if times else float("nan")
            out[mode] = metrics
        return out


def evaluate_beir(
    folder: str | Path,
    qrels: str | Path | None = None,
    modes: Sequence[str] = DEFAULT_MODES,
    embedder=None,
    vectors_cache: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    database_url: str | None = None,
    query_embedder=None,
    sentences: bool = True,
) -> dict[str, dict]:
    """Evaluate lexical / semantic / hybrid search on a BEIR folder.

    Returns ``{"lexical": {"ndcg@10", "recall@100", "mrr@10", "queries", "p50_ms"}, "semantic":
    {...}, "hybrid": {...}}``; a semantic mode without an embedder or cached vectors is
    ``{"skipped": reason}``. ``vectors_cache`` is an .npz with ``ids`` and ``vectors`` (and
    optionally ``model_id``, ``query_ids``, ``query_vectors``): read when it exists, written
    after embedding the corpus when it does not. ``database_url``: the corpus goes into this empty
    database (e.g. PostgreSQL) instead of a temporary SQLite file. ``query_embedder``: the model
    that embeds the queries and ``sentences`` whether sentence vectors are used (as BeirRun).
    """
    for m in modes:
        if m not in DEFAULT_MODES:
            raise ValueError(f"unknown mode {m!r}: use {', '.join(DEFAULT_MODES)}")
    run = BeirRun(folder, qrels, embedder=embedder, vectors_cache=vectors_cache, progress=progress,
                  database_url=database_url, query_embedder=query_embedder, sentences=sentences)
    try:
        return run.evaluate(modes)
    finally:
        run.close()


__all__ = [
    "evaluate_beir", "BeirRun", "ndcg_at_k", "recall_at_k", "mrr_at_k", "score_run", "cross_validate",
    "load_corpus", "load_queries", "load_qrels", "default_qrels",
]
