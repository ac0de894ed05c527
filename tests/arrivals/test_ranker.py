"""The ranker on a real slice of arrivals and Hugging Face lists."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from dailypapers.arrivals import ranker
from dailypapers.arrivals.history import History, labels
from dailypapers.models import Paper

TODAY = dt.date(2025, 10, 31)


def _frequent_author(history: History) -> tuple[str, int]:
    counts = collections.Counter(a for p in history.picks if p.day < TODAY for a in p.paper.authors)
    return counts.most_common(1)[0]


def _today(history: History) -> list[Paper]:
    return [a.paper for a in history.arrivals if a.day == TODAY]


def test_a_frequently_listed_author_lifts_an_otherwise_identical_paper(slice_history):
    author, times = _frequent_author(slice_history)
    assert times >= 3
    trained = ranker.train(slice_history, TODAY)
    assert trained is not None
    newcomers = [p for p in _today(slice_history) if author not in p.authors]
    plain = newcomers[0]
    with_author = dataclasses.replace(plain, arxiv_id="9999.00001", authors=plain.authors[:-1] + [author])
    scored = {s.arxiv_id: s for s in trained.rank([plain, with_author])}
    assert scored[with_author.arxiv_id].score > scored[plain.arxiv_id].score
    assert any(f"authors listed {times} times before ({author})" in r for r in scored[with_author.arxiv_id].reasons)


def test_every_arrival_gets_a_score_and_reasons(slice_history):
    arrivals = _today(slice_history)
    ranked = ranker.rank(slice_history, arrivals, TODAY)
    assert sorted(s.arxiv_id for s in ranked) == sorted(p.arxiv_id for p in arrivals)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    for s in ranked:
        assert 1 <= len(s.reasons) <= ranker.REASONS_SHOWN
        assert all(isinstance(r, str) and r for r in s.reasons)
        assert not any("no history" in r for r in s.reasons)


def test_the_picks_of_the_day_rank_above_the_rest(slice_history):
    """On the slice's last day, the arrivals Hugging Face went on to list score higher
    on average than the sampled others (a weak check: the slice is small)."""
    arrivals = _today(slice_history)
    truth = labels([a for a in slice_history.arrivals if a.day == TODAY], slice_history.picks)
    ranked = ranker.rank(slice_history, arrivals, TODAY)
    picked = [i for i, s in enumerate(ranked) if truth[s.arxiv_id].picked]
    others = [i for i, s in enumerate(ranked) if not truth[s.arxiv_id].picked]
    assert picked and others
    assert sum(picked) / len(picked) < sum(others) / len(others)


def test_todays_lists_are_not_used(slice_history):
    """Picks dated today or later (not yet known in the morning) change nothing."""
    arrivals = _today(slice_history)
    known = History.of(slice_history.arrivals, [p for p in slice_history.picks if p.day < TODAY])
    a = ranker.rank(slice_history, arrivals, TODAY)
    b = ranker.rank(known, arrivals, TODAY)
    assert [(s.arxiv_id, round(s.score, 9)) for s in a] == [(s.arxiv_id, round(s.score, 9)) for s in b]


def test_no_history_falls_back_on_the_bundled_picks_and_says_so(slice_history):
    seeds = ranker.load_seed_picks()
    assert len(seeds) >= 100
    arrivals = _today(slice_history)[:20]
    twin = dataclasses.replace(seeds[0], arxiv_id="9999.00002")  # the text of a bundled pick
    ranked = ranker.rank(History.of([], []), arrivals + [twin], TODAY)
    assert len(ranked) == len(arrivals) + 1
    assert ranked[0].arxiv_id == twin.arxiv_id
    for s in ranked:
        assert s.reasons[0].startswith("no history yet: ranked by closeness to")


def test_too_little_history_also_falls_back(slice_history):
    early = slice_history.before(dt.date(2025, 10, 10))  # no label window has closed yet
    assert ranker.train(early, dt.date(2025, 10, 10)) is None
    ranked = ranker.rank(early, _today(slice_history)[:5], dt.date(2025, 10, 10))
    assert all(s.reasons[0].startswith("no history yet") for s in ranked)


def test_the_reason_names_the_listed_author_when_a_name_is_written_twice(slice_history):
    author, times = _frequent_author(slice_history)
    trained = ranker.train(slice_history, TODAY)
    assert trained is not None
    plain = next(p for p in _today(slice_history) if author not in p.authors)
    # the same newcomer twice (two spellings of one key), then the listed author
    twice = dataclasses.replace(plain, arxiv_id="9999.00002",
                                authors=["Zoë Newcomer-Doe", "Zoe Newcomer Doe", author])
    [scored] = trained.rank([twice])
    assert any(f"authors listed {times} times before ({author})" in r for r in scored.reasons)


def test_author_names_are_matched_loosely():
    assert ranker.author_key("José  García-López") == ranker.author_key("Jose Garcia Lopez")


def test_the_fast_tfidf_gives_the_vectorizers_numbers(slice_history):
    texts = [ranker.paper_text(a.paper) for a in slice_history.arrivals[:300]]
    vectorizer = ranker.new_vectorizer().fit(texts[:200])
    texts += ["", "the and of", "Überraschung: naïve café-au-lait X2 a b"]
    expected = vectorizer.transform(texts).toarray()
    np.testing.assert_allclose(ranker.tfidf(vectorizer, texts).toarray(), expected, atol=1e-6)


def test_the_fast_tfidf_follows_a_refitted_vectorizer(slice_history):
    texts = [ranker.paper_text(a.paper) for a in slice_history.arrivals[:400]]
    vectorizer = ranker.new_vectorizer().fit(texts[:200])
    ranker.tfidf(vectorizer, texts[300:])  # keeps the first vocabulary's ASCII words
    vectorizer.fit(texts[200:300])
    expected = vectorizer.transform(texts[300:]).toarray()
    np.testing.assert_allclose(ranker.tfidf(vectorizer, texts[300:]).toarray(), expected, atol=1e-6)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
@example("A_b C__d x2 1 22 a'b _ __ e.g. (ViT-L/14) Top-1 \t\nFOO")
def test_ascii_text_splits_into_the_vectorizers_tokens(text):
    pattern = ranker.new_vectorizer().token_pattern
    runs = text.encode().translate(ranker._ASCII_WORDS).split()
    assert [w.decode() for w in runs if len(w) > 1] == re.findall(pattern, text.lower())


def test_a_code_link_is_found_by_its_marks_alone(slice_history):
    assert all(any(hint in mark for hint in ranker.CODE_LINK_HINTS) for mark in ranker.CODE_LINK_MARKS)
    papers = [a.paper for a in slice_history.arrivals[:2000]]
    plain = papers[0]
    papers += [dataclasses.replace(plain, abstract=f"Results. {mark.upper()} x", comment=None)
               for mark in ranker.CODE_LINK_MARKS]
    papers += [dataclasses.replace(plain, abstract="An encoder-decoder with a codebook.", comment="Code: soon")]
    found = [ranker.has_code_link(p) for p in papers]
    assert found == [any(m in f"{p.abstract} {p.comment or ''}".lower() for m in ranker.CODE_LINK_MARKS)
                     for p in papers]
    assert all(found[-len(ranker.CODE_LINK_MARKS) - 1:-1]) and not found[-1]


@given(st.text())
@example("a_b c__d é-ü x2 1 22 ab\u0301c 𝔘𝔫 日本語 a'b _ __ ǅx ⅷ ²3 ٣٤")
def test_the_tokens_are_those_of_the_vectorizers_pattern(text):
    pattern = ranker.new_vectorizer().token_pattern
    assert ranker._token_finder(pattern)(text) == re.findall(pattern, text)


def test_reasons_for_a_batch_match_reasons_one_by_one(slice_history):
    trained = ranker.train(slice_history, TODAY)
    assert trained is not None
    ranked = trained.rank(_today(slice_history))
    for s in ranked[:5] + ranked[-5:]:
        alone = trained.rank([p for p in _today(slice_history) if p.arxiv_id == s.arxiv_id])
        assert alone[0].reasons == s.reasons


def _folded_vectors(history: History, dim: int = 64) -> dict[str, np.ndarray]:
    """A vector for every paper: its TF-IDF row folded to `dim` dimensions (a stand-in for
    the embeddings, with the same property that papers on one subject point one way)."""
    papers = {a.paper.arxiv_id: a.paper for a in history.arrivals} | {p.paper.arxiv_id: p.paper for p in history.picks}
    vectorizer = ranker.new_vectorizer().fit([ranker.paper_text(p) for p in papers.values()])
    matrix = vectorizer.transform([ranker.paper_text(p) for p in papers.values()]).toarray()
    folded = matrix[:, : (matrix.shape[1] // dim) * dim].reshape(len(papers), -1, dim).sum(axis=1)
    return dict(zip(papers, folded.astype(np.float32)))


def test_todays_vectors_reach_the_closeness_features(slice_history):
    """Two arrivals with the same words and authors, one given the direction of recent picks and
    one that of past non-picks: the closeness in embedding space tells them apart, from the vectors
    handed to rank() (today's arrivals are newer than the history the model was trained with)."""
    vectors = _folded_vectors(slice_history)
    history = History.of(slice_history.arrivals, slice_history.picks)
    trained = ranker.train(history, TODAY, embeddings=vectors)
    assert trained is not None
    recent = [p.paper.arxiv_id for p in slice_history.picks
              if TODAY - dt.timedelta(days=ranker.RECENT_PICKS_DAYS) <= p.day < TODAY]
    known = labels([a for a in slice_history.arrivals if a.day < TODAY - dt.timedelta(days=7)], slice_history.picks)
    near_vector = vectors[recent[0]]
    far_vector = np.mean([vectors[i] for i, label in known.items() if not label.picked], axis=0)
    base = _today(slice_history)[0]
    near, far = (dataclasses.replace(base, arxiv_id=i) for i in ("9999.00011", "9999.00012"))
    scored = {s.arxiv_id: s for s in trained.rank([near, far], {near.arxiv_id: near_vector, far.arxiv_id: far_vector})}
    assert scored[near.arxiv_id].score > scored[far.arxiv_id].score
    # without vectors the two are the same paper again
    blind = {s.arxiv_id: s.score for s in trained.rank([near, far])}
    assert blind[near.arxiv_id] == blind[far.arxiv_id]
