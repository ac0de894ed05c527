"""BEIR metrics on hand-made examples, and evaluate_beir on a tiny BEIR folder."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from search_helpers import FakeEmbedder

from dailypapers.search.eval import (
    BeirRun,
    evaluate_beir,
    load_qrels,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    score_run,
)


def test_ndcg_hand_example():
    rels = {"d1": 1, "d2": 2, "d3": 0}
    ranked = ["d3", "d2", "d9", "d1"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(ranked, rels, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["d2", "d1"], rels, 10) == pytest.approx(1.0)
    assert ndcg_at_k([], rels, 10) == 0.0
    assert ndcg_at_k(["d1"], {"d1": 0}, 10) == 0.0  # nothing relevant: 0 by convention
    # the cut-off applies
    assert ndcg_at_k(["x"] * 0 + ["a", "b", "c", "d1"], {"d1": 1}, 3) == 0.0


def test_recall_and_mrr_hand_example():
    rels = {"a": 1, "b": 1, "c": 0}
    assert recall_at_k(["x", "a", "c"], rels, 100) == pytest.approx(0.5)
    assert recall_at_k(["x", "a", "b"], rels, 2) == pytest.approx(0.5)
    assert mrr_at_k(["x", "y", "b"], rels, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "b"], rels, 2) == 0.0


def test_score_run_averages_judged_queries():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    m = score_run({"q1": ["a"], "q2": ["x"]}, qrels)
    assert m["queries"] == 2
    assert m["ndcg@10"] == pytest.approx(0.5) and m["mrr@10"] == pytest.approx(0.5)


@pytest.fixture
def beir(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Photosynthesis in plants", "Chlorophyll absorbs light to make sugar."),
        ("d2", "Deep sea vents", "Bacteria near hydrothermal vents use chemosynthesis."),
        ("d3", "Bird migration", "Birds navigate using the magnetic field of the earth."),
        ("d4", "Protein folding", "Chaperones help proteins fold correctly in cells."),
    ]
    with gzip.open(folder / "corpus.jsonl.gz", "wt") as f:
        for i, t, x in docs:
            f.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
    queries = {"q1": "how do plants use light", "q2": "magnetic navigation in birds", "q3": "unjudged"}
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()))
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n")
    return folder, docs, queries


def test_load_qrels_skips_header(beir):
    folder, _, _ = beir
    assert load_qrels(folder / "qrels" / "train.tsv") == {"q1": {"d1": 1}, "q2": {"d3": 1}}


def test_evaluate_lexical_only(beir):
    folder, _, _ = beir
    r = evaluate_beir(folder)
    assert r["lexical"]["ndcg@10"] == pytest.approx(1.0)
    assert r["lexical"]["queries"] == 2
    assert "skipped" in r["semantic"] and "skipped" in r["hybrid"]


def test_evaluate_all_modes_with_an_embedder_and_cache(beir, tmp_path):
    folder, docs, queries = beir
    emb = FakeEmbedder()
    cache = tmp_path / "vectors.npz"
    r = evaluate_beir(folder, embedder=emb, vectors_cache=cache)
    assert cache.exists()
    assert set(r) == {"lexical", "semantic", "hybrid"}
    for mode in r:
        assert 0.0 <= r[mode]["ndcg@10"] <= 1.0 and r[mode]["queries"] == 2
    # precomputed query vectors make semantic search exact: each query is given its document's vector
    z = dict(np.load(cache))
    ids = list(z["ids"])
    z["query_ids"] = np.array(["q1", "q2"])
    z["query_vectors"] = np.stack([z["vectors"][ids.index("d1")], z["vectors"][ids.index("d3")]])
    np.savez(cache, **z)
    r = evaluate_beir(folder, modes=("semantic",), vectors_cache=cache)
    assert r["semantic"]["ndcg@10"] == pytest.approx(1.0)


def test_queries_go_to_the_query_embedder_and_the_corpus_to_the_other(beir, tmp_path):
    # `eval beir` embeds the corpus on every core and the queries as the server does, on one
    # thread: each model does its own part.
    folder, docs, queries = beir
    bulk, per_query = FakeEmbedder(), FakeEmbedder()
    r = evaluate_beir(folder, modes=("semantic",), embedder=bulk, query_embedder=per_query)
    assert r["semantic"]["queries"] == 2
    assert bulk.calls >= 1 and per_query.calls == 2  # the two judged queries, nothing else


def test_a_run_without_sentences_neither_embeds_nor_reads_them(beir, tmp_path):
    folder, _, _ = beir
    with_them = BeirRun(folder, embedder=FakeEmbedder(), workdir=tmp_path / "a")
    without = BeirRun(folder, embedder=FakeEmbedder(), workdir=tmp_path / "b", sentences=False)
    try:
        ids = ["d1", "d2", "d3", "d4"]
        assert set(with_them.store.sentences_for(with_them.engine.vectors.model_id, ids)) == set(ids)
        assert with_them.engine.read_sentences
        assert without.store.sentences_for(without.engine.vectors.model_id, ids) == {}
        assert not without.engine.read_sentences
    finally:
        with_them.close()
        without.close()


def test_unknown_mode(beir):
    with pytest.raises(ValueError):
        evaluate_beir(beir[0], modes=("bogus",))


def test_cross_validate_picks_on_training_folds():
    from dailypapers.search.eval import cross_validate

    qids = [f"q{i}" for i in range(20)]
    # "good" is better on every query: it is always picked, and the held-out mean is its mean
    grid = {"good": {q: 0.8 for q in qids}, "bad": {q: 0.2 for q in qids}}
    r = cross_validate(grid, folds=5, seeds=(0, 1))
    assert r["picked"] == {"good": 10}
    assert r["mean"] == pytest.approx(0.8) and r["sd"] == pytest.approx(0.0)
    # "lucky" is best on all 20 queries only through q0: picked whenever q0 is in the training
    # folds (4 of 5), and then it scores 0.48 on the held-out queries; on q0's fold "steady" wins
    lucky = {"steady": {q: 0.5 for q in qids}, "lucky": {q: (1.0 if q == "q0" else 0.48) for q in qids}}
    assert sum(lucky["lucky"].values()) > sum(lucky["steady"].values())
    r = cross_validate(lucky, folds=5, seeds=(0,))
    assert r["picked"] == {"lucky": 4, "steady": 1}
    assert r["mean"] == pytest.approx((4 * 0.48 + 0.5) / 5)
    with pytest.raises(ValueError):
        cross_validate({})
    with pytest.raises(ValueError):
        cross_validate({"x": {"q": 1.0}}, folds=5)
