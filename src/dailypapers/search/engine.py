"""The search service: lexical (BM25), semantic (ANN) and hybrid (fused) behind one call.

``SearchEngine(store, index_dir, embedder)`` is built once per process by the composition root.
Every ranker returns the same shape, :class:`SearchResults`, whose hits carry the stored paper
and safe HTML (escaped text with ``<mark>`` around matched words).

How a query runs (constants below and in ``fusion.py``):

* an arXiv id or URL is not searched: ``redirect_id`` is set (and the paper returned when known);
* lexical: BM25 over title/abstract/authors with the filters as non-scoring clauses;
* semantic: the query is embedded, then the HNSW index is searched; with filters, the candidates
  are restricted through the lexical index, which holds the same metadata: when few papers pass
  the filters (<= ``EXACT_FILTER_LIMIT``) their vectors are scored exactly, otherwise the ANN
  search over-fetches and the candidates are filtered;
* hybrid: the two lists fused by ``fusion.fuse`` (a convex combination of normalized scores,
  each candidate scored by both rankers; see ``_fusion_lists``); papers not embedded yet come
  through the lexical list alone; a query that is exactly a paper's title puts that paper first
  (``TITLE_MATCH_DEPTH``);
* sorts other than relevance re-order the best ``SORT_POOL`` relevant results (a query with only
  filters, e.g. ``cat:cs.CL``, lists everything that passes, newest first).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from dailypapers.models import StoredPaper
from dailypapers.search import fusion
from dailypapers.search.lexical import LexicalIndex, analyze, is_short_query
from dailypapers.search.query import ParsedQuery, SearchFilters, normalize_category, parse_query
from dailypapers.search.vectors import VectorIndex

try:  # Jinja2 (a dependency of the web layer) will not escape a Markup string twice
    from markupsafe import Markup
except ImportError:  # pragma: no cover
    Markup = str  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 250
MAX_PER_PAGE = 100
MAX_RESULTS = 1000  # deepest result reachable by paging
SORT_POOL = 500  # relevant results re-ordered by the "newest" / "upvotes" sorts
# Filtered semantic search. When at most EXACT_FILTER_LIMIT papers pass the filters, their vectors
# are fetched from the index and scored exactly (usearch's get costs ~6 us a key here, so 2,000
# keys ~ 12 ms). Otherwise the ANN search over-fetches (proportionally to how selective the
# filters are, at most OVERFETCH_MAX) and the candidates are filtered: with filters passing
# under ~5% of papers the semantic list can come back short, and the lexical list fills in.
# Measured in bench/bench_search_latency.py ("Filtered searches").
EXACT_FILTER_LIMIT = 2_000
OVERFETCH_MAX = 2_000
SNIPPET_CHARS = 320
# A query that is a paper's exact title (ignoring case, punctuation and spacing) puts that paper
# first in hybrid results when it is among the top TITLE_MATCH_DEPTH lexical hits: RRF alone let
# the semantic list outvote lexical rank 1 for 3.4% of titles over the 64k real papers
# (bench/bench_search_quality.py, "Known-item search").
TITLE_MATCH_DEPTH = 5
MODES = ("hybrid", "lexical", "semantic")
SORTS = ("relevance", "newest", "upvotes")

__all__ = [
    "SearchEngine", "SearchResults", "SearchHit", "SearchFilters", "SearchError", "BadQuery",
    "highlight_html", "snippet_html", "MODES", "SORTS", "MAX_QUERY_CHARS",
]


class SearchError(Exception):
    """A search that cannot run; the message is meant for the user."""


class BadQuery(SearchError):
    """The request is malformed (empty, too long, unknown mode...): HTTP 400."""


@dataclass
class SearchHit:
    paper: StoredPaper
    score: float
    snippet_html: str
    title_html: str
    rank: int = 0  # 1-based position in the whole result list
    sources: tuple[str, ...] = ()  # which rankers found it: "lexical", "semantic"


@dataclass
class SearchResults:
    query: str
    results: list[SearchHit] = field(default_factory=list)
    total: int = 0  # exact for lexical; an estimate (at most MAX_RESULTS) when semantic is involved
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
_STEM_CACHE_MAX = 200_000


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
        alt = "|".join(map(re.escape, self.prefixes))
        self.regex_ci = re.compile(r"(?<![^\W_])(?:" + alt + r")[^\W_]*", re.IGNORECASE) if alt else None

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
                    for st in _stems(m.group()):
                        if st in self.stems:
                            found[i] = (i, m.end(), st)
                            break
                i = low.find(pre, i + 1)
        return [found[i] for i in sorted(found)]

    def _spans_ci(self, text: str) -> list[tuple[int, int, str]]:
        out = []
        for m in self.regex_ci.finditer(text):
            for st in _stems(m.group().lower()):
                if st in self.stems:
                    out.append((m.start(), m.end(), st))
                    break
        return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


@functools.lru_cache(maxsize=1024)
def _matcher(words: tuple[str, ...]) -> _Matcher:
    return _Matcher(words)


def title_key(text: str) -> str:
    """A title (or query) for exact comparison: case, punctuation, TeX markup and spacing ignored."""
    return " ".join(_TITLE_WORDS.findall(text.casefold()))


_TITLE_WORDS = re.compile(r"[^\W_]+")


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
    def __init__(self, store, index_dir: str | Path, embedder=None, *, create: bool = True):
        self.store = store
        self.index_dir = Path(index_dir)
        self.embedder = embedder
        self.lexical = LexicalIndex(self.index_dir / "lexical", create=create)
        self.vectors = VectorIndex(self.index_dir / "vectors", embedder.dim) if embedder is not None else None

    # -- state -------------------------------------------------------------
    def semantic_status(self) -> tuple[bool, str | None]:
        """(available, why not)."""
        if self.embedder is None or self.vectors is None:
            return False, "Semantic search is off (no embedding model installed); results are keyword matches only."
        try:
            if not self.vectors.refresh() or len(self.vectors) == 0:
                return False, "Semantic search is not ready (no paper embeddings indexed yet: run `dailypapers embed`); results are keyword matches only."
        except Exception as e:  # noqa: BLE001 - a broken vector index must not break search
            log.warning("vector index unusable: %s", e)
            return False, f"Semantic search is unavailable ({e}); results are keyword matches only."
        model = self.vectors.model_id
        if model and model != self.embedder.model_id:
            return False, "The vector index was built with another model: run `dailypapers reindex`; results are keyword matches only."
        return True, None

    @property
    def semantic_available(self) -> bool:
        return self.semantic_status()[0]

    def sync(self, progress: ProgressFn | None = None) -> dict[str, int]:
        """Bring the indexes in step with the store (after ingest / embed)."""
        out = {"lexical": self.lexical.sync(self.store, _stage(progress, "lexical"))}
        if self.embedder is not None and self.vectors is not None:
            out["vectors"] = self.vectors.sync(self.store, self.embedder.model_id, _stage(progress, "vectors"))
        return out

    def rebuild(self, progress: ProgressFn | None = None) -> dict[str, int]:
        out = {"lexical": self.lexical.rebuild(self.store, _stage(progress, "lexical"))}
        if self.embedder is not None and self.vectors is not None:
            out["vectors"] = self.vectors.rebuild(self.store, self.embedder.model_id, _stage(progress, "vectors"))
        return out

    def close(self) -> None:
        self.lexical.close()

    # -- search ------------------------------------------------------------
    def search(
        self,
        q: str | None,
        *,
        mode: str = "hybrid",
        filters: SearchFilters | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 20,
    ) -> SearchResults:
        q = q if q is not None else ""
        if not q.strip():
            raise BadQuery("Type something to search for.")
        if len(q) > MAX_QUERY_CHARS:
            raise BadQuery(f"The query is too long ({len(q)} characters; at most {MAX_QUERY_CHARS}).")
        if mode not in MODES:
            raise BadQuery(f"Unknown search mode {mode!r}: use one of {', '.join(MODES)}.")
        if sort not in SORTS:
            raise BadQuery(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.")
        if not isinstance(page, int) or page < 1:
            raise BadQuery("The page number must be 1 or more.")
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise BadQuery(f"Results per page must be between 1 and {MAX_PER_PAGE}.")
        filters = filters or SearchFilters()
        if filters.category and normalize_category(filters.category) is None:
            raise BadQuery(f"Not a category: {filters.category!r} (expected e.g. cs.CL or cs).")
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise BadQuery("The start date is after the end date.")

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
        if mode != "lexical" and not available:
            notes.append(why)
        res.mode_used = mode if use_semantic else "lexical"
        semantic_failed = False
        fetched: dict[str, StoredPaper] = {}  # papers already read for this query

        want = offset + per_page if sort == "relevance" else SORT_POOL
        want = min(want, MAX_RESULTS)
        if res.mode_used == "lexical":
            if sort == "relevance":
                hits, total = self.lexical.search_with_count(parsed, filters, per_page, offset)
                res.total = total
                res.results = self._hits([(h.arxiv_id, h.score, ("lexical",)) for h in hits], parsed, offset)
                res.message = _join(notes)
                return res
            hits, total = self.lexical.search_with_count(parsed, filters, want, 0)
            ranked = [(h.arxiv_id, h.score, ("lexical",)) for h in hits]
            total = min(total, want)
        elif res.mode_used == "semantic":
            sem = self._semantic(parsed, filters, want)
            semantic_failed = sem is None
            ranked = [(i, s, ("semantic",)) for i, s, _ in sem or []]
            # Every paper is some distance away: when the page was filled, more can follow.
            total = len(ranked) if len(ranked) < want else MAX_RESULTS
        else:
            depth = max(fusion.DEPTH, want)
            # No exact count here (it would visit every match): the total is an estimate.
            lex, _ = self.lexical.search_with_count(parsed, filters, depth, 0, count=False)
            lex_total = MAX_RESULTS if len(lex) >= depth else len(lex)
            sem = self._semantic(parsed, filters, depth)
            semantic_failed = sem is None
            lex_ids = [h.arxiv_id for h in lex]
            sem_ids = [i for i, _, _ in sem or []]
            fused = fusion.fuse(self._fusion_lists(parsed, filters, lex, sem or []), short=is_short_query(parsed))
            lex_set, sem_set = set(lex_ids), set(sem_ids)
            ranked = [
                (i, s, tuple(n for n, ids in (("lexical", lex_set), ("semantic", sem_set)) if i in ids))
                for i, s in fused
            ]
            total = max(lex_total, len(ranked))
            if sort == "relevance":
                ranked, fetched = self._exact_titles_first(ranked, parsed, lex_ids[:TITLE_MATCH_DEPTH])

        if semantic_failed:
            notes.append("Semantic search failed on this query; results are keyword matches only.")
            if res.mode_used == "semantic":  # nothing to show from it: answer lexically
                hits, total = self.lexical.search_with_count(parsed, filters, want, 0)
                ranked = [(h.arxiv_id, h.score, ("lexical",)) for h in hits]
            res.mode_used = "lexical"
        if sort != "relevance":
            ranked = self._resort(ranked[:SORT_POOL], sort)
            total = len(ranked)
        res.total = min(total, MAX_RESULTS) if res.mode_used != "lexical" else total
        res.results = self._hits(ranked[offset : offset + per_page], parsed, offset, fetched)
        res.message = _join(notes)
        return res

    def _semantic(self, parsed: ParsedQuery, filters: SearchFilters, depth: int) -> list[tuple[str, float, int]] | None:
        """The semantic list, or None when the model or the index failed (logged)."""
        try:
            return self._semantic_leg(parsed, filters, depth)
        except Exception:  # noqa: BLE001 - a failing model or index must not break search
            log.exception("semantic search failed; answering from the lexical index")
            return None

    def _semantic_leg(self, parsed: ParsedQuery, filters: SearchFilters, depth: int) -> list[tuple[str, float, int]]:
        assert self.embedder is not None and self.vectors is not None
        qvec = self.embedder.embed_query(parsed.text)
        fq = self.lexical.filter_query(parsed, filters, required_text=True)
        if fq is None:
            return self.vectors.search_keys(qvec, depth)
        n = self.lexical.count_matching(fq)
        if n == 0:
            return []
        if n <= EXACT_FILTER_LIMIT:
            keys = self.lexical.keys_matching(fq, n)
            return self.vectors.search_keys(qvec, depth, candidates=keys)
        size = max(1, len(self.vectors))
        fetch = int(min(OVERFETCH_MAX, max(depth * 4, depth * size / n * 2)))
        cands = self.vectors.search_keys(qvec, fetch)
        ok = set(self.lexical.keys_matching(fq, len(cands), keys=[c[2] for c in cands]))
        return [c for c in cands if c[2] in ok][:depth]

    def _fusion_lists(self, parsed: ParsedQuery, filters: SearchFilters, lex: list,
                      sem: list[tuple[str, float, int]], complete: bool | None = None,
                      ) -> dict[str, list[tuple[str, float]]]:
        """The two scored lists to fuse, each completed with its own scores for the papers only
        the other list found (exact cosine; BM25, 0 when the paper does not match), so that the
        convex combination compares every candidate on both scores. A paper without a vector
        stays missing from the semantic list (fusion gives it that list's lowest score)."""
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
            if lex_only:
                qvec = self.embedder.embed_query(parsed.text)  # cached by the embedder
                sem_l += [(i, s) for i, s, _ in self.vectors.search_keys(qvec, len(lex_only), candidates=lex_only)]
        except Exception:  # noqa: BLE001 - fuse what the legs returned
            log.exception("completing the hybrid scores failed")
            return {"lexical": [(h.arxiv_id, h.score) for h in lex], "semantic": [(i, s) for i, s, _ in sem]}
        return {"lexical": lex_l, "semantic": sem_l}

    def _exact_titles_first(self, ranked: list[tuple[str, float, tuple]], parsed: ParsedQuery,
                            candidates: list[str]) -> tuple[list[tuple[str, float, tuple]], dict[str, StoredPaper]]:
        """The ranking with exact-title matches first, and the candidate papers it read."""
        target = title_key(parsed.raw)
        if not target or not candidates:
            return ranked, {}
        papers = self.store.get_papers(candidates)
        exact = [i for i in candidates if i in papers and title_key(papers[i].title) == target]
        if not exact:
            return ranked, papers
        by_id = {r[0]: r for r in ranked}
        top = ranked[0][1] if ranked else 0.0
        front = [(i, max(top, by_id[i][1]), by_id[i][2]) for i in exact if i in by_id]
        chosen = {r[0] for r in front}
        return front + [r for r in ranked if r[0] not in chosen], papers

    def _resort(self, ranked: list[tuple[str, float, tuple]], sort: str) -> list[tuple[str, float, tuple]]:
        papers = self.store.get_papers([i for i, _, _ in ranked])
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
        words = parsed.highlight_words + parsed.authors
        return SearchHit(
            paper=p, score=float(score), rank=rank, sources=tuple(sources),
            title_html=highlight_html(p.title, words),
            snippet_html=snippet_html(p.abstract, words),
        )

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
