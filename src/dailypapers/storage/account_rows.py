"""A member's own data, read out for the export and written off when they delete their account:
the SQL both backends share (``{p}``: each backend formats in its own placeholder, as in
library_rows.py) and the row mappers that make one JSON-ready answer from either.

What deleting an account does (docs/accounts.md):

* votes are removed and each paper's count and trending key recomputed;
* comments stay, under the one shared "[deleted member]" account (a discussion keeps its sense);
* sessions, API tokens, reading states, list visits and private notes go with the account
  (ON DELETE CASCADE), and so do any later table that references users with a cascade;
* subscriptions (by account or by its address) are deleted with their send log;
* a shared or public collection with an editor passes to its longest-standing editor; every other
  collection the member owns is deleted; their membership of others' collections ends;
* curator log entries, listing rules and triage decisions keep the action and lose the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from dailypapers.storage.rows import parse_ts

# The account every deleted member's comments move to. NAME_RE refuses brackets, so no one can
# sign up under this name, and the address is in the reserved .invalid domain.
GHOST_NAME = "[deleted member]"
GHOST_EMAIL = "deleted-member@deleted.invalid"

# (section, SQL with {p} for the user id, column names). Secrets never go out: no password hash,
# no token or session hash, no subscription link keys.
EXPORT_SQL: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("votes", "SELECT arxiv_id, created_at FROM votes WHERE user_id = {p} ORDER BY created_at, arxiv_id",
     ("arxiv_id", "created_at")),
    ("comments", "SELECT id, arxiv_id, body, created_at, edited_at, deleted_at, hidden_at FROM comments "
     "WHERE user_id = {p} ORDER BY id",
     ("id", "arxiv_id", "body", "created_at", "edited_at", "deleted_at", "hidden_at")),
    ("submissions", "SELECT day, arxiv_id, submitted_at FROM listings WHERE submitter_id = {p} ORDER BY day, arxiv_id",
     ("day", "arxiv_id", "submitted_at")),
    ("reading_states", "SELECT arxiv_id, state, updated_at FROM reading_states WHERE user_id = {p} "
     "ORDER BY updated_at, arxiv_id", ("arxiv_id", "state", "updated_at")),
    ("list_visits", "SELECT kind, seen_at, previous_at FROM list_visits WHERE user_id = {p} ORDER BY kind",
     ("kind", "seen_at", "previous_at")),
    ("api_tokens", "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens "
     "WHERE user_id = {p} ORDER BY id", ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")),
    ("notes", "SELECT collection_id, arxiv_id, body, updated_at FROM collection_notes WHERE user_id = {p} "
     "ORDER BY collection_id, arxiv_id", ("collection_id", "arxiv_id", "body", "updated_at")),
    # follows and For you corrections (community/follows.py, digests/foryou.py)
    ("follows", "SELECT kind, name, created_at FROM follows WHERE user_id = {p} ORDER BY id",
     ("kind", "name", "created_at")),
    ("foryou_corrections", "SELECT kind, value, created_at FROM foryou_mutes WHERE user_id = {p} "
     "ORDER BY created_at, value", ("kind", "value", "created_at")),
)
# By account or by the account's address (a subscription made before signing up).
SUBSCRIPTIONS_SQL = (
    "SELECT id, email, frequency, weekday, skip_weekends, topics, include_upvotes, confirmed_at, unsubscribed_at, "
    "created_at, updated_at FROM subscriptions WHERE user_id = {p} OR lower(email) = lower({p}) ORDER BY id"
)
SUBSCRIPTION_KEYS = ("id", "email", "frequency", "weekday", "skip_weekends", "topics", "include_upvotes",
                     "confirmed_at", "unsubscribed_at", "created_at", "updated_at")
COLLECTIONS_SQL = (
    "SELECT c.id, c.name, c.slug, c.description, c.visibility, c.created_at, c.updated_at, 'owner' "
    "FROM collections c WHERE c.owner_id = {p} UNION ALL "
    "SELECT c.id, c.name, c.slug, c.description, c.visibility, c.created_at, c.updated_at, m.role "
    "FROM collection_members m JOIN collections c ON c.id = m.collection_id WHERE m.user_id = {p} ORDER BY 1"
)
COLLECTION_KEYS = ("id", "name", "slug", "description", "visibility", "created_at", "updated_at", "role")
COLLECTION_PAPERS_SQL = (
    "SELECT cp.collection_id, cp.arxiv_id, cp.added_at, u.name FROM collection_papers cp "
    "LEFT JOIN users u ON u.id = cp.added_by WHERE cp.collection_id IN ({ids}) ORDER BY cp.collection_id, cp.id"
)
COLLECTION_MEMBERS_SQL = (
    "SELECT m.collection_id, u.name, m.role, m.added_at FROM collection_members m JOIN users u ON u.id = m.user_id "
    "JOIN collections c ON c.id = m.collection_id WHERE c.owner_id = {p} ORDER BY m.collection_id, u.name"
)

# -- deleting --------------------------------------------------------------------------------------
# The name goes, the record of what was done stays.
UNNAME_SQL = (
    "UPDATE comments SET hidden_by = NULL WHERE hidden_by = {p}",
    "UPDATE curator_actions SET user_id = NULL WHERE user_id = {p}",
    "UPDATE listings SET submitter_id = NULL, submitted_by = NULL WHERE submitter_id = {p}",
    "UPDATE arrival_rules SET created_by = NULL WHERE created_by = {p}",
    "UPDATE triage SET user_id = NULL WHERE user_id = {p}",
    "UPDATE triage SET previous_user_id = NULL WHERE previous_user_id = {p}",
)
# Shared and public collections that have an editor, with their longest-standing editor.
HEIRS_SQL = (
    "SELECT c.id, (SELECT m.user_id FROM collection_members m WHERE m.collection_id = c.id AND m.role = 'editor' "
    "ORDER BY m.added_at, m.user_id LIMIT 1) FROM collections c WHERE c.owner_id = {p} AND c.visibility <> 'private'"
)


def _value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key.endswith("_at"):
        ts = parse_ts(value)
        return ts.isoformat() if ts is not None else None
    if key in ("skip_weekends", "include_upvotes"):
        return bool(value)
    if key == "topics":
        return orjson.loads(value) if isinstance(value, str | bytes) else list(value)
    if key == "day":
        return value if isinstance(value, str) else value.isoformat()
    return value


def as_dicts(rows: Sequence[Sequence], keys: Sequence[str]) -> list[dict]:
    """Rows as JSON-ready dicts: times in ISO 8601 UTC, flags as booleans, topics as a list."""
    return [{k: _value(k, v) for k, v in zip(keys, r, strict=True)} for r in rows]


def collections_with_papers(collections: list[dict], papers: Sequence[Sequence],
                            members: Sequence[Sequence]) -> list[dict]:
    """Each collection with its papers (in the order they were added) and, for the owner, its members."""
    by_id = {c["id"]: c for c in collections}
    for c in collections:
        c["papers"] = []
        if c["role"] == "owner":
            c["members"] = []
    for cid, arxiv_id, added_at, added_by in papers:
        by_id[cid]["papers"].append({"arxiv_id": arxiv_id, "added_at": _value("added_at", added_at),
                                     "added_by": added_by})
    for cid, name, role, added_at in members:
        if cid in by_id and "members" in by_id[cid]:
            by_id[cid]["members"].append({"name": name, "role": role, "added_at": _value("added_at", added_at)})
    return collections


__all__ = [
    "GHOST_NAME", "GHOST_EMAIL", "EXPORT_SQL", "SUBSCRIPTIONS_SQL", "SUBSCRIPTION_KEYS", "COLLECTIONS_SQL",
    "COLLECTION_KEYS", "COLLECTION_PAPERS_SQL", "COLLECTION_MEMBERS_SQL", "UNNAME_SQL", "HEIRS_SQL", "as_dicts",
    "collections_with_papers",
]
