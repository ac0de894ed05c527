"""An abstract's sentences: how they are split, stored and scored, the embedding job that makes
them (resumable, kept while the text is unchanged), and how they move a paper in search."""

from __future__ import annotations

import numpy as np
import pytest
from search_helpers import FakeEmbedder, fixture_rows, load_papers, unit_vectors

from dailypapers.models import Paper
from dailypapers.search import fusion, sentences
from dailypapers.search.embedder import document_text
from dailypapers.search.embedding_jobs import embed_missing, embed_sentences
from dailypapers.search.engine import SearchEngine

ABSTRACT = (
    "Large language models are slow to decode. We propose a draft model, e.g. a small one, that "
    "guesses 4.5 tokens per step. Results: It doubles throughput on two GPUs! Does it hold for "
    "long inputs? (Yes, up to 32k tokens.) Code is public."
)


def test_split_keeps_abbreviations_and_numbers_whole():
    assert sentences.split(ABSTRACT) == [
        "Large language models are slow to decode.",
        "We propose a draft model, e.g. a small one, that guesses 4.5 tokens per step.",
        "Results: It doubles throughput on two GPUs!",
        "Does it hold for long inputs?",
        "(Yes, up to 32k tokens.)",
        "Code is public.",
    ]


def test_a_papers_texts_are_its_title_then_its_abstracts_sentences():
    assert sentences.texts("  Fast   decoding ", ABSTRACT)[:2] == ["Fast decoding", "Large language models are slow to decode."]
    assert len(sentences.texts("Fast decoding", ABSTRACT)) == 7
    assert sentences.texts("", "") == []
    assert sentences.texts("A title", "") == ["A title"]


def test_split_drops_empty_and_tiny_pieces_and_caps_long_abstracts():
    assert sentences.split("") == []
    assert sentences.split("  \n ") == []
    assert sentences.split("Methods. Results. A sentence long enough to keep.") == ["A sentence long enough to keep."]
    many = " ".join(f"Sentence number {i} says something." for i in range(100))
    split = sentences.split(many)
    assert len(split) == sentences.MAX_SENTENCES
    assert split[0] == "Sentence number 0 says something."


def test_encode_keeps_cosines_and_best_takes_each_papers_closest_sentence():
    vecs = unit_vectors(7, seed=3)
    query = vecs[1] * 0.8 + unit_vectors(1, seed=4)[0] * 0.2
    query /= np.linalg.norm(query)
    blob = sentences.encode(vecs)
    assert len(blob) == 7 * 384  # one byte a component
    back = np.frombuffer(blob, dtype=np.int8).reshape(-1, 384).astype(np.float32)
    back /= np.linalg.norm(back, axis=1, keepdims=True)
    assert np.allclose((back * vecs).sum(axis=1), 1.0, atol=1e-3)
    best = sentences.best_similarities(query, {"a": sentences.encode(vecs[:3]), "b": sentences.encode(vecs[3:]),
                                               "empty": b"", "torn": b"\x01" * 100})
    assert set(best) == {"a", "b"}  # no sentences, or a blob that is not whole rows: the paper's vector stands
    assert best["a"] == pytest.approx(float(max(vecs[:3] @ query)), abs=2e-3)
    assert best["b"] == pytest.approx(float(max(vecs[3:] @ query)), abs=2e-3)
    assert best["a"] > best["b"]


def test_with_sentences_mixes_only_papers_that_have_them():
    mixed = fusion.with_sentences([("a", 0.4), ("b", 0.3)], {"b": 0.9}, weight=0.5)
    assert mixed == [("a", 0.4), ("b", pytest.approx(0.6))]


def _paper(arxiv_id: str, title: str, abstract: str) -> Paper:
    return Paper(arxiv_id=arxiv_id, title=title, abstract=abstract, authors=["A. Author"])


def test_the_job_embeds_every_sentence_resumably_and_the_store_keeps_them_while_the_text_stays(store):
    emb = FakeEmbedder()
    store.ingest_batch([_paper(f"2609.{i:05d}", f"Paper {i}", ABSTRACT if i % 2 else "") for i in range(1, 5)]
                       + [_paper("2609.00005", "", "")])
    assert embed_missing(store, emb) == 5
    assert store.count_sentence_tasks(emb.model_id) == 5
    assert embed_sentences(store, emb, limit=2) == 2  # a limit, as a kill would leave it: the rest stay to do
    assert store.count_sentence_tasks(emb.model_id) == 3
    assert embed_sentences(store, emb) == 3
    assert store.count_sentence_tasks(emb.model_id) == 0
    blobs = store.sentences_for(emb.model_id, [f"2609.{i:05d}" for i in range(1, 6)])
    assert len(blobs["2609.00001"]) == 7 * emb.dim  # the title and the six sentences above
    assert len(blobs["2609.00002"]) == emb.dim  # no abstract: the title alone
    assert blobs["2609.00005"] == b""  # no text at all: done, with nothing to store
    assert store.sentences_for("another-model", ["2609.00001"]) == {}

    # the same text and model written again (a re-import): the sentences stay
    vec = emb.embed([document_text("Paper 1", ABSTRACT)])[0].astype("<f4").tobytes()
    store.put_embeddings(emb.model_id, [("2609.00001", "same-hash", vec)])
    store.put_embeddings(emb.model_id, [("2609.00001", "same-hash", vec)])
    assert store.count_sentence_tasks(emb.model_id) == 1  # the first write changed the hash
    embed_sentences(store, emb)
    store.put_embeddings(emb.model_id, [("2609.00001", "same-hash", vec)])
    assert store.count_sentence_tasks(emb.model_id) == 0
    # a changed text (another hash): made again
    store.put_embeddings(emb.model_id, [("2609.00001", "new-hash", vec)])
    assert store.sentences_for(emb.model_id, ["2609.00001"]) == {}
    assert store.sentence_tasks(emb.model_id, 10) == [("2609.00001", "Paper 1", ABSTRACT)]


TARGET = "2609.99999"
SENTENCE = "Our fluorescent zebrafish reporter lights up every regenerating fin ray within hours."
ABSTRACT_WITH_IT = "We built a transgenic line for imaging. It needs no dissection. " + SENTENCE


@pytest.fixture
def engine_without_sentences(tmp_path):
    """20 fixture papers and one whose third sentence is the query; vectors from the fake embedder
    (a text's vector is seeded by its first sentence, so the paper's own vector is unrelated to the
    query's), fewer papers than the head whose sentences are read (fusion.SENTENCE_DEPTH)."""
    from dailypapers.storage.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "db.sqlite")
    store.migrate()
    load_papers(store, fixture_rows()[:20])
    assert 21 <= fusion.SENTENCE_DEPTH
    store.ingest_batch([_paper(TARGET, "Imaging regeneration in fish", ABSTRACT_WITH_IT)])
    emb = FakeEmbedder()
    embed_missing(store, emb)
    engine = SearchEngine(store, tmp_path / "index", emb)
    engine.sync()
    yield engine, store, emb
    engine.close()
    store.close()


def _scores(engine, mode: str) -> list[tuple[str, float]]:
    return [(h.paper.arxiv_id, h.score) for h in engine.search(SENTENCE, mode=mode, per_page=50).results]


def test_a_papers_closest_sentence_lifts_it_in_semantic_and_hybrid_search(engine_without_sentences):
    engine, store, emb = engine_without_sentences
    own = float(emb.embed_query(SENTENCE) @ emb.embed([document_text("Imaging regeneration in fish",
                                                                      ABSTRACT_WITH_IT)])[0])
    assert abs(own) < 0.3  # the paper's own vector says little about the query
    semantic_before = dict(_scores(engine, "semantic"))
    hybrid_before = dict(_scores(engine, "hybrid"))
    assert semantic_before.get(TARGET, own) == pytest.approx(own, abs=0.01)

    assert embed_sentences(store, emb) == 21
    semantic = _scores(engine, "semantic")
    assert semantic[0][0] == TARGET
    # the query is one of its sentences: cosine 1 (to int8 precision), mixed half and half
    assert semantic[0][1] == pytest.approx((1 - fusion.SENTENCE_WEIGHT) * own + fusion.SENTENCE_WEIGHT, abs=0.01)
    hybrid = _scores(engine, "hybrid")
    assert hybrid[0] == (TARGET, pytest.approx(1.0))  # first in both lists now
    assert hybrid_before[TARGET] < 0.9  # the keywords had it, with a low semantic score


def test_a_search_engine_told_not_to_read_sentences_scores_papers_by_their_own_vectors(engine_without_sentences):
    engine, store, emb = engine_without_sentences
    semantic_before, hybrid_before = _scores(engine, "semantic"), _scores(engine, "hybrid")
    assert embed_sentences(store, emb) == 21
    engine.read_sentences = False  # what settings.embed_sentences = false gives the composition root
    assert _scores(engine, "semantic") == semantic_before
    assert _scores(engine, "hybrid") == hybrid_before


def test_embed_with_sentences_off_embeds_papers_only_and_the_app_does_not_read_them(cli, fixtures):
    import json

    from dailypapers.app import build_services
    from dailypapers.config import load_settings
    from dailypapers.search.embedder import DEFAULT_MODEL_DIR
    from dailypapers.storage import open_store

    model_id = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())["model_id"]
    cli("migrate", check=True)
    cli("ingest", "jsonl", str(fixtures / "arxiv_daily_sample.jsonl"), check=True)
    off = {"DAILYPAPERS_EMBED_SENTENCES": "false"}
    done = cli("embed", "--limit", "4", check=True, env=off).stdout
    assert "embedded 4 papers" in done and "sentence vectors are off (embed_sentences)" in done
    store = open_store(cli.db_url)
    try:
        assert store.count_sentence_tasks(model_id) == 4  # papers embedded, their sentences not
        done = cli("embed", "--limit", "2", check=True).stdout  # the default: on
        assert "embedded 2 papers" in done and "embedded the sentences of 2 papers" in done
        assert store.count_sentence_tasks(model_id) == 4  # 6 papers embedded, the sentences of 2
    finally:
        store.close()
    counts = json.loads(cli("stats", "--json", check=True).stdout)
    assert (counts["embeddings"], counts["sentence_vectors"]) == (6, 2)

    settings = load_settings(environ={**off, "DAILYPAPERS_DATA_DIR": str(cli.data_dir)})
    assert settings.embed_sentences is False
    services = build_services(settings.replace(database_url=cli.database_url), embedder=False, arxiv=object())
    try:
        assert services.search.read_sentences is False
    finally:
        services.store.close()
