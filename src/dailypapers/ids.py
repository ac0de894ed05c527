"""arXiv identifiers: parsing ids, versions and URLs into one canonical form."""

from __future__ import annotations

import re
from typing import NamedTuple

from dailypapers.errors import Invalid

# New style (0704 onwards): YYMM.NNNN or YYMM.NNNNN. Old style: archive[.SUBJ]/YYMMNNN.
# Both without a version, matched ignoring case (web/guard.py rate-limits paper pages by them).
NEW_FORM = r"\d{4}\.\d{4,5}"
OLD_FORM = r"[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
_ID_RE = re.compile(rf"^(?:arxiv:)?(?:(?P<new>{NEW_FORM})|(?P<old>{OLD_FORM}))(?:v(?P<version>\d+))?$", re.IGNORECASE)
_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)|huggingface\.co/papers|hf\.co/papers)/"
    r"(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


class ArxivId(NamedTuple):
    id: str  # without version
    version: int | None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


class BadArxivId(Invalid):
    """Not an arXiv id or URL (HTTP 400; a paper path with one is a 404)."""


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an id, a versioned id, or an arXiv / Hugging Face paper URL."""
    s = (text or "").strip()
    m = _URL_RE.match(s)
    if m:
        s = m.group("rest")
    m = _ID_RE.match(s)
    if not m:
        raise BadArxivId(f"not an arXiv id: {text!r}")
    if m.group("new"):
        base = m.group("new")
    else:
        archive, num = m.group("old").split("/")
        # The archive is lower case; a subject class such as math.GT keeps its case.
        if "." in archive:
            arch, subj = archive.split(".")
            archive = f"{arch.lower()}.{subj.upper()}"
        else:
            archive = archive.lower()
        base = f"{archive}/{num}"
    version = int(m.group("version")) if m.group("version") else None
    return ArxivId(base, version)


def looks_like_arxiv_id(text: str) -> bool:
    try:
        parse_arxiv_id(text)
    except BadArxivId:
        return False
    return True
