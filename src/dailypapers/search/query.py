"""The search box language, parsed into a structure; never passed raw to an index.

Syntax (Google/arXiv-like, forgiving):

* ``word`` ............ a term; terms are OR-ed and ranked by BM25 (+ semantic similarity)
* ``"a phrase"`` ...... the words in this order; a quoted phrase is required
* ``-word`` / ``-"a phrase"`` .. exclude papers containing it
* ``author:lecun`` / ``author:"Yann LeCun"`` .. the paper has this author (all given must match)
* ``cat:cs.CL`` / ``cat:cs`` .. in this category or archive (several: any of them)
* ``year:2025`` / ``year:2024-2025`` / ``year:2020-`` / ``year:-2019`` .. published in these years
* a bare arXiv id or URL (``2405.15738``, ``arXiv:2405.15738v2``, ``https://arxiv.org/abs/...``,
  ``https://huggingface.co/papers/...``) sets :attr:`ParsedQuery.arxiv_id`; the service redirects.

Anything else (unbalanced quotes, stray operators, SQL, control characters, emoji, CJK...) is
treated as text. :func:`parse_query` is pure and linear in the input, and caps the number of
clauses so that a 10 kB input is cheap.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from dailypapers.ids import BadArxivId, parse_arxiv_id

MAX_INPUT_CHARS = 2000  # the caller caps at 250; this only bounds work on hostile input
MAX_CLAUSES = 32  # terms + phrases + exclusions + fields kept from one query
MAX_TOKEN_CHARS = 100
MIN_YEAR, MAX_YEAR = 1900, 2999

_FIELDS = {
    "author": "author", "authors": "author", "au": "author",
    "cat": "cat", "category": "cat", "categories": "cat",
    "year": "year", "years": "year",
}
_CAT_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[a-z][a-z\-]*)?$", re.IGNORECASE)
_ALNUM_RE = re.compile(r"[^\W_]")
_YEAR_RE = re.compile(r"^(\d{4})?\s*(?:-|\.\.|–)?\s*(\d{4})?$")


@dataclass(frozen=True)
class ParsedQuery:
    raw: str = ""
    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    arxiv_id: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)  # what was ignored, for the user

    @property
    def text(self) -> str:
        """The free text of the query (terms and phrases), e.g. for embedding."""
        return " ".join(self.phrases + self.terms).strip()

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return bool(self.authors or self.categories or self.year_from or self.year_to)

    @property
    def is_empty(self) -> bool:
        """Nothing to search for (exclusions alone do not make a query)."""
        return not (self.has_text or self.has_filters or self.arxiv_id)

    @property
    def highlight_words(self) -> tuple[str, ...]:
        """Words worth highlighting in results: terms and phrase words."""
        words: list[str] = list(self.terms)
        for p in self.phrases:
            words.extend(p.split())
        return tuple(words)


def _clean(text: str) -> str:
    """NFKC, control / format characters to spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def normalize_category(value: str) -> str | None:
    """``cs.cl`` -> ``cs.CL``, ``CS`` -> ``cs``, ``cond-mat.mes-hall`` kept; junk -> None."""
    v = value.strip()
    if not v or len(v) > 40 or not _CAT_RE.match(v):
        return None
    archive, _, subject = v.partition(".")
    archive = archive.lower()
    if not subject:
        return archive
    subject = subject.upper() if len(subject) == 2 else subject.lower()
    return f"{archive}.{subject}"


def _parse_year(value: str) -> tuple[int | None, int | None] | None:
    m = _YEAR_RE.match(value.strip())
    if not m or not (m.group(1) or m.group(2)):
        return None
    a = int(m.group(1)) if m.group(1) else None
    b = int(m.group(2)) if m.group(2) else None
    single = a is not None and b is None and not re.search(r"-|\.\.|–", value)
    if single:
        b = a
    for y in (a, b):
        if y is not None and not (MIN_YEAR <= y <= MAX_YEAR):
            return None
    if a is not None and b is not None and a > b:
        a, b = b, a
    return a, b


def _scan(text: str):
    """Yield (negated, field, value, quoted) clauses from cleaned text, left to right."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
            continue
        negated = False
        if ch == "-" and i + 1 < n and text[i + 1] not in " -":
            negated = True
            i += 1
        # field prefix: letters followed by ':' and a value
        fname = None
        m = re.match(r"([A-Za-z]{2,10}):(?=[^ ])", text[i : i + 12])
        if m and m.group(1).lower() in _FIELDS:
            fname = _FIELDS[m.group(1).lower()]
            i += m.end()
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end == -1:
                # unbalanced quote: the rest are plain words
                value, i, quoted = text[i + 1 :], n, False
                if fname is None and not negated:
                    for word in value.split():
                        yield False, None, word, False
                    continue
            else:
                value, i, quoted = text[i + 1 : end], end + 1, True
        else:
            end = text.find(" ", i)
            end = n if end == -1 else end
            value, i, quoted = text[i:end], end, False
        value = value.strip()
        if value:
            yield negated, fname, value, quoted


def parse_query(q: str | None) -> ParsedQuery:
    raw = q or ""
    text = _clean(raw[:MAX_INPUT_CHARS])
    notes: list[str] = []
    if len(raw) > MAX_INPUT_CHARS:
        notes.append(f"only the first {MAX_INPUT_CHARS} characters were used")

    # A bare arXiv id or URL goes straight to the paper.
    if text and " " not in text:
        try:
            return ParsedQuery(raw=raw, arxiv_id=parse_arxiv_id(text).id, notes=tuple(notes))
        except BadArxivId:
            pass

    terms: list[str] = []
    phrases: list[str] = []
    ex_terms: list[str] = []
    ex_phrases: list[str] = []
    authors: list[str] = []
    cats: list[str] = []
    year_from = year_to = None
    clauses = 0
    for negated, fname, value, quoted in _scan(text):
        if clauses >= MAX_CLAUSES:
            notes.append(f"only the first {MAX_CLAUSES} words or phrases were used")
            break
        value = value[: MAX_TOKEN_CHARS * 4] if quoted else value[:MAX_TOKEN_CHARS]
        if fname is None and not _ALNUM_RE.search(value):
            continue  # only punctuation or symbols: nothing to match on
        clauses += 1
        if fname == "author":
            if not _ALNUM_RE.search(value):
                notes.append(f"not an author name: {value!r}")
            elif negated:
                notes.append(f"excluding authors is not supported: -author:{value}")
            elif value not in authors:
                authors.append(value)
        elif fname == "cat":
            cat = normalize_category(value)
            if cat is None:
                notes.append(f"not a category: {value!r}")
            elif negated:
                notes.append(f"excluding categories is not supported: -cat:{value}")
            elif cat not in cats:
                cats.append(cat)
        elif fname == "year":
            years = _parse_year(value)
            if years is None:
                notes.append(f"not a year or range of years: {value!r}")
            elif negated:
                notes.append(f"excluding years is not supported: -year:{value}")
            else:
                year_from, year_to = years
        elif quoted:
            target = ex_phrases if negated else phrases
            if len(value.split()) == 1:
                target = ex_terms if negated else phrases
            if value not in target:
                target.append(value)
        else:
            target = ex_terms if negated else terms
            if value not in target:
                target.append(value)
    return ParsedQuery(
        raw=raw,
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded_terms=tuple(ex_terms),
        excluded_phrases=tuple(ex_phrases),
        authors=tuple(authors),
        categories=tuple(cats),
        year_from=year_from,
        year_to=year_to,
        notes=tuple(notes),
    )


__all__ = ["ParsedQuery", "SearchFilters", "parse_query", "normalize_category", "MAX_CLAUSES"]


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions from the search form (the query's own author:/cat:/year: add to these)."""

    date_from: dt.date | None = None  # published on or after
    date_to: dt.date | None = None  # published on or before (inclusive)
    category: str | None = None  # "cs.CL", or an archive such as "cs"
    has_code: bool | None = None  # True: only papers with a code link
    min_upvotes: int | None = None
    organization: str | None = None  # a Hugging Face organization's name ("google"), any case

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.category or self.has_code or self.min_upvotes
                    or self.organization)
