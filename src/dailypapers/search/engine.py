"""The search service: lexical (BM25), semantic (ANN) and hybrid (fused) behind one call.

``SearchEngine(store, index_dir, embedder)`` is built once per process by the composition root.
A search is one :class:`~dailypapers.search.request.SearchRequest`, validated when it is made (the
engine does not check it again). Every ranker returns the same shape, :class:`SearchResults`, whose
hits carry the stored paper and safe HTML (escaped text with ``<mark>`` around matched words).

How a query runs (constants below and in ``fusion.py``):

* an arXiv id or URL is not searched: ``redirect_id`` is set (and the paper returned when known);
* lexical: BM25 over title/abstract/authors with the filters as non-scoring clauses;
* semantic: the query is embedded, then the HNSW index is searched (every vector scored exactly
  when the index is small: ``vectors.EXACT_INDEX_MAX``); with filters, the papers that
  pass come from ``columns.py`` (a numpy mask over the filterable fields; the lexical index for
  ``author:``, phrases and exclusions): when few pass (``EXACT_FILTER_RATIO``) their vectors
  are scored exactly, read from the mapped index file, otherwise the HNSW search fetches as deep
  as the share passing asks (``depth / share``) and keeps those that pass;
* hybrid: the two lists fused by ``fusion.fuse`` (a convex combination of normalized scores,
  each candidate scored by both rankers; see ``_fusion_lists``: the keyword hits' exact cosines are
  computed on the request thread while the helper thread searches the vector index, with a
  narrower beam than a semantic search's (``HYBRID_EF``), from the query vector it hands over as
  soon as it is made), with the weights for papers' cosines alone; then the head of that fusion
  (``fusion.SENTENCE_DEPTH``) has each paper's semantic score mixed with its closest sentence's,
  its title or an abstract sentence (``sentences.py``, ``fusion.with_sentences``), and the lists
  are fused again with the weights for mixed scores (a semantic search re-orders its head the same
  way); with ``read_sentences`` off (the ``embed_sentences`` setting), or no sentence vectors for
  the head yet, the first fusion stands; papers not embedded yet come through the lexical list
  alone; a query that is exactly a paper's title puts that paper first
  (``TITLE_MATCH_DEPTH``);
* the filters (the form's dates, code, upvotes, category and organization, and the query's own)
  restrict both rankers, so that each ranks the papers that pass; then relevance is decided
  (``relevance.py``): of each ranker's best ``POOL_DEPTH``, only keyword matches holding the
  query's words and close semantic neighbours (for long queries, also papers just short on both)
  are kept (at most ``relevance.RELEVANT_MAX``). The similarity floor comes from the best match of
  the whole collection, so a filter never makes a paper relevant that is not relevant without it;
  it only lets the rankers reach the relevant papers that pass beyond the top ``POOL_DEPTH`` of
  everything. The sorts re-order that set, so ``total`` is what one can page through (a query with
  only filters, e.g. ``cat:cs.CL``, lists everything that passes, newest first).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from markupsafe import Markup  # Jinja2 will not escape a Markup string twice

from dailypapers.models import StoredPaper
from dailypapers.search import fusion, relevance, sentences
from dailypapers.search.catchup import paper_key
from dailypapers.search.columns import FilterColumns, Passing
from dailypapers.search.lexical import LexicalIndex, analyze, is_short_query
from dailypapers.search.query import ParsedQuery, SearchFilters, parse_query
from dailypapers.search.request import (
    MAX_PER_PAGE,
    MAX_QUERY_CHARS,
    MODES,
    SORTS,
    BadQuery,
    SearchError,
    SearchRequest,
)
from dailypapers.search.vectors import VectorIndex
from dailypapers.storage import SearchStore
from dailypapers.storage.locks import file_lock

log = logging.getLogger(__name__)

MAX_RESULTS = 1000  # deepest result reachable by paging (filter-only listings)
POOL_DEPTH = relevance.RELEVANT_MAX  # candidates from each ranker before the relevance rule (their union can fill it)
NEAREST = 3  # partial keyword matches offered when nothing is relevant
# Filtered semantic search: the n papers passing are either scored exactly, their vectors read from
# the mapped index file (cost ~ a * n, a ~0.15-0.2 us with numkong's kernel, picking the rows
# included), or found by an HNSW search as deep as the share passing asks, depth * OVERFETCH_MARGIN
# * papers / n, keeping those that pass (cost ~ b per unit of depth, b ~4.2-4.5 us). Exact is
# cheaper while n^2 < (b / a) * OVERFETCH_MARGIN * depth * papers, i.e. n <= sqrt(EXACT_FILTER_RATIO
# * papers); b / a measured 29 at 64k papers and 20 at 1M (2026-12-04) puts the ratio at 5,300-7,500:
# ~20k passing at 64k papers, ~80k at 1M. Measured by bench/bench_search_latency.py --filter-paths
# (BENCHMARKS.md, "Exact scoring by numkong"). Restrictions the columns cannot
# express (author:, phrases, exclusions) go through the lexical index, whose keys cost ~1.6 us
# each to hand over: exact up to TEXT_FILTER_EXACT_LIMIT papers.
EXACT_FILTER_RATIO = 6_000
OVERFETCH_MARGIN = 1.3
TEXT_FILTER_EXACT_LIMIT = 5_000
OVERFETCH_MAX = 5_000  # the deepest HNSW fetch for restrictions the columns cannot express
# The similarity floor of the relevance rule comes from the best match of the whole collection; a
# filtered search finds it with a narrow HNSW search (the best of ~64 is the true best nearly always,
# and a slightly lower best only lowers the floor a little).
BEST_PROBE_EF = 64
SEMANTIC_THREADS = 2  # helper threads per engine for the semantic leg (concurrent searches share them)
SNIPPET_CHARS = 320
# A query that is a paper's exact title (ignoring case, punctuation and spacing) puts that paper
# first in hybrid results when it is among the top TITLE_MATCH_DEPTH lexical hits: RRF alone let
# the semantic list outvote lexical rank 1 for 3.4% of titles over the 64k real papers
# (bench/bench_search_quality.py, "Known-item search").
TITLE_MATCH_DEPTH = 5
# While the helper is still searching the vector index, the request thread reads the papers of the
# keyword leg's top PREFETCH_DEPTH (a first page's worth): 71% of a hybrid first page comes from
# them (300 topic queries over 64k papers), and reading them after the join was on the critical path.
PREFETCH_DEPTH = 20
# The HNSW beam of a hybrid search's vector leg (the semantic mode's is vectors.EXPANSION_SEARCH,
# 640). The fusion scores the keyword hits by their exact cosine, so the graph only has to find the
# papers near in meaning that the keywords miss. Against an exact vector leg, hybrid's top 10 agrees
# 0.9966 at 320 and 0.9973 at 640 over 400 topic queries at 64k papers, for about half the graph's
# time (p50 0.86 ms against 1.62); bench_search_latency.py --hybrid-ef, BENCHMARKS.md "Hybrid
# search: the vector leg's beam".
HYBRID_EF = 320

__all__ = [
    "SearchEngine", "SearchResults", "SearchHit", "SearchFilters", "SearchRequest", "SearchError", "BadQuery",
    "highlight_html", "snippet_html", "MODES", "SORTS", "MAX_QUERY_CHARS",
]


@dataclass
class SearchHit:
    paper: StoredPaper
    score: float
    rank: int = 0  # 1-based position in the whole result list
    sources: tuple[str, ...] = ()  # which rankers found it: "lexical", "semantic"
    words: tuple[str, ...] = ()  # the query's words, for highlighting

    # Highlighting is made when first read: the page reads it, the JSON API never does (~50 us a hit).
    @functools.cached_property
    def title_html(self) -> str:
        return highlight_html(self.paper.title, self.words)

    @functools.cached_property
    def snippet_html(self) -> str:
        return snippet_html(self.paper.abstract, self.words)


@dataclass
class SearchResults:
    query: str
    results: list[SearchHit] = field(default_factory=list)
    total: int = 0  # results one can page through (after the relevance rule and the filters)
    total_kind: str = "exact"  # "exact"; "about" (more may exist); "top" (the best RELEVANT_MAX kept)
    # Relevant results without the form's filters: counted again when the filters leave nothing (the
    # page then offers to drop them), else the same as total; relevant_kind is its total_kind.
    relevant_total: int = 0
    relevant_kind: str = "exact"
    nearest: list[StoredPaper] = field(default_factory=list)  # partial matches, when nothing is relevant
    page: int = 1
    per_page: int = 20
    mode: str = "hybrid"  # what was asked for
    mode_used: str = "lexical"  # what ran
    sort: str = "relevance"
    semantic_available: bool = False
    message: str | None = None
    redirect_id: str | None = None
    parsed: ParsedQuery | None = None

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < min(self.total, MAX_RESULTS)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, MAX_RESULTS) // self.per_page))


# -- highlighting ---------------------------------------------------------------------------
# A word is highlighted when the index's analyzer (stemming, folding) maps it to a token of the
# query. To stay fast (a page is 20-100 abstracts), a regex first finds words that start like a
# query stem (its first 3 characters, which survives Porter's y -> i and most accents), then each
# candidate is confirmed with the analyzer.
_WORD_RE = re.compile(r"[^\W_]+")
_STEM_CACHE: dict[str, tuple[str, ...]] = {}
# Not worth a highlight (they still count for ranking).
_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have in into is it its no not of on or such that the "
    "their then there these they this to was we were which will with our can".split()
)
_STEM_CACHE_MAX = 50_000  # ~10 MB per process when full; cleared when it fills


def _stems(word: str) -> tuple[str, ...]:
    st = _STEM_CACHE.get(word)
    if st is None:
        if len(_STEM_CACHE) >= _STEM_CACHE_MAX:
            _STEM_CACHE.clear()
        st = _STEM_CACHE[word] = tuple(analyze(word))
    return st


class _Matcher:
    def __init__(self, words: Sequence[str]):
        stems: set[str] = set()
        for w in words:
            for m in _WORD_RE.finditer(w):
                word = m.group().lower()
                if word not in _STOPWORDS:
                    stems.update(_stems(word))
        self.stems = frozenset(stems)
        self.prefixes = sorted({st[:3] for st in stems})

    # Compiled only for a text that lowering changes in length (rare): most queries are asked once,
    # and compiling it for each cost a tenth of a millisecond per search page.
    @functools.cached_property
    def regex_ci(self) -> re.Pattern[str]:
        alt = "|".join(map(re.escape, self.prefixes))
        return re.compile(r"(?<![^\W_])(?:" + alt + r")[^\W_]*", re.IGNORECASE)

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, stem) of every matching word in ``text``, in order."""
        if not self.prefixes:
            return []
        low = text.lower()
        if len(low) != len(text):  # a character changed length when lowered (e.g. "İ")
            return self._spans_ci(text)
        found: dict[int, tuple[int, int, str]] = {}
        for pre in self.prefixes:  # str.find is far faster than a regex alternation
            i = low.find(pre)
            while i != -1:
                if (i == 0 or not _is_word_char(low[i - 1])) and i not in found:
                    m = _WORD_RE.match(low, i)
                    assert m is not None  # pre is the start of a stem, so a word starts at i
                    for st in _stems(m.group()):
                        if st in self.stems:
                            found[i] = (i, m.end(), st)
                            break
                i = low.find(pre, i + 1)
        return [found[i] for i in sorted(found)]

    def _spans_ci(self, text: str) -> list[tuple[int, int, str]]:
        out = []  # only called when there are prefixes
        for m in self.regex_ci.finditer(text):
            for st in _stems(m.group().lower()):
                if st in self.stems:
                    out.append((m.start(), m.end(), st))
                    break
        return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


@functools.lru_cache(maxsize=256)  # the 20 results of one page share it: recent queries only
def _matcher(words: tuple[str, ...]) -> _Matcher:
    return _Matcher(words)


def title_key(text: str) -> str:
    """A title (or query) for exact comparison: case, punctuation, TeX markup and spacing ignored."""
    return " ".join(_TITLE_WORDS.findall(text.casefold()))


_TITLE_WORDS = re.compile(r"[^\W_]+")


def content_words(parsed: ParsedQuery) -> list[frozenset[str]]:
    """The query's free words that carry meaning, each as the stems the index's analyzer makes of
    it (``state-of-the-art`` -> {state, art}); stopwords and ``relevance.FILLER_WORDS`` left out."""
    out = []
    for term in parsed.terms:
        stems: set[str] = set()
        for m in _WORD_RE.finditer(term):
            word = m.group().lower()
            if word not in _STOPWORDS and word not in relevance.FILLER_WORDS:
                stems.update(_stems(word))
        if stems:
            out.append(frozenset(stems))
    return out


def _marked(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, _ in spans:
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def highlight_html(text: str, words: Sequence[str]) -> str:
    """All of ``text``, HTML-escaped, with the query's words marked."""
    text = text or ""
    return Markup(_marked(text, _matcher(tuple(words)).spans(text)))


def snippet_html(text: str, words: Sequence[str], max_chars: int = SNIPPET_CHARS) -> str:
    """About ``max_chars`` of ``text`` around the densest run of query words, escaped and marked.

    The window starts at a sentence start when one is near (else at a word), so that snippets
    read naturally; without matches it is the beginning of the text.
    """
    text = text or ""
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    spans = _matcher(tuple(words)).spans(text)
    if len(text) <= max_chars:
        return Markup(_marked(text, spans))
    lo = 0
    if spans:
        # the window of max_chars holding the most distinct stems (then the most matches)
        best = (-1, -1, 0)
        j = 0
        for i in range(len(spans)):
            while j < len(spans) and spans[j][1] - spans[i][0] <= max_chars * 2 // 3:
                j += 1
            window = spans[i:j]
            score = (len({st for _, _, st in window}), len(window))
            if score > best[:2]:
                best = (score[0], score[1], spans[i][0])
        start = best[2]
        # back up to the sentence start if it is close, else to a word boundary
        sentence = text.rfind(". ", max(0, start - max_chars // 3), start)
        if sentence != -1:
            lo = sentence + 2
        elif start > max_chars // 3:
            lo = text.find(" ", start - max_chars // 6, start) + 1 or start
        if len(text) - lo < max_chars:  # near the end: show a full-length tail instead
            lo = text.find(" ", len(text) - max_chars) + 1
    hi = lo + max_chars
    if hi < len(text):
        cut = text.rfind(" ", lo, hi)
        hi = cut if cut > lo + max_chars // 2 else hi
    passage = text[lo:hi]
    inside = [(s - lo, e - lo, st) for s, e, st in spans if s >= lo and e <= hi]
    return Markup(("… " if lo > 0 else "") + _marked(passage, inside) + (" …" if hi < len(text) else ""))


# -- the engine -------------------------------------------------------------------------------
ProgressFn = Callable[[str, int, int], None]  # (stage, done, total or 0)


class SearchEngine:
    def __init__(self, store: SearchStore, index_dir: str | Path, embedder=None, *, create: bool = True,
                 read_sentences: bool = True):
        self.store = store
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        # settings.embed_sentences: off, a search skips the read of its head's sentence vectors
        self.read_sentences = read_sentences
        self.vectors = VectorIndex(self.index_dir / "vectors", embedder.dim) if embedder is not None else None
        self.lexical = LexicalIndex(self.index_dir / "lexical", create=create,
                                    ids_for_keys=self.vectors.ids_for_keys if self.vectors is not None else None)
        self.columns = FilterColumns(self.index_dir)
        # The semantic leg (embedding, then the vector index) runs beside the lexical leg: ONNX
        # Runtime and tantivy let go of the GIL, so on two cores the two overlap.
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- state -------------------------------------------------------------
    def semantic_status(self) -> tuple[bool, str | None]:
        """(available, why not)."""
        if self.embedder is None or self.vectors is None:
            return False, "Semantic search is off (no embedding model installed); results are keyword matches only."
        try:
            if not self.vectors.refresh() or len(self.vectors) == 0:
                return False, ("Semantic search is not ready (no paper embeddings indexed yet: "
                               "run `dailypapers embed`); results are keyword matches only.")
        except Exception as e:  # noqa: BLE001 - a broken vector index must not break search
            log.warning("vector index unusable: %s", e)
            return False, f"Semantic search is unavailable ({e}); results are keyword matches only."
        model = self.vectors.model_id
        if model and model != self.embedder.model_id:
            return False, ("The vector index was built with another model: run `dailypapers reindex`; "
                           "results are keyword matches only.")
        return True, None

    @property
    def semantic_available(self) -> bool:
        return self.semantic_status()[0]

    def sync(self, progress: ProgressFn | None = None) -> dict[str, int]:
        """Bring the indexes in step with the store (after ingest / embed, and in a running server
        by search/follow.py). Syncs of one index folder take turns (an flock beside the indexes),
        and each lets go of tantivy's writer lock when done, so the server's follower and a CLI
        ingest on the same node never refuse each other."""
        with file_lock(self.index_dir / "sync.lock", wait=True):
            try:
                out = {"lexical": self.lexical.sync(self.store, _stage(progress, "lexical"))}
                self.columns.sync(self.store, _stage(progress, "filters"))
                if self.embedder is not None and self.vectors is not None:
                    out["vectors"] = self.vectors.sync(self.store, self.embedder.model_id,
                                                       _stage(progress, "vectors"))
            finally:
                self.lexical.close()
        return out

    def rebuild(self, progress: ProgressFn | None = None) -> dict[str, int]:
        out = {"lexical": self.lexical.rebuild(self.store, _stage(progress, "lexical"))}
        self.columns.rebuild(self.store, _stage(progress, "filters"))
        if self.embedder is not None and self.vectors is not None:
            out["vectors"] = self.vectors.rebuild(self.store, self.embedder.model_id, _stage(progress, "vectors"))
        return out

    def close(self) -> None:
        self.lexical.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _beside(self, fn, *args) -> Future:
        """Run ``fn(*args)`` on the engine's helper threads (at once in this thread without any)."""
        if SEMANTIC_THREADS <= 0:
            done: Future = Future()
            try:
                done.set_result(fn(*args))
            except Exception as e:  # noqa: BLE001 - handed to the caller, as a thread would
                done.set_exception(e)
            return done
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=SEMANTIC_THREADS, thread_name_prefix="search-semantic")
        return self._pool.submit(fn, *args)

    def position(self) -> tuple:
        """Changes whenever this node's indexes take in a commit. Cached search results key on it
        as well as on the content version: a search rendered after another node's write but before
        this node's index caught up with it must not be served once the index has."""
        vectors = len(self.vectors) if self.vectors is not None else 0
        return (self.lexical.stamp(), self.lexical.overlay_stamp(), vectors)

    def matching(self, query: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` a saved search matches by its words: the query's own restrictions
        (author:, cat:, phrases, exclusions) and as many of its content words as the relevance rule
        asks of a keyword match. Rules that list a day's arrivals use it: a yes or no per paper,
        which a ranked pool of the whole collection could not give."""
        parsed = parse_query(query)
        keys = {paper_key(i): i for i in ids}
        words = content_words(parsed)
        restrictions = self.lexical.filter_query(parsed, None, required_text=True)
        if not keys or (not words and restrictions is None):
            return set()
        passing = list(keys)
        if restrictions is not None:
            passing = self.lexical.keys_matching(restrictions, len(passing), passing)
        if words:
            need = relevance.words_required(len(words))
            passing = [k for k, n in self.lexical.words_matched(words, passing).items() if n >= need]
        return {keys[k] for k in passing}

    def author_candidates(self, surname: str, initial: str | None, limit: int) -> tuple[list[str], int]:
        """Ids of the papers that may be by an author of this surname and first initial, newest
        first, and how many there are in all (papers.PaperService.author applies the name rule)."""
        return self.lexical.author_candidates(surname, initial, limit)

    def categories(self) -> list[str]:
        """Categories worth offering as filters: those some indexed paper has (none for Hugging
        Face's papers, which carry no arXiv categories)."""
        return self.lexical.categories()

    # -- search ------------------------------------------------------------
    def search(self, request: SearchRequest | str | None, **parts) -> SearchResults:
        """Run one search: a SearchRequest (validated when it was made), or the query text with the
        request's other fields as keywords (mode, filters, sort, page, per_page)."""
        if not isinstance(request, SearchRequest):
            request = SearchRequest(q=request or "", **parts).needing_query()
        q, mode, sort, filters = request.q, request.mode, request.sort, request.filters
        page, per_page = request.page, request.per_page

        parsed = parse_query(q)
        available, why = self.semantic_status()
        res = SearchResults(
            query=q, page=page, per_page=per_page, mode=mode, sort=sort,
            semantic_available=available, parsed=parsed,
        )
        notes = list(parsed.notes)

        if parsed.arxiv_id:
            res.redirect_id = parsed.arxiv_id
            paper = self.store.get_paper(parsed.arxiv_id)
            if paper is not None:
                res.results = [self._hit(paper, 1.0, parsed, 1, ("id",))]
                res.total = 1
            else:
                res.message = f"arXiv:{parsed.arxiv_id} is not in this collection yet."
            res.mode_used = "id"
            return res

        offset = (page - 1) * per_page
        if offset >= MAX_RESULTS:
            res.message = f"Only the first {MAX_RESULTS} results can be paged through; refine the query."
            return res

        if parsed.is_empty:
            notes.append("Nothing to search for: add words, a phrase, or author:/cat:/year:.")
            res.mode_used = "lexical"
            res.message = _join(notes)
            return res

        if not parsed.has_text:
            # Only filters (author:, cat:, year:): list what passes.
            order = "newest" if sort == "relevance" else sort
            hits, total = self.lexical.search_with_count(parsed, filters, per_page, offset, order=order)
            res.mode_used = "lexical"
            res.total = total
            res.results = self._hits([(h.arxiv_id, h.score, ("lexical",)) for h in hits], parsed, offset)
            res.message = _join(notes)
            return res

        use_semantic = mode in ("hybrid", "semantic") and available
        if mode != "lexical" and why is not None:  # there is a reason exactly when it is not available
            notes.append(why)
        res.mode_used = mode if use_semantic else "lexical"
        ranked, fetched = self._relevant(parsed, filters, res, notes, available)
        if not ranked and filters.active:
            # The filters leave nothing: how many match without them (one more search, only here).
            unfiltered = SearchResults(query=q, mode=mode, mode_used=res.mode_used)
            self._relevant(parsed, SearchFilters(), unfiltered, [], available)
            res.relevant_total, res.relevant_kind = unfiltered.relevant_total, unfiltered.total_kind
            res.nearest = unfiltered.nearest
        if sort != "relevance":
            ranked = self._resort(ranked, sort, fetched)
        res.total = len(ranked)
        res.results = self._hits(ranked[offset : offset + per_page], parsed, offset, fetched)
        res.message = _join(notes)
        return res

    def _relevant(self, parsed: ParsedQuery, filters: SearchFilters, res: SearchResults, notes: list[str],
                  available: bool = False) -> tuple[list[tuple[str, float, tuple]], dict[str, StoredPaper]]:
        """The query's relevant papers that pass the filters, in relevance order
        (``relevance.relevant``), before any sort; sets ``res.mode_used``, ``relevant_total``,
        ``total_kind`` and ``nearest``. Returns the ranking and the papers it read.

        The rule sees both signals in every mode when it can: a keyword search (``available``: the
        model and the vectors are there) has its candidates' cosines computed exactly, and a
        semantic search its candidates' words counted. It only decides which hits count; the
        ranking stays the mode's own. On SciFact train (809 claims) the served nDCG@10 rises from
        0.651 to 0.710 (lexical) and 0.635 to 0.662 (semantic); hybrid is unchanged (0.7395).
        bench/bench_search_quality.py, BENCHMARKS.md "Search quality"."""
        # hybrid: the helper hands over the query vector as soon as it is made, so that this thread
        # scores its keyword hits by meaning while the helper searches the vector index
        vector_ready: Future | None = Future() if res.mode_used != "lexical" else None
        ef = HYBRID_EF if res.mode_used == "hybrid" else None
        semantic = (self._beside(self._semantic, parsed, filters, POOL_DEPTH, vector_ready, ef)
                    if res.mode_used != "lexical" else None)
        query_vector = None
        if res.mode_used == "lexical" and available and self.embedder is not None:
            query_vector = self._beside(self.embedder.embed_query, parsed.text)
        lex: list = []
        if res.mode_used != "semantic":
            lex = self.lexical.search(parsed, filters, POOL_DEPTH)
        words = content_words(parsed)
        by_key = self.lexical.words_matched(words, [h.key for h in lex]) if words and lex else {}
        fetched: dict[str, StoredPaper] = {}
        head_cosines: dict[int, float] | None = None
        if res.mode_used == "hybrid":  # exact-title candidates
            fetched = self.store.get_papers([h.arxiv_id for h in lex[:TITLE_MATCH_DEPTH]])
            if vector_ready is not None and lex:
                head_cosines = self._head_cosines(vector_ready, lex[:fusion.DEPTH])
            if semantic is not None and not semantic.done():
                fetched |= self.store.get_papers([h.arxiv_id for h in lex[TITLE_MATCH_DEPTH:PREFETCH_DEPTH]])
        sem = None
        best: float | None = None
        if semantic is not None:
            found = semantic.result()
            if found is None:
                notes.append("Semantic search failed on this query; results are keyword matches only.")
                if res.mode_used == "semantic":  # nothing to show from it: answer lexically
                    lex = self.lexical.search(parsed, filters, POOL_DEPTH)
                    by_key = self.lexical.words_matched(words, [h.key for h in lex]) if words and lex else {}
                res.mode_used = "lexical"
            else:
                sem, best = found
        lex_ids = [h.arxiv_id for h in lex]
        sem_ids = [i for i, _, _ in sem or []]
        sims = {i: s for i, s, _ in sem or []}  # cosine similarity to the query, where known
        if lex_ids and sem_ids:
            # The head is fused exactly as fusion.py was tuned (each list's top DEPTH, every candidate
            # scored by both rankers); the deeper candidates follow in their own rank-fused order,
            # for the relevance rule to sort out.
            lists = self._fusion_lists(parsed, SearchFilters(), lex[:fusion.DEPTH], (sem or [])[:fusion.DEPTH],
                                       cosines=head_cosines)
            short = is_short_query(parsed)
            order = fusion.fuse(lists, short=short, sentences=False)
            cosines = lists["semantic"]
            # then again, with the closest sentence of the first fusion's head mixed in
            closest = self._closest_sentences(vector_ready, [i for i, _ in order[:fusion.SENTENCE_DEPTH]])
            if closest:
                lists["semantic"] = fusion.with_sentences(cosines, closest)
                order = fusion.fuse(lists, short=short)
            sims = dict(cosines) | sims  # the head's keyword-only papers have an exact cosine now
            head = {i for i, _ in order}
            order += [(i, s) for i, s in fusion.rrf({"lexical": lex_ids, "semantic": sem_ids}) if i not in head]
        elif sem:
            closest = self._closest_sentences(vector_ready, [i for i, _, _ in sem[:fusion.SENTENCE_DEPTH]])
            mixed = fusion.with_sentences([(i, s) for i, s, _ in sem[:fusion.DEPTH]], closest)
            order = sorted(mixed, key=lambda item: -item[1]) + [(i, s) for i, s, _ in sem[fusion.DEPTH:]]
        else:
            order = [(h.arxiv_id, h.score) for h in lex]
        lex_set, sem_set = set(lex_ids), set(sem_ids)
        legs = {(True, True): ("lexical", "semantic"), (True, False): ("lexical",), (False, True): ("semantic",),
                (False, False): ()}
        ranked = [(i, s, legs[i in lex_set, i in sem_set]) for i, s in order]
        if res.mode_used == "hybrid":
            ranked = self._exact_titles_first(ranked, parsed, lex_ids[:TITLE_MATCH_DEPTH], fetched)
        matched = {h.arxiv_id: by_key.get(h.key, 0) for h in lex}
        if query_vector is not None and lex:  # a keyword search judged by meaning too
            sims = self._cosines(query_vector, [h.key for h in lex])
        elif res.mode_used == "semantic" and sem and words:  # a semantic search judged by words too
            sem_words = self.lexical.words_matched(words, [k for _, _, k in sem])
            matched = {i: sem_words.get(k, 0) for i, _, k in sem}
        cands = [relevance.Candidate(i, matched.get(i), sims.get(i)) for i, _, _ in ranked]
        rel = relevance.relevant(cands, len(words), best=best)
        keep = set(rel.ids)
        out = [r for r in ranked if r[0] in keep]
        res.relevant_total = len(out)  # with the filters; search() counts again without them if nothing passes
        if rel.capped:
            res.total_kind = "top"
        elif query_vector is not None and len(lex) >= POOL_DEPTH:
            res.total_kind = "about"  # papers near in meaning may lie below the keyword list's depth
        else:
            res.total_kind = self._count_kind(parsed, filters, words, lex, matched)
        res.relevant_kind = res.total_kind
        if not out:
            need = relevance.words_required(len(words))
            near = [i for i in lex_ids if 0 < (matched.get(i) or 0) < need][:NEAREST]
            papers = self.store.get_papers(near)
            res.nearest = [papers[i] for i in near if i in papers]
        return out, fetched

    def _count_kind(self, parsed: ParsedQuery, filters: SearchFilters, words: list[frozenset[str]], lex: list,
                    matched: dict[str, int]) -> str:
        """"exact" when the relevant set is known to be complete, else "about". The semantic list
        cannot hide more (similarity only falls, and a full list above the floor caps the set), but
        a full keyword list may have papers with all the words below its depth: when the rule needs
        every word, the index counts them to tell."""
        if len(lex) < POOL_DEPTH:
            return "exact"
        if relevance.words_required(len(words)) < len(words):
            return "about"
        found = sum(1 for n in matched.values() if n >= len(words))
        stems = sorted(set().union(*words)) if words else []
        return "exact" if self.lexical.count_containing(parsed, stems, filters) <= found else "about"

    def _semantic(self, parsed: ParsedQuery, filters: SearchFilters, depth: int, vector_ready: Future | None = None,
                  ef: int | None = None) -> tuple[list[tuple[str, float, int]], float | None] | None:
        """The semantic list of the papers passing the filters, with the best similarity in the
        whole collection (None when nothing restricts the list: its head is the best), or None
        when the model or the index failed (logged). ``vector_ready`` gets the query vector as soon
        as it is made (None when the model failed), before the index is searched. ``ef``: the HNSW
        beam (default: the index's own)."""
        try:
            return self._semantic_leg(parsed, filters, depth, vector_ready, ef)
        except Exception:  # noqa: BLE001 - a failing model or index must not break search
            log.exception("semantic search failed; answering from the lexical index")
            return None
        finally:
            if vector_ready is not None and not vector_ready.done():
                vector_ready.set_result(None)  # never leave the request thread waiting

    def _semantic_leg(self, parsed: ParsedQuery, filters: SearchFilters, depth: int, vector_ready: Future | None = None,
                      ef: int | None = None) -> tuple[list[tuple[str, float, int]], float | None]:
        assert self.embedder is not None and self.vectors is not None
        qvec = self.embedder.embed_query(parsed.text)
        if vector_ready is not None:
            vector_ready.set_result(qvec)
        fq = self.lexical.filter_query(parsed, filters, required_text=True)
        if fq is None:
            return self.vectors.search_keys(qvec, depth, ef=ef), None
        size = max(1, len(self.vectors))
        passing = self._passing(parsed, filters)
        if passing is not None:  # the papers passing, from the columns
            n = len(passing)
            if n == 0:
                return [], self._best(qvec)
            if n * n <= EXACT_FILTER_RATIO * size:
                return self.vectors.search_among(qvec, depth, passing.parts), self._best(qvec)
            cands = self.vectors.search_keys(qvec, min(size, int(depth * OVERFETCH_MARGIN * size / n) + 1), ef=ef)
            keys = np.fromiter((c[2] for c in cands), dtype=np.uint64, count=len(cands))
            ok = passing.contains(keys).tolist()
            return [c for c, good in zip(cands, ok) if good][:depth], (cands[0][1] if cands else None)
        # restrictions by text: the papers passing come from the lexical index
        n = self.lexical.count_matching(fq)
        if n == 0:
            return [], self._best(qvec)
        if n <= TEXT_FILTER_EXACT_LIMIT:
            keys_l = self.lexical.keys_matching(fq, n)
            return self.vectors.search_keys(qvec, depth, candidates=keys_l), self._best(qvec)
        fetch = int(min(OVERFETCH_MAX, max(depth * 4, depth * size / n * 2)))
        cands = self.vectors.search_keys(qvec, fetch, ef=ef)
        ok_keys = set(self.lexical.keys_matching(fq, len(cands), keys=[c[2] for c in cands]))
        return [c for c in cands if c[2] in ok_keys][:depth], (cands[0][1] if cands else None)

    def _passing(self, parsed: ParsedQuery, filters: SearchFilters) -> Passing | None:
        """The papers passing the restrictions, from the columns when they can express them and are
        as recent as the lexical index (else None)."""
        if not self.columns.expressible(parsed) or self.columns.last_seq < self.lexical.last_seq:
            return None
        return self.columns.passing(parsed, filters)

    def _cosines(self, query_vector: Future, keys: list[int]) -> dict[str, float]:
        """Exact cosine of each of these papers to the query (those with a vector); {} when the
        model or the index fails (logged: the rule then judges by words alone)."""
        assert self.vectors is not None
        try:
            return {i: s for i, s, _ in self.vectors.search_keys(query_vector.result(), len(keys), candidates=keys)}
        except Exception:  # noqa: BLE001 - the keyword results stand without it
            log.exception("scoring keyword hits by meaning failed")
            return {}

    def _head_cosines(self, vector_ready: Future, lex: list) -> dict[int, float] | None:
        """Exact cosine of each of the keyword hits to fuse ({key: cosine}, those with a vector), as
        soon as the helper has the query vector; None when it has none or scoring fails (fusion then
        scores the keyword-only papers itself)."""
        assert self.vectors is not None
        try:
            qvec = vector_ready.result()
            if qvec is None:
                return None
            return {k: s for _, s, k in self.vectors.search_keys(qvec, len(lex), candidates=[h.key for h in lex])}
        except Exception:  # noqa: BLE001 - _fusion_lists tries again and logs
            return None

    def _closest_sentences(self, vector_ready: Future | None, ids: list[str]) -> dict[str, float]:
        """Each paper's best cosine between the query and its title or one of its abstract
        sentences (those with sentence vectors); {} without a query vector, or when reading them
        fails (logged)."""
        if vector_ready is None or not ids or self.vectors is None or not self.read_sentences:
            return {}
        try:
            qvec = vector_ready.result()
            if qvec is None:
                return {}
            return sentences.best_similarities(qvec, self.store.sentences_for(self.vectors.model_id or "", ids))
        except Exception:  # noqa: BLE001 - the papers' own cosines stand
            log.exception("scoring sentences failed")
            return {}

    def _best(self, qvec: np.ndarray) -> float | None:
        """The best similarity to the query in the whole collection (approximately)."""
        assert self.vectors is not None
        top = self.vectors.search_keys(qvec, 1, ef=BEST_PROBE_EF)
        return top[0][1] if top else None

    def _fusion_lists(self, parsed: ParsedQuery, filters: SearchFilters, lex: list,
                      sem: list[tuple[str, float, int]], complete: bool | None = None,
                      cosines: dict[int, float] | None = None,
                      ) -> dict[str, list[tuple[str, float]]]:
        """The two scored lists to fuse, each completed with its own scores for the papers only
        the other list found (exact cosine; BM25, 0 when the paper does not match), so that the
        convex combination compares every candidate on both scores. A paper without a vector
        stays missing from the semantic list (fusion gives it that list's lowest score).
        ``cosines``: the exact cosines of ``lex`` by key, when already computed (``_head_cosines``)."""
        lex_l = [(h.arxiv_id, h.score) for h in lex]
        sem_l = [(i, s) for i, s, _ in sem]
        if complete is None:
            complete = fusion.METHOD == "convex"  # RRF uses ranks only
        if not complete or not sem:
            return {"lexical": lex_l, "semantic": sem_l}
        try:
            in_lex = {h.arxiv_id for h in lex}
            sem_only = {key: i for i, _, key in sem if i not in in_lex}
            bm25 = self.lexical.scores_for(parsed, filters, list(sem_only))
            lex_l += [(i, bm25.get(key, 0.0)) for key, i in sem_only.items()]
            in_sem = {i for i, _, _ in sem}
            lex_only = [h.key for h in lex if h.arxiv_id not in in_sem]
            if lex_only and cosines is not None:
                sem_l += [(h.arxiv_id, cosines[h.key]) for h in lex if h.arxiv_id not in in_sem and h.key in cosines]
            elif lex_only:
                # sem is non-empty, so the semantic leg ran: the model and the index exist
                assert self.embedder is not None and self.vectors is not None
                qvec = self.embedder.embed_query(parsed.text)  # cached by the embedder
                sem_l += [(i, s) for i, s, _ in self.vectors.search_keys(qvec, len(lex_only), candidates=lex_only)]
        except Exception:  # noqa: BLE001 - fuse what the legs returned
            log.exception("completing the hybrid scores failed")
            return {"lexical": [(h.arxiv_id, h.score) for h in lex], "semantic": [(i, s) for i, s, _ in sem]}
        return {"lexical": lex_l, "semantic": sem_l}

    def _exact_titles_first(self, ranked: list[tuple[str, float, tuple]], parsed: ParsedQuery,
                            candidates: list[str], papers: dict[str, StoredPaper]) -> list[tuple[str, float, tuple]]:
        """The ranking with exact-title matches (among ``candidates``, read into ``papers``) first."""
        target = title_key(parsed.raw)
        if not target or not candidates:
            return ranked
        exact = [i for i in candidates if i in papers and title_key(papers[i].title) == target]
        if not exact:
            return ranked
        by_id = {r[0]: r for r in ranked}
        top = ranked[0][1] if ranked else 0.0
        front = [(i, max(top, by_id[i][1]), by_id[i][2]) for i in exact if i in by_id]
        chosen = {r[0] for r in front}
        return front + [r for r in ranked if r[0] not in chosen]

    def _resort(self, ranked: list[tuple[str, float, tuple]], sort: str,
                fetched: dict[str, StoredPaper]) -> list[tuple[str, float, tuple]]:
        papers = {i: fetched[i] for i, _, _ in ranked if i in fetched}
        papers.update(self.store.get_papers([i for i, _, _ in ranked if i not in papers]))
        epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

        def key(item):
            p = papers.get(item[0])
            if p is None:
                return (1, 0, epoch)
            pub = p.published or epoch
            if pub.tzinfo is None:
                pub = pub.replace(tzinfo=dt.timezone.utc)
            if sort == "newest":
                return (0, 0, pub)
            return (0, p.upvotes, pub)

        present = [r for r in ranked if r[0] in papers]
        return sorted(present, key=key, reverse=True)

    def _hits(self, ranked: Sequence[tuple[str, float, tuple]], parsed: ParsedQuery, offset: int,
              fetched: dict[str, StoredPaper] | None = None) -> list[SearchHit]:
        papers = {i: fetched[i] for i, _, _ in ranked if fetched and i in fetched}
        papers.update(self.store.get_papers([i for i, _, _ in ranked if i not in papers]))
        out = []
        for n, (arxiv_id, score, sources) in enumerate(ranked, start=offset + 1):
            p = papers.get(arxiv_id)
            if p is None:  # deleted since it was indexed
                continue
            out.append(self._hit(p, score, parsed, n, sources))
        return out

    def _hit(self, p: StoredPaper, score: float, parsed: ParsedQuery, rank: int, sources: tuple) -> SearchHit:
        return SearchHit(paper=p, score=float(score), rank=rank, sources=tuple(sources),
                         words=parsed.highlight_words + parsed.authors)

    # -- similar papers ----------------------------------------------------
    def similar(self, arxiv_id: str, limit: int = 5) -> SearchResults:
        """Papers near this one: its vector's ANN neighbours, or BM25 on its title without one."""
        limit = max(1, min(int(limit), MAX_PER_PAGE))
        res = SearchResults(query=f"similar:{arxiv_id}", per_page=limit, semantic_available=self.semantic_available)
        paper = self.store.get_paper(arxiv_id)
        if paper is None:
            res.message = f"arXiv:{arxiv_id} is not in this collection."
            return res
        empty = ParsedQuery()
        vec = self.vectors.vector_for(arxiv_id) if res.semantic_available and self.vectors is not None else None
        if vec is not None:
            assert self.vectors is not None  # vec came from it
            near = self.vectors.search_keys(vec, limit + 1)
            ranked = [(i, s, ("semantic",)) for i, s, _ in near if i != arxiv_id][:limit]
            res.mode_used = "semantic"
        else:
            words = [m.group() for m in _WORD_RE.finditer(paper.title or "")][:32]
            parsed = ParsedQuery(terms=tuple(words))
            hits = self.lexical.search(parsed, None, limit + 1)
            ranked = [(h.arxiv_id, h.score, ("lexical",)) for h in hits if h.arxiv_id != arxiv_id][:limit]
            res.mode_used = "lexical"
            if not res.semantic_available:
                res.message = "Similar by title words (semantic search is unavailable)."
        res.results = self._hits(ranked, empty, 0)
        res.total = len(res.results)
        return res


def _stage(progress: ProgressFn | None, name: str):
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _join(notes: list) -> str | None:
    notes = [n for n in notes if n]
    return " ".join(dict.fromkeys(notes)) if notes else None
