"""Saved searches: a member keeps any search, with its own feed and an optional email alert.

* The search is stored as its query parameters (``SearchRequest.params()``, without the page), and
  checked when it is saved, so a saved search always runs.
* Its feed (``/feeds/saved/<feed_key>.xml|.atom|.json``) is named by an unguessable key, so a feed
  reader needs no cookie; the feed is the search's newest matches without the owner's hidden papers.
* Its alert is ``none``, ``digest`` (a section of the member's next digest: digests/compose.py),
  ``daily`` or ``weekly`` (an email of its own, sent by ``dailypapers digest send``:
  digests/alerts.py). Either way a reader is sent a paper at most once, and never a hidden one.

Every alert email carries a signed "stop this alert" link (RFC 8058 one-click, as the digests
do: ``Tokens`` of digests/subscriptions.py, valid for MANAGE_MAX_AGE). It names the saved search
and a digest of its feed key, so it dies with the saved search; using it sets the alert to
``none`` and keeps the search and its feed.

The member's For-you feed sits behind a secret token too: an HMAC of (member, nonce) under the
site key, so the token is shown on the settings page whenever asked, a new nonce regenerates it
and deleting the nonce revokes it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from dailypapers.clock import Clock, utcnow
from dailypapers.community.accounts import require_member
from dailypapers.digests.subscriptions import MANAGE_MAX_AGE, Tokens
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import ALERT_MODES, SavedSearch, StoredPaper, User
from dailypapers.search.request import SearchRequest, clean_text
from dailypapers.storage import SavedServiceStore

NAME_CHARS = 100
MAX_SAVED = 100  # per member
FEED_LIMIT = 30  # papers in a saved search's feed
SEARCH_DEPTH = 60  # matches read for a feed or an alert, before hidden and sent papers are dropped
ALERT_MAX = 20  # papers in one alert (or one digest section)
# An alert (or digest section) takes matches published from this long before the period (or the
# day the search was saved, if later): papers often reach the site a few days after arXiv.
ALERT_LOOKBACK = dt.timedelta(days=7)
SAVED_PARAMS = ("q", "mode", "sort", "from", "to", "category", "has_code", "min_upvotes")
ALERT_LABELS = {"none": "No email", "digest": "With my next digest", "daily": "Daily email",
                "weekly": "Weekly email (Mondays)"}
_TOKEN_PURPOSE = b"foryou-feed:"


def check_alert(alert: str) -> str:
    alert = (alert or "none").strip()
    if alert not in ALERT_MODES:
        raise Invalid(f"The alert must be one of {', '.join(ALERT_MODES)}.", field="alert")
    return alert


def check_name(name: str) -> str:
    name = clean_text(name or "")
    if not name:
        raise Invalid("Give the saved search a name.", field="name")
    if len(name) > NAME_CHARS:
        raise Invalid(f"The name is too long (at most {NAME_CHARS} characters).", field="name")
    return name


def search_request(saved: SavedSearch, *, per_page: int = SEARCH_DEPTH) -> SearchRequest:
    """The saved search as a request for its feed or alert: newest first, one page."""
    base = SearchRequest.from_params(saved.params, accept=SAVED_PARAMS)
    return dataclasses.replace(base, sort="newest", page=1, per_page=per_page)


class SavedSearchService:
    def __init__(self, store: SavedServiceStore, search, settings, *, clock: Clock | None = None):
        self.store = store
        self.search = search  # the SearchEngine (anything with .search(SearchRequest))
        self.key = settings.signing_key().encode()
        self.tokens = Tokens(settings.signing_key())
        self.clock = clock or utcnow

    # -- a member's saved searches ------------------------------------------------
    def save(self, user: User | None, params: Mapping[str, str], *, name: str = "",
             alert: str = "none") -> SavedSearch:
        user = require_member(user, what="save searches")
        request = SearchRequest.from_params(params, accept=SAVED_PARAMS, require_q=True)
        stored = request.params(page=None)
        alert = check_alert(alert)
        name = check_name(name or request.q[:NAME_CHARS])
        mine = self.store.user_saved_searches(user.id)
        for s in mine:
            if s.params == stored:
                return s  # saving the same search twice keeps one
        if len(mine) >= MAX_SAVED:
            raise Invalid(f"You have {MAX_SAVED} saved searches, the most one member may keep: delete one first.")
        return self.store.create_saved_search(user.id, name, stored, secrets.token_urlsafe(18), alert, self.clock())

    def mine(self, user: User | None) -> list[SavedSearch]:
        user = require_member(user, verified=False, what="see your saved searches")
        return self.store.user_saved_searches(user.id)

    def get(self, user: User | None, saved_id: int) -> SavedSearch:
        """The member's own saved search; anyone else's is NotFound, like one that does not exist."""
        user = require_member(user, verified=False, what="see your saved searches")
        saved = self.store.get_saved_search(saved_id)
        if saved is None or saved.user_id != user.id:
            raise NotFound("No such saved search.")
        return saved

    def update(self, user: User | None, saved_id: int, *, name: str | None = None,
               alert: str | None = None) -> SavedSearch:
        saved = self.get(user, saved_id)
        new_name = check_name(name) if name is not None else saved.name
        new_alert = check_alert(alert) if alert is not None else saved.alert
        self.store.update_saved_search(saved_id, name=new_name, alert=new_alert, at=self.clock())
        return dataclasses.replace(saved, name=new_name, alert=new_alert)

    def delete(self, user: User | None, saved_id: int) -> SavedSearch:
        saved = self.get(user, saved_id)
        self.store.delete_saved_search(saved_id)
        return saved

    # -- feeds -------------------------------------------------------------------
    def by_feed_key(self, feed_key: str) -> SavedSearch:
        saved = self.store.saved_search_by_key(feed_key) if 8 <= len(feed_key) <= 64 else None
        if saved is None:
            raise NotFound("No such feed (the saved search may have been deleted).")
        return saved

    def owner_hidden(self, saved: SavedSearch) -> list[str]:
        """The papers the owner hid: the feed leaves them out (and is cached by them)."""
        return self.store.hidden_ids(saved.user_id)

    def matches(self, saved: SavedSearch, *, exclude: set[str] = frozenset(),  # type: ignore[assignment]
                request: SearchRequest | None = None, limit: int = FEED_LIMIT) -> list[StoredPaper]:
        """The search's newest matches, without the owner's hidden papers and `exclude`."""
        hidden = set(self.store.hidden_ids(saved.user_id))
        results = self.search.search(request or search_request(saved))
        out = []
        for hit in results.results:
            aid = hit.paper.arxiv_id
            if aid not in hidden and aid not in exclude:
                out.append(hit.paper)
                if len(out) >= limit:
                    break
        return out

    def new_matches(self, saved: SavedSearch, start: dt.date, end: dt.date,
                    exclude: set[str]) -> list[StoredPaper]:
        """What an alert (or digest section) for the days start..end holds: matches published from
        ALERT_LOOKBACK before the later of start and the day it was saved, up to end, that are
        not in `exclude` (what the reader was sent) nor hidden by them."""
        base = search_request(saved)
        saved_day = saved.created_at.date() if saved.created_at else start
        since = max(start, saved_day) - ALERT_LOOKBACK
        f = base.filters
        date_from = max(since, f.date_from) if f.date_from else since
        date_to = min(end, f.date_to) if f.date_to else end
        if date_from > date_to:
            return []
        request = dataclasses.replace(base, filters=dataclasses.replace(f, date_from=date_from, date_to=date_to))
        return self.matches(saved, exclude=exclude, request=request, limit=ALERT_MAX)

    # -- "stop this alert" (the alert email's one-click link) ------------------------
    @staticmethod
    def _alert_check(saved: SavedSearch) -> str:
        return hashlib.sha256(saved.feed_key.encode()).hexdigest()[:16]

    def alert_token(self, saved: SavedSearch) -> str:
        assert saved.id is not None  # alerts are sent for stored searches
        return self.tokens.alert(saved.id, self._alert_check(saved))

    def from_alert_token(self, token: object) -> SavedSearch:
        """The saved search a "stop this alert" link names; Invalid when it is bad or gone."""
        data = self.tokens.read(token, "alert", MANAGE_MAX_AGE)
        saved = self.store.get_saved_search(data["s"])
        check = data.get("k")
        if saved is None or not isinstance(check, str) or not hmac.compare_digest(self._alert_check(saved), check):
            raise Invalid("This link no longer works: the saved search was deleted.")
        return saved

    def stop_alert(self, token: object) -> SavedSearch:
        """Turn the alert off (the search and its feed stay). Idempotent."""
        saved = self.from_alert_token(token)
        assert saved.id is not None
        if saved.alert != "none":
            self.store.update_saved_search(saved.id, name=saved.name, alert="none", at=self.clock())
        return dataclasses.replace(saved, alert="none")

    # -- the For-you feed token -----------------------------------------------------
    def _sign(self, user_id: int, nonce: str) -> str:
        mac = hmac.new(self.key, _TOKEN_PURPOSE + f"{user_id}:{nonce}".encode(), hashlib.sha256).digest()
        return f"{user_id}-" + base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def feed_token(self, user: User | None) -> str | None:
        user = require_member(user, verified=False, what="see your feeds")
        nonce = self.store.feed_token_nonce(user.id)
        return self._sign(user.id, nonce) if nonce else None

    def new_feed_token(self, user: User | None) -> str:
        """A new token; the old one stops working."""
        user = require_member(user, what="get a For-you feed")
        nonce = secrets.token_urlsafe(16)
        self.store.set_feed_token_nonce(user.id, nonce, self.clock())
        return self._sign(user.id, nonce)

    def revoke_feed_token(self, user: User | None) -> None:
        user = require_member(user, verified=False, what="revoke your feed")
        self.store.set_feed_token_nonce(user.id, None, self.clock())

    def feed_token_user(self, token: str) -> int:
        """The member whose For-you feed this token opens; NotFound for a wrong or revoked one."""
        head, _, _ = token.partition("-")
        if head.isdigit() and len(token) <= 80:
            user_id = int(head)
            nonce = self.store.feed_token_nonce(user_id)
            if nonce and hmac.compare_digest(self._sign(user_id, nonce), token):
                user = self.store.get_user(user_id)
                if user is not None and not user.disabled:
                    return user_id
        raise NotFound("No such feed (the link may have been revoked).")


__all__ = ["SavedSearchService", "search_request", "check_alert", "check_name", "ALERT_LABELS", "ALERT_MAX",
           "ALERT_LOOKBACK", "FEED_LIMIT", "MAX_SAVED", "SAVED_PARAMS"]
