"""Subscriptions: subscribe with double opt-in, confirm, manage and unsubscribe with signed links.

Rules (issue 6):

* Nothing is sent to an unconfirmed address except the confirmation email, at most once an hour
  (``claim_subscription_mail`` is an atomic compare-and-set, so two racing requests send one).
* The confirmation link is signed, expires after CONFIRM_MAX_AGE and works once: it carries a
  one-time nonce that confirming clears. A second click says the link was used.
* Manage / unsubscribe links are signed with the subscription's ``manage_key``, which is new at
  every confirmation, so links from before an unsubscribe-and-resubscribe stop working. They
  expire after MANAGE_MAX_AGE (a digest always carries a fresh one).
* Unsubscribing is immediate and idempotent.
* Asking to subscribe an address that is already confirmed changes nothing: it sends (at most
  hourly) a link to the manage page instead, so nobody can change someone else's settings.
  The page says the same thing in every case, so it does not reveal who is subscribed.
* Bad input raises ``Invalid`` with a message for the reader, before anything is stored or sent.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from dailypapers.clock import Clock, utcnow
from dailypapers.errors import Invalid, NotFound
from dailypapers.mail import TemplateMail
from dailypapers.models import FREQUENCIES, WEEKDAYS, Subscription, User
from dailypapers.search.query import parse_query
from dailypapers.storage import SubscriptionStore

TEMPLATES = Path(__file__).parent / "templates"

MAX_TOPICS = 10
MAX_TOPIC_CHARS = 250
MAX_EMAIL_CHARS = 254
CONFIRM_MAX_AGE = 48 * 3600  # seconds a confirmation link works
MANAGE_MAX_AGE = 400 * 86400  # seconds a manage/unsubscribe link works (a digest carries a fresh one)
MAIL_INTERVAL = 3600  # at most one confirmation (or manage-link) email an hour per address

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")



# -- validation ---------------------------------------------------------------------
def _no_breaks(value: str, what: str) -> None:
    if any(ch in value for ch in "\r\n\x00\x0b\x0c\x85\u2028\u2029"):
        raise Invalid(f"{what} must not contain line breaks")


def validate_email(value: Any) -> str:
    """A plain address (local@domain), ASCII, at most 254 characters; returned trimmed, domain lower-cased."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("Enter your email address.")
    _no_breaks(value, "The email address")
    email = value.strip()
    if len(email) > MAX_EMAIL_CHARS:
        raise Invalid(f"That email address is too long (at most {MAX_EMAIL_CHARS} characters).")
    local, at, domain = email.rpartition("@")
    labels = domain.split(".")
    if (
        not at or not local or len(local) > 64 or not _LOCAL.match(local)
        or len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels) or labels[-1].isdigit()
    ):
        raise Invalid(f"{email!r} is not a valid email address (expected something like name@example.org).")
    return f"{local}@{domain.lower()}"


def parse_topics(value: Any) -> list[str]:
    """Topics from a list, or from a textarea (one per line). Blank lines are dropped, duplicates
    merged; at most MAX_TOPICS, each at most MAX_TOPIC_CHARS and a searchable query."""

    if value is None:
        return []
    if isinstance(value, str):
        # The form field is a textarea: line breaks separate topics (any other control
        # character inside a topic is refused below).
        raw = re.split(r"\r\n|\r|\n", value)
    elif isinstance(value, (list, tuple)):
        raw = list(value)
        for t in raw:
            if not isinstance(t, str):
                raise Invalid("Topics must be text.")
            _no_breaks(t, "A topic")
    else:
        raise Invalid("Topics must be text.")
    topics: list[str] = []
    for t in raw:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in t if ch != "\t"):
            raise Invalid("A topic must not contain control characters.")
        t = " ".join(t.split())
        if not t:
            continue
        if len(t) > MAX_TOPIC_CHARS:
            raise Invalid(f"A topic can be at most {MAX_TOPIC_CHARS} characters (one has {len(t)}).")
        if t.casefold() in (x.casefold() for x in topics):
            continue
        q = parse_query(t)
        if q.arxiv_id:
            raise Invalid(f"{t!r} is a paper id; a topic is a search, such as \"activation steering\".")
        if q.is_empty:
            raise Invalid(f"{t!r} has nothing to search for.")
        topics.append(t)
    if len(topics) > MAX_TOPICS:
        raise Invalid(f"At most {MAX_TOPICS} topics (you gave {len(topics)}).")
    return topics


def validate_schedule(frequency: Any, weekday: Any, skip_weekends: Any) -> tuple[str, int | None, bool]:
    if frequency not in FREQUENCIES:
        raise Invalid("Choose daily or weekly.")
    skip = skip_weekends in (True, "1", "on", "true", "yes")
    if frequency == "daily":
        return "daily", None, skip
    if weekday in (None, ""):
        raise Invalid("Choose the weekday for your weekly digest.")
    try:
        day = int(weekday)
    except (TypeError, ValueError):
        day = WEEKDAYS.index(weekday) if weekday in WEEKDAYS else -1
    if not 0 <= day <= 6:
        raise Invalid("The weekday must be one of Monday to Sunday.")
    return "weekly", day, False


# -- signed tokens ------------------------------------------------------------------
class _ClockSigner(TimestampSigner):
    """Stamps and ages tokens by the given clock rather than time.time()."""

    def __init__(self, *args: Any, clock: Clock = utcnow, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class Tokens:
    """Signed, timestamped tokens (itsdangerous, HMAC-SHA1 over the settings' signing key).

    A fixed clock signs the same token every time (tests that render a digest twice)."""

    def __init__(self, key: str, clock: Clock = utcnow):
        self._s = URLSafeTimedSerializer(key, salt="dailypapers.digests", signer=_ClockSigner,
                                         signer_kwargs={"clock": clock})

    def confirm(self, sub: Subscription) -> str:
        return self._s.dumps({"p": "confirm", "s": sub.id, "n": sub.confirm_nonce})

    def manage(self, sub: Subscription) -> str:
        return self._s.dumps({"p": "manage", "s": sub.id, "k": sub.manage_key})

    def alert(self, saved_id: int, check: str) -> str:
        """A saved search's "stop this alert" link (digests/saved.py), read like `manage`'s."""
        return self._s.dumps({"p": "alert", "s": saved_id, "k": check})

    def read(self, token: Any, purpose: str, max_age: int) -> dict:
        if not isinstance(token, str) or not token or len(token) > 512:
            raise Invalid("This link is incomplete. Copy the whole link from the email.")
        try:
            data = self._s.loads(token, max_age=max_age)
        except SignatureExpired:
            if purpose == "confirm":
                raise Invalid("This confirmation link has expired. Subscribe again to get a new one.") from None
            if purpose == "alert":
                raise Invalid("This link has expired. Use the link in your latest alert, or turn the alert off "
                              "on your saved searches page.") from None
            raise Invalid("This link has expired. Use the link in your latest digest, "
                          "or subscribe again to get a new one.") from None
        except BadSignature:
            raise Invalid("This link is not valid (it may have been altered). "
                          "Copy the whole link from the email.") from None
        if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("s"), int):
            raise Invalid("This link is not valid here.")
        return data


# -- the service --------------------------------------------------------------------
@dataclass
class RequestResult:
    """What the page should say. `sent` is for logs and tests only: the page text is the same
    whether or not an email went out, so it does not reveal who is subscribed."""

    subscription: Subscription
    status: str  # confirmation_sent | confirmation_recent | manage_sent | manage_recent | subscribed
    sent: bool


class SubscriptionService:
    def __init__(self, store: SubscriptionStore, settings, mailer, *, clock: Callable[[], dt.datetime] = utcnow,
                 tokens: Tokens | None = None):
        self.store = store
        self.settings = settings
        self.mailer = mailer
        self.clock = clock
        self.tokens = tokens or Tokens(settings.signing_key())
        self.base_url = settings.public_url
        self._mail: TemplateMail | None = None

    # urls ---------------------------------------------------------------------
    def confirm_url(self, sub: Subscription) -> str:
        return f"{self.base_url}/subscribe/confirm?token={self.tokens.confirm(sub)}"

    def manage_url(self, sub: Subscription, token: str | None = None) -> str:
        return f"{self.base_url}/subscriptions/manage?token={token or self.tokens.manage(sub)}"

    def unsubscribe_url(self, sub: Subscription, token: str | None = None) -> str:
        """The visible link: the manage page, opened on its unsubscribe button."""
        return f"{self.base_url}/subscriptions/manage?token={token or self.tokens.manage(sub)}&action=unsubscribe"

    def one_click_url(self, sub: Subscription, token: str | None = None) -> str:
        """RFC 8058 List-Unsubscribe target: POST with List-Unsubscribe=One-Click."""
        return f"{self.base_url}/unsubscribe/one-click?token={token or self.tokens.manage(sub)}"

    # mail -----------------------------------------------------------------------
    @property
    def mail(self):
        if self._mail is None:
            self._mail = TemplateMail(TEMPLATES)
        return self._mail

    def _send(self, template: str, sub: Subscription, context: dict) -> None:
        ctx = {"site_name": "Daily Papers", "base_url": self.base_url, "email": sub.email,
               "subscription": sub, "topics": sub.topics, "schedule": sub.schedule_label, **context}
        msg = self.mail.render(template, ctx, to=sub.email, sender=self.settings.mail_from,
                               headers={"Auto-Submitted": "auto-generated"})
        self.mailer.send(msg)

    def _claim_and_send(self, sub: Subscription, column: str, template: str, context: dict) -> bool:
        assert sub.id is not None  # callers pass a subscription read from or just saved to the store
        now = self.clock()
        previous = getattr(sub, column)
        if not self.store.claim_subscription_mail(sub.id, column, now, MAIL_INTERVAL):
            return False
        try:
            self._send(template, sub, context)
        except Exception:
            self.store.release_subscription_mail(sub.id, column, previous)
            raise
        return True

    # subscribing ------------------------------------------------------------------
    def request(
        self,
        email: Any,
        *,
        frequency: Any = "daily",
        weekday: Any = None,
        skip_weekends: Any = False,
        topics: Any = None,
        include_upvotes: Any = False,
        user: Any = None,
    ) -> RequestResult:
        """The /subscribe form. Validates everything first; then stores a pending subscription
        and sends the confirmation (or, for a confirmed address, a manage link)."""
        email = validate_email(email)
        frequency, weekday, skip = validate_schedule(frequency, weekday, skip_weekends)
        topics = parse_topics(topics)
        member_id = getattr(user, "id", None) if user is not None else None
        member_email = getattr(user, "email", None) if user is not None else None
        is_member_address = member_id is not None and member_email and member_email.lower() == email.lower()
        include = bool(include_upvotes in (True, "1", "on", "true", "yes")) and bool(is_member_address)
        now = self.clock()
        existing = self.store.get_subscription_by_email(email)
        if is_member_address and getattr(user, "verified_at", None):
            # A verified member's own address needs no second opt-in.
            return self._member_subscribe(user, existing, email, frequency, weekday, skip, topics, include, now)
        if existing is not None and existing.active:
            sent = self._claim_and_send(existing, "notice_sent_at", "manage_link",
                                        {"manage_url": self.manage_url(existing)})
            return RequestResult(existing, "manage_sent" if sent else "manage_recent", sent)
        sub = existing or Subscription(id=None, email=email, created_at=now)
        sub.frequency, sub.weekday, sub.skip_weekends, sub.topics = frequency, weekday, skip, topics
        sub.include_upvotes = include
        if (member_id is not None and is_member_address and sub.user_id is None
                and self.store.get_subscription_for_user(member_id) is None):
            sub.user_id = member_id
        sub.confirmed_at = None
        sub.confirm_nonce = sub.confirm_nonce or secrets.token_urlsafe(16)
        sub.updated_at = now
        sub = self.store.save_subscription(sub)
        sent = self._claim_and_send(sub, "confirm_sent_at", "confirm", {"confirm_url": self.confirm_url(sub)})
        return RequestResult(sub, "confirmation_sent" if sent else "confirmation_recent", sent)

    def _member_subscribe(self, user, existing, email, frequency, weekday, skip, topics, include, now):
        mine = self.store.get_subscription_for_user(user.id)
        sub = existing or mine or Subscription(id=None, email=email, created_at=now)
        if mine is not None and existing is not None and mine.id != existing.id:
            sub = existing  # the member changed address: keep the one for this address
        sub.email = email
        sub.user_id = user.id if (mine is None or mine.id == sub.id) else sub.user_id
        sub.frequency, sub.weekday, sub.skip_weekends, sub.topics = frequency, weekday, skip, topics
        sub.include_upvotes = include
        sub.updated_at = now
        if not sub.active:
            sub.confirmed_at, sub.unsubscribed_at = now, None
            sub.confirm_nonce = None
            sub.manage_key = secrets.token_urlsafe(16)
            sub.fail_count = 0
        sub = self.store.save_subscription(sub)
        return RequestResult(sub, "subscribed", False)

    def confirm(self, token: Any) -> Subscription:
        data = self.tokens.read(token, "confirm", CONFIRM_MAX_AGE)
        sub = self.store.get_subscription(data["s"])
        if sub is None:
            raise NotFound("This subscription no longer exists. Subscribe again.")
        assert sub.id is not None  # read from the store
        nonce = data.get("n")
        if not isinstance(nonce, str) or not self.store.confirm_subscription(
            sub.id, nonce, secrets.token_urlsafe(16), self.clock()
        ):
            if sub.active:
                raise Invalid("This confirmation link has already been used: your subscription is active. "
                              "Every digest has a link to manage it.")
            raise Invalid("This confirmation link is no longer valid. Subscribe again to get a new one.")
        return self._reload(sub.id)

    def check_confirm(self, token: Any) -> Subscription:
        """Validate a confirmation link without using it (the page shows a Confirm button)."""
        data = self.tokens.read(token, "confirm", CONFIRM_MAX_AGE)
        sub = self.store.get_subscription(data["s"])
        if sub is None:
            raise NotFound("This subscription no longer exists. Subscribe again.")
        if sub.confirm_nonce is None or not secrets.compare_digest(sub.confirm_nonce, str(data.get("n"))):
            if sub.active:
                raise Invalid("This confirmation link has already been used: your subscription is active.")
            raise Invalid("This confirmation link is no longer valid. Subscribe again to get a new one.")
        return sub

    # managing -------------------------------------------------------------------------
    def from_manage_token(self, token: Any) -> Subscription:
        data = self.tokens.read(token, "manage", MANAGE_MAX_AGE)
        sub = self.store.get_subscription(data["s"])
        key = data.get("k")
        if sub is None or not sub.manage_key or not isinstance(key, str) or not secrets.compare_digest(
            sub.manage_key, key
        ):
            raise Invalid("This link is no longer valid (the subscription was renewed or removed). "
                          "Use the link in your latest digest.")
        return sub

    def update(self, token: Any, *, frequency: Any, weekday: Any = None, skip_weekends: Any = False,
               topics: Any = None, include_upvotes: Any = False) -> Subscription:
        sub = self.from_manage_token(token)
        frequency, weekday, skip = validate_schedule(frequency, weekday, skip_weekends)
        topics = parse_topics(topics)
        if sub.unsubscribed_at is not None:
            raise Invalid("This subscription was cancelled. Subscribe again to receive digests.")
        sub.frequency, sub.weekday, sub.skip_weekends, sub.topics = frequency, weekday, skip, topics
        sub.include_upvotes = bool(include_upvotes in (True, "1", "on", "true", "yes")) and sub.user_id is not None
        sub.updated_at = self.clock()
        return self.store.save_subscription(sub)

    def unsubscribe(self, token: Any) -> Subscription:
        """Immediate and idempotent."""
        sub = self.from_manage_token(token)
        # read from the store, and from_manage_token checked the key
        assert sub.id is not None and sub.manage_key is not None
        self.store.unsubscribe_subscription(sub.id, sub.manage_key, self.clock())
        return self._reload(sub.id)

    def _reload(self, sub_id: int) -> Subscription:
        """The subscription as stored now, after changing it."""
        sub = self.store.get_subscription(sub_id)
        assert sub is not None  # subscriptions are never deleted
        return sub

    def for_member(self, user_id: int) -> Subscription | None:
        return self.store.get_subscription_for_user(user_id)

    def member_manage_url(self, user: User) -> str | None:
        """The signed manage link (the one digests carry) for the active subscription of a signed-in
        member's own address, or None. Only a verified member has shown the address is theirs, as
        for subscribing without a confirmation email (`request`)."""
        if not user.verified or user.disabled:
            return None
        sub = self.store.get_subscription_by_email(user.email)
        if sub is None or not sub.active:
            return None
        return self.manage_url(sub)


def topics_text(topics: Iterable[str]) -> str:
    return "\n".join(topics)


__all__ = [
    "SubscriptionService", "Tokens", "RequestResult", "validate_email", "parse_topics", "validate_schedule",
    "MAX_TOPICS", "MAX_TOPIC_CHARS", "CONFIRM_MAX_AGE", "MANAGE_MAX_AGE", "MAIL_INTERVAL", "topics_text",
]
