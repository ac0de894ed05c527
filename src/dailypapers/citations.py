"""Citation formats: BibTeX, RIS and CSL-JSON out, BibTeX and RIS in, and the Highwire Press
``citation_*`` meta tags that let the Zotero Connector save a paper page in one click.

Pure functions over :class:`~dailypapers.models.Paper` records: no I/O, no store, no clock. The
web serves them for one paper, a day's list and a page of search results (``web/exports.py``);
a collection hands its papers to :func:`export` the same way, and an import of a ``.bib`` or RIS
file into a collection starts from :func:`parse_bibtex` / :func:`parse_ris` (or :func:`parse`).

Names. A paper's authors are display names ("Aäron van den Oord"). :func:`split_name` splits one
into given name, particle, family name and suffix with BibTeX's own rule (a lower-case word before
the last one starts the "von" part), plus capitalized particles directly before the family name
("Ronan Le Bras" -> "Le Bras"), suffixes (Jr., III) and names that are teams or companies
("Gemma Team", "OpenAI"), which are kept whole. BibTeX gets ``von Last, Jr, First`` joined by
``and``, RIS one ``AU`` per author as ``Last, First, Suffix``, CSL ``family``/``given`` with
``non-dropping-particle`` and ``suffix`` (or ``literal`` for a team), always in the paper's order.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from dailypapers.errors import Invalid
from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.models import Paper

ARXIV_DOI_PREFIX = "10.48550/arXiv."
MAX_IMPORT_CHARS = 5_000_000  # a larger .bib or RIS file is refused (Invalid), not parsed
MAX_PROBLEMS = 20  # stray lines of a RIS file reported one by one; the rest are counted


# -- formats ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Format:
    name: str  # "bibtex" | "ris" | "csl"
    label: str  # what a link says
    suffix: str  # of the URL and the file name
    media_type: str


FORMATS: dict[str, Format] = {
    "bibtex": Format("bibtex", "BibTeX", ".bib", "application/x-bibtex; charset=utf-8"),
    "ris": Format("ris", "RIS", ".ris", "application/x-research-info-systems; charset=utf-8"),
    "csl": Format("csl", "CSL-JSON", ".csl.json", "application/vnd.citationstyles.csl+json"),
}


@dataclass(frozen=True)
class Export:
    """A rendered citation file: what an endpoint (or a collection) sends."""

    body: bytes
    format: Format
    filename: str


def check_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise Invalid(f"unknown citation format {name!r}: use one of {', '.join(FORMATS)}") from None


def format_of_path(path: str) -> tuple[str, Format] | None:
    """(the path without its suffix, the format) when the path ends in a citation suffix."""
    for fmt in sorted(FORMATS.values(), key=lambda f: -len(f.suffix)):
        if path.endswith(fmt.suffix) and len(path) > len(fmt.suffix):
            return path[: -len(fmt.suffix)], fmt
    return None


def render(papers: Sequence[Paper], fmt: str) -> str:
    """The papers as one document in `fmt` ("bibtex", "ris" or "csl")."""
    name = check_format(fmt).name
    if name == "bibtex":
        return bibtex(papers)
    if name == "ris":
        return ris(papers)
    return orjson.dumps(csl_json(papers), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def export(papers: Sequence[Paper], fmt: str, name: str) -> Export:
    """The papers as a file called ``<name><suffix>`` (`name` is made safe for a header)."""
    f = check_format(fmt)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_fold(name)).strip("-.") or "citations"
    return Export(render(papers, fmt).encode(), f, safe[:120] + f.suffix)


# -- names --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Name:
    given: str = ""
    particle: str = ""  # lower-case "von" part: "van den", "de la"
    family: str = ""
    suffix: str = ""  # "Jr.", "III"
    literal: str = ""  # a team or a company, never split

    @property
    def last(self) -> str:
        """The family name with its particle, as sorted and printed: "van den Oord"."""
        return " ".join(p for p in (self.particle, self.family) if p)

    def inverted(self) -> str:
        """"Last, First" (", Suffix" after the given name, as RIS has it)."""
        if self.literal:
            return self.literal
        parts = [self.last]
        if self.given:
            parts.append(self.given)
        if self.suffix:
            parts.append(self.suffix)
        return ", ".join(parts)


_SUFFIX = re.compile(r"^(?:Jr|Sr|Jnr|Snr)\.?$|^(?:II|III|IV|VI{1,3})$")
# Capitalized particles that belong to the family name when they come right before it. Not "Di",
# "Da" or "Du": those start and end many Chinese names ("Di Wu", "Yifan Du").
_CAP_PARTICLES = {"Van", "Von", "Der", "Den", "De", "Del", "Della", "Des", "Le", "La", "Dos", "Das",
                  "Ten", "Ter", "Vom", "Zu", "Vander", "Van't"}
_TEAM_WORDS = {"team", "collaboration", "consortium", "group", "lab", "labs", "laboratory", "project",
               "initiative", "committee", "collective", "community", "contributors", "authors",
               "institute", "inc", "inc.", "ltd", "ltd.", "corporation", "research"}


def _is_team(tokens: list[str]) -> bool:
    if len(tokens) == 1:
        # One word with capitals inside it ("OpenAI", "NVIDIA", "DeepSeek-AI") is a company; a
        # person known by one name ("Linus") has a single capital.
        return sum(ch.isupper() for ch in tokens[0]) >= 2
    last = tokens[-1]
    # "AI" only in capitals: "Qingyao Ai" is a person.
    return last.lower() in _TEAM_WORDS or last.lower().endswith("-team") or last == "AI"


@functools.lru_cache(maxsize=8192)  # a collection names the same people again and again
def split_name(display: str) -> Name:
    """A display name ("Aäron van den Oord", "Hal Daumé III", "Gemma Team") split for citations."""
    text = " ".join((display or "").split())
    if not text:
        return Name(literal="Anonymous")
    if "," in text:  # already "Last, First" or "Last, Jr, First"
        parts = [p.strip() for p in text.split(",")]
        if len(parts) == 2 and all(parts):
            return _with_particle(parts[0], given=parts[1])
        if len(parts) == 3 and all(parts):
            return _with_particle(parts[0], given=parts[2], suffix=parts[1])
        return Name(literal=text)
    tokens = text.split(" ")
    if _is_team(tokens) or any(t.lower() == "and" for t in tokens):
        return Name(literal=text)
    suffix = ""
    if len(tokens) > 2 and _SUFFIX.match(tokens[-1]):
        suffix = tokens.pop()
    if len(tokens) == 1:
        return Name(family=tokens[0], suffix=suffix)
    # BibTeX's "First von Last": the von part runs from the first to the last lower-case word
    # that is neither the first word nor the last.
    lower = [i for i in range(1, len(tokens) - 1) if tokens[i][:1].islower()]
    if lower:
        first, end = lower[0], lower[-1]
        return Name(given=" ".join(tokens[:first]), particle=" ".join(tokens[first : end + 1]),
                    family=" ".join(tokens[end + 1 :]), suffix=suffix)
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1] in _CAP_PARTICLES:
        start -= 1
    return Name(given=" ".join(tokens[:start]), family=" ".join(tokens[start:]), suffix=suffix)


def _with_particle(last: str, *, given: str, suffix: str = "") -> Name:
    words = last.split(" ")
    lead = 0
    while lead < len(words) - 1 and words[lead][:1].islower():
        lead += 1
    return Name(given=given, particle=" ".join(words[:lead]), family=" ".join(words[lead:]), suffix=suffix)


# -- TeX ------------------------------------------------------------------------------------------
# Inline math the way pandoc reads it: "$" then a non-space, a closing "$" after a non-space that is
# not followed by a digit. So "$k$-means" is math and "from $5 to $10" is two dollar signs.
_MATH = re.compile(r"\$(?=[^\s$])(?P<m>(?:\\.|[^$\\])+?)(?<=\S)\$(?!\d)", re.S)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|[^A-Za-z])")
_WORD = re.compile(r"[^\W_](?:[^\W_]|['’.-](?=[^\W_]))*")
_ACCENTS = set("\"'`^~=.")  # control symbols that take an argument: \"{o}
_SPECIAL = re.compile(r"[\\${}&%#_^~]")


def _braces_balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def _needs_case_protection(word: str, whole: bool = True) -> bool:
    """A word that a sentence-case style must not lower-case: "GPT-4o", "LLMs", "iPhone", "X" (a
    capital alone, when it is a `whole` word and not the start of one written with TeX: G\"odel)."""
    for part in re.split(r"['’.-]", word):
        if any(ch.isupper() for ch in part[1:]) or (whole and len(part) == 1 and part.isupper()):
            return True
    return False


def tex(text: str, *, protect_case: bool = False) -> str:
    """`text` as the value of a BibTeX field: the special characters escaped, TeX kept.

    Inline math (``$...$``) and TeX commands (``\\"o``, ``\\emph{...}``, an escaped ``\\&``) are
    kept as they are. Elsewhere ``& % # _`` get a backslash, ``$`` becomes ``\\$``, ``^`` and
    ``~`` their text commands, and braces that are not a command's argument are printed braces
    (``\\{ \\}``, or ``\\textbraceleft{}`` when unmatched), so every brace the field holds is
    balanced, as BibTeX requires. With `protect_case` (titles) the math and the words with
    capitals after their first letter are wrapped in braces, so that styles which lower-case
    titles leave "GPT-4o" and "$\\mathcal{O}(n)$" alone.
    """
    s = " ".join((text or "").split())
    if not protect_case and not _SPECIAL.search(s):
        return s  # most names and notes: nothing to do
    out: list[str] = []
    stack: list[tuple[int, bool]] = []  # (index in out, is a command's argument)
    i, n = 0, len(s)

    def open_brace(group: bool) -> None:
        stack.append((len(out), group))
        out.append("{")

    def close_brace() -> None:
        if not stack:
            out.append(r"\textbraceright{}")
            return
        idx, group = stack.pop()
        if group:
            out.append("}")
        else:
            out[idx] = r"\{"
            out.append(r"\}")

    while i < n:
        c = s[i]
        if c == "\\":
            m = _COMMAND.match(s, i)
            if m is None:  # a trailing backslash
                out.append(r"\textbackslash{}")
                i += 1
                continue
            cmd, i = m.group(), m.end()
            if cmd == "\\{":
                open_brace(False)
            elif cmd == "\\}":
                close_brace()
            elif cmd == "\\\\":  # a TeX line break means nothing in a reference
                out.append(" ")
            else:
                out.append(cmd)
                if i < n and s[i] == "{" and (cmd[1:].isalpha() or cmd[1] in _ACCENTS):
                    open_brace(True)
                    i += 1
            continue
        if c == "$":
            m = _MATH.match(s, i)
            if m and _braces_balanced(m.group("m")):
                body = re.sub(r"(?<!\\)([%#&])", r"\\\1", m.group("m"))
                out.append("{$" + body + "$}" if protect_case else "$" + body + "$")
                i = m.end()
            else:
                out.append(r"\$")
                i += 1
            continue
        if c == "{":
            open_brace(s.startswith("\\", i + 1) and _COMMAND.match(s, i + 1) is not None)
            i += 1
            continue
        if c == "}":
            close_brace()
            i += 1
            continue
        if c in "&%#_":
            out.append("\\" + c)
        elif c == "^":
            out.append(r"\textasciicircum{}")
        elif c == "~":
            out.append(r"\textasciitilde{}")
        elif protect_case and not stack and (m := _WORD.match(s, i)) is not None:
            word = m.group()
            whole = not s.startswith(("\\", "{"), m.end()) and not (i and s[i - 1] in "}\\")
            out.append("{" + word + "}" if _needs_case_protection(word, whole) else word)
            i = m.end()
            continue
        else:
            out.append(c)
        i += 1
    for idx, _ in stack:  # never closed: a printed brace, so the field stays balanced
        out[idx] = r"\textbraceleft{}"
    return "".join(out)


@functools.lru_cache(maxsize=8192)
def _bib_author(display: str) -> str:
    """One author as BibTeX names them: "van den Oord, Aäron", "Daumé, III, Hal", "{Gemma Team}"."""
    name = split_name(display)
    if name.literal:
        return "{" + tex(name.literal) + "}"
    parts = [tex(name.last)]
    if name.suffix:
        parts.append(tex(name.suffix))
    if name.given:
        parts.append(tex(name.given))
    elif name.suffix:
        parts.append("")
    return ", ".join(parts)


# -- keys ---------------------------------------------------------------------------------------
_KEY_SKIP = {"a", "an", "the", "on", "of", "in", "for", "to", "towards", "toward", "and", "with", "via",
             "is", "are", "do", "does", "can", "how", "what", "why", "when", "from", "at", "by", "into"}


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def first_date(paper: Paper) -> dt.date | None:
    """When the paper first appeared: its v1 submission, else the day arXiv listed it."""
    if paper.published is not None:
        return paper.published.date()
    return paper.announced


def base_key(paper: Paper) -> str:
    """"huang2026envharness": the first author's family name, the year, the title's first word."""
    author = ""
    if paper.authors:
        name = split_name(paper.authors[0])
        words = ascii_fold(name.literal or name.family).lower().split()
        # a team by its first word ("gemma" for "Gemma Team"), a person by the whole family name
        author = re.sub(r"[^a-z]", "", (words[0] if name.literal else "".join(words)) if words else "")
    day = first_date(paper)
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", ascii_fold(re.sub(r"\$[^$]*\$", " ", paper.title)))]
    word = next((w for w in words if w not in _KEY_SKIP and not w.isdigit()), "")
    key = f"{author or 'anon'}{day.year if day else ''}{word or 'paper'}"
    return key[:64]


def cite_keys(papers: Sequence[Paper]) -> list[str]:
    """A key per paper, unique within the list: the base key, then b, c, ... on a collision (the
    first paper with a key keeps it, so a paper alone always gets its base key)."""
    taken: set[str] = set()
    keys = []
    for p in papers:
        base = key = base_key(p)
        n = 1
        while key in taken:
            n += 1
            key = base + (chr(ord("a") + n - 1) if n <= 26 else str(n))
        taken.add(key)
        keys.append(key)
    return keys


def _unique(papers: Iterable[Paper]) -> list[Paper]:
    seen: set[str] = set()
    out = []
    for p in papers:
        if p.arxiv_id not in seen:
            seen.add(p.arxiv_id)
            out.append(p)
    return out


# -- BibTeX ---------------------------------------------------------------------------------------
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def bibtex_entry(paper: Paper, key: str) -> str:
    p = paper
    fields: list[tuple[str, str]] = [("title", "{" + tex(p.title, protect_case=True) + "}")]
    if p.authors:
        fields.append(("author", "{" + " and ".join(_bib_author(a) for a in p.authors) + "}"))
    day = first_date(p)
    if day:
        fields += [("year", "{" + str(day.year) + "}"), ("month", _MONTHS[day.month - 1])]
    fields += [("eprint", "{" + p.arxiv_id + "}"), ("archivePrefix", "{arXiv}")]
    if p.primary_category:
        fields.append(("primaryClass", "{" + tex(p.primary_category) + "}"))
    fields += [("doi", "{" + ARXIV_DOI_PREFIX + p.arxiv_id + "}"),
               ("url", "{https://arxiv.org/abs/" + p.arxiv_id + "}")]
    if p.comment and p.comment.strip():
        fields.append(("note", "{" + tex(p.comment) + "}"))
    body = ",\n".join(f"  {k} = {v}" for k, v in fields)
    return f"@misc{{{key},\n{body}\n}}"


def bibtex(papers: Iterable[Paper]) -> str:
    """@misc entries, one per paper (the first of any repeated id), separated by a blank line."""
    unique = _unique(papers)
    if not unique:
        return ""
    return "\n\n".join(bibtex_entry(p, k) for p, k in zip(unique, cite_keys(unique))) + "\n"


# -- RIS ------------------------------------------------------------------------------------------
def _ris_value(text: str) -> str:
    return " ".join((text or "").split())


def ris(papers: Iterable[Paper]) -> str:
    """RIS records (``TY  - UNPB``: RIS has no preprint type; unpublished work is the closest),
    one ``AU`` line per author, CRLF line ends as the format's readers expect."""
    unique = _unique(papers)
    records = []
    for p, key in zip(unique, cite_keys(unique)):
        lines = [("TY", "UNPB"), ("ID", key), ("TI", _ris_value(p.title))]
        lines += [("AU", split_name(a).inverted()) for a in p.authors]
        day = first_date(p)
        if day:
            lines += [("PY", str(day.year)), ("DA", f"{day.year:04d}/{day.month:02d}/{day.day:02d}/")]
        if p.abstract and p.abstract.strip():
            lines.append(("AB", _ris_value(p.abstract)))
        lines += [("PB", "arXiv"), ("M1", f"arXiv:{p.arxiv_id}"), ("DO", ARXIV_DOI_PREFIX + p.arxiv_id),
                  ("UR", f"https://arxiv.org/abs/{p.arxiv_id}"), ("L1", f"https://arxiv.org/pdf/{p.arxiv_id}")]
        lines += [("KW", c) for c in p.categories]
        if p.comment and p.comment.strip():
            lines.append(("N1", _ris_value(p.comment)))
        lines.append(("ER", ""))
        records.append("\r\n".join(f"{tag}  - {value}" for tag, value in lines))
    return "".join(r + "\r\n\r\n" for r in records)


# -- CSL-JSON -------------------------------------------------------------------------------------
def csl_name(name: Name) -> dict[str, str]:
    if name.literal:
        return {"literal": name.literal}
    out = {"family": name.family}
    if name.given:
        out["given"] = name.given
    if name.particle:
        out["non-dropping-particle"] = name.particle
    if name.suffix:
        out["suffix"] = name.suffix
    return out


def csl_json(papers: Iterable[Paper]) -> list[dict]:
    """CSL-JSON items (type "article", as Zotero exports a preprint), ids the BibTeX keys."""
    unique = _unique(papers)
    items = []
    for p, key in zip(unique, cite_keys(unique)):
        item: dict = {
            "id": key,
            "type": "article",
            "title": " ".join(p.title.split()),
            "author": [csl_name(split_name(a)) for a in p.authors],
        }
        day = first_date(p)
        if day:
            item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
        if p.abstract and p.abstract.strip():
            item["abstract"] = " ".join(p.abstract.split())
        item.update({
            "publisher": "arXiv",
            "number": f"arXiv:{p.arxiv_id}",
            "DOI": ARXIV_DOI_PREFIX + p.arxiv_id,
            "URL": f"https://arxiv.org/abs/{p.arxiv_id}",
        })
        if p.version:
            item["version"] = str(p.version)
        if p.categories:
            item["keyword"] = ", ".join(p.categories)
        if p.comment and p.comment.strip():
            item["note"] = " ".join(p.comment.split())
        items.append(item)
    return items


# -- Highwire Press meta tags (Zotero, Google Scholar) ------------------------------------------------
def _slash_date(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def highwire(paper: Paper, page_url: str) -> list[tuple[str, str]]:
    """(name, content) of the ``citation_*`` meta tags of a paper page, in order: one
    ``citation_author`` per author ("Last, First"), the dates as YYYY/MM/DD. Not escaped: the
    template does that."""
    p = paper
    tags = [("citation_title", " ".join(p.title.split()))]
    tags += [("citation_author", split_name(a).inverted()) for a in p.authors]
    published = _slash_date(p.published) or _slash_date(p.announced)
    if published:
        tags.append(("citation_publication_date", published))
        tags.append(("citation_online_date", _slash_date(p.updated) or published))
    tags += [
        ("citation_arxiv_id", p.arxiv_id),
        ("citation_doi", ARXIV_DOI_PREFIX + p.arxiv_id),
        ("citation_pdf_url", f"https://arxiv.org/pdf/{p.arxiv_id}"),
        ("citation_abstract_html_url", page_url),
        ("citation_publisher", "arXiv"),
    ]
    if p.abstract and p.abstract.strip():
        tags.append(("citation_abstract", " ".join(p.abstract.split())))
    return tags


# -- import ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportedEntry:
    """One entry of an imported file, with the arXiv id found in it (None: none was)."""

    key: str | None
    title: str | None
    arxiv_id: str | None
    line: int | None = None  # where the entry starts (1-based)
    problem: str | None = None  # the entry could not be read whole

    @property
    def label(self) -> str:
        """How a report names the entry."""
        where = f"line {self.line}" if self.line else "an entry"
        return self.title or (f"{self.key} ({where})" if self.key else where)


@dataclass
class ParsedImport:
    entries: list[ImportedEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # parts of the file that are not entries

    @property
    def ids(self) -> list[str]:
        """The arXiv ids found, each once, in the file's order."""
        seen: dict[str, None] = {}
        for e in self.entries:
            if e.arxiv_id:
                seen.setdefault(e.arxiv_id, None)
        return list(seen)

    @property
    def without_id(self) -> list[ImportedEntry]:
        """The entries with no arXiv id: reported to the reader, never dropped silently."""
        return [e for e in self.entries if not e.arxiv_id]


_ID_TEXT = r"(\d{4}\.\d{4,5}(?:v\d+)?(?!\d)|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?(?!\d))"
_FINDERS = (
    re.compile(r"arxiv\.org/(?:abs|pdf|html)/" + _ID_TEXT, re.I),
    re.compile(r"10\.48550/arxiv\." + _ID_TEXT, re.I),
    re.compile(r"\barxiv\s*:\s*" + _ID_TEXT, re.I),  # "arXiv:2106.09685", "arXiv preprint arXiv:..."
    re.compile(r"\barxiv\s+(?:preprint\s+)?(?:abs/)?" + r"(\d{4}\.\d{4,5}(?:v\d+)?)(?!\d)", re.I),
)


def _canonical(text: str) -> str | None:
    try:
        return parse_arxiv_id(text.strip()).id
    except BadArxivId:
        return None


def find_arxiv_id(text: str | None) -> str | None:
    """The arXiv id named in a field's text: an arXiv URL, arXiv's DOI, or "arXiv:<id>"."""
    if not text:
        return None
    for finder in _FINDERS:
        m = finder.search(text)
        if m and (found := _canonical(m.group(1))):
            return found
    return None


def _check_size(text: str) -> None:
    if len(text) > MAX_IMPORT_CHARS:
        raise Invalid(f"the file is too large to import (at most {MAX_IMPORT_CHARS:,} characters)")


def _plain(value: str | None) -> str | None:
    """A BibTeX value as text for a report: braces and the common escapes removed."""
    if not value:
        return None
    text = re.sub(r"\\([&%$#_{}])", r"\1", value)
    text = re.sub(r"(?<!\\)[{}]", "", text)
    return " ".join(text.split()) or None


_BIB_ID_FIELDS = ("doi", "url", "pdf", "link", "howpublished", "journal", "journaltitle", "booktitle",
                  "note", "eprint", "arxivid", "arxiv", "archiveprefix", "number", "publisher")


def bibtex_entry_id(fields: dict[str, str]) -> str | None:
    """The arXiv id of one BibTeX entry (field names lower-case)."""
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().strip("{}").lower()
    eprint = (fields.get("eprint") or "").strip().strip("{}")
    if eprint and prefix in ("arxiv", ""):
        found = _canonical(eprint) or find_arxiv_id(eprint)
        if found:
            return found
    for name in ("arxivid", "arxiv"):
        if fields.get(name) and (found := _canonical(fields[name]) or find_arxiv_id(fields[name])):
            return found
    for name in _BIB_ID_FIELDS:
        found = find_arxiv_id(fields.get(name))
        if found:
            return found
    # DBLP: journal = {CoRR}, volume = {abs/1706.03762}
    volume = (fields.get("volume") or "").strip()
    if (fields.get("journal") or "").strip().strip("{}").lower() == "corr" and volume.startswith("abs/"):
        return _canonical(volume[4:])
    return None


def parse_bibtex(text: str) -> ParsedImport:
    """The entries of a .bib file with the arXiv id of each (from ``eprint`` with
    ``archivePrefix = {arXiv}``, arXiv URLs, arXiv's DOI, "arXiv:<id>" in a journal or note, DBLP's
    CoRR volume). Parsed with bibtexparser; a block it cannot read is kept as an entry with its
    problem (and any id its raw text names), never dropped."""
    import bibtexparser
    from bibtexparser import middlewares, model

    _check_size(text)
    library = bibtexparser.parse_string(text, append_middleware=[middlewares.NormalizeFieldKeys()])
    result = ParsedImport()
    for block in library.blocks:
        entry: object = block
        if isinstance(block, model.DuplicateBlockKeyBlock):
            entry = block.ignore_error_block  # a repeated key is still an entry to import
            if not isinstance(entry, model.Entry):
                continue  # a repeated @string: the first one counts
        if isinstance(entry, model.Entry):
            fields = {f.key: f.value if isinstance(f.value, str) else str(f.value) for f in entry.fields}
            result.entries.append(ImportedEntry(
                key=entry.key, title=_plain(fields.get("title")), arxiv_id=bibtex_entry_id(fields),
                line=_line(entry.start_line)))
        elif isinstance(block, model.ParsingFailedBlock):
            raw = block.raw or ""
            key = re.match(r"\s*@\w+\s*[{(]\s*([^,\s]+)", raw)
            title = re.search(r"\btitle\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", raw, re.I | re.M)
            error = block.error
            reason = getattr(error, "abort_reason", None) or getattr(error, "message", None) or str(error)
            problem = " ".join(str(reason).split()) or "could not be read"
            if key is None and not raw.strip():
                result.problems.append(f"line {_line(block.start_line)}: {problem}")
                continue
            result.entries.append(ImportedEntry(
                key=key.group(1) if key else None, title=_plain(title.group(1)) if title else None,
                arxiv_id=find_arxiv_id(raw), line=_line(block.start_line), problem=problem))
    return result


def _line(start_line: int | None) -> int | None:
    return None if start_line is None else start_line + 1  # bibtexparser counts from 0


_RIS_TAG = re.compile(r"^\s*([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")
_RIS_ID_TAGS = ("DO", "M1", "AN", "UR", "L1", "L2", "L3", "LK", "M2", "M3", "N1", "JO", "JF", "JA", "T2",
                "T3", "C1", "ET", "PB")


def parse_ris(text: str) -> ParsedImport:
    """The records of a RIS file with the arXiv id of each (``DO`` with arXiv's DOI, ``UR``/``L1``
    arXiv URLs, "arXiv:<id>" in ``M1``, ``N1``, ``JO``...). A line that is not a tag continues the
    value before it; a record left without ``ER`` at the end of the file still counts."""
    _check_size(text)
    result = ParsedImport()
    record: dict[str, list[str]] | None = None
    start = stray = 0
    last_tag: str | None = None

    def close() -> None:
        nonlocal record
        if record is None:
            return
        title = next((record[t][0] for t in ("TI", "T1", "CT", "BT") if record.get(t)), None)
        found = None
        for tag in _RIS_ID_TAGS:
            for value in record.get(tag, []):
                found = find_arxiv_id(value)
                if found:
                    break
            if found:
                break
        key = record["ID"][0] if record.get("ID") else None
        result.entries.append(ImportedEntry(key=key, title=" ".join(title.split()) if title else None,
                                            arxiv_id=found, line=start))
        record = None

    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        m = _RIS_TAG.match(line)
        if m is None:
            if record is not None and last_tag and line.strip():
                record[last_tag][-1] = (record[last_tag][-1] + " " + line.strip()).strip()
            elif line.strip():
                stray += 1
                if stray <= MAX_PROBLEMS:
                    result.problems.append(f"line {number}: not a RIS line, outside any record")
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag == "ER":
            close()
            last_tag = None
            continue
        if record is None or tag == "TY":
            close()
            record = {}
            start = number
        record.setdefault(tag, []).append(value)
        last_tag = tag
    close()
    if stray > MAX_PROBLEMS:
        result.problems.append(f"... and {stray - MAX_PROBLEMS} more lines outside any record")
    if not result.entries and text.strip():
        result.problems.append("no RIS records (TY  - ...) in the file")
    return result


def parse(text: str) -> ParsedImport:
    """A .bib or RIS file, told apart by its content."""
    if re.search(r"^\s*TY {1,2}- ", text.lstrip("\ufeff")[:4096], re.M):
        return parse_ris(text)
    return parse_bibtex(text)


__all__ = [
    "FORMATS", "Format", "Export", "Name", "ImportedEntry", "ParsedImport", "check_format", "format_of_path",
    "render", "export", "split_name", "tex", "cite_keys", "base_key", "bibtex", "bibtex_entry", "ris",
    "csl_json", "csl_name", "highwire", "find_arxiv_id", "parse_bibtex", "parse_ris", "parse",
    "ARXIV_DOI_PREFIX", "MAX_IMPORT_CHARS",
]
