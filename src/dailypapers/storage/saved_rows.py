"""Row mappers and SQL fragments of the saved-search tables (saved searches, their alert log,
the papers alerts sent, For-you feed tokens), shared by the SQLite and PostgreSQL stores like
storage/library_rows.py. Fragments mark each parameter ``{p}``."""

from __future__ import annotations

import json
from collections.abc import Sequence

import orjson

from dailypapers.models import AlertSend, SavedSearch
from dailypapers.storage.rows import parse_ts

SAVED_COLUMNS = "id, user_id, name, params, feed_key, alert, created_at, updated_at"
SAVED_SELECT = f"SELECT {SAVED_COLUMNS} FROM saved_searches"
ALERT_SEND_COLUMNS = (
    "id, saved_search_id, period_key, status, message_id, arxiv_ids, attempts, last_error, created_at, sent_at"
)
# Papers a member was ever sent: by alerts, and by the digests of their subscription.
READER_SENT = (
    "SELECT arxiv_id FROM alert_sent_papers WHERE user_id = {p} UNION "
    "SELECT d.arxiv_id FROM digest_sent_papers d JOIN subscriptions s ON s.id = d.subscription_id "
    "WHERE s.user_id = {p}"
)


def params_json(params: dict[str, str]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True)


def ids_json(ids: Sequence[str]) -> str:
    return json.dumps(list(ids))


def row_saved(r: Sequence) -> SavedSearch:
    params = r[3] if isinstance(r[3], dict) else orjson.loads(r[3])
    return SavedSearch(id=r[0], user_id=r[1], name=r[2], params={str(k): str(v) for k, v in params.items()},
                       feed_key=r[4], alert=r[5], created_at=parse_ts(r[6]), updated_at=parse_ts(r[7]))


def row_alert_send(r: Sequence) -> AlertSend:
    ids = r[5] if isinstance(r[5], list) else orjson.loads(r[5])
    return AlertSend(id=r[0], saved_search_id=r[1], period_key=r[2], status=r[3], message_id=r[4],
                     arxiv_ids=list(ids), attempts=r[6], last_error=r[7], created_at=parse_ts(r[8]),
                     sent_at=parse_ts(r[9]))
