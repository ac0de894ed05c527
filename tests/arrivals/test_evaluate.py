"""Replay evaluation: metrics by hand, no leakage, and a run on the real slice."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from dailypapers.arrivals import evaluate
from dailypapers.arrivals.history import LABEL_WINDOW_DAYS, History

TEST_DAY = dt.date(2025, 10, 27)


def test_metrics_of_a_tiny_day_by_hand():
    # Five arrivals ranked b, a, c, d, e. a was picked with 2 upvotes (gain log2(4) = 2),
    # c with 0 (gain log2(2) = 1); the others were not picked.
    scores = {"a": 0.8, "b": 0.9, "c": 0.5, "d": 0.3, "e": 0.1}
    upvotes = {"a": 2, "b": None, "c": 0, "d": None, "e": None}
    ids = sorted(scores)
    m = evaluate.day_metrics([scores[i] for i in ids], [upvotes[i] for i in ids])
    dcg = 0 + 2 / math.log2(3) + 1 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg@20"] == pytest.approx(dcg / ideal)
    assert m["ndcg@20"] == pytest.approx(0.66967, abs=1e-5)
    assert m["recall@20"] == 1.0
    assert m["p@10"] == pytest.approx(2 / 10)


def test_cut_offs_count():
    # 25 arrivals, picks at ranks 1, 12 and 22 (all with 0 upvotes: gain 1).
    upvotes = [None] * 25
    for rank in (1, 12, 22):
        upvotes[rank - 1] = 0
    scores = [25 - i for i in range(25)]
    m = evaluate.day_metrics(scores, upvotes)
    assert m["recall@20"] == pytest.approx(2 / 3)
    assert m["p@10"] == pytest.approx(1 / 10)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@20"] == pytest.approx((1 + 1 / math.log2(13)) / ideal)


def test_a_perfect_order_scores_one_and_gain_prefers_upvotes():
    assert evaluate.day_metrics([3, 2, 1], [10, 0, None])["ndcg@20"] == pytest.approx(1.0)
    assert evaluate.day_metrics([3, 2, 1], [0, 10, None])["ndcg@20"] < 1.0
    assert evaluate.gain(0) == 1.0 and evaluate.gain(2) == 2.0


def _replay(history: History, test_from: dt.date) -> evaluate.Replay:
    return evaluate.Replay.build(history.arrivals, history.picks, test_from)


def test_training_uses_only_closed_label_windows(slice_history):
    replay = _replay(slice_history, TEST_DAY)
    idx, y = replay.training(TEST_DAY)
    assert len(idx) and y.sum()
    days = {replay.rows[i].day for i in idx}
    assert max(days) + dt.timedelta(days=LABEL_WINDOW_DAYS) < TEST_DAY
    assert not any(replay.rows[i].day == TEST_DAY for i in idx)


def test_a_days_own_labels_are_not_visible_to_its_training(slice_history):
    """Scores for the test day are the same whether or not the lists dated that day and
    later exist: whatever the day's picks are, the ranking cannot have seen them."""
    full = _replay(slice_history, TEST_DAY)
    blind = _replay(History.of(slice_history.arrivals, [p for p in slice_history.picks if p.day < TEST_DAY]), TEST_DAY)
    assert sum(u is not None for u in full.upvotes(TEST_DAY)) > 0  # the day does have picks
    assert all(u is None for u in blind.upvotes(TEST_DAY))
    for method in evaluate.METHODS:
        np.testing.assert_allclose(full.scores(TEST_DAY, method), blind.scores(TEST_DAY, method))


def test_evaluate_runs_all_methods_on_the_slice(slice_history):
    result = evaluate.evaluate(slice_history.arrivals, slice_history.picks, dt.date(2025, 10, 27), dt.date(2025, 10, 31))
    assert result["test_until"] == "2025-10-31"
    days = {a.day for a in slice_history.arrivals if dt.date(2025, 10, 27) <= a.day <= dt.date(2025, 10, 31)}
    for method in evaluate.METHODS:
        m = result["methods"][method]
        assert m["days"] >= 3
        assert m["days"] + result["days_without_picks"] == len(days)
        for key in ("ndcg@20", "recall@20", "p@10"):
            assert 0.0 <= m[key] <= 1.0


def test_the_test_ends_where_the_lists_stop_covering_the_window(slice_history):
    result = evaluate.evaluate(slice_history.arrivals, slice_history.picks, dt.date(2025, 10, 30), methods=("random",))
    last_list = max(p.day for p in slice_history.picks)
    assert result["test_until"] == min(dt.date(2025, 10, 31), last_list - dt.timedelta(days=LABEL_WINDOW_DAYS)).isoformat()


def test_embeddings_for_only_some_papers_are_refused(slice_history, fixtures):
    """The project's demo vectors cover Hugging Face's papers only: in a replay, having a
    vector would mean "was picked"."""
    demo = evaluate.load_embeddings(fixtures.parent.parent / "demo" / "embeddings.npz")
    ids = {a.paper.arxiv_id for a in slice_history.arrivals}
    partial = {i: v for i, v in demo.items() if i in ids}
    assert partial
    with pytest.raises(ValueError, match="cover"):
        evaluate.evaluate(slice_history.arrivals, slice_history.picks, TEST_DAY, methods=("random",), embeddings=partial)


def test_embeddings_feed_the_closeness_features(slice_history):
    """With a vector for every paper (here each paper's TF-IDF row folded to 64 dimensions),
    the embedding features are filled and the replay runs."""
    from dailypapers.arrivals import ranker

    papers = {a.paper.arxiv_id: a.paper for a in slice_history.arrivals} | {p.paper.arxiv_id: p.paper for p in slice_history.picks}
    vectorizer = ranker.new_vectorizer().fit([ranker.paper_text(p) for p in papers.values()])
    matrix = vectorizer.transform([ranker.paper_text(p) for p in papers.values()]).toarray()
    folded = matrix[:, : (matrix.shape[1] // 64) * 64].reshape(len(papers), -1, 64).sum(axis=1)
    vectors = dict(zip(papers, folded))
    replay = evaluate.Replay.build(slice_history.arrivals, slice_history.picks, TEST_DAY, embeddings=vectors)
    column = ranker.DENSE.index("embedding_max")
    assert replay.features.dense[:, column].max() > 0
    assert len(replay.scores(TEST_DAY, "ranker")) == len(replay.by_day[TEST_DAY])


def test_a_paired_difference_by_hand():
    d = evaluate.paired_difference([0.5, 0.7, 0.6], [0.4, 0.4, 0.6])
    assert d["mean"] == pytest.approx(0.4 / 3)
    assert d["se"] == pytest.approx(np.std([0.1, 0.3, 0.0], ddof=1) / math.sqrt(3))
    assert d["days"] == 3


def test_the_replay_reports_the_ranker_against_the_baseline_day_by_day(slice_history):
    result = evaluate.evaluate(slice_history.arrivals, slice_history.picks, TEST_DAY, dt.date(2025, 10, 31),
                               methods=("ranker", "tfidf_lr"))
    pair = result["paired"]["ranker-tfidf_lr"]["ndcg@20"]
    methods = result["methods"]
    assert pair["days"] == methods["ranker"]["days"]
    assert pair["mean"] == pytest.approx(methods["ranker"]["ndcg@20"] - methods["tfidf_lr"]["ndcg@20"])


def test_the_text_baseline_reads_authors_and_categories_as_words(slice_history):
    """tfidf_lr_text is arxiv-sanity-lite's way: one text of title, abstract, names and categories."""
    paper = slice_history.arrivals[0].paper
    text = evaluate.baseline_text(paper)
    assert paper.title in text and paper.authors[0] in text and paper.categories[0].replace(".", "_") in text
    replay = _replay(slice_history, TEST_DAY)
    x = replay.text_baseline()
    assert x.shape[0] == len(replay.rows) and x.nnz > 0
    scores = replay.scores(TEST_DAY, "tfidf_lr_text")
    assert len(scores) == len(replay.by_day[TEST_DAY])
    assert not np.allclose(scores, replay.scores(TEST_DAY, "tfidf_lr"))
