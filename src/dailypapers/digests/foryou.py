"""The ranking engine shared by the email digest and the /for-you page.

A reader's profile is two sources:

* **topics**: up to 10 saved searches in the search box's language ("activation steering",
  "cat:cs.CL sparse attention", '"diffusion transformer" -video', "author:Hinton"). A topic
  *matches* a paper when the paper passes its filters (cat:/author:/year:, exclusions) and
  either contains every word and phrase of it (stemmed, with the search index's own analyzer),
  or -- when an embedding model is loaded -- its embedding is close to the topic's
  (cosine >= TOPIC_SEMANTIC_MATCH).
* **follows**: authors (by name, spellings merged by community/follows.py) and organizations a
  member follows; a paper by one of them matches, with the reason "you follow X".
* **upvotes** (members who opt in): the centroid of the embeddings of the papers they upvoted
  (the most recent UPVOTE_PROFILE_SIZE); a paper is "like papers you upvoted" when its cosine to
  the centroid is among the top UPVOTE_TOP_SHARE of the pool (at least UPVOTE_MIN_PICKS papers)
  and at least UPVOTE_MATCH. The cut is relative because in a corpus of ML papers nearly every
  paper is within cosine 0.45 of any ML profile (bench/tune_foryou.py).

Candidates are the papers listed in a period (a digest's day or week; the last FOR_YOU_DAYS
list days for /for-you), so matching runs in memory over a small pool, with every topic's
matches cached per pool: 10,000 readers who share topics cost one match per distinct topic.

Score of a candidate (see docs/digests.md for how the constants were chosen):

    score = W_TOPIC * topic + W_FOLLOW * followed + W_UPVOTE * max(0, cos_centroid) + W_POPULAR * popularity

where ``topic`` is the best matching topic's strength in [0.5, 1] (0 if none matches),
``followed`` is 1 for a paper by an author or organization the member follows, and
``popularity`` is log-scaled trending score in [0, 1]. Only papers that match a topic, are by
someone followed or pass the upvote cut are candidates; the others are not "for you", however
popular.

Members correct what feeds it ("Why is this here", ForYouService.sources): an upvote they stop
using stays an upvote but leaves the centroid (``Profile.muted``); unfollowing and dropping a
topic change the follows and the subscription's topics themselves; reset uses every upvote again.

Papers a member hid ("not interested") never come back, in For you or in digests, and they are
negatives, as in Rocchio's relevance feedback: a candidate loses ``W_HIDDEN * max(0, cos)`` to the
centroid of the hidden papers' embeddings, so hiding papers about a topic you do not want pushes
their neighbours down. The weight is small on purpose: what members hide sits close to what they
like (they hide what For you showed them), and at W_HIDDEN = 1 the two profiles cancel out. On the
simulated members of bench/tune_foryou.py (--hidden), 0.25 raises MAP by 0.03-0.04 for members of one
interest after 5, 10 or 20 hides and leaves members of two interests where they were (within 0.004);
1.0 ruins the ranking; the nearest hidden paper instead of their centroid hurt at every weight tried.

Everything here is numpy and the standard library: no scikit-learn at run time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np

from dailypapers.clock import Clock, utcnow
from dailypapers.community.accounts import require_member
from dailypapers.community.follows import author_parts, same_parts
from dailypapers.errors import NotFound
from dailypapers.models import Follow, Listing, StoredPaper, Subscription, User
from dailypapers.papers import recent_window, trending_score
from dailypapers.search.lexical import analyze, analyze_name
from dailypapers.search.query import parse_query
from dailypapers.storage import ForYouStore, RankerStore

# -- the constants, in one place -------------------------------------------------
W_TOPIC = 1.0
W_FOLLOW = 1.0  # a paper by someone the member follows counts like a topic's best match
W_UPVOTE = 1.0
W_POPULAR = 0.25
UPVOTE_MATCH = 0.5  # floor: cosine to the upvote centroid for "like papers you upvoted"
UPVOTE_TOP_SHARE = 0.05  # ... and among this share of the pool's best cosines
UPVOTE_MIN_PICKS = 3  # ... or among the best this many (small pools: one day's list)
TOPIC_SEMANTIC_MATCH = 0.55  # cosine of topic and paper for a semantic topic match
UPVOTE_PROFILE_SIZE = 100  # most recent upvotes that make the centroid
FOR_YOU_DAYS = 14  # /for-you ranks papers listed in the last this many list days
LEXICAL_BASE = 0.6  # strength of a word match; + up to 0.4 for words found in the title
FILTER_ONLY = 0.5  # strength of a topic that is only filters ("cat:cs.CL")
W_HIDDEN = 0.25  # weight of the cosine to the centroid of hidden ("not interested") papers, subtracted
HIDDEN_PROFILE_SIZE = 200  # most recent hidden papers used as negatives

REASON_TRENDING = "trending"
REASON_TOP_WEEK = "top of the week"
REASON_UPVOTES = "like papers you upvoted"


def reason_topic(topic: str) -> str:
    return f"matches: {topic}"


def reason_follow(name: str) -> str:
    return f"you follow {name}"


def hidden_penalty(matrix: np.ndarray, has_vec: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """Per row of `matrix` (unit rows): max(0, cosine to the centroid of the negatives), in [0, 1];
    0 for rows without a vector or when there are no negatives."""
    if not len(negatives) or not len(matrix):
        return np.zeros(len(matrix), dtype=np.float64)
    c = negatives.mean(axis=0)
    norm = float(np.linalg.norm(c))
    if norm < 1e-9:
        return np.zeros(len(matrix), dtype=np.float64)
    out = np.maximum(matrix @ (c / norm), 0.0).astype(np.float64)
    out[~has_vec] = 0.0
    return out


@dataclass
class Profile:
    topics: list[str] = field(default_factory=list)
    upvoted: list[str] = field(default_factory=list)  # arXiv ids, most recent first
    hidden: list[str] = field(default_factory=list)  # "not interested": never shown, and negatives
    follows: list[Follow] = field(default_factory=list)
    muted: list[str] = field(default_factory=list)  # upvotes the member stopped it using

    @property
    def upvote_profile(self) -> list[str]:
        """The upvotes that shape the centroid (most recent first)."""
        if not self.muted:
            return self.upvoted
        muted = set(self.muted)
        return [a for a in self.upvoted if a not in muted]

    @property
    def empty(self) -> bool:
        return not self.topics and not self.upvote_profile and not self.follows


@dataclass
class Pick:
    paper: StoredPaper
    listing: Listing | None
    score: float
    reasons: list[str]


def _listed_at(paper: StoredPaper, listing: Listing | None) -> dt.datetime | None:
    if listing is None:
        return paper.published
    if listing.submitted_at:
        return listing.submitted_at
    return dt.datetime.combine(listing.day, dt.time(), tzinfo=dt.timezone.utc)


class Pool:
    """The candidates of one period, with what scoring needs, computed once."""

    def __init__(self, pairs: Sequence[tuple[Listing, StoredPaper]], ref: dt.datetime, *, by: str = "trending"):
        seen: dict[str, int] = {}
        self.papers: list[StoredPaper] = []
        self.listings: list[Listing | None] = []
        for listing, paper in pairs:  # earliest listing first
            if paper.arxiv_id in seen:
                continue
            seen[paper.arxiv_id] = len(self.papers)
            self.papers.append(paper)
            self.listings.append(listing)
        self.index = seen
        self.by = by
        if by == "upvotes":
            pop = [float(p.upvotes) for p in self.papers]
        else:
            pop = [trending_score(p.upvotes, _listed_at(p, l), ref) for p, l in zip(self.papers, self.listings)]
        self.popularity = np.asarray(pop, dtype=np.float64)
        top = float(self.popularity.max()) if len(pop) else 0.0
        scaled = np.log1p(self.popularity * (1000.0 / top)) / math.log1p(1000.0) if top > 0 else self.popularity * 0
        self.popularity_norm = scaled
        # popularity order, ties by upvotes then id
        self.order = sorted(range(len(self.papers)),
                            key=lambda i: (-self.popularity[i], -self.papers[i].upvotes, self.papers[i].arxiv_id))
        self._text: list[tuple[list[str], list[str], set[str], set[str]]] | None = None
        self._authors: list[list[set[str]]] | None = None
        self._by_author_key: dict[str, list[tuple[int, tuple[str, tuple[str, ...]]]]] | None = None
        self._by_org: dict[str, list[int]] | None = None
        self.matrix: np.ndarray | None = None  # (n, dim) float32, unit rows; zero rows: no embedding
        self.has_vec: np.ndarray | None = None
        self.model_id: str | None = None

    def __len__(self) -> int:
        return len(self.papers)

    # text features, lazily
    def text(self, i: int) -> tuple[list[str], list[str], set[str], set[str]]:
        if self._text is None:
            feats = []
            for p in self.papers:
                t = analyze(p.title or "")
                a = analyze(p.abstract or "")
                feats.append((t, a, set(t), set(t) | set(a)))
            self._text = feats
        return self._text[i]

    def authors(self, i: int) -> list[set[str]]:
        if self._authors is None:
            self._authors = [[set(analyze_name(a)) for a in p.authors] for p in self.papers]
        return self._authors[i]

    def followed(self, follow: Follow) -> list[int]:
        """The pool papers by this followed author (any spelling) or organization."""
        if follow.kind == "org":
            if self._by_org is None:
                self._by_org = {}
                for i, p in enumerate(self.papers):
                    if p.organization is not None:
                        self._by_org.setdefault(p.organization.name, []).append(i)
            return self._by_org.get(follow.name, [])
        if self._by_author_key is None:
            index: dict[str, list[tuple[int, tuple[str, tuple[str, ...]]]]] = {}
            for i, p in enumerate(self.papers):
                for name in p.authors:
                    parts = author_parts(name)
                    if parts[0]:
                        key = f"{parts[0]} {parts[1][0][0]}" if parts[1] else parts[0]
                        index.setdefault(key, []).append((i, parts))
            self._by_author_key = index
        wanted = author_parts(follow.name)
        return sorted({i for i, parts in self._by_author_key.get(follow.key, ()) if same_parts(parts, wanted)})

    def load_vectors(self, vectors: dict[str, tuple[str, bytes]]) -> None:
        models = Counter(m for m, _ in vectors.values())
        if not models:
            return
        self.model_id = models.most_common(1)[0][0]
        dim = None
        rows: list[np.ndarray | None] = []
        for p in self.papers:
            mv = vectors.get(p.arxiv_id)
            if mv and mv[0] == self.model_id:
                v = np.frombuffer(mv[1], dtype="<f4")
                dim = dim or v.shape[0]
                rows.append(v)
            else:
                rows.append(None)
        if dim is None:
            return
        m = np.zeros((len(rows), dim), dtype=np.float32)
        has = np.zeros(len(rows), dtype=bool)
        for i, row in enumerate(rows):
            if row is not None and row.shape[0] == dim:
                n = float(np.linalg.norm(row))
                if n > 0:
                    m[i] = row / n
                    has[i] = True
        self.matrix, self.has_vec = m, has


def _contains(seq: list[str], sub: list[str]) -> bool:
    if not sub:
        return True
    n = len(sub)
    first = sub[0]
    for i in range(len(seq) - n + 1):
        if seq[i] == first and seq[i : i + n] == sub:
            return True
    return False


class Ranker:
    """Scores pools against profiles. One per process (web) or per run (digest send);
    thread-safe for reads once pools are built (the caches are only ever filled)."""

    def __init__(self, store: RankerStore, *, embedder=None, embedder_factory: Callable[[], object] | None = None):
        self.store = store
        self._embedder = embedder
        self._embedder_factory = embedder_factory
        self._pools: dict[tuple, Pool] = {}
        self._topic_cache: dict[tuple[int, str], dict[int, float]] = {}
        self._vec_cache: dict[str, tuple[str, bytes] | None] = {}
        self._query_vecs: dict[str, np.ndarray] = {}  # topic text -> embedding

    # -- pools ---------------------------------------------------------------
    def pool(self, start: dt.date, end: dt.date, *, by: str = "trending", ref: dt.datetime | None = None) -> Pool:
        """Papers listed from start to end. `ref` is "now" for trending (default: the end of `end`)."""
        if ref is None:
            ref = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
        key = (start, end, by, ref)
        pool = self._pools.get(key)
        if pool is None:
            pool = Pool(self.store.digest_pool(start, end), ref, by=by)
            if len(pool):
                vectors = self._vectors([p.arxiv_id for p in pool.papers])
                pool.load_vectors(vectors)
            self._pools[key] = pool
        return pool

    def _vectors(self, ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        ids = list(ids)
        missing = [i for i in ids if i not in self._vec_cache]
        if missing:
            found = self.store.embeddings_for(missing)
            for i in missing:
                self._vec_cache[i] = found.get(i)
        return {i: v for i in ids if (v := self._vec_cache.get(i)) is not None}

    def prefetch_vectors(self, ids: Iterable[str]) -> None:
        self._vectors(ids)

    @property
    def embedder(self):
        if self._embedder is None and self._embedder_factory is not None:
            factory, self._embedder_factory = self._embedder_factory, None
            self._embedder = factory() or None
        return self._embedder

    # -- topics --------------------------------------------------------------
    def _semantic_ok(self, pool: Pool) -> bool:
        if pool.matrix is None:
            return False
        emb = self.embedder
        return emb is not None and getattr(emb, "model_id", None) == pool.model_id

    def prefetch_topics(self, pool: Pool, topics: Iterable[str]) -> None:
        """Embed the free text of many topics in one batch (a run meets each distinct topic once)."""

        if not self._semantic_ok(pool):
            return
        texts = []
        for t in topics:
            if (id(pool), t) in self._topic_cache:
                continue
            q = parse_query(t)
            if q.has_text and not q.arxiv_id and q.text not in self._query_vecs:
                texts.append(q.text)
        texts = list(dict.fromkeys(texts))
        if texts:
            for text, vec in zip(texts, self.embedder.embed(texts, batch_size=64)):
                self._query_vecs[text] = np.asarray(vec, dtype=np.float32)

    def _query_vec(self, text: str) -> np.ndarray:
        vec = self._query_vecs.get(text)
        if vec is None:
            vec = np.asarray(self.embedder.embed_query(text), dtype=np.float32)
            self._query_vecs[text] = vec
        return vec

    def topic_scores(self, pool: Pool, topic: str) -> dict[int, float]:
        """{pool index: strength} of the papers this topic matches."""
        key = (id(pool), topic)
        hit = self._topic_cache.get(key)
        if hit is None:
            hit = self._match_topic(pool, topic)
            self._topic_cache[key] = hit
        return hit

    def _match_topic(self, pool: Pool, topic: str) -> dict[int, float]:
        q = parse_query(topic)
        if q.arxiv_id or q.is_empty:
            return {}
        units = [analyze(t) for t in q.terms] + [analyze(p) for p in q.phrases]
        units = [u for u in units if u]
        is_phrase = [False] * len(q.terms) + [True] * len(q.phrases)
        excluded = [analyze(t) for t in q.excluded_terms + q.excluded_phrases]
        authors = [set(analyze_name(a)) for a in q.authors]
        sem = None
        if q.has_text and self._semantic_ok(pool):
            assert pool.has_vec is not None  # set together with pool.matrix
            sem = pool.matrix @ self._query_vec(q.text)
            sem[~pool.has_vec] = -1.0
        out: dict[int, float] = {}
        for i, paper in enumerate(pool.papers):
            if q.categories and not any(
                c == cat or c.startswith(cat + ".") for cat in q.categories for c in paper.categories
            ):
                continue
            if authors and not all(any(a <= names for names in pool.authors(i)) for a in authors if a):
                continue
            if q.year_from or q.year_to:
                year = paper.published.year if paper.published else None
                if year is None or (q.year_from and year < q.year_from) or (q.year_to and year > q.year_to):
                    continue
            title, abstract, title_set, all_set = pool.text(i)
            if any(_contains(title, x) or _contains(abstract, x) for x in excluded if x):
                continue
            strength = 0.0
            if units:
                found = True
                in_title = 0
                for unit, phrase in zip(units, is_phrase):
                    if phrase or len(unit) > 1:
                        t_hit = _contains(title, unit)
                        ok = t_hit or _contains(abstract, unit)
                    else:
                        t_hit = unit[0] in title_set
                        ok = unit[0] in all_set
                    if not ok:
                        found = False
                        break
                    in_title += t_hit
                if found:
                    strength = LEXICAL_BASE + (1 - LEXICAL_BASE) * in_title / len(units)
            elif not q.has_text:
                strength = FILTER_ONLY  # filters only: every paper that passes them matches
            if sem is not None and sem[i] >= TOPIC_SEMANTIC_MATCH:
                strength = max(strength, float(sem[i]))
            if strength > 0:
                out[i] = strength
        return out

    # -- follows ---------------------------------------------------------------
    @staticmethod
    def follow_matches(pool: Pool, follows: Sequence[Follow]) -> dict[int, list[str]]:
        """{pool index: the names followed} of the papers by someone the member follows."""
        out: dict[int, list[str]] = {}
        for f in follows:
            for i in pool.followed(f):
                out.setdefault(i, []).append(f.name)
        return out

    # -- upvotes ---------------------------------------------------------------
    def upvote_scores(self, pool: Pool, upvoted: Sequence[str]) -> np.ndarray | None:
        """Cosine of each pool paper to the centroid of the upvoted papers' embeddings."""
        if pool.matrix is None or not upvoted:
            return None
        vecs = self._vectors(upvoted[:UPVOTE_PROFILE_SIZE])
        rows = [np.frombuffer(v, dtype="<f4") for m, v in vecs.values() if m == pool.model_id]
        rows = [r for r in rows if r.shape[0] == pool.matrix.shape[1]]
        if not rows:
            return None
        m = np.vstack(rows).astype(np.float32)
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        c = m.mean(axis=0)
        norm = float(np.linalg.norm(c))
        if norm < 1e-9:
            return None
        assert pool.has_vec is not None  # set together with pool.matrix
        scores = pool.matrix @ (c / norm)
        scores[~pool.has_vec] = -1.0
        return scores

    def hidden_penalty(self, pool: Pool, hidden: Sequence[str]) -> np.ndarray | None:
        """Each pool paper's penalty for being like papers the member hid (None: nothing to go on)."""
        if pool.matrix is None or not hidden:
            return None
        assert pool.has_vec is not None  # set together with pool.matrix
        vecs = self._vectors(hidden[:HIDDEN_PROFILE_SIZE])
        rows = [np.frombuffer(v, dtype="<f4") for m, v in vecs.values() if m == pool.model_id]
        rows = [r for r in rows if r.shape[0] == pool.matrix.shape[1]]
        if not rows:
            return None
        neg = np.vstack(rows).astype(np.float32)
        neg /= np.maximum(np.linalg.norm(neg, axis=1, keepdims=True), 1e-12)
        return hidden_penalty(pool.matrix, pool.has_vec, neg)

    @staticmethod
    def upvote_cut(pool: Pool, up: np.ndarray | None) -> float:
        """The cosine a paper needs to be "like papers you upvoted" in this pool."""
        if up is None or pool.has_vec is None or not pool.has_vec.any():
            return math.inf
        vals = np.sort(up[pool.has_vec])[::-1]
        k = max(UPVOTE_MIN_PICKS, int(math.ceil(UPVOTE_TOP_SHARE * len(vals))))
        return max(UPVOTE_MATCH, float(vals[min(k, len(vals)) - 1]))

    # -- ranking ---------------------------------------------------------------
    def explain(self, pool: Pool, profile: Profile, i: int, up: np.ndarray | None = None,
                cut: float | None = None, followed: dict[int, list[str]] | None = None) -> tuple[float, list[str]]:
        """(topic strength, reasons) for one paper."""
        if followed is None:
            followed = self.follow_matches(pool, profile.follows) if profile.follows else {}
        reasons: list[str] = [reason_follow(name) for name in followed.get(i, [])[:2]]
        best = 0.0
        matched = []
        for topic in profile.topics:
            s = self.topic_scores(pool, topic).get(i)
            if s:
                matched.append((s, topic))
        matched.sort(key=lambda x: -x[0])
        for _, topic in matched[:2]:
            reasons.append(reason_topic(topic))
        if matched:
            best = matched[0][0]
        if up is not None:
            if cut is None:
                cut = self.upvote_cut(pool, up)
            if up[i] >= cut:
                reasons.append(REASON_UPVOTES)
        return best, reasons

    def rank(self, pool: Pool, profile: Profile, *, exclude: AbstractSet[str] = frozenset(),
             limit: int = 10) -> list[Pick]:
        if not len(pool) or profile.empty or limit <= 0:
            return []
        up = self.upvote_scores(pool, profile.upvote_profile)
        followed = self.follow_matches(pool, profile.follows)
        follow = np.zeros(len(pool), dtype=np.float64)
        follow[list(followed)] = 1.0
        topic = np.zeros(len(pool), dtype=np.float64)
        for t in profile.topics:
            for i, s in self.topic_scores(pool, t).items():
                if s > topic[i]:
                    topic[i] = s
        eligible = (topic > 0) | (follow > 0)
        cut = self.upvote_cut(pool, up)
        if up is not None:
            eligible |= up >= cut
        skip = set(profile.upvoted) | set(profile.hidden)
        score = W_TOPIC * topic + W_FOLLOW * follow + W_POPULAR * pool.popularity_norm
        if up is not None:
            score = score + W_UPVOTE * np.maximum(up, 0.0)
        penalty = self.hidden_penalty(pool, profile.hidden)
        if penalty is not None:
            score = score - W_HIDDEN * penalty
        picks: list[Pick] = []
        for i in sorted(np.flatnonzero(eligible).tolist(), key=lambda i: (-score[i], pool.papers[i].arxiv_id)):
            paper = pool.papers[i]
            if paper.arxiv_id in exclude or paper.arxiv_id in skip:
                continue
            _, reasons = self.explain(pool, profile, i, up, cut, followed)
            picks.append(Pick(paper, pool.listings[i], float(score[i]), reasons))
            if len(picks) >= limit:
                break
        return picks

    def top(self, pool: Pool, n: int, *, exclude: AbstractSet[str] = frozenset(), profile: Profile | None = None,
            label: str = REASON_TRENDING) -> list[Pick]:
        """The n most popular papers of the pool, labelled (plus any personal reasons)."""
        picks: list[Pick] = []
        up = self.upvote_scores(pool, profile.upvote_profile) if profile and profile.upvote_profile else None
        cut = self.upvote_cut(pool, up)
        hidden = set(profile.hidden) if profile is not None else set()
        followed = self.follow_matches(pool, profile.follows) if profile and profile.follows else {}
        for i in pool.order:
            if len(picks) >= n:
                break
            paper = pool.papers[i]
            if paper.arxiv_id in exclude or paper.arxiv_id in hidden:
                continue
            reasons = [label]
            if profile is not None and not profile.empty:
                reasons += self.explain(pool, profile, i, up, cut, followed)[1]
            picks.append(Pick(paper, pool.listings[i], float(pool.popularity[i]), reasons))
        return picks

    # -- /for-you ---------------------------------------------------------------
    def for_you(self, profile: Profile, today: dt.date, now: dt.datetime, *, limit: int = 30,
                days: int = FOR_YOU_DAYS) -> tuple[list[Pick], bool]:
        """Recent papers for this profile; (picks, personalized). With nothing to go on (or no
        match) it falls back to trending, labelled as such. "Recent" is the trending page's: the
        last `days` list days up to the latest day with papers, not up to today's date."""
        window = recent_window(self.store, today, days)
        if window is None:
            return [], False
        start, end = window
        pool = self.pool(start, end, ref=min(now, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(),
                                                                       tzinfo=dt.timezone.utc)))
        picks = self.rank(pool, profile, limit=limit)
        if picks:
            return picks, True
        return self.top(pool, limit, exclude=set(profile.upvoted) | set(profile.hidden)), False


@dataclass
class ForYouPage:
    subscription: Subscription | None
    profile: Profile
    picks: list[Pick]
    personal: bool


@dataclass
class Sources:
    """What feeds a member's For you, for "Why is this here"."""

    topics: list[str]
    follows: list[Follow]
    upvotes: list[StoredPaper]  # the upvotes the centroid is made of, most recent first
    muted: list[StoredPaper]  # upvotes the member stopped it using
    hidden: int  # papers marked "not interested" (negatives)
    subscription: Subscription | None


class ForYouService:
    """The /for-you page of one member, and what feeds it, which they may correct. A Ranker per
    call: its pools are keyed by "now", so a process-wide one would keep every request's pool."""

    def __init__(self, store: ForYouStore, *, embedder=None, clock: Clock = utcnow):
        self.store = store
        self.embedder = embedder
        self.clock = clock

    def profile(self, user_id: int) -> tuple[Subscription | None, Profile]:
        sub = self.store.get_subscription_for_user(user_id)
        return sub, Profile(topics=list(sub.topics) if sub is not None else [],
                            upvoted=self.store.user_upvoted_ids(user_id),
                            hidden=self.store.hidden_ids(user_id),
                            follows=self.store.follows(user_id),
                            muted=self.store.foryou_mutes(user_id, "upvote"))

    def for_member(self, user_id: int, today: dt.date, now: dt.datetime) -> ForYouPage:
        sub, profile = self.profile(user_id)
        picks, personal = Ranker(self.store, embedder=self.embedder).for_you(profile, today, now)
        return ForYouPage(sub, profile, picks, personal)

    # -- "Why is this here": what feeds it, and the member's corrections ----------------------
    def sources(self, user: User | None) -> Sources:
        user = require_member(user, what="see what For you is made of")
        sub, profile = self.profile(user.id)
        used = profile.upvote_profile[:UPVOTE_PROFILE_SIZE]
        papers = self.store.get_papers(used + profile.muted)
        return Sources(
            topics=profile.topics, follows=profile.follows,
            upvotes=[papers[a] for a in used if a in papers],
            muted=[papers[a] for a in profile.muted if a in papers],
            hidden=len(profile.hidden), subscription=sub,
        )

    def use_upvote(self, user: User | None, arxiv_id: str, use: bool) -> bool:
        """Stop using one upvote for recommendations (it stays an upvote), or use it again."""
        user = require_member(user, what="correct For you")
        if use:
            return self.store.set_foryou_mute(user.id, "upvote", arxiv_id, False, self._now())
        if arxiv_id not in self.store.user_upvoted_ids(user.id):
            raise NotFound("you have not upvoted that paper")
        return self.store.set_foryou_mute(user.id, "upvote", arxiv_id, True, self._now())

    def drop_topic(self, user: User | None, topic: str) -> bool:
        """Remove a topic from the member's subscription (For you and digests both read it)."""
        user = require_member(user, what="correct For you")
        sub = self.store.get_subscription_for_user(user.id)
        if sub is None or topic not in sub.topics:
            return False
        sub.topics = [t for t in sub.topics if t != topic]
        self.store.save_subscription(sub)
        return True

    def reset(self, user: User | None) -> int:
        """Undo every correction: all the member's upvotes feed For you again."""
        user = require_member(user, what="correct For you")
        return self.store.clear_foryou_mutes(user.id)

    def _now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)


__all__ = [
    "Profile", "Pick", "Pool", "Ranker", "ForYouService", "ForYouPage", "Sources", "reason_topic", "reason_follow",
    "W_FOLLOW",
    "W_TOPIC", "W_UPVOTE", "W_POPULAR", "UPVOTE_MATCH", "UPVOTE_TOP_SHARE", "UPVOTE_MIN_PICKS", "TOPIC_SEMANTIC_MATCH",
    "UPVOTE_PROFILE_SIZE", "W_HIDDEN", "HIDDEN_PROFILE_SIZE", "hidden_penalty",
    "FOR_YOU_DAYS", "REASON_TRENDING", "REASON_TOP_WEEK", "REASON_UPVOTES",
]
