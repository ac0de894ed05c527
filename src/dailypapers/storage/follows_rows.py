"""SQL and the row mapper of the follows and For you correction tables, shared by the SQLite and
PostgreSQL stores like storage/library_rows.py (``{p}``: each backend's placeholder)."""

from __future__ import annotations

from collections.abc import Sequence

from dailypapers.models import Follow
from dailypapers.storage.rows import parse_ts

FOLLOW_COLUMNS = "id, kind, name, key, created_at"
FOLLOWS = f"SELECT {FOLLOW_COLUMNS} FROM follows WHERE user_id = {{p}} ORDER BY kind, lower(name), id"
FOLLOW_BY_NAME = f"SELECT {FOLLOW_COLUMNS} FROM follows WHERE user_id = {{p}} AND kind = {{p}} AND name = {{p}}"
ADD_FOLLOW = ("INSERT INTO follows (user_id, kind, name, key, created_at) VALUES ({p}, {p}, {p}, {p}, {p}) "
              "ON CONFLICT (user_id, kind, name) DO NOTHING")
ADD_MUTE = ("INSERT INTO foryou_mutes (user_id, kind, value, created_at) VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (user_id, kind, value) DO NOTHING")
DELETE_MUTE = "DELETE FROM foryou_mutes WHERE user_id = {p} AND kind = {p} AND value = {p}"
MUTES = "SELECT value FROM foryou_mutes WHERE user_id = {p} AND kind = {p} ORDER BY created_at DESC, value"


def row_follow(r: Sequence) -> Follow:
    return Follow(id=r[0], kind=r[1], name=r[2], key=r[3], created_at=parse_ts(r[4]))


__all__ = ["FOLLOWS", "FOLLOW_BY_NAME", "ADD_FOLLOW", "ADD_MUTE", "DELETE_MUTE", "MUTES", "row_follow"]
