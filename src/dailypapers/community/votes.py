"""Upvotes: one per member per paper, toggled.

The count a page shows is ``papers.hf_upvotes`` (the base count imported from Hugging Face) plus
``papers.votes``, and ``papers.votes`` is always ``COUNT(*)`` of the paper's rows in ``votes``:
the store inserts or deletes the vote row and recounts in the same IMMEDIATE transaction (see
``SQLiteStore.toggle_vote``), so concurrent clicks can neither lose nor double a vote. The
paper's trending key is recomputed in that transaction too.
"""

from __future__ import annotations

import datetime as dt
import threading as _threading
import time as _time
import weakref as _weakref
from collections.abc import Callable
from dataclasses import dataclass

from dailypapers.clock import utcnow
from dailypapers.community.accounts import require_member
from dailypapers.errors import NotFound
from dailypapers.models import User
from dailypapers.storage import TrendingStore, VotingStore
from dailypapers.trending import REFRESH_DAYS


@dataclass(frozen=True)
class VoteResult:
    arxiv_id: str
    voted: bool  # the member's vote is now in place
    votes: int  # member votes here
    hf_upvotes: int  # imported base count

    @property
    def upvotes(self) -> int:
        return self.hf_upvotes + self.votes

    def as_json(self) -> dict:
        return {"id": self.arxiv_id, "voted": self.voted, "upvotes": self.upvotes, "votes": self.votes,
                "hfUpvotes": self.hf_upvotes}


def breakdown(hf_upvotes: int, votes: int) -> str:
    """'42 = 40 from HF + 2 here' (just '2' when nothing was imported)."""
    total = hf_upvotes + votes
    if not hf_upvotes:
        return f"{total} upvote{'s' if total != 1 else ''} here"
    return f"{total} = {hf_upvotes} from HF + {votes} here"


class VoteService:
    def __init__(self, store: VotingStore, *, clock: Callable[[], dt.datetime] | None = None,
                 after_vote: Callable[[str, int], object] | None = None):
        self.store = store
        self.clock = clock or utcnow
        # Told (paper, member votes) after each upvote: the arrivals' member-upvote rule.
        self.after_vote = after_vote

    def vote(self, user: User | None, arxiv_id: str, want: bool | None = None) -> VoteResult:
        """Toggle the member's vote (want=None), or set it (True) / take it back (False)."""
        user = require_member(user, what="upvote")
        result = self.store.toggle_vote(user.id, arxiv_id, self.clock(), want)
        if result is None:
            raise NotFound(f"no paper {arxiv_id} here")
        voted, votes, hf = result
        if voted and self.after_vote is not None:
            self.after_vote(arxiv_id, votes)
        return VoteResult(arxiv_id, voted, votes, hf)

    def voted(self, user: User | None, arxiv_ids) -> set[str]:
        if user is None:
            return set()
        return self.store.voted_ids(user.id, list(arxiv_ids))


__all__ = ["VoteService", "VoteResult", "breakdown"]


# -- background trending refresh ---------------------------------------------------------------
# A vote recomputes its paper's key at once; imports that change the Hugging Face base count do
# not, so recent papers are recomputed every REFRESH_SECONDS, in a background thread, started by
# the first trending read after that (`dailypapers trending refresh` does the same on demand).
REFRESH_SECONDS = 600.0
_last_refresh: _weakref.WeakKeyDictionary = _weakref.WeakKeyDictionary()
_refresh_lock = _threading.Lock()


def refresh_trending_soon(store: TrendingStore, today: dt.date) -> bool:
    """Refresh recent trending keys if the last refresh is older than REFRESH_SECONDS: in the
    caller's thread the first time (per store), in a background thread afterwards."""

    now = _time.monotonic()
    with _refresh_lock:
        last = _last_refresh.get(store)
        if last is not None and now - last < REFRESH_SECONDS:
            return False
        _last_refresh[store] = now
    if last is None:
        # The first read of this process waits for it: papers imported while no server ran
        # have no key yet and would be missing from the page.
        store.refresh_trending(today - dt.timedelta(days=REFRESH_DAYS))
        return True

    def run() -> None:
        try:
            store.refresh_trending(today - dt.timedelta(days=REFRESH_DAYS))
        except Exception:  # the store may be closing (tests, shutdown); the next read retries later
            import logging

            logging.getLogger("dailypapers.trending").debug("trending refresh failed", exc_info=True)

    _threading.Thread(target=run, name="dailypapers-trending-refresh", daemon=True).start()
    return True
