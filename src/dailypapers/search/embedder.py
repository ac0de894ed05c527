"""Sentence embeddings for papers and queries: all-MiniLM-L6-v2 on ONNX Runtime.

Run-time dependencies are onnxruntime, tokenizers and numpy only; no torch.
The model directory (by default the one packaged next to this module) holds:

* ``model.onnx``: takes ``input_ids`` and ``attention_mask`` (int64, [batch, seq]) and
  returns ``sentence_embedding`` (float32, [batch, dim]), mean-pooled and L2-normalised
  inside the graph. Produced by ``scripts/convert_model.py``.
* ``tokenizer.json``: the model's WordPiece tokenizer (Hugging Face ``tokenizers`` format).
* ``manifest.json``: ``name``, ``dim``, ``max_tokens``, ``quantization``, ``model_id``.

Everything is loaded from local files: nothing is ever downloaded.
Note that int8 activations are quantized per tensor at run time, so a text's vector varies
slightly (cosine >= ~0.98) with the other texts in its batch.

Shipped model (measured by bench/bench_embed.py, see BENCHMARKS.md): per-channel int8 weights
with ``reduce_range`` at 256 tokens (``minilm-l6-v2-int8-256``). On SciFact train (semantic only)
it scores nDCG@10 0.6597 against 0.6593 for fp32, within the 0.005 budget for shipping int8, at
cosine ~0.99 against sentence-transformers. 128 tokens was rejected: nDCG@10 drops to 0.639 (fp32)
/ 0.630 (int8), for roughly 2x speed: 198 of the 200 test-fixture arXiv abstracts (title +
abstract) exceed 128 tokens and 141 reach 256, so 128 would drop half of most abstracts. Rebuild with
``python scripts/convert_model.py --out src/dailypapers/search/model --quantize int8 --max-tokens 256``.

:func:`load_embedder` returns ``None`` when the model files are absent, so that callers can
fall back to lexical search.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime
    import tokenizers

__all__ = ["DEFAULT_MODEL_DIR", "Embedder", "document_text", "load_embedder"]

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR: Path = Path(__file__).resolve().parent / "model"
MODEL_FILES = ("model.onnx", "tokenizer.json", "manifest.json")
# Query vectors kept per process (LRU, keyed by the query's token ids: texts that differ only in
# case, accents, spacing or punctuation spacing share one entry, and the key is exactly what the
# model reads). 384 floats each: 2,048 entries are ~3.5 MB per process. A repeated query costs the
# ~15 us of tokenizing instead of ~1.5 ms of inference.
QUERY_CACHE_SIZE = 2048

_WS = re.compile(r"\s+")


def _collapse(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def document_text(title: str, abstract: str) -> str:
    """The text embedded for a paper: ``"<title>. <abstract>"`` with whitespace collapsed.

    No full stop is added when the title already ends in punctuation; either part may be empty.
    """
    t = _collapse(title)
    a = _collapse(abstract)
    if t and a:
        sep = " " if t[-1] in ".?!:;" else ". "
        return t + sep + a
    return t or a


class Embedder:
    """An ONNX sentence encoder. Thread-safe: ``embed`` and ``embed_query`` may be called
    concurrently (an onnxruntime session's ``run`` is thread-safe; the tokenizer is only
    read after construction; the query cache is guarded by a lock)."""

    dim: int
    model_id: str
    max_tokens: int

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        tokenizer: tokenizers.Tokenizer,
        manifest: dict,
        model_dir: Path | None = None,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.manifest = dict(manifest)
        self.dim = int(manifest["dim"])
        self.model_id = str(manifest["model_id"])
        self.max_tokens = int(manifest["max_tokens"])
        self.name = str(manifest.get("name", "unknown"))
        self.quantization = str(manifest.get("quantization", "unknown"))
        self.model_dir = model_dir
        input_names = {i.name for i in session.get_inputs()}
        self._needs_token_type_ids = "token_type_ids" in input_names
        self._output_name = session.get_outputs()[0].name
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Embedder(model_id={self.model_id!r}, dim={self.dim}, max_tokens={self.max_tokens})"

    # -- core -----------------------------------------------------------------------------
    def _tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        return [e.ids for e in encs]

    def _run(self, id_lists: Sequence[Sequence[int]]) -> np.ndarray:
        n = len(id_lists)
        width = max(len(ids) for ids in id_lists)
        input_ids = np.zeros((n, width), dtype=np.int64)
        attention = np.zeros((n, width), dtype=np.int64)
        for row, ids in enumerate(id_lists):
            input_ids[row, : len(ids)] = ids
            attention[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention}
        if self._needs_token_type_ids:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (out,) = self._session.run([self._output_name], feeds)
        return np.asarray(out, dtype=np.float32)

    @staticmethod
    def _normalize(vecs: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        np.maximum(norms, 1e-12, out=norms)
        vecs /= norms
        return vecs

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts`` into a float32 array of shape (len(texts), dim) with L2-normalised
        rows, in input order. Texts are sorted by token length internally so that each batch
        pads little; texts longer than ``max_tokens`` tokens are truncated."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a list of strings; use embed_query() for one text")
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        ids = self._tokenize(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._run([ids[i] for i in idx])
        return self._normalize(out)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query: a float32 (dim,) unit vector. Recent queries are cached (LRU, keyed by
        their token ids)."""
        ids = self._tokenize([text])
        key = tuple(ids[0])
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit.copy()
        vec = self._normalize(self._run(ids))[0]
        with self._cache_lock:
            self._cache[key] = vec
            self._cache.move_to_end(key)
            while len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vec.copy()


def _files_present(model_dir: Path) -> bool:
    for name in MODEL_FILES:
        p = model_dir / name
        if not p.is_file():
            return False
    # A Git LFS pointer or a truncated checkout is not a model.
    if (model_dir / "model.onnx").stat().st_size < 10_000:
        log.warning("%s is too small to be a model (a Git LFS pointer?)", model_dir / "model.onnx")
        return False
    return True


def load_embedder(
    model_dir: str | os.PathLike | None = None, *, threads: int | None = None
) -> Embedder | None:
    """Load the embedding model from ``model_dir`` (default: the packaged model).

    Returns ``None``, without raising, when the model files are absent or onnxruntime /
    tokenizers are not installed, so that search can fall back to lexical ranking.
    ``threads`` sets onnxruntime's intra-op thread count (default: onnxruntime's choice,
    one per physical core).
    """
    path = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if not path.is_dir() or not _files_present(path):
        log.info("no embedding model at %s; semantic search disabled", path)
        return None
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        log.warning("embedding model present but %s is not installed; semantic search disabled", exc.name)
        return None

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for key in ("dim", "max_tokens", "model_id"):
        if key not in manifest:
            raise ValueError(f"{path / 'manifest.json'} lacks {key!r}")

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()  # we pad per batch ourselves
    tokenizer.enable_truncation(max_length=int(manifest["max_tokens"]))

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    if threads:
        opts.intra_op_num_threads = int(threads)
    opts.log_severity_level = 3
    session = ort.InferenceSession(
        str(path / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
    )
    emb = Embedder(session, tokenizer, manifest, model_dir=path)
    if session.get_outputs()[0].shape[-1] not in (emb.dim, None) and isinstance(
        session.get_outputs()[0].shape[-1], int
    ):
        raise ValueError(f"model output width {session.get_outputs()[0].shape} != manifest dim {emb.dim}")
    return emb
