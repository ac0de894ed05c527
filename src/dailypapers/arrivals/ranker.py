"""Ranking a day's arXiv arrivals by how likely this community is to pick them.

Retrained from the instance's own history: a logistic regression on the words, whose
score a second, small logistic regression (the blend) combines with the rest:

* the words of title and abstract (TF-IDF), the arXiv categories and the authors' names;
* the authors' track record on earlier lists: how often they were picked, how
  recently (exponential decay), with how many upvotes, their pick rate per
  paper posted, and the record of the organizations their picked papers named;
* closeness (cosine) to the papers the community picked in the last few weeks,
  in TF-IDF space and, when given, in embedding space;
* a few signs of the paper itself: team size, a link to code or a project page.

Every feature of a paper is computed as of the morning of its own arrival day
(only lists dated before it), so history rows and today's rows see the world
the same way and a paper's own listing never feeds its features.

A training row is a past arrival whose label window has closed (see history.py).
With too few picks to learn from, the ranker falls back on closeness to a
bundled set of papers Hugging Face's community picked, and says so.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import math
import re
import unicodedata
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import normalize

from dailypapers.arrivals.history import (
    MIN_POSITIVES,
    Arrival,
    History,
    Label,
    Pick,
    labels,
    window_closed,
)
from dailypapers.models import Paper

# Chosen on the 2025-11-01..2026-01-31 and 2026-02-01..2026-04-30 splits (bench/bench_picks.py);
# later data was not looked at.
ALPHA = 2e-5  # L2 strength of the logistic regression
EPOCHS = 15
BLEND_C = 0.05  # inverse L2 strength of the blend
AUTHOR_HALF_LIFE_DAYS = 90.0  # a pick counts half as much this many days later
RECENT_PICKS_DAYS = 28  # "recently picked" papers for the closeness features
TOP_K_SIMILAR = 5
RATE_PRIOR = 3.0  # papers-posted pseudo-count in an author's pick rate
MIN_EMBEDDING_COVERAGE = 0.95  # share of papers with a vector below which embeddings are left out
TFIDF = dict(max_features=40_000, min_df=2, max_df=0.5, sublinear_tf=True, ngram_range=(1, 1),
             stop_words="english", dtype=np.float32)
REASONS_SHOWN = 3
MIN_CATEGORY_PAPERS = 5
MIN_AUTHOR_PAPERS = 2

# The 300 most-upvoted papers on Hugging Face's lists before 2025-03-18: older than any replayed
# arrival, so a replay never meets them as today's papers.
SEED_PICKS = Path(__file__).parent / "seed_picks.jsonl.gz"
# Substrings rather than one case-insensitive regex: the regex was a fifth of ranking time.
CODE_LINK_MARKS = ("github.com", "huggingface.co", "project page", "http://", "https://", "code is available",
                   "code is publicly available", "code will be", "code and data", "code and models")
CODE_LINK_HINTS = ("code ", "http", "github.com", "huggingface.co", "project page")  # tested first
_NON_LETTER = re.compile(r"[^a-z ]+")

DENSE = (
    "author_picks_max", "author_picks_sum", "author_recent_max", "author_upvotes_max", "author_rate_max",
    "authors_picked", "last_author_picks", "org_recent", "author_papers_max",
    "similar_max", "similar_top", "embedding_max", "embedding_top", "team_size", "code_link",
)

_COLUMN = {name: i for i, name in enumerate(DENSE)}
# The columns describe() works out paper by paper, in the order it lists them.
PAPER_COLUMNS = ("author_picks_max", "author_picks_sum", "author_recent_max", "author_upvotes_max",
                 "author_rate_max", "authors_picked", "last_author_picks", "author_papers_max", "org_recent",
                 "team_size", "code_link")
_PAPER_COLUMN_INDEX = np.array([_COLUMN[name] for name in PAPER_COLUMNS])
_NO_ORGS: dict[str, int] = {}


@functools.lru_cache(maxsize=1 << 18)
def author_key(name: str) -> str:
    """'José  García-López' and 'Jose Garcia Lopez' are one person here."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(_NON_LETTER.sub(" ", ascii_name).split())


def has_code_link(paper: Paper) -> bool:
    text = f"{paper.abstract} {paper.comment or ''}".lower()
    # Every mark holds one of CODE_LINK_HINTS, and 73% of arXiv's texts hold none: five scans
    # instead of ten for them (a third less time). map() keeps the scans out of Python frames.
    return any(map(text.__contains__, CODE_LINK_HINTS)) and any(map(text.__contains__, CODE_LINK_MARKS))


def embedding_coverage(embeddings: Mapping[str, np.ndarray] | None, papers: Sequence[Paper]) -> float:
    """Share of `papers` with a vector. Vectors for only some papers are worse than none: if
    the picks have them and the rest do not, "has a vector" alone gives the label away."""
    if not embeddings or not papers:
        return 0.0
    return sum(p.arxiv_id in embeddings for p in papers) / len(papers)


def paper_text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"


def tfidf(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> sparse.csr_matrix:
    """`vectorizer.transform(texts)`, the same numbers in two fifths of the time (1,000 arrivals:
    52 ms against 124), and still the largest part of ranking a day. Words are looked up straight
    in the vocabulary (stop words never enter it), in one pass per text, with no per-document
    Python objects."""
    if vectorizer.ngram_range != (1, 1) or vectorizer.analyzer != "word" or not vectorizer.lowercase:
        return vectorizer.transform(texts).tocsr().astype(np.float32)
    vocabulary = vectorizer.vocabulary_
    idf = vectorizer.idf_.astype(np.float32)
    get = vocabulary.get
    find = _token_finder(vectorizer.token_pattern)
    ascii_get = _ascii_vocabulary(vectorizer).get if vectorizer.token_pattern == _SKLEARN_TOKENS else None
    ids: list[int] = []
    ptr = [0]
    for text in texts:
        if ascii_get is not None and text.isascii():
            ids += [i for i in map(ascii_get, text.encode().translate(_ASCII_WORDS).split()) if i is not None]
        else:
            ids += [i for i in map(get, find(text.lower())) if i is not None]
        ptr.append(len(ids))
    m = sparse.csr_matrix((np.ones(len(ids), np.float32), np.array(ids, np.int32), np.array(ptr, np.int64)),
                          shape=(len(ptr) - 1, len(idf)))
    m.sum_duplicates()
    m.data = (np.log(m.data) + 1.0) * idf[m.indices]  # sublinear tf, then idf
    return normalize(m, copy=False)


# scikit-learn's default token pattern, and one that finds the same tokens (every maximal run of two
# or more word characters: a greedy run that starts a match always starts at a run's first character)
# in three fifths of the time, without testing word boundaries at every character.
_SKLEARN_TOKENS = r"(?u)\b\w\w+\b"
_SAME_TOKENS = r"\w\w+"
# The same tokens of an ASCII text (96% of arXiv's titles and abstracts) at two fifths of the regex's
# cost: bytes.translate lowercases the word characters and blanks the rest, and split() cuts the
# runs. Runs of one character come out too, and the vocabulary, made of runs of two or more, has
# none of them.
_ASCII_WORD_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ASCII_WORDS = bytes(ord(chr(c).lower()) if c in _ASCII_WORD_CHARS else 32 for c in range(256))


@functools.lru_cache(maxsize=4)
def _token_finder(pattern: str) -> Callable[[str], list[str]]:
    return re.compile(_SAME_TOKENS if pattern == _SKLEARN_TOKENS else pattern).findall


_ascii_vocabularies: weakref.WeakKeyDictionary[TfidfVectorizer, tuple[dict, dict[bytes, int]]] = (
    weakref.WeakKeyDictionary())


def _ascii_vocabulary(vectorizer: TfidfVectorizer) -> dict[bytes, int]:
    """The vectorizer's ASCII words as bytes, made once per fitted vocabulary."""
    cached = _ascii_vocabularies.get(vectorizer)
    if cached is None or cached[0] is not vectorizer.vocabulary_:
        words = {w.encode(): i for w, i in vectorizer.vocabulary_.items() if w.isascii()}
        cached = _ascii_vocabularies[vectorizer] = (vectorizer.vocabulary_, words)
    return cached[1]


def _decayed(value: float, since: dt.date, now: dt.date) -> float:
    return value * 0.5 ** ((now - since).days / AUTHOR_HALF_LIFE_DAYS)


class _Record:
    """One author's or organization's picks so far, with a decayed count."""

    __slots__ = ("papers", "picks", "recent", "recent_day", "upvotes")

    def __init__(self) -> None:
        self.picks = 0
        self.upvotes = 0
        self.recent = 0.0
        self.recent_day: dt.date | None = None
        self.papers = 0

    def add_pick(self, day: dt.date, upvotes: int) -> None:
        self.picks += 1
        self.upvotes += upvotes
        self.recent = (_decayed(self.recent, self.recent_day, day) if self.recent_day else 0.0) + 1.0
        self.recent_day = day

    def recent_on(self, day: dt.date) -> float:
        return _decayed(self.recent, self.recent_day, day) if self.recent_day else 0.0


@dataclass
class Features:
    """Rows of features, one per arrival, as of each arrival's own day."""

    rows: list[Arrival]
    text: sparse.csr_matrix  # TF-IDF of title + abstract, rows L2-normalised
    tags: sparse.csr_matrix  # categories and authors (see tags())
    dense: np.ndarray  # (n, len(DENSE)), raw (unscaled)
    vocabulary: np.ndarray  # words of the text columns
    tag_names: np.ndarray
    best_author: list[tuple[str, int]]  # the author with most picks and that count
    nearest_pick: list[str | None]  # title of the closest recent pick
    org_name: list[str | None]


# What describe() says of one row, for its explanation: the author with most picks and that
# count, the title of the closest recent pick, the organization.
Detail = tuple[tuple[str, int], str | None, str | None]
NO_DETAIL: Detail = (("", 0), None, None)


def tags(paper: Paper) -> set[str]:
    """A paper's categories and authors, as columns of the word model."""
    return {f"category:{c}" for c in paper.categories} | {f"author:{author_key(a)}" for a in paper.authors}


def _tag_matrix(rows: Sequence[Arrival], names: Sequence[str], index: Mapping[str, int] | None = None
                ) -> sparse.csr_matrix:
    index = index if index is not None else {c: i for i, c in enumerate(names)}
    data, cols, ptr = [], [], [0]
    for a in rows:
        seen = {index[t] for t in tags(a.paper) if t in index}
        cols.extend(sorted(seen))
        data.extend([1.0] * len(seen))
        ptr.append(len(cols))
    return sparse.csr_matrix((np.array(data, np.float32), cols, ptr), shape=(len(rows), len(names)))


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    if sims.shape[1] == 0:
        return np.zeros(sims.shape[0], np.float32)
    k = min(k, sims.shape[1])
    return np.sort(sims, axis=1)[:, -k:].mean(axis=1)


def _unit_rows(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=1, keepdims=True).clip(min=1e-12)


class Community:
    """The lists as they stood on the morning of one day, moved forward a day at a time:
    each author's and organization's record, and the recent picks to compare with."""

    def __init__(self, picks: Sequence[Pick], vectorizer: TfidfVectorizer,
                 embeddings: Mapping[str, np.ndarray] | None = None):
        self.picks = sorted(picks, key=lambda p: p.day)
        self.pick_text = tfidf(vectorizer, [paper_text(p.paper) for p in self.picks])
        self.pick_days = np.array([p.day.toordinal() for p in self.picks], dtype=np.int64)
        self.embeddings = embeddings or None
        self.pick_vecs = self.vectors([p.paper.arxiv_id for p in self.picks]) if self.embeddings else None
        self.authors: dict[str, _Record] = {}
        self.orgs: dict[str, _Record] = {}
        self.author_orgs: dict[str, dict[str, int]] = {}
        self.next_pick = 0
        self.day: dt.date | None = None
        self._recent: tuple[int, sparse.csr_matrix] | None = None

    def vectors(self, ids: Sequence[str], more: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Unit vectors of `ids` (zeros for a paper without one), from `more` first: the
        vectors of arrivals newer than the history the ranker was trained on."""
        embeddings = self.embeddings
        assert embeddings, "only called when there are embeddings"
        dim = len(next(iter(embeddings.values())))
        zero = np.zeros(dim, np.float32)
        more = more or {}
        found = [more.get(i) if i in more else embeddings.get(i, zero) for i in ids]
        return _unit_rows(np.array(found, np.float32).reshape(len(ids), dim))

    def advance(self, day: dt.date, posted: Sequence[Paper] = ()) -> None:
        """Move to the morning of `day`: picks dated before it count, and so do `posted`,
        the arrivals since the last call."""
        while self.next_pick < len(self.picks) and self.picks[self.next_pick].day < day:
            p = self.picks[self.next_pick]
            org = p.paper.organization.name if p.paper.organization else None
            if org:
                self.orgs.setdefault(org, _Record()).add_pick(p.day, p.upvotes)
            for name in {author_key(a) for a in p.paper.authors}:
                self.authors.setdefault(name, _Record()).add_pick(p.day, p.upvotes)
                if org:
                    counts = self.author_orgs.setdefault(name, {})
                    counts[org] = counts.get(org, 0) + 1
            self.next_pick += 1
        for paper in posted:
            for name in {author_key(a) for a in paper.authors}:
                self.authors.setdefault(name, _Record()).papers += 1
        self.day = day

    def _recent_text(self, today: int, recent: np.ndarray) -> sparse.csr_matrix:
        """The recent picks' TF-IDF, transposed for the product; kept while the day stays the same,
        as it does for every ranking a trained model makes."""
        cached = getattr(self, "_recent", None)
        if cached is None or cached[0] != today:
            cached = self._recent = (today, self.pick_text[recent].T.tocsr())
        return cached[1]

    def describe(self, papers: Sequence[Paper], text: sparse.csr_matrix, out: np.ndarray,
                 details: list[Detail], vectors: np.ndarray | None = None) -> None:
        """Fill `out` (rows of DENSE) and `details` (best author, nearest pick, organization)
        for papers arriving today; `vectors` are their unit embeddings, when there are any."""
        day = self.day
        if day is None:
            raise RuntimeError("advance() to a day before describing its arrivals")
        col = _COLUMN
        today = day.toordinal()
        recent = np.nonzero((self.pick_days < today) & (self.pick_days >= today - RECENT_PICKS_DAYS))[0]
        nearest: list[str | None] = [None] * len(papers)
        if len(recent) and len(papers):
            sims = (text @ self._recent_text(today, recent)).toarray()
            out[:, col["similar_max"]] = sims.max(axis=1)
            out[:, col["similar_top"]] = _top_mean(sims, TOP_K_SIMILAR)
            best = sims.argmax(axis=1)
            for j in range(len(papers)):
                if sims[j, best[j]] > 0:
                    nearest[j] = self.picks[recent[best[j]]].paper.title
            if self.pick_vecs is not None and vectors is not None:
                esims = vectors @ self.pick_vecs[recent].T
                out[:, col["embedding_max"]] = esims.max(axis=1)
                out[:, col["embedding_top"]] = _top_mean(esims, TOP_K_SIMILAR)
        rows = []  # the PAPER_COLUMNS of each paper, written into `out` at once
        authors_get, author_orgs_get = self.authors.get, self.author_orgs.get
        for j, paper in enumerate(papers):
            spelled: dict[str, str] = {}  # each author's key -> the name as first written on the paper
            for author in paper.authors:
                spelled.setdefault(author_key(author), author)
            names = list(spelled)
            found = [authors_get(name) for name in names]
            records = [r for r in found if r]
            picked = [r.picks if r else 0 for r in found]
            most = max(picked, default=0)
            best_author: tuple[str, int] = ("", 0)
            if most:
                best_author = (spelled[names[picked.index(most)]], most)
            decayed = upvotes = rate = 0.0
            posted = 0
            if records:
                decayed = max(r.recent_on(day) for r in records)
                upvotes = max((r.upvotes / r.picks for r in records if r.picks), default=0.0)
                rate = max(r.picks / (r.papers + RATE_PRIOR) for r in records)
                posted = max(r.papers for r in records)
            org_counts: dict[str, int] = {}
            for name in names:
                for org, k in author_orgs_get(name, _NO_ORGS).items():
                    org_counts[org] = org_counts.get(org, 0) + k
            top_org = max(org_counts, key=org_counts.__getitem__) if org_counts else None
            rows.append((
                math.log1p(most), math.log1p(sum(picked)), math.log1p(decayed), math.log1p(upvotes), rate,
                math.log1p(sum(1 for k in picked if k)), math.log1p(picked[-1] if picked else 0),
                math.log1p(posted), math.log1p(self.orgs[top_org].recent_on(day)) if top_org else 0.0,
                math.log1p(len(paper.authors)), float(has_code_link(paper)),
            ))
            details.append((best_author, nearest[j], top_org))
        if rows:
            out[:, _PAPER_COLUMN_INDEX] = np.array(rows, dtype=np.float32)


def featurize(
    rows: Sequence[Arrival],
    picks: Sequence[Pick],
    vectorizer: TfidfVectorizer,
    tag_columns: Sequence[str],
    embeddings: Mapping[str, np.ndarray] | None = None,
    community: Community | None = None,
) -> Features:
    """Features of every row as of the morning of its own day: only picks dated before it count.

    `vectorizer` is already fitted; `embeddings` maps arXiv id to a vector (papers without
    one get zeros for the embedding features). A `community` passed in is left advanced
    to the last row's day, ready to describe later arrivals.
    """
    rows = list(rows)
    n = len(rows)
    text = tfidf(vectorizer, [paper_text(a.paper) for a in rows])
    community = community or Community(picks, vectorizer, embeddings)
    vectors = community.vectors([a.paper.arxiv_id for a in rows]) if community.embeddings else None
    dense = np.zeros((n, len(DENSE)), np.float32)
    details: list[Detail] = [NO_DETAIL] * n
    order = sorted(range(n), key=lambda i: rows[i].day)
    posted: list[Paper] = []
    start = 0
    while start < n:
        day = rows[order[start]].day
        end = start
        while end < n and rows[order[end]].day == day:
            end += 1
        idx = order[start:end]
        community.advance(day, posted)
        block = np.zeros((len(idx), len(DENSE)), np.float32)
        found: list[Detail] = []
        community.describe([rows[i].paper for i in idx], text[idx], block, found,
                           vectors[idx] if vectors is not None else None)
        dense[idx] = block
        for i, d in zip(idx, found):
            details[i] = d
        posted = [rows[i].paper for i in idx]
        start = end
    return Features(
        rows=rows,
        text=text,
        tags=_tag_matrix(rows, tag_columns),
        dense=dense,
        vocabulary=vectorizer.get_feature_names_out(),
        tag_names=np.array(list(tag_columns)),
        best_author=[d[0] for d in details],
        nearest_pick=[d[1] for d in details],
        org_name=[d[2] for d in details],
    )


@dataclass
class Model:
    """Two stages: a word model (title, abstract, categories, authors) whose score joins the
    standardized track-record and closeness features in a small second model, the blend."""

    words: SGDClassifier
    blend: LogisticRegression
    mean: np.ndarray
    scale: np.ndarray
    n_text: int

    def blend_inputs(self, word_scores: np.ndarray, dense: np.ndarray) -> np.ndarray:
        return np.column_stack([word_scores, (dense - self.mean) / self.scale])

    def scores(self, f: Features, idx: np.ndarray) -> np.ndarray:
        words = self.words.decision_function(sparse.hstack([f.text[idx], f.tags[idx]], format="csr"))
        return self.blend.decision_function(self.blend_inputs(words, f.dense[idx]))


def logistic_regression() -> SGDClassifier:
    """L2 logistic regression fitted by SGD: a few passes fit 40,000 rows of words in well
    under a second, where an exact solver takes ten times as long."""
    return SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=0)


def fit(f: Features, train: np.ndarray, y: np.ndarray) -> Model:
    """Fit on the rows `train` of `f` with labels `y` (1 = picked).

    The blend learns from out-of-fold word scores (each half of the rows scored by a word
    model fitted on the other half), so it trusts the words no more than they deserve;
    today's rows are scored by a word model fitted on all of them.
    """
    words_x = sparse.hstack([f.text[train], f.tags[train]], format="csr")
    out_of_fold = np.zeros(len(train))
    half = np.arange(len(train)) % 2 == 0
    for part in (half, ~half):
        model = logistic_regression().fit(words_x[~part], y[~part])
        out_of_fold[part] = model.decision_function(words_x[part])
    mean = f.dense[train].mean(axis=0)
    scale = f.dense[train].std(axis=0)
    scale[scale < 1e-6] = 1.0
    model = Model(logistic_regression().fit(words_x, y), LogisticRegression(C=BLEND_C, max_iter=500), mean, scale,
                  f.text.shape[1])
    model.blend.fit(model.blend_inputs(out_of_fold, f.dense[train]), y)
    return model


# -- explanations -------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _dense_reason(name: str, f: Features, i: int) -> str | None:
    author, times = f.best_author[i]
    if name in ("author_picks_max", "author_picks_sum", "author_recent_max", "authors_picked", "author_rate_max",
                "author_upvotes_max", "last_author_picks"):
        return f"authors listed {_plural(times, 'time')} before ({author})" if times else None
    if name == "org_recent":
        return f"from an organization on earlier lists ({f.org_name[i]})" if f.org_name[i] else None
    if name in ("similar_max", "similar_top", "embedding_max", "embedding_top"):
        title = f.nearest_pick[i]
        return f"close to papers the community picked recently (\u201c{title[:80]}\u201d)" if title else None
    if name == "team_size":
        return f"large author team ({_plural(len(f.rows[i].paper.authors), 'author')})"
    if name == "code_link":
        return "links code or a project page"
    return None


def explain(model: Model, f: Features, i: int, limit: int = REASONS_SHOWN) -> list[str]:
    """The largest positive contributions to row i's score, in words."""
    return explain_rows(model, f, np.array([i]), limit)[0]


def explain_rows(model: Model, f: Features, idx: np.ndarray, limit: int = REASONS_SHOWN) -> list[list[str]]:
    """explain() for each row of `idx`, the arithmetic done once for all of them (a fifth of
    ranking time when done row by row). The loop reads Python lists, not numpy arrays: an
    element of an array costs several times as much to read."""
    coef = model.blend.coef_[0]
    word_coef0 = float(coef[0])
    dense = coef[1:] * ((f.dense[idx] - model.mean) / model.scale)
    dense_order = np.argsort(-dense, axis=1)[:, :limit + 2]
    dense_top = np.take_along_axis(dense, dense_order, axis=1).tolist()
    dense_order_rows = dense_order.tolist()
    word_coef = model.words.coef_[0]
    text = f.text[idx]
    weights = word_coef[text.indices] * text.data
    text_ptr = text.indptr.tolist()
    tags = f.tags[idx]
    tag_ptr = tags.indptr.tolist()
    tag_weights = word_coef[model.n_text + tags.indices].tolist()
    out = []
    for r, i in enumerate(idx.tolist()):
        contributions: list[tuple[float, str]] = []
        seen = set()
        for j, value in zip(dense_order_rows[r], dense_top[r]):
            if value <= 0:
                break
            reason = _dense_reason(DENSE[j], f, i)
            if reason and reason not in seen:
                seen.add(reason)
                contributions.append((value, reason))
        start, end = text_ptr[r], text_ptr[r + 1]
        w = weights[start:end]
        top = [k for k in np.argsort(-w)[:3].tolist() if w[k] > 0]
        if top:
            contributions.append((word_coef0 * float(w[top].sum()), "words the community favours: "
                                  + ", ".join(f.vocabulary[text.indices[start + k]] for k in top)))
        for k in range(tag_ptr[r], tag_ptr[r + 1]):
            weight = tag_weights[k]
            if weight > 0:
                kind, name = f.tag_names[tags.indices[k]].split(":", 1)
                reason = f"category {name}" if kind == "category" else f"an author the community follows ({name})"
                contributions.append((word_coef0 * weight, reason))
        contributions.sort(reverse=True)
        out.append([why for _, why in contributions[:limit]] or ["nothing stands out: ranked by its words"])
    return out


# -- the ranker ---------------------------------------------------------------
@dataclass
class Scored:
    arxiv_id: str
    score: float
    reasons: list[str] = field(default_factory=list)


def new_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(**TFIDF)


def tag_vocabulary(rows: Sequence[Arrival]) -> list[str]:
    """Categories seen on MIN_CATEGORY_PAPERS papers, authors on MIN_AUTHOR_PAPERS."""
    counts: dict[str, int] = {}
    for a in rows:
        for t in tags(a.paper):
            counts[t] = counts.get(t, 0) + 1
    least = {"category": MIN_CATEGORY_PAPERS, "author": MIN_AUTHOR_PAPERS}
    return sorted(t for t, k in counts.items() if k >= least[t.split(":", 1)[0]])


def training_rows(
    rows: Sequence[Arrival], picks: Sequence[Pick], today: dt.date
) -> tuple[np.ndarray, np.ndarray, dict[str, Label]]:
    """Indices of the rows whose label is final before `today`, and their labels."""
    known = labels([a for a in rows if window_closed(a.day, today)], picks, known_before=today)
    idx = np.array([i for i, a in enumerate(rows) if a.paper.arxiv_id in known and window_closed(a.day, today)],
                   dtype=np.int64)
    y = np.array([known[rows[i].paper.arxiv_id].picked for i in idx], dtype=np.int8)
    return idx, y, known


@dataclass
class Trained:
    """A model fitted on an instance's history, ready to rank the arrivals of `today`."""

    today: dt.date
    vectorizer: TfidfVectorizer
    tag_columns: list[str]
    model: Model
    community: Community  # advanced to the morning of `today`
    vocabulary: np.ndarray

    def rank(self, arrivals: Sequence[Paper], vectors: Mapping[str, np.ndarray] | None = None) -> list[Scored]:
        """`arrivals` best first. `vectors` holds their embeddings, for the closeness to recent
        picks in embedding space when the model was trained with embeddings (today's arrivals
        are newer than the vectors it was trained with)."""
        if not arrivals:
            return []
        rows = [Arrival(p, self.today) for p in arrivals]
        text = tfidf(self.vectorizer, [paper_text(p) for p in arrivals])
        dense = np.zeros((len(rows), len(DENSE)), np.float32)
        details: list[Detail] = []
        unit = self.community.vectors([p.arxiv_id for p in arrivals], vectors) if self.community.embeddings else None
        self.community.describe(arrivals, text, dense, details, unit)
        f = Features(rows, text, _tag_matrix(rows, self.tag_columns, self._tag_index), dense,
                     self.vocabulary, self._tag_names,
                     [d[0] for d in details], [d[1] for d in details], [d[2] for d in details])
        scores = self.model.scores(f, np.arange(len(rows)))
        order = np.argsort(-scores, kind="stable")
        reasons = explain_rows(self.model, f, order)
        return [Scored(rows[i].paper.arxiv_id, float(scores[i]), why) for i, why in zip(order, reasons)]

    # Built once per model, not per call (a twentieth of ranking time); old pickles build them on first use.
    @functools.cached_property
    def _tag_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.tag_columns)}

    @functools.cached_property
    def _tag_names(self) -> np.ndarray:
        return np.array(self.tag_columns)


def train(history: History, today: dt.date, *, embeddings: Mapping[str, np.ndarray] | None = None) -> Trained | None:
    """Fit on what was known on the morning of `today`; None when there are too few picks to learn from."""
    history = history.before(today)
    rows = sorted(history.arrivals, key=lambda a: a.day)
    idx, y, _ = training_rows(rows, history.picks, today)
    if int(y.sum()) < MIN_POSITIVES or int(y.sum()) == len(y):
        return None
    if embedding_coverage(embeddings, [a.paper for a in rows]) < MIN_EMBEDDING_COVERAGE:
        embeddings = None
    vectorizer = new_vectorizer().fit([paper_text(a.paper) for a in rows])
    tag_columns = tag_vocabulary(rows)
    community = Community(history.picks, vectorizer, embeddings)
    f = featurize(rows, history.picks, vectorizer, tag_columns, embeddings, community)
    model = fit(f, idx, y)
    community.advance(today, [a.paper for a in rows if a.day == rows[-1].day])
    return Trained(today, vectorizer, tag_columns, model, community, f.vocabulary)


def rank(
    history: History,
    arrivals: Sequence[Paper],
    today: dt.date,
    *,
    embeddings: Mapping[str, np.ndarray] | None = None,
    seed_picks: Sequence[Paper] | None = None,
) -> list[Scored]:
    """Today's arrivals, best first, each with its score and the top reasons for it.

    Only what was known before `today` is used: arrivals and picks dated today or later
    in `history` are ignored.
    """
    trained = train(history, today, embeddings=embeddings)
    if trained is None:
        seeds = load_seed_picks() if seed_picks is None else seed_picks
        return rank_by_seed(arrivals, [p for p in history.picks if p.day < today], seeds)
    return trained.rank(arrivals, embeddings)


def load_seed_picks(path: Path = SEED_PICKS) -> list[Paper]:
    """The bundled papers Hugging Face's community picked, for instances without history."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [Paper(arxiv_id=r["id"], title=r["title"], abstract=r["abstract"], authors=r["authors"]) for r in rows]


def rank_by_seed(arrivals: Sequence[Paper], picks: Sequence[Pick], seeds: Sequence[Paper]) -> list[Scored]:
    """No history to learn from: closeness to known picks (the bundled ones, and the
    instance's own if it has any)."""
    references = list(seeds) + [p.paper for p in picks]
    if not arrivals:
        return []
    texts = [paper_text(p) for p in references] + [paper_text(p) for p in arrivals]
    vectorizer = new_vectorizer().set_params(min_df=1).fit(texts)
    a = vectorizer.transform([paper_text(p) for p in arrivals])
    r = vectorizer.transform([paper_text(p) for p in references])
    sims = (a @ r.T).toarray()
    scores = _top_mean(sims, TOP_K_SIMILAR)
    note = f"no history yet: ranked by closeness to {_plural(len(references), 'paper')} Hugging Face's community picked"
    out = []
    for j, paper in enumerate(arrivals):
        reasons = [note]
        if sims.shape[1] and sims[j].max() > 0:
            reasons.append(f"close to \u201c{references[int(sims[j].argmax())].title[:80]}\u201d")
        out.append(Scored(paper.arxiv_id, float(scores[j]), reasons))
    return sorted(out, key=lambda s: -s.score)
