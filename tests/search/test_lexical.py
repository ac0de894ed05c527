"""The tantivy index: sync by seq, upserts, rebuild, field weights, filters, readers reloading."""

from __future__ import annotations

import datetime as dt

import pytest
import tantivy
from search_helpers import load_papers

from dailypapers.models import Listing, Paper
from dailypapers.search.catchup import iter_changed
from dailypapers.search.lexical import (
    SCHEMA_VERSION,
    LexicalIndex,
    analyze,
    analyze_positions,
    is_short_query,
    strip_tex,
    title_pairs,
)
from dailypapers.search.query import SearchFilters, parse_query
from dailypapers.storage.sqlite import SQLiteStore

T0 = dt.datetime(2025, 1, 3, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Built once per module; tests that change the index build their own."""
    path = tmp_path_factory.mktemp("lexical")
    store = SQLiteStore(path / "db.sqlite")
    store.migrate()
    rows = load_papers(store)
    index = LexicalIndex(path / "index" / "lexical")
    assert index.sync(store) == len(rows)
    yield store, index, rows
    index.close()
    store.close()


def ids(hits):
    return [h.arxiv_id for h in hits]


def test_analyzer_stems_and_folds():
    assert analyze("Running Transformers café") == ["run", "transform", "cafe"]
    assert analyze("studies studying studied") == ["studi", "studi", "studi"]
    assert analyze("Networks") == analyze("network") == ["network"]


def test_analyzer_splits_hyphens_and_digits():
    assert analyze("self-supervised") == ["self", "supervis"]
    assert analyze("COVID-19 and IL-6") == ["covid", "19", "il", "6"]
    assert analyze("GPT-4o, x86_64 3.5%") == ["gpt", "4o", "x86", "64", "3", "5"]


def test_analyzer_drops_stop_words_but_keeps_their_positions():
    assert analyze("the state of the art") == ["state", "art"]
    assert analyze_positions("the state of the art") == [(1, "state"), (4, "art")]
    assert analyze("to be or not to be") == []


def test_analyzer_drops_tex_formatting():
    assert analyze(r"$\mathcal{O}(n^2)$ attention") == ["o", "n", "2", "attent"]
    assert analyze(r"\textbf{Fast} $\mathbb{R}^d$ \left( x \right)") == ["fast", "r", "d", "x"]
    # symbol names are words: \alpha stays "alpha"; a backslash-free text is untouched
    assert analyze(r"$\alpha$-synuclein") == ["alpha", "synuclein"]
    assert strip_tex("no markup here") == "no markup here"


def test_hyphenated_query_words_match_their_parts(store, tmp_path):
    store.ingest_batch([
        Paper("2501.00031", "Supervised learning of self maps", "We study maps.", ["A"]),
        Paper("2501.00032", "Contrastive pretraining", "A self-supervised method.", ["B"]),
        Paper("2501.00033", "Unrelated", "Nothing here.", ["C"]),
    ])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    # both papers have both parts; the quoted form requires them adjacent
    assert set(ids(index.search(parse_query("self-supervised")))) == {"2501.00031", "2501.00032"}
    assert ids(index.search(parse_query('"self-supervised"'))) == ["2501.00032"]
    assert ids(index.search(parse_query('"state of the art"'))) == []
    store.ingest_batch([Paper("2501.00034", "State of the art parsing", "Abstract.", ["D"])])
    index.sync(store)
    assert ids(index.search(parse_query('"state of the art"'))) == ["2501.00034"]
    assert ids(index.search(parse_query(r"$\mathcal{O}$ mathcal"))) == []


def test_short_topic_query_prefers_the_title(store, tmp_path):
    """A paper about the topic (in its title) ranks above one that mentions it several times
    in passing; short queries score their words as a phrase in the title."""
    store.ingest_batch([
        Paper("2501.00041", "Diffusion models for video", "We generate video.", ["A"]),
        Paper("2501.00042", "A survey of robot arms",
              "Models of robots; diffusion of ideas; we compare diffusion models and other models "
              "of diffusion in passing.", ["B"]),
    ])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert ids(index.search(parse_query("diffusion models")))[0] == "2501.00041"
    assert is_short_query(parse_query("diffusion models")) and is_short_query(parse_query("RLHF"))
    assert not is_short_query(parse_query("a claim about how diffusion models generate long videos"))
    assert not is_short_query(parse_query('"diffusion models"'))  # quoted: the user said how


def test_title_pairs_are_adjacent_stems_across_stop_words():
    assert title_pairs("Chain of Thought Prompting for Large Language Models") == [
        "chain_thought", "thought_prompt", "prompt_larg", "larg_languag", "languag_model"]
    assert title_pairs(r"$\mathcal{O}(n)$ attention") == ["o_n", "n_attent"]  # TeX dropped first
    assert title_pairs("Transformers") == [] and title_pairs("") == []


def test_short_query_title_bonus_needs_the_words_in_order(store, tmp_path, monkeypatch):
    """The bonus of a short query of several words goes to a title holding them next to each
    other: without it the shorter title that holds them apart ranks first, with it the other."""
    from dailypapers.search import lexical

    store.ingest_batch([
        Paper("2501.00051", "Language models for code generation in practice", "We study code.", ["A"]),
        Paper("2501.00052", "Models of language", "We study code.", ["B"]),
    ])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert ids(index.search(parse_query("language models"))) == ["2501.00051", "2501.00052"]
    monkeypatch.setattr(lexical, "TITLE_PHRASE_BOOST", 0.0)
    assert ids(index.search(parse_query("language models"))) == ["2501.00052", "2501.00051"]


def test_short_query_is_made_of_term_clauses_only(loaded):
    """A phrase query among the optional clauses would keep tantivy from skipping documents by
    their best possible score (block-max WAND): the title bonus of a short query is terms."""
    _, index, _ = loaded
    for q in ("diffusion models", "large language models", "chain of thought", "rlhf"):
        built = repr(index.build_query(parse_query(q)))
        assert "TermQuery" in built and "Phrase" not in built, q
    assert "Phrase" in repr(index.build_query(parse_query('"diffusion models"')))  # quoted: a phrase


def test_term_queries_do_not_ask_for_positions(loaded, monkeypatch):
    """Only a phrase needs positions. A term asks tantivy for frequencies (BM25) or for the
    documents alone; tantivy-py's default ("position") had every search read the positions file."""
    _, index, _ = loaded
    real = tantivy.Query.term_query
    asked: list[tuple[str, str]] = []

    def term_query(schema, field, value, index_option="position"):  # the real query, its option noted
        asked.append((field, index_option))
        return real(schema, field, value, index_option=index_option)

    monkeypatch.setattr(tantivy.Query, "term_query", staticmethod(term_query))
    for q in ("diffusion models for video", "transformer", "graph networks cat:cs.LG"):
        parsed = parse_query(q)
        filters = SearchFilters(category="cs.CV", has_code=True, organization="Meta")
        hits = index.search(parsed, None, 50)
        index.search(parsed, filters, 50)
        index.words_matched([frozenset(analyze(w)) for w in q.split()[:2]], [h.key for h in hits])
        index.count_containing(parsed, analyze(q.split()[0]), filters)
    fields = {f for f, _ in asked}
    assert {"text", "title", "categories", "has_code", "organization", "key"} <= fields
    assert [a for a in asked if a[1] == "position"] == []
    assert {opt for f, opt in asked if f in ("text", "title")} == {"freq", "basic"}  # BM25; match only


def test_sync_indexes_everything_once(loaded):
    store, index, rows = loaded
    assert index.count() == len(rows)
    assert index.last_seq == store.max_seq()
    assert index.sync(store) == 0  # nothing changed


def test_exact_title_ranks_first(loaded):
    _, index, rows = loaded
    misses = []
    for r in rows[:150]:
        top = index.search(parse_query(r["title"][:250]), limit=1)
        if not top or top[0].arxiv_id != r["arxiv_id"]:
            misses.append(r["title"])
    assert len(misses) <= 2, misses


def test_title_outweighs_abstract(store, tmp_path):
    store.ingest_batch([
        Paper("2501.00001", "Unrelated heading", "We study zebrafish tracking in depth.", ["A. Author"]),
        Paper("2501.00002", "Zebrafish tracking", "A method for following animals.", ["B. Author"]),
    ])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert ids(index.search(parse_query("zebrafish"))) == ["2501.00002", "2501.00001"]


def test_authors_searchable_and_folded(store, tmp_path):
    store.ingest_batch([
        Paper("2501.00003", "On graphs", "Graphs are everywhere.", ["Jürgen Müller", "Ada Lovelace"]),
        Paper("2501.00004", "On trees", "Trees are graphs.", ["Ada Smith"]),
    ])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert ids(index.search(parse_query("muller"))) == ["2501.00003"]
    assert ids(index.search(parse_query('author:"ada lovelace"'))) == ["2501.00003"]
    assert ids(index.search(parse_query("author:ada graphs"))) == ["2501.00003", "2501.00004"]
    # a phrase does not match across two authors' names
    assert ids(index.search(parse_query('author:"Müller Ada"'))) == []


def test_phrases_required_and_exclusions(loaded):
    _, index, _ = loaded
    hits = index.search(parse_query('"reinforcement learning"'), limit=500)
    assert hits
    hits_ex = index.search(parse_query('"reinforcement learning" -reward'), limit=500)
    assert 0 < len(hits_ex) < len(hits)
    assert set(ids(hits_ex)) <= set(ids(hits))
    hits_ex2 = index.search(parse_query('"reinforcement learning" -"language model"'), limit=500)
    assert len(hits_ex2) < len(hits)


def test_upsert_replaces_not_duplicates(store, tmp_path):
    store.ingest_batch([Paper("2501.00005", "Old title about cats", "Abstract.", ["X"])])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    store.ingest_batch([Paper("2501.00005", "New title about dogs", "Abstract.", ["X"], version=2)])
    assert index.sync(store) == 1
    assert index.count() == 1
    assert ids(index.search(parse_query("dogs"))) == ["2501.00005"]
    assert index.search(parse_query("cats")) == []


def test_filters(loaded):
    store, index, rows = loaded
    cs_cv = [r["arxiv_id"] for r in rows if "cs.CV" in r["categories"]]
    hits = index.search(parse_query("cat:cs.CV"), limit=1000)
    assert sorted(ids(hits)) == sorted(cs_cv)
    assert len(index.search(parse_query("cat:cs"), limit=1000)) == sum(1 for r in rows if r["categories"])
    assert sorted(ids(index.search(parse_query("model"), SearchFilters(category="cs.cv"), limit=1000))) == sorted(
        ids(index.search(parse_query("model cat:cs.CV"), limit=1000))
    )
    # dates
    f = SearchFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 6, 30))
    got = set(ids(index.search(parse_query("model"), f, limit=1000)))
    papers = store.get_papers(list(got))
    assert got and all(dt.date(2025, 1, 1) <= p.published.date() <= dt.date(2025, 6, 30) for p in papers.values())
    y = set(ids(index.search(parse_query("model year:2025"), limit=1000)))
    assert got <= y
    assert all(p.published.year == 2025 for p in store.get_papers(list(y)).values())
    # has code, upvotes
    code = index.search(parse_query("model"), SearchFilters(has_code=True), limit=1000)
    assert code and all(p.github_repo for p in store.get_papers(ids(code)).values())
    up = index.search(parse_query("model"), SearchFilters(min_upvotes=50), limit=1000)
    assert up and all(p.upvotes >= 50 for p in store.get_papers(ids(up)).values())
    # an empty date range matches nothing rather than failing
    backwards = SearchFilters(date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))
    assert index.search(parse_query("model"), backwards) == []


def test_orders_and_counts(loaded):
    store, index, _ = loaded
    hits, total = index.search_with_count(parse_query("model"), limit=10, order="newest")
    assert total >= 10
    dates = [store.get_paper(h.arxiv_id).published for h in hits]
    assert dates == sorted(dates, reverse=True)
    hits, _ = index.search_with_count(parse_query("model"), limit=10, order="upvotes")
    ups = [store.get_paper(h.arxiv_id).upvotes for h in hits]
    assert ups == sorted(ups, reverse=True)
    page1 = index.search(parse_query("model"), limit=10)
    page2 = index.search(parse_query("model"), limit=10, offset=10)
    assert not set(ids(page1)) & set(ids(page2))


HOSTILE = [
    "' OR 1=1; --", 'title:(foo OR bar) AND NOT baz^3 ~2 [1 TO 5]', "* ? + - && || ! ( ) { } [ ] ^ ~ : \\ /",
    '"unbalanced', '"', "\x00\x01\x02", "模型 😀", "a" * 10_000, " ".join(["model"] * 3000),
    "author:\" cat:\" year:\"", "-" * 500, '"' * 501, "AND OR NOT", "*", "field:*", "https://example.com/?q=1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_fail(loaded, text):
    _, index, _ = loaded
    hits = index.search(parse_query(text), limit=5)
    assert isinstance(hits, list)


def test_reader_picks_up_commits(store, tmp_path):
    path = tmp_path / "lex"
    writer = LexicalIndex(path)
    reader = LexicalIndex(path, create=False)
    assert reader.count() == 0
    store.ingest_batch([Paper("2501.00006", "Quasicrystal lattices", "Abstract.", ["Y"])])
    writer.sync(store)
    assert ids(reader.search(parse_query("quasicrystal"))) == ["2501.00006"]


def test_reader_needs_an_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="reindex"):
        LexicalIndex(tmp_path / "nothing", create=False)


def test_rebuild_drops_stale_documents(store, tmp_path):
    rows = load_papers(store)
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert index.rebuild(store) == len(rows)
    assert index.count() == len(rows)
    other = SQLiteStore(tmp_path / "other.db")
    other.migrate()
    load_papers(other, rows[:10])
    assert index.rebuild(other) == 10
    assert index.count() == 10
    other.close()


def test_sync_pages_through_a_batch_bigger_than_a_page(store, tmp_path):
    papers = [Paper(f"2502.{i:05d}", f"Paper {i} about spectra", "Abstract.", ["Z"]) for i in range(2500)]
    store.ingest_batch(papers)
    got = [p.arxiv_id for _, batch in iter_changed(store, 0, batch=1000) for p in batch]
    assert len(got) == 2500 == len(set(got))
    index = LexicalIndex(tmp_path / "lex")
    assert index.sync(store) == 2500
    assert index.count() == 2500


def test_schema_change_starts_over(store, tmp_path):
    import json

    path = tmp_path / "lex"
    store.ingest_batch([Paper("2501.00007", "Old", "Abstract.", ["Y"])])
    LexicalIndex(path).sync(store)
    state = json.loads((path / "sync.json").read_text())
    (path / "sync.json").write_text(json.dumps(dict(state, schema=-1)))
    index = LexicalIndex(path)
    assert index.count() == 0 and index.last_seq == 0
    assert index.sync(store) == 1


def test_index_from_the_older_analyzer_is_rebuilt_by_sync(store, tmp_path):
    """An index stamped with an earlier schema version (another analyzer, other fields) is
    dropped on open and refilled by sync with the current analyzer."""
    import json

    assert SCHEMA_VERSION >= 2
    path = tmp_path / "lex"
    store.ingest_batch([Paper("2501.00051", r"Bounds in $\mathcal{O}(n)$ time", "Self-supervised proofs.", ["Y"])])
    LexicalIndex(path).sync(store)
    state = json.loads((path / "sync.json").read_text())
    (path / "sync.json").write_text(json.dumps(dict(state, schema=SCHEMA_VERSION - 1)))
    index = LexicalIndex(path)
    assert index.count() == 0 and index.last_seq == 0
    assert index.sync(store) == 1
    assert json.loads((path / "sync.json").read_text())["schema"] == SCHEMA_VERSION
    assert ids(index.search(parse_query("mathcal"))) == []
    assert ids(index.search(parse_query("supervised bounds"))) == ["2501.00051"]


def test_listing_upvotes_are_indexed(store, tmp_path):
    store.ingest_batch(
        [Paper("2501.00008", "Upvoted", "Abstract.", ["Y"])],
        [Listing(arxiv_id="2501.00008", day=dt.date(2025, 1, 2), upvotes=42)],
    )
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    assert ids(index.search(parse_query("upvoted"), SearchFilters(min_upvotes=42))) == ["2501.00008"]
    assert index.search(parse_query("upvoted"), SearchFilters(min_upvotes=43)) == []


def test_a_vote_moves_the_upvote_filter_and_order_without_a_commit(store, tmp_path, monkeypatch):
    import dailypapers.search.lexical as lexical

    day = dt.date(2025, 1, 2)
    store.ingest_batch(
        [Paper(f"2501.0002{i}", f"Voted paper {i}", "Abstract.", ["Y"]) for i in range(3)],
        [Listing(arxiv_id=f"2501.0002{i}", day=day, upvotes=n) for i, n in enumerate((5, 5, 1))],
    )
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    users = [store.create_user(f"u{i}@example.org", f"u{i}", "hash", "member", T0, verified_at=T0) for i in range(2)]

    def shown(**filters):
        return (ids(index.search(parse_query("voted"), SearchFilters(**filters), limit=10)),
                ids(index.search(parse_query("voted"), SearchFilters(**filters), limit=2, offset=0, order="upvotes")))

    assert shown(min_upvotes=6) == ([], [])
    committed = index.stamp()
    store.toggle_vote(users[0].id, "2501.00021", T0)  # 5 -> 6
    for u in users:
        store.toggle_vote(u.id, "2501.00022", T0)  # 1 -> 3
    assert index.sync(store) == 0  # nothing re-indexed, nothing committed
    assert index.stamp() == committed and index.overlay_stamp() is not None
    assert shown(min_upvotes=6) == (["2501.00021"], ["2501.00021"])
    assert shown(min_upvotes=3)[1] == ["2501.00021", "2501.00020"]
    hits, total = index.search_with_count(parse_query("voted"), order="upvotes", limit=1, offset=2)
    assert (ids(hits), total) == (["2501.00022"], 3)
    store.toggle_vote(users[0].id, "2501.00021", T0)  # taken back: 5
    index.sync(store)
    assert shown(min_upvotes=6) == ([], [])
    assert sorted(shown(min_upvotes=5)[0]) == ["2501.00020", "2501.00021"]
    # a new title is indexed (with the count it has now); other readers see the same
    store.ingest_batch([Paper("2501.00022", "Voted paper renamed", "Abstract.", ["Y"], version=2)])
    assert index.sync(store) == 1 and index.stamp() != committed
    reader = LexicalIndex(tmp_path / "lex", create=False)
    assert ids(reader.search(parse_query("renamed")))[:1] == ["2501.00022"]
    assert sorted(ids(reader.search(parse_query("voted"), SearchFilters(min_upvotes=3)))) == [
        "2501.00020", "2501.00021", "2501.00022"]
    assert sorted(ids(reader.search(parse_query("voted"), SearchFilters(min_upvotes=4)))) == ["2501.00020", "2501.00021"]
    # past OVERLAY_MAX papers the overlay is folded into the index
    monkeypatch.setattr(lexical, "OVERLAY_MAX", 0)
    store.toggle_vote(users[1].id, "2501.00020", T0)  # 5 -> 6
    index.sync(store)
    assert index.overlay() == {} and index.overlay_stamp() is None
    assert shown(min_upvotes=6) == (["2501.00020"], ["2501.00020"])
    assert ids(reader.search(parse_query("voted"), SearchFilters(min_upvotes=6))) == ["2501.00020"]


def test_a_vote_during_a_long_sync_is_read_back_from_the_committed_index(store, tmp_path, monkeypatch):
    """A sync commits every COMMIT_EVERY papers and forgets the counts it committed: a paper whose
    votes change while the sync runs is compared with the count its committed document holds."""
    import functools

    import dailypapers.search.lexical as lexical

    day = dt.date(2025, 1, 2)
    papers = [f"2501.0003{i}" for i in range(4)]
    store.ingest_batch([Paper(i, f"Busy paper {n}", "Abstract.", ["Y"]) for n, i in enumerate(papers)],
                       [Listing(arxiv_id=i, day=day, upvotes=5) for i in papers])
    index = LexicalIndex(tmp_path / "lex")
    index.sync(store)
    store.ingest_batch([Paper(i, f"Busy paper {n} revised", "Abstract.", ["Y"], version=2)
                        for n, i in enumerate(papers)])
    user = store.create_user("busy@example.org", "busy", "hash", "member", T0, verified_at=T0)
    monkeypatch.setattr(lexical, "COMMIT_EVERY", 1)
    monkeypatch.setattr(lexical, "iter_changed", functools.partial(iter_changed, batch=1))

    class VoteAfterFirstPage:  # the real store; one member votes while the sync reads its pages
        pages = 0

        def __getattr__(self, name):
            return getattr(store, name)

        def papers_changed_since(self, since, batch):
            self.pages += 1
            if self.pages == 2:
                store.toggle_vote(user.id, papers[0], T0)  # 5 -> 6, after its new text was committed
            return store.papers_changed_since(since, batch)

    assert index.sync(VoteAfterFirstPage()) == 4
    assert index.overlay() == {papers[0]: (lexical.paper_key(papers[0]), 5, 6)}
    assert ids(index.search(parse_query("busy revised"), SearchFilters(min_upvotes=6))) == [papers[0]]


def test_second_writer_is_refused_clearly(store, tmp_path):
    from dailypapers.search.lexical import IndexBusy

    store.ingest_batch([Paper("2501.00009", "Busy", "Abstract.", ["Y"])])
    path = tmp_path / "lex"
    first = LexicalIndex(path)
    first.upsert([store.get_paper("2501.00009")])  # holds the writer
    second = LexicalIndex(path)
    with pytest.raises(IndexBusy, match="another process"):
        second.sync(store)
    first.close()


def test_count_matches(loaded):
    _, index, rows = loaded
    assert index.count() == len(rows)
    assert index.count(parse_query("cat:cs.CV")) == sum(1 for r in rows if "cs.CV" in r["categories"])
    assert index.count(parse_query("model"), SearchFilters(has_code=True)) == len(
        index.search(parse_query("model"), SearchFilters(has_code=True), limit=1000)
    )


def test_words_matched_counts_the_words_each_document_holds(loaded):
    import tantivy

    _, index, _ = loaded
    words = [frozenset(analyze(w)) for w in ("language", "models", "reasoning", "state-of-the-art")]
    keys = [h.key for h in index.search(parse_query("language models reasoning state-of-the-art"), limit=200)]
    got = index.words_matched(words, keys)
    want = dict.fromkeys(keys, 0)
    for stems in words:  # one query per word, as it was done before
        q = tantivy.Query.boolean_query([(tantivy.Occur.Must, index._among(keys)), *index._containing(stems)])
        for key in index.keys_matching(q, len(keys)):
            want[key] += 1
    assert got == want and set(got.values()) >= {1, 2, 3}
