"""Row mappers and SQL fragments both backends share.

The columns and their order are the same in SQLite and PostgreSQL; PostgreSQL loads dates,
timestamps and JSON columns as text (see postgres/base.py), so one mapper reads either.
Times are written as whole seconds in UTC ("2026-08-21T00:00:00Z"), which PostgreSQL reads into
timestamptz.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

import orjson

from dailypapers.models import (
    ApiToken,
    Comment,
    DigestEntry,
    DigestSend,
    Listing,
    Organization,
    Paper,
    StoredPaper,
    Subscription,
    User,
)

T = TypeVar("T")

PAPER_COLUMNS = (
    "arxiv_id", "version", "title", "abstract", "authors", "categories", "primary_category",
    "published", "updated", "comment", "github_repo", "github_stars", "project_page",
    "org_name", "org_fullname", "org_avatar", "ai_summary", "ai_keywords", "withdrawn", "observed_at",
    "announced",
)
SELECT_PAPER = (
    "SELECT " + ", ".join(PAPER_COLUMNS) + ", hf_upvotes, votes, num_comments, added_at, seq FROM papers"
)
# Keeps IN (...) lists under SQLite's variable limit.
_CHUNK = 500


def format_ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    elif value.utcoffset():
        value = value.astimezone(dt.timezone.utc)
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


@overload
def parse_ts(value: str) -> dt.datetime: ...
@overload
def parse_ts(value: None) -> None: ...
def parse_ts(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    # SQLite stores "...T00:00:00Z"; PostgreSQL prints "... 00:00:00+00": both are ISO 8601.
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def paper_row(p: Paper) -> tuple:
    org = p.organization
    return (
        p.arxiv_id, p.version, p.title, p.abstract, _dumps(p.authors),
        _dumps(p.categories), p.primary_category, format_ts(p.published), format_ts(p.updated),
        p.comment, p.github_repo, p.github_stars, p.project_page,
        org.name if org else None, org.fullname if org else None, org.avatar if org else None,
        p.ai_summary, _dumps(p.ai_keywords), bool(p.withdrawn), format_ts(p.observed_at),
        p.announced.isoformat() if p.announced else None,
    )


def row_paper(r: Sequence) -> StoredPaper:
    org = Organization(r[13], r[14], r[15]) if r[13] else None
    return StoredPaper(
        arxiv_id=r[0], version=r[1], title=r[2], abstract=r[3], authors=orjson.loads(r[4]),
        categories=orjson.loads(r[5]), published=parse_ts(r[7]), updated=parse_ts(r[8]),
        comment=r[9], github_repo=r[10], github_stars=r[11], project_page=r[12],
        organization=org, ai_summary=r[16], ai_keywords=orjson.loads(r[17]), withdrawn=bool(r[18]),
        observed_at=parse_ts(r[19]), announced=dt.date.fromisoformat(r[20]) if r[20] else None,
        hf_upvotes=r[21], votes=r[22], num_comments=r[23], added_at=parse_ts(r[24]),
    )


def listing_row(item: Listing) -> tuple:
    return (
        item.day.isoformat(), item.arxiv_id, item.rank, item.submitted_by,
        format_ts(item.submitted_at), item.upvotes, item.num_comments, item.source,
    )


def row_listing(r: Sequence) -> Listing:
    return Listing(
        day=dt.date.fromisoformat(r[0]), arxiv_id=r[1], rank=r[2], submitted_by=r[3],
        submitted_at=parse_ts(r[4]), upvotes=r[5], num_comments=r[6], source=r[7],
    )


def inserted(value: T | None) -> T:
    """A row id (or row) this process just wrote, which SQLite always has: for the type checker."""
    if value is None:
        raise RuntimeError("a row just written is missing")
    return value


def chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# A paper's columns as row_paper reads them, for queries that join papers as "p".
P_COLUMNS = ", ".join("p." + c for c in PAPER_COLUMNS) + ", p.hf_upvotes, p.votes, p.num_comments, p.added_at, p.seq"
P_WIDTH = len(PAPER_COLUMNS) + 5
LP_COLUMNS = (
    "l.day, l.arxiv_id, l.rank, l.submitted_by, l.submitted_at, l.upvotes, l.num_comments, l.source, " + P_COLUMNS
)
# "AND NOT l.hidden" keeps listings a curator hid off every list and API page.
SELECT_LP = f"SELECT {LP_COLUMNS} FROM listings l JOIN papers p ON p.arxiv_id = l.arxiv_id AND NOT l.hidden"


def row_lp(r: Sequence) -> tuple[Listing, StoredPaper]:
    return row_listing(r[:8]), row_paper(r[8:])


# -- accounts ------------------------------------------------------------------
USER_COLUMNS = (
    "id, email, name, role, created_at, verified_at, disabled_at, password_hash, password_changed_at, "
    "show_upvotes, show_submissions"
)
TOKEN_COLUMNS = "id, user_id, name, prefix, created_at, last_used_at, revoked_at"


def prefixed(columns: str, alias: str) -> str:
    """'a, b' -> 'u.a, u.b'."""
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


def row_user(r: Sequence) -> User:
    return User(
        id=r[0], email=r[1], name=r[2], role=r[3], created_at=parse_ts(r[4]), verified_at=parse_ts(r[5]),
        disabled_at=parse_ts(r[6]), password_hash=r[7], password_changed_at=parse_ts(r[8]),
        show_upvotes=bool(r[9]), show_submissions=bool(r[10]),
    )


def row_token(r: Sequence) -> ApiToken:
    return ApiToken(id=r[0], user_id=r[1], name=r[2], prefix=r[3], created_at=parse_ts(r[4]),
                    last_used_at=parse_ts(r[5]), revoked_at=parse_ts(r[6]))


# -- comments ------------------------------------------------------------------
COMMENT_SELECT = (
    "SELECT c.id, c.arxiv_id, c.user_id, u.name, c.body, c.created_at, c.edited_at, c.deleted_at, c.hidden_at "
    "FROM comments c JOIN users u ON u.id = c.user_id"
)


def row_comment(r: Sequence) -> Comment:
    return Comment(id=r[0], arxiv_id=r[1], user_id=r[2], author=r[3], body=r[4], created_at=parse_ts(r[5]),
                   edited_at=parse_ts(r[6]), deleted_at=parse_ts(r[7]), hidden_at=parse_ts(r[8]))


# -- digests -------------------------------------------------------------------
SUB_COLUMNS = (
    "id", "email", "user_id", "frequency", "weekday", "skip_weekends", "topics", "include_upvotes",
    "confirmed_at", "unsubscribed_at", "created_at", "updated_at", "confirm_nonce", "confirm_sent_at",
    "manage_key", "notice_sent_at", "fail_count", "last_failure_at", "last_error",
)
SUB_TIMES = ("confirmed_at", "unsubscribed_at", "created_at", "updated_at", "confirm_sent_at",
             "notice_sent_at", "last_failure_at")
SEND_COLUMNS = (
    "id, subscription_id, period_key, status, message_id, entries, attempts, next_attempt_at, "
    "last_error, created_at, sent_at"
)
# The subscription columns a mailer may stamp (claim_subscription_mail); never user input.
MAIL_COLUMNS = ("confirm_sent_at", "notice_sent_at")


def row_subscription(r: Sequence) -> Subscription:
    d = dict(zip(SUB_COLUMNS, r))
    for k in SUB_TIMES:
        d[k] = parse_ts(d[k])
    d["skip_weekends"] = bool(d["skip_weekends"])
    d["include_upvotes"] = bool(d["include_upvotes"])
    d["topics"] = orjson.loads(d["topics"] or "[]")
    return Subscription(**d)


def subscription_values(sub: Subscription, now: dt.datetime) -> dict:
    """Every column but id, as written (times formatted, topics as JSON, created_at defaulted)."""
    values = {k: getattr(sub, k) for k in SUB_COLUMNS if k != "id"}
    for k in SUB_TIMES:
        values[k] = format_ts(values[k])
    values["skip_weekends"] = bool(sub.skip_weekends)
    values["include_upvotes"] = bool(sub.include_upvotes)
    values["topics"] = json.dumps(list(sub.topics), ensure_ascii=False)
    if values["created_at"] is None:
        values["created_at"] = format_ts(now)
    return values


def entries_json(send: DigestSend) -> str:
    return json.dumps([[e.arxiv_id, e.section, e.reasons] for e in send.entries], ensure_ascii=False)


def row_send(r: Sequence) -> DigestSend:
    entries = [DigestEntry(a, list(reasons), section) for a, section, reasons in orjson.loads(r[5])]
    return DigestSend(
        id=r[0], subscription_id=r[1], period_key=r[2], status=r[3], message_id=r[4], entries=entries,
        attempts=r[6], next_attempt_at=parse_ts(r[7]), last_error=r[8], created_at=parse_ts(r[9]),
        sent_at=parse_ts(r[10]),
    )


def check_mail_column(column: str) -> None:
    if column not in MAIL_COLUMNS:
        raise ValueError(f"not a mail timestamp column: {column}")
