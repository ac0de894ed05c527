"""Lexical search: BM25 with per-field weights, in a tantivy index beside the database.

* The index lives in ``<index_dir>/lexical``. It follows the database by the papers' ``seq``
  column: :meth:`LexicalIndex.sync` indexes every paper with ``seq`` above the last one indexed
  (recorded in ``sync.json`` in the index folder, written after each commit, so a killed sync
  resumes and redoing a batch is harmless: an upsert is delete-by-id + add).
* :meth:`LexicalIndex.rebuild` re-creates it from the store in one commit, so readers see
  either the old index or the new one.
* A change of counts alone (a vote, a new Hugging Face count: the store's ``text_changed_since``
  says the text did not move) is not re-indexed: the paper's current upvotes go into a small
  overlay file beside the index (``upvotes.json``), which the upvote filter and the upvote order
  read over the indexed value. Votes then cost a node no commit (each was ~100 ms of tantivy
  work and fsyncs, twice a second, while people voted). Past ``OVERLAY_MAX`` papers the overlay is
  folded in: those papers are re-indexed in one commit.
* One writer (the CLI: ingest / reindex; tantivy's own lock file forbids a second one), any
  number of reader processes. Readers check ``meta.json`` (one ``stat``) before each search and
  reload when a writer has committed.
* Queries are built from :class:`ParsedQuery` with Query objects (term / phrase / boolean /
  boost), never through tantivy's query parser, so no user input is ever interpreted by it.
  Terms read frequencies, or documents alone when they only match; only a quoted phrase reads
  positions (the largest part of the index after the postings), so searches leave those pages
  alone.

Fields and weights: ``text`` (title and abstract as one field, one length norm, as Pyserini and
SQLite FTS5 score them) plus ``title`` again on top, and ``authors``; see ``FIELD_WEIGHTS``.
The analyzer (:func:`analyze`) drops TeX formatting commands, splits on anything that is not a
letter or digit (so ``self-supervised`` is two words, ``COVID-19`` is ``covid`` ``19``), folds
case and accents, drops English stop words and stems. Tuned on SciFact train and the topic
queries by ``bench/bench_search_quality.py --tune`` (BENCHMARKS.md, "Search quality").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from dailypapers.models import StoredPaper
from dailypapers.search.catchup import iter_changed, paper_key
from dailypapers.search.query import ParsedQuery, SearchFilters, normalize_category

# BM25 multipliers, summed over fields. On SciFact train (lexical nDCG@10) one flat
# title+abstract field beats separate title/abstract fields (0.696 against 0.689 at the best
# split, title 0.5, and 0.661 at the title 1.25 used before); the title again on top at 0.25
# helps a little more (0.70 across 0.1-0.3, falling beyond; cross-validated in BENCHMARKS.md)
# and keeps an exact title first in known-item search. On the topic queries a heavier title
# hurts (0.49 / 0.44 / 0.37 at 0.25 / 0.5 / 1.0): HF's keywords come from abstracts too.
# Authors cannot be tuned on SciFact (it has none): 0.5 lets a name count without outranking
# topical matches. tantivy fixes k1 = 1.2 and b = 0.75; b emulated by padding every document
# with a fixed number of filler tokens (b' = 0.75 A / (A + pad)) scored 0.705-0.707 for b' from
# 0.3 to 0.75 on SciFact, so the defaults stay.
FIELD_WEIGHTS = {"text": 1.0, "title": 0.25, "authors": 0.5}
# A short query of free words (a topic such as "diffusion models" or "rlhf") also scores the
# whole query as a phrase in the title, so that a paper about the topic ranks above one that
# mentions it in passing. Long queries (claims, sentences) are left alone. On the 1,000 topic
# queries (lexical nDCG@10) a bonus of x0 / 0.5 / 1 / 2 / 4 scored 0.482 / 0.488 / 0.488 / 0.486 /
# 0.485 as a phrase query. The phrase of two or more words is now matched as its adjacent word
# pairs, each a term of the title_pairs field (Solr's "pf2"): a phrase query among the optional
# clauses keeps tantivy from skipping documents by their best possible score (block-max WAND),
# which doubled the time of a short query's top 200 at 1M papers. Cross-validated on the 974 short
# topic queries, the pairs' weight 0.25 is picked in 25 of 25 folds (held-out 0.480; the phrase at
# 0.5, 0.482), and SciFact hybrid is the same (BENCHMARKS.md, "The title phrase as word pairs").
SHORT_QUERY_TOKENS = 4
TITLE_PHRASE_BOOST = 0.25
SCHEMA_VERSION = 4  # bump when the analyzer or the fields change: old indexes are rebuilt
TEXT_TOKENIZER = "dp_en2"  # simple split, lowercase, ASCII folding, stop words, English stemmer
NAME_TOKENIZER = "dp_name"  # split, lowercase, ASCII folding: author names are not stemmed
PAIRS_TOKENIZER = "dp_pairs"  # title_pairs: whitespace between pairs made by title_pairs()
MAX_TOKEN_LEN = 40
WRITER_HEAP = 64_000_000  # bytes; keeps a bulk ingest + sync within ~300 MB RSS (BENCHMARKS.md)
COMMIT_EVERY = 50_000  # a long sync commits (and records its position) this often
# Papers whose upvotes moved without a re-index; each costs an upvote-filtered query a term clause
# (about 30 us), and folding them in costs one commit.
OVERLAY_MAX = 200
OVERLAY_FILE = "upvotes.json"
# Lucene's English stop set (the one Pyserini's BM25 uses).
STOP_WORDS = tuple(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)
# TeX commands that only format or relate symbols; they are dropped so that "$\mathcal{O}(n)$"
# does not make "mathcal" a word of the paper. Other commands keep their name (\alpha -> alpha).
_TEX_NOISE = re.compile(
    r"\\(?:math[a-z]*|text[a-z]*|operatorname|emph|frac|[dt]frac|sqrt|left|right|[bB]igg?[lr]?"
    r"|[cl]?dots[a-z]?|cdot|times|quad|qquad|hat|tilde|widetilde|widehat|bar|vec|overline|underline"
    r"|boldsymbol|bm|rm|bf|it|sf|tt|cal|displaystyle|textstyle|scriptstyle|in|leq?|geq?|approx|sim"
    r"|mid|to|rightarrow|leftarrow|infty|mathbb|label|cite|ref|url|href)(?![A-Za-z])"
)

Progress = Callable[[int, int], None]


def strip_tex(text: str) -> str:
    """``text`` without TeX formatting commands (the index and the queries both see this)."""
    return _TEX_NOISE.sub(" ", text) if "\\" in text else text


def _builder(stop: bool, stem: bool) -> tantivy.TextAnalyzer:
    b = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_LEN))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stop:
        b = b.filter(tantivy.Filter.custom_stopword(list(STOP_WORDS)))
    if stem:
        b = b.filter(tantivy.Filter.stemmer("english"))
    return b.build()


def _text_analyzer() -> tantivy.TextAnalyzer:
    return _builder(stop=True, stem=True)


def _name_analyzer() -> tantivy.TextAnalyzer:
    return _builder(stop=False, stem=False)


def _pairs_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


_TEXT = _text_analyzer()
_NAME = _name_analyzer()
_STEMS = _builder(stop=False, stem=True)  # to find the positions stop words leave empty
_STOP = frozenset(STOP_WORDS)
_analyzer_lock = threading.Lock()


def analyze(text: str) -> list[str]:
    """Tokens of ``text`` as the title/text fields index them (stemmed, without stop words)."""
    with _analyzer_lock:
        return _TEXT.analyze(strip_tex(text))


def analyze_positions(text: str) -> list[tuple[int, str]]:
    """(position, token) of :func:`analyze`'s tokens: stop words leave gaps, as in the index."""
    text = strip_tex(text)
    with _analyzer_lock:
        plain = _NAME.analyze(text)
        stems = _STEMS.analyze(text)
    return [(i, st) for i, (w, st) in enumerate(zip(plain, stems)) if w not in _STOP]


def word_pairs(tokens: Sequence[str]) -> list[str]:
    """Adjacent analyzed tokens joined ("languag_model"): the terms of the title_pairs field.
    A stop word between two words is skipped ("chain of thought" gives "chain_thought"). Tokens
    are letters and digits only, so "_" cannot be part of one."""
    return [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]


def title_pairs(title: str) -> list[str]:
    return word_pairs([tok for _, tok in analyze_positions(title)])


def analyze_name(text: str) -> list[str]:
    with _analyzer_lock:
        return _NAME.analyze(text)


def paper_categories(p: StoredPaper) -> list[str]:
    """A paper's categories and their archives (``cs.CL`` and ``cs``), as the index files them."""
    out: list[str] = []
    for c in p.categories or []:
        for v in (c, c.split(".")[0]):
            if v and v not in out:
                out.append(v)
    return out


def organization_term(name: str) -> str:
    """An organization's name as the index holds it (case ignored)."""
    return name.strip().casefold()


def _short_query_tokens(parsed: ParsedQuery) -> list[tuple[int, str]]:
    if parsed.phrases or not parsed.terms:
        return []
    tokens = analyze_positions(" ".join(parsed.terms))
    return tokens if 1 <= len(tokens) <= SHORT_QUERY_TOKENS else []


def is_short_query(parsed: ParsedQuery) -> bool:
    """A topic rather than a sentence: 1 to SHORT_QUERY_TOKENS indexable words, no quotes."""
    return bool(_short_query_tokens(parsed))


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_integer_field("key", stored=False, indexed=True, fast=True)
    sb.add_text_field("title", tokenizer_name=TEXT_TOKENIZER)
    sb.add_text_field("text", tokenizer_name=TEXT_TOKENIZER)  # title and abstract, two values
    sb.add_text_field("authors", tokenizer_name=NAME_TOKENIZER)
    sb.add_text_field("categories", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("organization", tokenizer_name="raw", index_option="basic")  # name, casefolded
    sb.add_date_field("published", indexed=True, fast=True)
    sb.add_integer_field("upvotes", indexed=True, fast=True)
    sb.add_boolean_field("has_code", indexed=True, fast=True)
    sb.add_text_field("title_pairs", tokenizer_name=PAIRS_TOKENIZER, index_option="freq")  # title_pairs()
    return sb.build()


# The dates a tantivy date field can hold (nanoseconds since 1970 in 64 bits), with a day to spare.
INDEX_DATES = (dt.datetime(1678, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2262, 1, 1, tzinfo=dt.timezone.utc))


class IndexBusy(RuntimeError):
    """Another process holds the index's writer lock."""


@dataclass(frozen=True)
class Hit:
    arxiv_id: str
    score: float  # BM25 for relevance order; the sort value otherwise
    key: int


def paper_document(p: StoredPaper) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", p.arxiv_id)
    doc.add_integer("key", paper_key(p.arxiv_id))
    title, abstract = strip_tex(p.title or ""), strip_tex(p.abstract or "")
    doc.add_text("title", title)
    pairs = title_pairs(title)
    if pairs:
        doc.add_text("title_pairs", " ".join(pairs))
    doc.add_text("text", title)
    doc.add_text("text", abstract)
    for name in p.authors or []:
        doc.add_text("authors", name)
    for v in paper_categories(p):
        doc.add_text("categories", v)
    if p.organization is not None and p.organization.name:
        doc.add_text("organization", organization_term(p.organization.name))
    if p.published is not None:
        doc.add_date("published", p.published)
    doc.add_integer("upvotes", int(p.upvotes))
    doc.add_boolean("has_code", bool(p.github_repo))
    return doc


class LexicalIndex:
    """A tantivy index of papers. Open it in every process; only the CLI writes."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True,
                 ids_for_keys: Callable[[list[int]], list[str | None]] | None = None):
        """``ids_for_keys`` (optional) names papers by key without reading tantivy's document
        store (the vector index's key table does it for ~0.2 us a hit; a stored-document read costs
        ~2-4 us); keys it does not know are read from the store."""
        self.path = Path(path)
        # stat'ed a few times per search (and the overlay on every search request): made once
        self._meta_name = str(self.path / "meta.json")
        self._overlay_path = self.path / OVERLAY_FILE
        self._ids_for_keys = ids_for_keys
        self._lock = threading.Lock()
        self._writer: tantivy.IndexWriter | None = None
        self._meta_stamp: tuple | None = None
        self._categories: tuple[tuple | None, list[str]] | None = None
        # arxiv_id -> (key, upvotes in the index, upvotes now), read again when the file changes
        self._overlay_cache: tuple[tuple | None, dict[str, tuple[int, int, int]]] = (None, {})
        self.schema = _schema()
        state = self._read_state()
        if state.get("schema") not in (None, SCHEMA_VERSION) and create:
            # An index from another schema version: start again (sync refills it).
            shutil.rmtree(self.path, ignore_errors=True)
            state = {}
        if not (self.path / "meta.json").exists():
            if not create:
                raise FileNotFoundError(f"no search index at {self.path}: run `dailypapers reindex`")
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self.schema, str(self.path), reuse=True)
            self._write_state({"schema": SCHEMA_VERSION, "last_seq": 0})
        else:
            self._index = tantivy.Index(self.schema, str(self.path), reuse=True)
        self._index.register_tokenizer(TEXT_TOKENIZER, _text_analyzer())
        self._index.register_tokenizer(NAME_TOKENIZER, _name_analyzer())
        self._index.register_tokenizer(PAIRS_TOKENIZER, _pairs_analyzer())
        self._index.config_reader(reload_policy="Manual")
        self.reload()

    # -- state -------------------------------------------------------------
    @property
    def _state_path(self) -> Path:
        return self.path / "sync.json"

    def _read_state(self) -> dict:
        try:
            return json.loads(self._state_path.read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, state: dict) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self._state_path)

    @property
    def last_seq(self) -> int:
        return int(self._read_state().get("last_seq", 0))

    def overlay_stamp(self) -> tuple | None:
        """Changes when the upvote overlay does (with :meth:`stamp`: this index's position)."""
        try:
            st = os.stat(self._overlay_path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def overlay(self) -> dict[str, tuple[int, int, int]]:
        """Papers whose upvotes moved since they were indexed: arxiv_id -> (key, indexed, now)."""
        stamp = self.overlay_stamp()
        cached = self._overlay_cache
        if stamp != cached[0]:
            try:
                raw = json.loads(self._overlay_path.read_text()) if stamp is not None else {}
            except (OSError, ValueError):
                raw = {}
            cached = self._overlay_cache = (stamp, {i: (paper_key(i), int(v[0]), int(v[1])) for i, v in raw.items()})
        return cached[1]

    def _write_overlay(self, overlay: dict[str, tuple[int, int]]) -> None:
        if not overlay:
            self._overlay_path.unlink(missing_ok=True)
            return
        tmp = self._overlay_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({i: list(v) for i, v in overlay.items()}))
        os.replace(tmp, self._overlay_path)

    # -- readers -----------------------------------------------------------
    def stamp(self) -> tuple | None:
        """The last commit's mark (meta.json's time, size and inode): cheap, changes on commit."""
        try:
            st = os.stat(self._meta_name)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self) -> None:
        """Pick up the writer's last commit (cheap when nothing changed)."""
        stamp = self.stamp()
        if stamp != self._meta_stamp:
            with self._lock:
                self._index.reload()
                self._meta_stamp = stamp

    def searcher(self) -> tantivy.Searcher:
        self.reload()
        return self._index.searcher()

    def count(self, parsed: ParsedQuery | None = None, filters: SearchFilters | None = None) -> int:
        """Documents in the index, or matching ``parsed`` and ``filters`` when given."""
        if parsed is None and filters is None:
            return self.searcher().num_docs
        return self.count_matching(self.build_query(parsed or ParsedQuery(), filters))

    def categories(self) -> list[str]:
        """The arXiv categories (``cs.CL``; not bare archives) some indexed paper carries, most used
        first. Read from the term dictionary once per commit."""
        stamp = self.stamp()
        cached = self._categories
        if cached is None or cached[0] != stamp:
            terms = self.searcher().terms_with_prefix("categories", "")
            cached = self._categories = (stamp, [t for t, n in terms if "." in t and n > 0])
        return list(cached[1])

    # -- writing -----------------------------------------------------------
    def _get_writer(self):
        if self._writer is None:
            try:
                self._writer = self._index.writer(WRITER_HEAP, 1)
            except ValueError as e:  # tantivy's lock file: one writer at a time
                raise IndexBusy(
                    f"another process is updating the search index in {self.path} ({e}); try again when it is done"
                ) from e
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.wait_merging_threads()
            except Exception:  # noqa: BLE001 - closing must not fail
                pass
            self._writer = None

    def _commit(self, last_seq: int) -> None:
        self._get_writer().commit()
        self._write_state({"schema": SCHEMA_VERSION, "last_seq": last_seq})
        self.reload()

    def upsert(self, papers: list[StoredPaper], *, fresh: bool = False) -> None:
        """Add papers, replacing earlier copies (`fresh`: the index is known to hold none of them)."""
        if not papers:
            return  # a sync of votes alone opens no writer (tantivy sets one up and tears it down)
        w = self._get_writer()
        for p in papers:
            if not fresh:
                # Deletes queue up in the writer's memory; a first sync has nothing to delete.
                w.delete_documents_by_term("id", p.arxiv_id)
            w.add_document(paper_document(p))

    def sync(self, store, progress: Progress | None = None) -> int:
        """Index papers changed since the last sync; returns how many were (re)indexed. A paper
        whose counts alone changed goes to the upvote overlay instead (see the module's notes)."""
        since = self.last_seq
        fresh = since == 0 and self.count() == 0
        total = max(0, store.max_seq() - since)  # an upper bound in seqs, for the progress bar
        done = pending = 0
        before = {i: (indexed, now) for i, (_, indexed, now) in self.overlay().items()}
        overlay = {} if fresh else dict(before)
        # Papers indexed since the last commit, which the index cannot answer for yet: their upvotes.
        # A first sync reads no counts back, and a commit empties it (at 3M papers a dict of every
        # paper held ~250 MB until the catch-up ended).
        upserted: dict[str, int] = {}
        for seq, papers in iter_changed(store, since):
            text = papers if fresh else self._split_counts(store, since, papers, overlay, upserted)
            self.upsert(text, fresh=fresh)
            if not fresh:
                upserted.update((p.arxiv_id, int(p.upvotes)) for p in text)
            done += len(text)
            pending += len(text)
            if pending >= COMMIT_EVERY:
                self._get_writer().commit()
                upserted.clear()
                self._write_overlay(overlay)  # before the position moves past these counts
                before = dict(overlay)
                self._write_state({"schema": SCHEMA_VERSION, "last_seq": seq})
                pending = 0
            since = seq
            if progress:
                progress(done, total)
        if len(overlay) > OVERLAY_MAX:  # fold: re-index them, the overlay starts again
            papers = list(store.get_papers(list(overlay)).values())
            self.upsert(papers)
            pending += len(papers)
            overlay = {}
        if pending:
            self._get_writer().commit()
        if overlay != before:
            self._write_overlay(overlay)
        if pending:
            self._write_state({"schema": SCHEMA_VERSION, "last_seq": since})
            self.reload()
        elif since != self.last_seq:
            self._write_state({"schema": SCHEMA_VERSION, "last_seq": since})
        return done

    def _split_counts(self, store, since: int, papers: list[StoredPaper], overlay: dict[str, tuple[int, int]],
                      upserted: dict[str, int]) -> list[StoredPaper]:
        """The papers whose text changed after ``since`` (to index); the others' upvotes go into
        ``overlay`` (arxiv_id -> (upvotes in the index, upvotes now))."""
        text_changed = store.text_changed_since(since, [p.arxiv_id for p in papers])
        counts = [p for p in papers if p.arxiv_id not in text_changed]
        unknown = [p.arxiv_id for p in counts if p.arxiv_id not in overlay and p.arxiv_id not in upserted]
        indexed = self._indexed_upvotes(unknown)
        text = []
        for p in papers:
            if p.arxiv_id in text_changed or (p.arxiv_id in unknown and p.arxiv_id not in indexed):
                text.append(p)  # a paper not in the index yet is indexed whatever changed
                if p.arxiv_id in overlay:  # its new document holds the count: no correction left
                    overlay[p.arxiv_id] = (int(p.upvotes), int(p.upvotes))
                continue
            was = overlay[p.arxiv_id][0] if p.arxiv_id in overlay else upserted.get(p.arxiv_id, indexed.get(p.arxiv_id))
            assert was is not None
            if p.arxiv_id in overlay or was != int(p.upvotes):  # a comment count moves no upvotes
                overlay[p.arxiv_id] = (was, int(p.upvotes))
        return text

    def _indexed_upvotes(self, arxiv_ids: list[str]) -> dict[str, int]:
        """The upvotes the committed index holds for these papers (those it has)."""
        if not arxiv_ids:
            return {}
        ids = {paper_key(i): i for i in arxiv_ids}
        searcher = self.searcher()
        res = searcher.search(self._among(list(ids)), len(ids), count=False)
        addrs = [a for _, a in res.hits]
        if not addrs:
            return {}
        keys = searcher.fast_field_values("key", addrs)
        ups = searcher.fast_field_values("upvotes", addrs)
        return {ids[int(k)]: int(u or 0) for k, u in zip(keys, ups) if k is not None and int(k) in ids}

    def rebuild(self, store, progress: Progress | None = None) -> int:
        """Re-index everything from the store in one commit."""
        w = self._get_writer()
        w.delete_all_documents()
        done = since = 0
        for seq, papers in iter_changed(store, 0):
            for p in papers:
                w.add_document(paper_document(p))
            done += len(papers)
            since = seq
            if progress:
                progress(done, 0)
        self._commit(since)
        self._write_overlay({})
        return done

    # -- queries -----------------------------------------------------------
    def _term(self, field: str, value: str | int | bool, record: str = "freq") -> tantivy.Query:
        """A term query reading what it needs of the postings: term frequencies for BM25
        (``"freq"``), or documents only (``"basic"``) where the score is thrown away. tantivy-py's
        default, ``"position"``, has every term read and decode its positions as well, which only
        a phrase uses: 300 topic queries at 64k mapped 11.9 MB of the 12.7 MB positions files with
        it and 0.9 MB without (BENCHMARKS.md, "A node's memory at 3M: positions, counts and malloc")."""
        return tantivy.Query.term_query(self.schema, field, value, index_option=record)

    def _tokens_query(self, field: str, tokens: list) -> tantivy.Query | None:
        """A term, or a phrase of tokens (plain, or (position, token) pairs)."""
        if not tokens:
            return None
        if len(tokens) == 1:
            tok = tokens[0]
            return self._term(field, tok[1] if isinstance(tok, tuple) else tok)
        words: list[str | tuple[int, str]] = list(tokens)
        return tantivy.Query.phrase_query(self.schema, field, words)

    def _boosted(self, field: str, q: tantivy.Query | None, boost: float) -> list[tuple]:
        if q is None or boost <= 0:
            return []
        return [(tantivy.Occur.Should, tantivy.Query.boost_query(q, boost))]

    def _word_parts(self, word: str, seen: set[str] | None = None) -> list[tuple]:
        """(Should, boosted query) clauses for one free word of the query.

        Each token counts on its own: a hyphenated or dotted word ("0-dimensional", "x-ray")
        is its tokens, not a phrase of them (a phrase lost 0.01 nDCG@10 on SciFact train).
        Author names stay whole: "Jean-Pierre" is one name.
        """
        parts = []
        for tok in analyze(word):
            if seen is not None:
                if tok in seen:  # "cells ... cell": one stem counts once (+0.003 on SciFact)
                    continue
                seen.add(tok)
            for field in ("text", "title"):
                parts += self._boosted(field, self._term(field, tok), FIELD_WEIGHTS[field])
        parts += self._boosted("authors", self._tokens_query("authors", analyze_name(word)), FIELD_WEIGHTS["authors"])
        return parts

    def _unit_parts(self, text: str) -> list[tuple]:
        """(Should, boosted query) per field for one word or phrase, matched as a phrase."""
        parts = []
        stemmed = analyze_positions(text)
        for field in ("text", "title"):
            parts += self._boosted(field, self._tokens_query(field, stemmed), FIELD_WEIGHTS[field])
        parts += self._boosted("authors", self._tokens_query("authors", analyze_name(text)), FIELD_WEIGHTS["authors"])
        return parts

    def _text_unit(self, text: str) -> tantivy.Query | None:
        """One word or phrase, matched in any field, each field's BM25 weighted."""
        parts = self._unit_parts(text)
        return tantivy.Query.boolean_query(parts) if parts else None

    def _short_query_parts(self, parsed: ParsedQuery) -> list[tuple]:
        """The title bonus of a short free-text query (see ``TITLE_PHRASE_BOOST``): its one word
        in the title, or each of its adjacent word pairs in title_pairs. Terms only, never a
        phrase query, so that tantivy can prune by block-max scores."""
        tokens = [tok for _, tok in _short_query_tokens(parsed)]
        if len(tokens) == 1:
            return self._boosted("title", self._term("title", tokens[0]), TITLE_PHRASE_BOOST)
        parts = []
        for pair in dict.fromkeys(word_pairs(tokens)):
            parts += self._boosted("title_pairs", self._term("title_pairs", pair), TITLE_PHRASE_BOOST)
        return parts

    def filter_clauses(self, parsed: ParsedQuery | None, filters: SearchFilters | None) -> list[tantivy.Query]:
        """Non-scoring restrictions from the query's fields and the form's filters."""
        out: list[tantivy.Query] = []
        s = self.schema
        f = filters or SearchFilters()
        date_from, date_to = f.date_from, f.date_to
        if parsed is not None and parsed.year_from:
            y = dt.date(parsed.year_from, 1, 1)
            date_from = max(date_from, y) if date_from else y
        if parsed is not None and parsed.year_to:
            y = dt.date(parsed.year_to, 12, 31)
            date_to = min(date_to, y) if date_to else y
        if date_from or date_to:
            lo = dt.datetime.combine(date_from, dt.time(), dt.timezone.utc) if date_from else None
            hi = (
                dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
                if date_to
                else None
            )
            # tantivy keeps dates as nanoseconds (years 1678 to 2261): a bound outside is no bound.
            lo = lo if lo is None or lo > INDEX_DATES[0] else None
            hi = hi if hi is None or hi < INDEX_DATES[1] else None
            if (lo and lo >= INDEX_DATES[1]) or (hi and hi <= INDEX_DATES[0]) or (lo and hi and lo >= hi):
                out.append(tantivy.Query.empty_query())
            elif lo is None and hi is None:
                pass
            else:
                out.append(
                    tantivy.Query.range_query(
                        s, "published", tantivy.FieldType.Date, lo, hi,
                        include_lower=True, include_upper=hi is None,
                    )
                )
        cats = list(parsed.categories) if parsed is not None else []
        if f.category:
            c = normalize_category(f.category)
            out.append(self._term("categories", c, "basic") if c else tantivy.Query.empty_query())
        if cats:
            out.append(tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._term("categories", c, "basic")) for c in cats]))
        if f.organization:
            out.append(self._term("organization", organization_term(f.organization), "basic"))
        if f.has_code:
            out.append(self._term("has_code", True, "basic"))
        if f.min_upvotes:
            out.append(self._upvotes_at_least(int(f.min_upvotes)))
        if parsed is not None:
            for a in parsed.authors:
                q = self._tokens_query("authors", analyze_name(a))
                out.append(q if q is not None else tantivy.Query.empty_query())
        return out

    def _upvotes_at_least(self, n: int) -> tantivy.Query:
        """Papers with at least ``n`` upvotes: the indexed value, corrected by the overlay (only
        the papers whose count crossed ``n`` since they were indexed need a clause)."""
        q = tantivy.Query.range_query(self.schema, "upvotes", tantivy.FieldType.Integer, n, None)
        moved = self.overlay().values()
        drop = [key for key, indexed, now in moved if indexed >= n > now]
        add = [key for key, indexed, now in moved if now >= n > indexed]
        if drop:
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.MustNot, self._among(drop))])
        if add:
            q = tantivy.Query.boolean_query([(tantivy.Occur.Should, q), (tantivy.Occur.Should, self._among(add))])
        return q

    def build_query(
        self, parsed: ParsedQuery, filters: SearchFilters | None = None, *, text: bool = True
    ) -> tantivy.Query:
        clauses: list[tuple] = []
        if text:
            # Optional words go in flat, one clause per (word, field): the same BM25 sum as
            # nesting them per word, at about half the cost on common words (measured at 1M).
            seen: set[str] = set()
            for t in parsed.terms:
                clauses.extend(self._word_parts(t, seen))
            clauses.extend(self._short_query_parts(parsed))
            for p in parsed.phrases:
                q = self._text_unit(p)
                if q is not None:
                    clauses.append((tantivy.Occur.Must, q))
        has_text = bool(clauses)
        for t in list(parsed.excluded_terms) + list(parsed.excluded_phrases):
            q = self._text_unit(t)
            if q is not None:
                clauses.append((tantivy.Occur.MustNot, q))
        for q in self.filter_clauses(parsed, filters):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)))
        if not has_text:
            if text and parsed.has_text:
                # The words had no indexable tokens (only punctuation, say): nothing matches.
                return tantivy.Query.empty_query()
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def search(
        self,
        parsed: ParsedQuery,
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        order: str = "relevance",
    ) -> list[Hit]:
        # No count: counting every match was up to 7% of this search at 1M papers (BENCHMARKS.md,
        # "Lexical search: the cost of counting every match").
        return self.search_with_count(parsed, filters, limit, offset, order=order, count=False)[0]

    def author_candidates(self, surname: str, initial: str | None, limit: int) -> tuple[list[str], int]:
        """Papers with an author word ``surname`` (and, given ``initial``, an author word that starts
        with it), newest first, and how many match in all: a superset of one author's papers, which
        the caller narrows by the name rule (community/follows.py)."""
        clauses = [(tantivy.Occur.Must, self._tokens_query("authors", analyze_name(surname))
                    or tantivy.Query.empty_query())]
        first = analyze_name(initial)[:1] if initial else []
        if first:
            pattern = re.escape(first[0][:1]) + ".*"
            clauses.append((tantivy.Occur.Must, tantivy.Query.regex_query(self.schema, "authors", pattern)))
        searcher = self.searcher()
        result = searcher.search(tantivy.Query.boolean_query(clauses), limit, count=True,
                                 order_by_field="published", order=tantivy.Order.Desc)
        hits = self._hits(searcher, result.hits)
        return [h.arxiv_id for h in hits], (result.count or 0)  # type: ignore[attr-defined]

    def search_with_count(
        self,
        parsed: ParsedQuery,
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        order: str = "relevance",
        count: bool = True,
    ) -> tuple[list[Hit], int]:
        """Hits (id, score, key) and how many documents match in all."""
        if limit <= 0:
            return [], 0
        query = self.build_query(parsed, filters)
        searcher = self.searcher()
        kwargs: dict[str, Any] = {}
        if order == "newest":
            kwargs = {"order_by_field": "published", "order": tantivy.Order.Desc}
        elif order == "upvotes":
            moved = {key: now for key, indexed, now in self.overlay().values() if indexed != now}
            if moved:
                return self._by_upvotes(searcher, query, moved, limit, offset, count)
            kwargs = {"order_by_field": "upvotes", "order": tantivy.Order.Desc}
        result = searcher.search(query, limit, count=count, offset=offset, **kwargs)
        # tantivy's type stubs leave out SearchResult.count, which it has.
        return self._hits(searcher, result.hits), (result.count or 0)  # type: ignore[attr-defined]

    def _by_upvotes(self, searcher, query: tantivy.Query, moved: dict[int, int], limit: int, offset: int,
                    count: bool) -> tuple[list[Hit], int]:
        """The upvote order with the overlay's counts: the index's order of the other papers,
        merged with the moved papers that match, each at its count now."""
        among = self._among(list(moved))
        others = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, among)])
        rest = searcher.search(others, offset + limit, count=count, order_by_field="upvotes", order=tantivy.Order.Desc)
        these = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, among)])
        found = searcher.search(these, len(moved), count=False)
        addrs = [a for _, a in rest.hits]
        ups = searcher.fast_field_values("upvotes", addrs) if addrs else []
        ranked = [(float(u or 0), a) for u, a in zip(ups, addrs)]
        keys = searcher.fast_field_values("key", [a for _, a in found.hits]) if found.hits else []
        ranked += [(float(moved[int(k)]), a) for k, (_, a) in zip(keys, found.hits) if k is not None]
        ranked.sort(key=lambda h: h[0], reverse=True)  # stable: ties keep the index's order first
        total = (rest.count or 0) + len(found.hits)
        return self._hits(searcher, ranked[offset: offset + limit]), total

    def scores_for(self, parsed: ParsedQuery, filters: SearchFilters | None, keys: list[int]) -> dict[int, float]:
        """BM25 of the papers with these keys for the query ({key: score}; a paper that does
        not match is absent: its score is 0). For fusing papers only the other list found."""
        if not keys or not parsed.has_text:
            return {}
        q = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, self._among(keys)),
                (tantivy.Occur.Must, self.build_query(parsed, filters)),
            ]
        )
        searcher = self.searcher()
        res = searcher.search(q, len(keys), count=False)
        if not res.hits:
            return {}
        vals = searcher.fast_field_values("key", [a for _, a in res.hits])
        return {int(k): float(score) for (score, _), k in zip(res.hits, vals) if k is not None}

    def _hits(self, searcher, pairs) -> list[Hit]:
        if not pairs:
            return []
        addrs = [a for _, a in pairs]
        keys = [int(k or 0) for k in searcher.fast_field_values("key", addrs)]
        ids = self._ids_for_keys(keys) if self._ids_for_keys is not None else [None] * len(keys)
        out = []
        for (score, addr), key, arxiv_id in zip(pairs, keys, ids):
            if arxiv_id is None:
                arxiv_id = searcher.doc(addr).get_first("id")
            out.append(Hit(arxiv_id, float(score or 0.0), key))
        return out

    def _among(self, keys: list[int]) -> tantivy.Query:
        """Matches exactly the documents with these keys, scoring 0. A union of single-key terms:
        4x faster here than term_set_query, which walks the key dictionary (3 against 13 ms for
        100 keys over 64k papers)."""
        union = tantivy.Query.boolean_query([(tantivy.Occur.Should, self._term("key", int(k), "basic")) for k in keys])
        return tantivy.Query.const_score_query(union, 0.0)

    def keys_matching(
        self, filter_query: tantivy.Query, limit: int, keys: list[int] | None = None
    ) -> list[int]:
        """Keys of documents matching ``filter_query`` (optionally only among ``keys``)."""
        searcher = self.searcher()
        q = filter_query
        if keys is not None:
            if not keys:
                return []
            q = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, self._among(keys)),
                    (tantivy.Occur.Must, filter_query),
                ]
            )
        res = searcher.search(q, max(1, limit), count=False)
        if not res.hits:
            return []
        vals = searcher.fast_field_values("key", [a for _, a in res.hits])
        return [int(v) for v in vals if v is not None]

    def _containing(self, stems) -> list[tuple]:
        """Clauses requiring each of ``stems`` (analyzed tokens) in the title, abstract (both in
        ``text``) or authors."""
        return [
            (tantivy.Occur.Must, tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, self._term(field, st, "basic")) for field in ("text", "authors")]))
            for st in sorted(stems)
        ]

    def words_matched(self, words: list[frozenset[str]], keys: list[int]) -> dict[int, int]:
        """For each document key in ``keys``: how many of ``words`` (each a set of stems, all
        needed) it contains in its title, abstract or authors. One query: each word is an
        optional clause scoring exactly 1, so a document's score is its count (one query per word
        cost 4x more on four-word queries)."""
        out = dict.fromkeys(keys, 0)
        if not keys or not words:
            return out
        clauses = [(tantivy.Occur.Must, self._among(keys))]
        for stems in words:
            every = tantivy.Query.boolean_query(self._containing(stems))
            clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(every, 1.0)))
        searcher = self.searcher()
        res = searcher.search(tantivy.Query.boolean_query(clauses), len(keys), count=False)
        if not res.hits:
            return out
        vals = searcher.fast_field_values("key", [a for _, a in res.hits])
        for (score, _), key in zip(res.hits, vals):
            if key is not None:
                out[int(key)] = int(round(float(score)))
        return out

    def count_containing(self, parsed: ParsedQuery, stems: list[str], filters: SearchFilters | None = None) -> int:
        """Documents passing the query's own restrictions (fields, phrases, exclusions) and the
        ``filters`` that contain every one of ``stems`` (analyzed tokens) in their title, abstract
        or authors."""
        clauses = self._containing(stems)
        rest = self.filter_query(parsed, filters, required_text=True)
        if rest is not None:
            clauses.append((tantivy.Occur.Must, rest))
        if not clauses:
            return self.searcher().num_docs
        return self.count_matching(tantivy.Query.boolean_query(clauses))

    def count_matching(self, query: tantivy.Query) -> int:
        return self.searcher().search(query, 1, count=True).count or 0  # type: ignore[attr-defined]

    def filter_query(
        self, parsed: ParsedQuery | None, filters: SearchFilters | None, *, required_text: bool = False
    ) -> tantivy.Query | None:
        """The restrictions alone, as one query (None when there are none).

        With ``required_text``, quoted phrases (which every result must contain) count too.
        """
        clauses = [
            (tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0))
            for q in self.filter_clauses(parsed, filters)
        ]
        if parsed is not None and required_text:
            for p in parsed.phrases:
                q = self._text_unit(p)
                clauses.append((tantivy.Occur.Must, q if q is not None else tantivy.Query.empty_query()))
        if parsed is not None:
            for t in list(parsed.excluded_terms) + list(parsed.excluded_phrases):
                q = self._text_unit(t)
                if q is not None:
                    clauses.append((tantivy.Occur.MustNot, q))
        if not clauses:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query())] + clauses)


__all__ = [
    "LexicalIndex", "Hit", "IndexBusy", "FIELD_WEIGHTS", "analyze", "analyze_positions", "analyze_name", "strip_tex",
    "is_short_query", "organization_term", "paper_categories",
]
