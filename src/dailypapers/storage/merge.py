"""How an incoming record combines with the stored one. Pure; both backends use it.

- arXiv fields (title, abstract, authors, categories, comment, dates) follow the
  version: a newer version replaces them, an older one never does. A record that
  does not know its version (HF, the daily listing dumps) counts as the stored
  version when the stored one is known, so it cannot roll a paper back, but it
  fills fields that are still empty.
- The first submission time only moves earlier; the announcement day only later.
- Enrichment (code, stars, project page, organization, AI summary) is not tied
  to a version: a non-empty incoming value wins, unless the incoming snapshot is
  older than the one stored (HF lists a paper on several days, with the counts
  of each day), so importing the same files twice changes nothing.
"""

from __future__ import annotations

from dailypapers.models import Paper

_ARXIV_FIELDS = ("title", "abstract", "authors", "categories", "comment", "updated", "withdrawn")
_ENRICHMENT_FIELDS = ("github_repo", "github_stars", "project_page", "organization", "ai_summary", "ai_keywords")


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def merge_paper(stored: Paper | None, incoming: Paper) -> Paper:
    if stored is None:
        return incoming
    changes: dict = {}
    sv, iv = stored.version, incoming.version
    if iv is not None and (sv is None or iv > sv):
        replace_arxiv = True
    elif iv is None and sv is not None:
        replace_arxiv = False
    else:
        replace_arxiv = iv == sv  # same version (or both unknown): a correction
    for name in _ARXIV_FIELDS:
        new, old = getattr(incoming, name), getattr(stored, name)
        if _empty(new) or new is False:
            if _empty(old) and not _empty(new):
                changes[name] = new
            continue
        if replace_arxiv or _empty(old):
            changes[name] = new
    if replace_arxiv and iv is not None:
        changes["version"] = iv
    # The first submission date never moves later.
    if incoming.published and (stored.published is None or incoming.published < stored.published):
        changes["published"] = incoming.published
    # Moderation only delays a listing: of two announcement days, the later is the true one.
    if incoming.announced and (stored.announced is None or incoming.announced > stored.announced):
        changes["announced"] = incoming.announced
    newer_snapshot = (
        incoming.observed_at is None
        or stored.observed_at is None
        or incoming.observed_at >= stored.observed_at
    )
    for name in _ENRICHMENT_FIELDS:
        new = getattr(incoming, name)
        if not _empty(new) and (newer_snapshot or _empty(getattr(stored, name))):
            changes[name] = new
    if newer_snapshot and incoming.observed_at is not None:
        changes["observed_at"] = incoming.observed_at
    return stored.replace(**changes) if changes else stored
