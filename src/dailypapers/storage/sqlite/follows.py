"""Follows (authors, organizations) and For you corrections (upvotes a member stopped it using).

Bookkeeping: shared pages never show them (web/personal.py renders a member's follow buttons on
the way out), so no write bumps the content version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from dailypapers.models import Follow
from dailypapers.storage.follows_rows import (
    ADD_FOLLOW,
    ADD_MUTE,
    DELETE_MUTE,
    FOLLOW_BY_NAME,
    FOLLOW_COLUMNS,
    FOLLOWS,
    MUTES,
    row_follow,
)
from dailypapers.storage.sqlite.base import SQLiteBase
from dailypapers.storage.sqlite.rows import chunks, format_ts, inserted

_FOLLOWS = FOLLOWS.format(p="?")
_FOLLOW_BY_NAME = FOLLOW_BY_NAME.format(p="?")
_ADD_FOLLOW = ADD_FOLLOW.format(p="?")
_ADD_MUTE = ADD_MUTE.format(p="?")
_DELETE_MUTE = DELETE_MUTE.format(p="?")
_MUTES = MUTES.format(p="?")


class FollowQueries(SQLiteBase):
    def add_follow(self, user_id: int, kind: str, name: str, key: str, at: dt.datetime) -> Follow:
        with self.write(content=False) as conn:
            conn.execute(_ADD_FOLLOW, (user_id, kind, name, key, format_ts(at)))
            row = conn.execute(_FOLLOW_BY_NAME, (user_id, kind, name)).fetchone()
        return row_follow(inserted(row))

    def remove_follows(self, user_id: int, follow_ids: Sequence[int]) -> int:
        gone = 0
        with self.write(content=False) as conn:
            for chunk in chunks(list(follow_ids)):
                marks = ",".join("?" * len(chunk))
                gone += conn.execute(f"DELETE FROM follows WHERE user_id = ? AND id IN ({marks})",
                                     (user_id, *chunk)).rowcount
        return gone

    def follows(self, user_id: int) -> list[Follow]:
        return [row_follow(r) for r in self.read(_FOLLOWS, (user_id,))]

    def users_follows(self, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
        out: dict[int, list[Follow]] = {}
        for chunk in chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(chunk))
            for r in self.read(f"SELECT user_id, {FOLLOW_COLUMNS} FROM follows WHERE user_id IN ({marks}) "
                               "ORDER BY user_id, id", chunk):
                out.setdefault(r[0], []).append(row_follow(r[1:]))
        return out

    # -- For you corrections ------------------------------------------------------
    def set_foryou_mute(self, user_id: int, kind: str, value: str, muted: bool, at: dt.datetime) -> bool:
        with self.write(content=False) as conn:
            if muted:
                return conn.execute(_ADD_MUTE, (user_id, kind, value, format_ts(at))).rowcount > 0
            return conn.execute(_DELETE_MUTE, (user_id, kind, value)).rowcount > 0

    def foryou_mutes(self, user_id: int, kind: str) -> list[str]:
        return [r[0] for r in self.read(_MUTES, (user_id, kind))]

    def users_foryou_mutes(self, user_ids: Sequence[int], kind: str) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for chunk in chunks(sorted(set(user_ids))):
            marks = ",".join("?" * len(chunk))
            for uid, value in self.read(f"SELECT user_id, value FROM foryou_mutes WHERE kind = ? "
                                        f"AND user_id IN ({marks})", (kind, *chunk)):
                out.setdefault(uid, set()).add(value)
        return out

    def clear_foryou_mutes(self, user_id: int) -> int:
        with self.write(content=False) as conn:
            return conn.execute("DELETE FROM foryou_mutes WHERE user_id = ?", (user_id,)).rowcount
