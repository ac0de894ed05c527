"""The search service over a real store and real indexes: modes, filters, sorts, paging,
snippets, redirects, similar papers, and the lexical-only fallback without a model."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from search_helpers import FakeEmbedder, load_papers

from dailypapers.models import Paper
from dailypapers.search.embedder import document_text, load_embedder
from dailypapers.search.engine import (
    BadQuery,
    SearchEngine,
    SearchFilters,
    SearchResults,
    highlight_html,
    snippet_html,
)


def embed_all(store, embedder, batch: int = 64):
    while True:
        tasks = store.embedding_tasks(embedder.model_id, batch)
        if not tasks:
            return
        vecs = embedder.embed([document_text(t, a) for _, t, a in tasks])
        store.put_embeddings(embedder.model_id, [(i, "h", v.astype("<f4").tobytes()) for (i, _, _), v in zip(tasks, vecs)])


@pytest.fixture(scope="module")
def real_embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def module_store(tmp_path_factory):
    from dailypapers.storage.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path_factory.mktemp("engine") / "db.sqlite")
    store.migrate()
    rows = load_papers(store)
    yield store, rows
    store.close()


@pytest.fixture(scope="module")
def lexical_engine(module_store, tmp_path_factory):
    """Built once per module: the tests below only add papers with ids of their own."""
    store, rows = module_store
    engine = SearchEngine(store, tmp_path_factory.mktemp("lexical-index"), None)
    engine.sync()
    yield engine, rows
    engine.close()


@pytest.fixture(scope="module")
def hybrid_engine(module_store, tmp_path_factory, real_embedder):
    """A real embedder when the model is installed, else a deterministic fake one."""
    store, rows = module_store
    emb = real_embedder or FakeEmbedder()
    embed_all(store, emb)
    engine = SearchEngine(store, tmp_path_factory.mktemp("hybrid-index"), emb)
    assert engine.sync()["vectors"] >= len(rows)
    yield engine, rows, emb
    engine.close()


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"q": ""}, "Type something"),
        ({"q": "   "}, "Type something"),
        ({"q": "x" * 251}, "too long"),
        ({"q": "llm", "mode": "magic"}, "Unknown search mode"),
        ({"q": "llm", "sort": "random"}, "Unknown sort"),
        ({"q": "llm", "page": 0}, "page"),
        ({"q": "llm", "per_page": 1000}, "per page"),
        ({"q": "llm", "filters": SearchFilters(category="cs.CL; DROP")}, "category"),
        ({"q": "llm", "filters": SearchFilters(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))}, "date"),
    ],
)
def test_bad_queries(lexical_engine, kwargs, message):
    engine, _ = lexical_engine
    q = kwargs.pop("q")
    with pytest.raises(BadQuery, match=message):
        engine.search(q, **kwargs)


def test_250_chars_is_fine(lexical_engine):
    engine, _ = lexical_engine
    assert isinstance(engine.search("model " * 41 + "abcd"), SearchResults)


# -- lexical only (no model) ------------------------------------------------------------------
def test_without_model_search_is_lexical_and_says_so(lexical_engine):
    engine, _ = lexical_engine
    for mode in ("hybrid", "semantic", "lexical"):
        res = engine.search("language model reasoning", mode=mode)
        assert res.mode_used == "lexical" and res.semantic_available is False
        assert res.results and res.total >= len(res.results)
        if mode != "lexical":
            assert "keyword" in res.message


def test_exact_title_is_first(lexical_engine):
    engine, rows = lexical_engine
    for r in rows[:40]:
        res = engine.search(r["title"][:250])
        assert res.results[0].paper.title == r["title"]


def test_exact_title_is_first_in_hybrid_even_when_the_semantic_list_disagrees(tmp_path):
    """The query is a title in other case and punctuation: its fake vector points nowhere in
    particular, so without the exact-title rule RRF ranks papers found by both lists above it."""
    from dailypapers.search.engine import title_key
    from dailypapers.storage.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "db.sqlite")
    store.migrate()
    rows = load_papers(store)[:400]
    emb = FakeEmbedder()
    embed_all(store, emb)
    engine = SearchEngine(store, tmp_path / "index", emb)
    engine.sync()
    try:
        firsts = []
        for r in rows[:40]:
            q = " ".join(title_key(r["title"]).upper().split())[:250]
            res = engine.search(q, mode="hybrid")
            assert res.mode_used == "hybrid"
            firsts.append(title_key(res.results[0].paper.title) == title_key(r["title"]))
        assert all(firsts)
    finally:
        engine.close()
        store.close()


def test_redirect_for_ids_and_urls(lexical_engine):
    engine, rows = lexical_engine
    known = rows[0]["arxiv_id"]
    res = engine.search(f"https://arxiv.org/abs/{known}v3")
    assert res.redirect_id == known and res.results[0].paper.arxiv_id == known
    res = engine.search("2999.99999")
    assert res.redirect_id == "2999.99999" and not res.results and "not in this collection" in res.message


def test_pagination(lexical_engine):
    engine, _ = lexical_engine
    p1 = engine.search("model", per_page=10)
    p2 = engine.search("model", per_page=10, page=2)
    assert p1.total == p2.total > 20 and p1.has_next and not p1.has_prev and p2.has_prev
    assert not {h.paper.arxiv_id for h in p1.results} & {h.paper.arxiv_id for h in p2.results}
    assert [h.rank for h in p2.results] == list(range(11, 21))
    far = engine.search("model", per_page=100, page=11)
    assert far.results == [] and "first 1000" in far.message


def test_filters_and_sorts(lexical_engine):
    engine, _ = lexical_engine
    res = engine.search("model", filters=SearchFilters(has_code=True, min_upvotes=10), per_page=50)
    assert res.results and all(h.paper.github_repo and h.paper.upvotes >= 10 for h in res.results)
    res = engine.search("model", filters=SearchFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 3, 31)), per_page=50)
    assert res.results and all(dt.date(2025, 1, 1) <= h.paper.published.date() <= dt.date(2025, 3, 31) for h in res.results)
    res = engine.search("model", filters=SearchFilters(category="cs.CV"), per_page=50)
    assert res.results and all("cs.CV" in h.paper.categories for h in res.results)
    newest = engine.search("model", sort="newest", per_page=30)
    dates = [h.paper.published for h in newest.results if h.paper.published]
    assert dates == sorted(dates, reverse=True)
    top = engine.search("model", sort="upvotes", per_page=30)
    ups = [h.paper.upvotes for h in top.results]
    assert ups == sorted(ups, reverse=True)


def test_filter_only_queries_list_newest(lexical_engine):
    engine, rows = lexical_engine
    res = engine.search("cat:cs.CL", per_page=100)
    assert res.total == sum(1 for r in rows if "cs.CL" in r["categories"])
    res = engine.search("year:2025", per_page=20)
    assert res.results and all(h.paper.published.year == 2025 for h in res.results)
    dates = [h.paper.published for h in res.results]
    assert dates == sorted(dates, reverse=True)


def test_only_symbols_is_not_an_error(lexical_engine):
    engine, _ = lexical_engine
    res = engine.search("*** !!! ???")
    assert res.results == [] and res.message


@pytest.mark.parametrize(
    "q",
    ["' OR 1=1; --", '"unbalanced', "<script>alert(1)</script>", "模型 😀", "\x00\x1f", "a" * 250, "-model",
     'title:(x OR y)^3 AND NOT z~2', "author: cat: year:", '-"' + "x" * 240],
)
def test_hostile_queries(lexical_engine, q):
    engine, _ = lexical_engine
    res = engine.search(q)
    assert isinstance(res, SearchResults)
    for h in res.results:
        assert "<script" not in h.snippet_html and "<script" not in h.title_html


def test_snippets_are_escaped_and_marked():
    text = "We <b>propose</b> a transformer & study Transformers. " + "Filler sentence here. " * 40 + "Last transformer."
    out = snippet_html(text, ["transformer"])
    assert "<b>" not in out and "&lt;b&gt;" in out and "&amp;" in out
    assert "<mark>transformer</mark>" in out and "<mark>Transformers</mark>" in out
    assert len(html.unescape(out.replace("<mark>", "").replace("</mark>", ""))) <= 330
    assert highlight_html("Running <fast>", ["run"]) == "<mark>Running</mark> &lt;fast&gt;"
    assert highlight_html("Ünïcode İstanbul café", ["cafe", "istanbul"]).count("<mark>") >= 1
    # the passage with the most query words is chosen
    long = "Intro words here. " * 30 + "Diffusion models beat GANs on images. " + "Other words. " * 30
    assert "<mark>Diffusion</mark>" in snippet_html(long, ["diffusion", "images"])
    assert snippet_html("", ["x"]) == ""


def test_titles_highlighted_in_results(lexical_engine):
    engine, _ = lexical_engine
    res = engine.search("reasoning")
    assert any("<mark>" in h.title_html for h in res.results)


def test_similar_falls_back_to_title_words(lexical_engine):
    engine, rows = lexical_engine
    res = engine.similar(rows[0]["arxiv_id"], limit=5)
    assert res.mode_used == "lexical" and 0 < len(res.results) <= 5
    assert all(h.paper.arxiv_id != rows[0]["arxiv_id"] for h in res.results)
    assert engine.similar("2999.99999").results == []


def test_index_follows_the_store(store, tmp_path):
    """Catch-up by seq from either backend: new papers reach the lexical index, new vectors the
    vector index (the 500-paper modules above run on SQLite alone)."""
    emb = FakeEmbedder()
    store.ingest_batch([Paper("2599.00003", "Sparse mixture routing", "Abstract.", ["Q"])])
    embed_all(store, emb)
    engine = SearchEngine(store, tmp_path / "index", emb)
    try:
        assert engine.sync() == {"lexical": 1, "vectors": 1}
        store.ingest_batch([Paper("2599.00001", "Holographic quasicrystal metasurfaces", "Abstract.", ["Q"])])
        assert engine.search("quasicrystal").results == []
        assert engine.sync() == {"lexical": 1, "vectors": 0}
        assert engine.search("quasicrystal").results[0].paper.arxiv_id == "2599.00001"
        embed_all(store, emb)
        assert engine.sync() == {"lexical": 0, "vectors": 1}
        res = engine.search("Holographic quasicrystal metasurfaces", mode="semantic")
        assert res.results[0].paper.arxiv_id == "2599.00001"
    finally:
        engine.close()


# -- semantic and hybrid ----------------------------------------------------------------------
def test_hybrid_modes(hybrid_engine):
    engine, rows, emb = hybrid_engine
    assert engine.semantic_available
    target = rows[5]
    for mode in ("semantic", "hybrid", "lexical"):
        res = engine.search(target["title"][:250], mode=mode)
        assert res.mode_used == mode and res.semantic_available
        assert res.results[0].paper.arxiv_id == target["arxiv_id"], mode
        assert res.message is None
    res = engine.search(target["title"][:250], mode="hybrid")
    assert set(res.results[0].sources) == {"lexical", "semantic"}


def test_semantic_filters_exact_and_overfetch(hybrid_engine, monkeypatch):
    import dailypapers.search.engine as engine_mod

    engine, rows, _ = hybrid_engine
    f = SearchFilters(has_code=True)
    exact = engine.search("video generation", mode="semantic", filters=f, per_page=30)
    assert exact.results and all(h.paper.github_repo for h in exact.results)
    monkeypatch.setattr(engine_mod, "EXACT_FILTER_RATIO", 0)  # force over-fetch + filter
    monkeypatch.setattr(engine.vectors, "exact_index_max", 0)  # ... through the graph, not a small index's exact search
    approx = engine.search("video generation", mode="semantic", filters=f, per_page=30)
    assert approx.results and all(h.paper.github_repo for h in approx.results)
    # the graph is built on all cores, so it differs run to run: the approximate leg must find at
    # least 9 of the exact top 10, not always the same 10
    top = {h.paper.arxiv_id for h in exact.results[:10]}
    assert len(top & {h.paper.arxiv_id for h in approx.results[:10]}) >= 9
    monkeypatch.setattr(engine.columns, "passing", lambda *a: None)  # the papers passing from the lexical index
    via_index = engine.search("video generation", mode="semantic", filters=f, per_page=30)
    assert [h.paper.arxiv_id for h in via_index.results] == [h.paper.arxiv_id for h in exact.results]
    res = engine.search('"video" generation', mode="semantic", per_page=50)
    assert all("video" in (h.paper.title + h.paper.abstract).lower() for h in res.results)
    res = engine.search("robots -robot", mode="hybrid", per_page=50)
    assert all("robot" not in (h.paper.title + h.paper.abstract).lower() for h in res.results)


def test_hybrid_walks_the_graph_with_its_own_beam(hybrid_engine, monkeypatch):
    import dailypapers.search.engine as engine_mod
    from dailypapers.search.vectors import EXPANSION_SEARCH

    engine, rows, _ = hybrid_engine
    monkeypatch.setattr(engine.vectors, "exact_index_max", 0)  # through the graph, not a small index's exact search
    monkeypatch.setattr(engine_mod, "HYBRID_EF", engine_mod.POOL_DEPTH + 40)
    target = rows[7]
    res = engine.search(target["title"][:250], mode="hybrid")
    assert res.results[0].paper.arxiv_id == target["arxiv_id"]
    view = engine.vectors._current().view  # the beam the last graph search used
    assert view.expansion_search == engine_mod.POOL_DEPTH + 40
    engine.search(target["title"][:250], mode="semantic")
    assert view.expansion_search == EXPANSION_SEARCH


def test_papers_without_vectors_come_through_lexical(hybrid_engine, module_store):
    engine, _, _ = hybrid_engine
    store, _ = module_store
    store.ingest_batch([Paper("2599.00002", "Zyxomorphic lattice spintronics", "Abstract.", ["Q"])])
    engine.sync()
    res = engine.search("zyxomorphic spintronics", mode="hybrid")
    assert res.results[0].paper.arxiv_id == "2599.00002" and res.results[0].sources == ("lexical",)


def test_similar_uses_vectors(hybrid_engine):
    engine, rows, _ = hybrid_engine
    res = engine.similar(rows[3]["arxiv_id"], limit=5)
    assert res.mode_used == "semantic" and len(res.results) == 5
    assert rows[3]["arxiv_id"] not in {h.paper.arxiv_id for h in res.results}


def test_model_mismatch_falls_back(hybrid_engine, module_store):
    engine, _, _ = hybrid_engine
    store, _ = module_store
    other = SearchEngine(store, engine.index_dir, FakeEmbedder(model_id="another-model"))
    ok, why = other.semantic_status()
    assert not ok and "another model" in why
    res = other.search("language models")
    assert res.mode_used == "lexical" and "another model" in res.message


def test_semantic_pages(hybrid_engine):
    engine, _, _ = hybrid_engine
    p1 = engine.search("language models", mode="semantic", per_page=10)
    assert p1.has_next and len(p1.results) == 10
    p2 = engine.search("language models", mode="semantic", per_page=10, page=2)
    assert not {h.paper.arxiv_id for h in p1.results} & {h.paper.arxiv_id for h in p2.results}
    h2 = engine.search("language models", mode="hybrid", per_page=10, page=2)
    assert h2.has_next and len(h2.results) == 10 and h2.results[0].rank == 11


def test_sorts_in_hybrid(hybrid_engine):
    engine, _, _ = hybrid_engine
    res = engine.search("language models", sort="newest", per_page=40)
    dates = [h.paper.published for h in res.results]
    assert [d for d in dates if d] == sorted([d for d in dates if d], reverse=True)
    assert res.total <= 500


@pytest.mark.skipif(load_embedder() is None, reason="the embedding model is not installed")
def test_real_model_finds_paraphrases(hybrid_engine):
    engine, rows, _ = hybrid_engine
    with_summary = [r for r in rows if r.get("ai_summary")][:30]
    hits = 0
    for r in with_summary:
        res = engine.search(r["ai_summary"][:250], mode="semantic", per_page=10)
        hits += r["arxiv_id"] in {h.paper.arxiv_id for h in res.results}
    assert hits >= 0.8 * len(with_summary)


def test_a_failing_semantic_leg_degrades_to_lexical(hybrid_engine, monkeypatch):
    engine, _, emb = hybrid_engine

    def boom(text):
        raise RuntimeError("model crashed")

    monkeypatch.setattr(emb, "embed_query", boom)
    for mode in ("hybrid", "semantic"):
        res = engine.search("language models", mode=mode)
        assert res.mode_used == "lexical" and res.results and "keyword" in res.message


# -- relevance before sorts and filters -------------------------------------------------------
def _all_ids(engine, q: str, **kw) -> list[str]:
    first = engine.search(q, per_page=120, **kw)
    ids = [h.paper.arxiv_id for h in first.results]
    for page in range(2, first.pages + 1):
        ids += [h.paper.arxiv_id for h in engine.search(q, per_page=120, page=page, **kw).results]
    assert len(ids) == first.total  # the total is what one can page through
    return ids


@pytest.mark.parametrize("q", ["video generation", "language models", "reinforcement learning agents"])
def test_sorts_and_filters_only_narrow_and_reorder_the_relevant_set(hybrid_engine, q):
    engine, _, _ = hybrid_engine
    relevant = _all_ids(engine, q)
    assert relevant
    for sort in ("newest", "upvotes"):
        assert sorted(_all_ids(engine, q, sort=sort)) == sorted(relevant)
    f = SearchFilters(has_code=True, date_from=dt.date(2025, 1, 1))

    def passes(p) -> bool:
        return bool(p.github_repo and p.published and p.published.date() >= f.date_from)

    filtered = _all_ids(engine, q, filters=f, sort="upvotes")
    assert all(passes(p) for p in engine.store.get_papers(filtered).values())
    relevant_passing = {i for i, p in engine.store.get_papers(relevant).items() if passes(p)}
    # The filters restrict the rankers before the relevance rule: every relevant paper that passes
    # is found, and when the unfiltered count is complete, nothing else is.
    assert relevant_passing <= set(filtered)
    if engine.search(q).total_kind == "exact":
        assert set(filtered) == relevant_passing


def test_a_filter_reaches_relevant_papers_beyond_the_unfiltered_pool(hybrid_engine, monkeypatch):
    """Filters restrict both rankers (they are not applied to the unfiltered top results), and the
    similarity floor stays that of the whole collection."""
    from dailypapers.search import engine as engine_module

    engine, _, _ = hybrid_engine
    f = SearchFilters(has_code=True)
    wide = {h.paper.arxiv_id for h in engine.search("language models", filters=f, per_page=120).results}
    monkeypatch.setattr(engine_module, "POOL_DEPTH", 10)  # the unfiltered top 10 holds few with code
    unfiltered = {h.paper.arxiv_id for h in engine.search("language models", per_page=120).results}
    narrow = engine.search("language models", filters=f, per_page=120)
    assert all(h.paper.github_repo for h in narrow.results)
    assert len(narrow.results) > len({i for i, p in engine.store.get_papers(list(unfiltered)).items()
                                      if p.github_repo})
    assert {h.paper.arxiv_id for h in narrow.results} <= wide


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
def test_nonsense_finds_nothing_in_every_mode(hybrid_engine, mode):
    engine, _, _ = hybrid_engine
    res = engine.search("zzqxvbnm qwpfk", mode=mode, sort="upvotes")
    assert res.total == 0 and res.results == [] and res.relevant_total == 0


def test_a_word_shared_with_nonsense_gives_closest_titles_not_results(lexical_engine):
    engine, _ = lexical_engine
    res = engine.search("zzqxvbnm video")
    assert res.total == 0 and res.nearest
    assert all("video" in (p.title + p.abstract).lower() for p in res.nearest)


def test_categories_are_those_of_indexed_papers(lexical_engine, module_store):
    engine, rows = lexical_engine
    want = {c for r in rows for c in r["categories"] if "." in c}
    assert want and set(engine.categories()) == want


def test_hybrid_scores_every_candidate_with_both_rankers(hybrid_engine):
    """Convex fusion compares candidates on both scores: a paper only one leg returned gets the
    other ranker's own score (exact cosine; BM25, 0 when it does not match), not a guess."""
    import numpy as np

    from dailypapers.search.query import parse_query

    engine, rows, emb = hybrid_engine
    parsed = parse_query("reinforcement learning for robot control")
    lex, _ = engine.lexical.search_with_count(parsed, SearchFilters(), 20, 0, count=False)
    sem, _ = engine._semantic(parsed, SearchFilters(), 20)
    lists = engine._fusion_lists(parsed, SearchFilters(), lex, sem, complete=True)
    union = {h.arxiv_id for h in lex} | {i for i, _, _ in sem}
    lex_scores, sem_scores = dict(lists["lexical"]), dict(lists["semantic"])
    assert set(lex_scores) == union
    assert set(sem_scores) == union  # every paper here has a vector
    everything = {h.arxiv_id: h.score for h in engine.lexical.search(parsed, None, 10_000)}
    qvec = emb.embed_query(parsed.text)
    for i in union:
        assert lex_scores[i] == pytest.approx(everything.get(i, 0.0), rel=1e-5)
        v = engine.vectors.vector_for(i)
        assert sem_scores[i] == pytest.approx(float(np.dot(v, qvec) / np.linalg.norm(v) / np.linalg.norm(qvec)), abs=1e-3)
    # without completion the legs are what they returned
    raw = engine._fusion_lists(parsed, SearchFilters(), lex, sem, complete=False)
    assert [i for i, _ in raw["lexical"]] == [h.arxiv_id for h in lex]
    assert [i for i, _ in raw["semantic"]] == [i for i, _, _ in sem]


def test_keyword_hits_scored_by_meaning_during_the_vector_search_fuse_the_same(hybrid_engine):
    """Hybrid search scores its keyword hits' cosines on the request thread as soon as the helper
    has the query vector (while it searches the index): the fused lists are the same as when
    _fusion_lists scores the keyword-only papers itself."""
    from concurrent.futures import Future

    from dailypapers.search.query import parse_query

    engine, _, _ = hybrid_engine
    for q in ("reinforcement learning for robot control", "language models", "diffusion image generation"):
        parsed = parse_query(q)
        lex, _ = engine.lexical.search_with_count(parsed, SearchFilters(), 30, 0, count=False)
        ready: Future = Future()
        found = engine._semantic(parsed, SearchFilters(), 30, ready)
        assert found is not None and ready.done() and ready.result() is not None
        sem = found[0]
        cosines = engine._head_cosines(ready, lex)
        assert cosines is not None and set(cosines) <= {h.key for h in lex}
        itself = engine._fusion_lists(parsed, SearchFilters(), lex, sem)
        given = engine._fusion_lists(parsed, SearchFilters(), lex, sem, cosines=cosines)
        assert dict(given["lexical"]) == dict(itself["lexical"])
        assert dict(given["semantic"]) == dict(itself["semantic"])  # the same floats, not approximately


def test_a_failing_model_still_hands_over_no_vector(hybrid_engine, monkeypatch):
    """The request thread waits for the query vector: a model that fails must resolve it (None)."""
    from concurrent.futures import Future

    from dailypapers.search.query import parse_query

    engine, _, emb = hybrid_engine

    def boom(text):
        raise RuntimeError("model crashed")

    monkeypatch.setattr(emb, "embed_query", boom)
    ready: Future = Future()
    assert engine._semantic(parse_query("language models"), SearchFilters(), 10, ready) is None
    assert ready.result(timeout=1) is None and engine._head_cosines(ready, []) is None


def test_relevance_rule_sees_the_exact_cosine_of_keyword_only_hits(hybrid_engine, monkeypatch):
    """Hybrid search has scored every fused candidate with both rankers: a keyword hit the
    semantic list did not reach still comes to the relevance rule with its own cosine."""
    import numpy as np

    from dailypapers.search import engine as engine_module
    from dailypapers.search import fusion, relevance
    from dailypapers.search.query import parse_query

    engine, _, emb = hybrid_engine
    monkeypatch.setattr(engine_module, "POOL_DEPTH", 5)  # short lists, so that they differ
    monkeypatch.setattr(fusion, "DEPTH", 5)
    seen: list[relevance.Candidate] = []
    real = relevance.relevant

    def spy(ranked, n_words, **kw):
        seen.extend(ranked)
        return real(ranked, n_words, **kw)

    monkeypatch.setattr(relevance, "relevant", spy)
    q = "reinforcement learning for robot control"
    engine.search(q, mode="hybrid")
    keyword_only = [c for c in seen if c.words_matched is not None and c.id not in
                    {i for i, _, _ in engine._semantic(parse_query(q), SearchFilters(), 5)[0]}]
    assert keyword_only  # the two lists differ here
    qvec = emb.embed_query(parse_query(q).text)
    for c in keyword_only:
        v = engine.vectors.vector_for(c.id)
        assert c.similarity == pytest.approx(float(np.dot(v, qvec) / np.linalg.norm(v) / np.linalg.norm(qvec)), abs=1e-3)


def test_each_mode_judges_relevance_with_both_signals_when_it_can(hybrid_engine, lexical_engine, monkeypatch):
    """The rule sees a keyword hit's cosine in a keyword search (when the model and vectors are
    there) and a semantic hit's words in a semantic search; the ranking stays the mode's own."""
    from dailypapers.search import relevance

    seen: list[relevance.Candidate] = []
    real = relevance.relevant

    def spy(ranked, n_words, **kw):
        seen.extend(ranked)
        return real(ranked, n_words, **kw)

    monkeypatch.setattr(relevance, "relevant", spy)
    engine, _, _ = hybrid_engine
    q = "reinforcement learning for robot control"
    lex = engine.search(q, mode="lexical", per_page=50)
    assert seen and all(c.similarity is not None for c in seen)
    assert [h.score for h in lex.results[:5]] == sorted((h.score for h in lex.results[:5]), reverse=True)
    seen.clear()
    engine.search(q, mode="semantic")
    assert seen and all(c.words_matched is not None for c in seen)
    seen.clear()
    no_model, _ = lexical_engine
    no_model.search(q)
    assert seen and all(c.similarity is None for c in seen)


def test_filters_that_leave_nothing_count_what_matches_without_them(hybrid_engine):
    engine, _, _ = hybrid_engine
    plain = engine.search("language models")
    none = engine.search("language models", filters=SearchFilters(min_upvotes=10**6))
    assert none.total == 0 and not none.results and not none.nearest
    assert none.relevant_total == plain.total and none.relevant_kind == plain.total_kind
    some = engine.search("language models", filters=SearchFilters(has_code=True))
    assert some.total and some.relevant_total == some.total
