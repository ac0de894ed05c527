"""Accounts: sign-up, email verification, login sessions, password reset, roles and API tokens.

* Passwords: argon2id (argon2-cffi's defaults, RFC 9106's second recommendation), 8 to 128
  characters, no composition rules; zxcvbn refuses guessable ones (score < 3), with its feedback
  as the message, and knows the member's email and name.
* Email verification and password reset travel as signed links (itsdangerous, keyed by
  ``settings.signing_key()``), with an issue time checked against ``VERIFY_MAX_AGE`` /
  ``RESET_MAX_AGE``. A reset link also names the password it was issued under, so it works once.
* Sessions are server-side: the cookie holds a 128-bit random token; the database holds its
  SHA-256 only. Login always issues a new token. A session ends after ``session_idle_minutes``
  without use or ``session_max_days`` after login, whichever comes first.
* No account enumeration through login or reset: a missing account costs the same argon2 verify
  (against a dummy hash) and gets the same message; reset always answers "if an account exists,
  we sent a link" and sends mail from a background queue, so the reply takes the same time.
* API tokens: ``dp_`` + 192 random bits, shown once, stored as SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import queue
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer

from dailypapers.clock import utcnow
from dailypapers.errors import Forbidden, Invalid, NotFound
from dailypapers.mail import TemplateMail
from dailypapers.models import ApiToken, User
from dailypapers.storage import AccountStore, Conflict

log = logging.getLogger("dailypapers.community.accounts")

ROLES = ("member", "curator", "admin")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
MIN_STRENGTH = 3  # zxcvbn score 0-4
ZXCVBN_MAX = 72  # zxcvbn's cost grows with length; longer passwords are judged on their first 72 characters
VERIFY_MAX_AGE = dt.timedelta(days=3)
RESET_MAX_AGE = dt.timedelta(hours=1)
SESSION_TOUCH_EVERY = dt.timedelta(minutes=1)  # write last_seen at most this often per session
TOKEN_TOUCH_EVERY = dt.timedelta(minutes=5)
MAX_TOKENS = 20
SESSION_COOKIE = "dp_session"
TOKEN_PREFIX = "dp_"
RESET_SENT = "If an account exists for that email, we sent a link to reset its password. It works for one hour."
LOGIN_FAILED = "Wrong email or password."

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?"
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")+$")
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_\-.]{0,30}[A-Za-z0-9])?$")
RESERVED_NAMES = {"admin", "administrator", "root", "api", "settings", "login", "logout", "signup", "curator",
                  "papers", "support", "help", "system", "null", "none", "anonymous"}

EMAILS = Path(__file__).parent / "emails"



def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise Invalid("Enter a valid email address.", field="email")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise Invalid("The display name must be 1 to 32 letters, digits, '-', '_' or '.', starting and ending "
                      "with a letter or digit.", field="name")
    if name.lower() in RESERVED_NAMES:
        raise Invalid(f"The name {name!r} is reserved; choose another.", field="name")
    return name


def check_password(password: str, user_inputs: Sequence[str] = ()) -> None:
    """Length 8-128 and zxcvbn score >= 3; raises Invalid with zxcvbn's feedback otherwise."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"The password must be at least {MIN_PASSWORD} characters long.", field="password")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"The password must be at most {MAX_PASSWORD} characters long.", field="password")
    from zxcvbn import zxcvbn

    inputs = []
    for value in user_inputs:
        if value:
            inputs.append(value)
            inputs.extend(p for p in re.split(r"[@._\-+]", value) if len(p) >= 3)
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=inputs, max_length=ZXCVBN_MAX)
    if result["score"] < MIN_STRENGTH:
        feedback = result.get("feedback") or {}
        parts = [feedback.get("warning") or "This password is too easy to guess."]
        parts += feedback.get("suggestions") or []
        raise Invalid(" ".join(p.strip() for p in parts if p and p.strip()), field="password")


@dataclass
class SignupResult:
    message: str
    user: User | None = None  # None when the email already had an account (nothing is revealed)


class MailQueue:
    """Sends mail from one background thread, so a reply never waits on (or reveals) SMTP."""

    def __init__(self, mailer):
        self.mailer = mailer
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def put(self, message) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dailypapers-mail", daemon=True)
                self._thread.start()
        self._queue.put(message)

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                if message is None:
                    return
                if callable(message):  # rendered here, off the request (see AccountService._send)
                    message = message()
                    if message is None:  # rendered only, to match the work of a real one
                        continue
                self.mailer.send(message)
                self.sent += 1
            except Exception:  # a mail failure must not kill the worker
                self.failed += 1
                log.exception("could not send mail to %s",
                              message["To"] if message is not None and not callable(message) else "?")
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued message was handed to the mailer (tests, CLI)."""
        self._queue.join()


class AccountService:
    def __init__(
        self,
        store: AccountStore,
        settings,
        mailer=None,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        mail_queue: MailQueue | None = None,
    ):
        self.store = store
        self.settings = settings
        self.hasher = hasher or PasswordHasher()  # argon2id
        self.clock = clock or utcnow
        self.mail = mail_queue or (MailQueue(mailer) if mailer is not None else None)
        self._serializer = URLSafeSerializer(settings.signing_key(), salt="dailypapers.accounts")
        # Verified against when the account does not exist, so both cases cost the same.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        self._templates: TemplateMail | None = None

    # -- time ----------------------------------------------------------------
    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    # -- sign-up ---------------------------------------------------------------
    def signup(self, email: str, name: str, password: str) -> SignupResult:
        email = normalize_email(email)
        name = check_name(name)
        check_password(password, [email, name])
        password_hash = self.hasher.hash(password)
        existing = self.store.user_by_email(email)
        if existing is not None:
            # Same answer as a new sign-up; the owner gets a note (and a reset link) instead.
            self._send("reset", existing, {"link": self.reset_link(existing), "existing": True})
            return SignupResult(self._check_inbox(email))
        try:
            user = self.store.create_user(email, name, password_hash, "member", self.now())
        except Conflict as e:
            if e.field == "name":
                raise Invalid(f"The name {name!r} is taken; choose another.", field="name") from None
            return SignupResult(self._check_inbox(email))
        self.send_verification(user)
        return SignupResult(self._check_inbox(email), user)

    @staticmethod
    def _check_inbox(email: str) -> str:
        return f"We sent a link to {email}. Open it to verify your email address; then you can vote and submit."

    def create_user(self, email: str, name: str, password: str | None, *, role: str = "member",
                    verified: bool = False, check_strength: bool = True) -> User:
        """For the CLI and tests: no mail, optional verification and role."""
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        email = normalize_email(email)
        name = check_name(name)
        password_hash = None
        if password is not None:
            if check_strength:
                check_password(password, [email, name])
            password_hash = self.hasher.hash(password)
        now = self.now()
        try:
            return self.store.create_user(email, name, password_hash, role, now, verified_at=now if verified else None)
        except Conflict as e:
            raise Invalid(f"that {e.field} is taken") from None

    # -- signed links ------------------------------------------------------------
    def _sign(self, kind: str, payload: dict) -> str:
        return self._serializer.dumps({"k": kind, "t": int(self.now().timestamp()), **payload})

    def _unsign(self, kind: str, token: str, max_age: dt.timedelta) -> dict:
        try:
            data = self._serializer.loads(token or "")
        except BadSignature:
            raise Invalid("This link is not valid. Ask for a new one.") from None
        if not isinstance(data, dict) or data.get("k") != kind:
            raise Invalid("This link is not valid. Ask for a new one.")
        issued = dt.datetime.fromtimestamp(int(data.get("t", 0)), dt.timezone.utc)
        if self.now() - issued > max_age:
            raise Invalid("This link has expired. Ask for a new one.")
        return data

    def verify_link(self, user: User) -> str:
        token = self._sign("verify", {"u": user.id, "e": user.email.lower()})
        return f"{self.settings.public_url}/verify?token={token}"

    def send_verification(self, user: User) -> None:
        self._send("verify", user, {"link": self.verify_link(user)})

    def check_verify_token(self, token: str) -> User:
        data = self._unsign("verify", token, VERIFY_MAX_AGE)
        user = self.store.get_user(int(data.get("u", 0)))
        if user is None or user.email.lower() != data.get("e"):
            raise Invalid("This link is not valid. Ask for a new one.")
        return user

    def verify(self, token: str) -> User:
        user = self.check_verify_token(token)
        self.store.set_verified(user.id, self.now())
        return self._reload(user.id)

    @staticmethod
    def _password_stamp(user: User) -> str:
        return sha256(f"{user.password_hash}|{user.password_changed_at}")[:20]

    @staticmethod
    def device_secret(user: User) -> str:
        """What the login device cookie is signed with besides the account (web/security.py): it changes
        with the password (a new hash has a new salt), so a change or a reset revokes every device cookie."""
        return sha256(f"device|{user.password_hash}|{user.password_changed_at}")

    def device_secret_for(self, email: str) -> str | None:
        """The device secret of the account with this email; None when there is no such account."""
        try:
            user = self.store.user_by_email(normalize_email(email))
        except Invalid:
            return None
        return self.device_secret(user) if user is not None and user.password_hash else None

    def reset_link(self, user: User) -> str:
        token = self._sign("reset", {"u": user.id, "p": self._password_stamp(user)})
        return f"{self.settings.public_url}/reset/confirm?token={token}"

    def request_reset(self, email: str) -> str:
        """Always the same answer; mails a link only when the account exists (from the queue)."""
        try:
            email = normalize_email(email)
        except Invalid:
            return RESET_SENT
        user = self.store.user_by_email(email)
        if user is not None and not user.disabled:
            self._send("reset", user, {"link": self.reset_link(user), "existing": False})
        else:  # the same work as for an account (a link signed, an email rendered, then dropped)
            self._sign("reset", {"u": 0, "p": sha256(email)[:20]})
            if self.mail is not None:
                nobody = User(id=0, email=email, name="", role="member", created_at=self.now())
                self._send("reset", nobody, {"link": "", "existing": False}, deliver=False)
        return RESET_SENT

    def check_reset_token(self, token: str) -> User:
        data = self._unsign("reset", token, RESET_MAX_AGE)
        user = self.store.get_user(int(data.get("u", 0)))
        if user is None or user.disabled or not secrets.compare_digest(self._password_stamp(user), str(data.get("p"))):
            raise Invalid("This link was already used or is no longer valid. Ask for a new one.")
        return user

    def reset_password(self, token: str, password: str) -> User:
        user = self.check_reset_token(token)
        check_password(password, [user.email, user.name])
        self.store.set_password(user.id, self.hasher.hash(password), self.now(), end_sessions=True)
        if not user.verified:  # the link proved the member reads this inbox
            self.store.set_verified(user.id, self.now())
        return self._reload(user.id)

    # -- mail ----------------------------------------------------------------------
    def _send(self, template: str, user: User, context: dict, *, deliver: bool = True) -> None:
        if self.mail is None:
            log.warning("no mailer: not sending %s mail to %s", template, user.email)
            return
        if self._templates is None:
            self._templates = TemplateMail(EMAILS)
        templates = self._templates
        ctx = {"name": user.name, "site": "Daily Papers", "base_url": self.settings.public_url, **context}
        sender = self.settings.mail_from

        def render():  # by the mail thread: a reply must not take longer when an account exists
            message = templates.render(template, ctx, to=user.email, sender=sender)
            return message if deliver else None

        self.mail.put(render)

    def send_template(self, template: str, user: User, context: dict) -> None:
        """Mail `user` (at user.email) one of this package's email templates, from the queue."""
        self._send(template, user, context)

    # -- login and sessions -------------------------------------------------------------
    def authenticate(self, email: str, password: str) -> User:
        """The user, or Invalid(LOGIN_FAILED) — same message and same argon2 cost either way."""
        try:
            email = normalize_email(email)
        except Invalid:
            email = ""  # no account to look up; the dummy hash is still verified below
        user = self.store.user_by_email(email) if email else None
        password = password if isinstance(password, str) else ""
        if len(password) > MAX_PASSWORD:
            password = password[:MAX_PASSWORD + 1]  # still costs a verify; cannot match
        stored = user.password_hash if user is not None and user.password_hash else self._dummy_hash
        ok: bool
        try:
            ok = self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or not user.password_hash:
            raise Invalid(LOGIN_FAILED)
        if user.disabled:
            raise Forbidden("This account has been disabled.")
        if self.hasher.check_needs_rehash(stored):
            self.store.rehash_password(user.id, stored, self.hasher.hash(password))
            user = self._reload(user.id)  # its new hash signs the device cookie this login sets
        return user

    def start_session(self, user: User) -> str:
        """A new session for `user`; returns the cookie token (only its hash is stored)."""
        token = secrets.token_urlsafe(16)  # 128 bits
        now = self.now()
        self.store.create_session(sha256(token), user.id, now, now + dt.timedelta(days=self.settings.session_max_days))
        return token

    def login(self, email: str, password: str, *, old_token: str | None = None) -> tuple[User, str]:
        user = self.authenticate(email, password)
        if old_token:
            self.store.delete_session(sha256(old_token))
        return user, self.start_session(user)

    def session_user(self, token: str | None) -> User | None:
        if not token or len(token) > 64:
            return None
        key = sha256(token)
        record = self.store.get_session(key)
        if record is None:
            return None
        now = self.now()
        idle = dt.timedelta(minutes=self.settings.session_idle_minutes)
        if record.expires_at <= now or record.last_seen_at + idle <= now or record.user.disabled:
            self.store.delete_session(key)
            return None
        if now - record.last_seen_at >= SESSION_TOUCH_EVERY:
            self.store.touch_session(key, now)
        return record.user

    def logout(self, token: str | None) -> None:
        if token:
            self.store.delete_session(sha256(token))

    def change_password(self, user: User, current: str, new: str) -> User:
        """The user with the new password (and so a new device secret)."""
        self.authenticate(user.email, current)
        check_password(new, [user.email, user.name])
        self.store.set_password(user.id, self.hasher.hash(new), self.now(), end_sessions=True)
        return self._reload(user.id)

    # -- API tokens -------------------------------------------------------------------------
    def create_api_token(self, user: User, name: str) -> tuple[ApiToken, str]:
        name = " ".join((name or "").split())[:60] or "token"
        if len(self.store.list_api_tokens(user.id)) >= MAX_TOKENS:
            raise Invalid(f"You have {MAX_TOKENS} tokens already; revoke one first.")
        raw = TOKEN_PREFIX + secrets.token_urlsafe(24)
        token = self.store.create_api_token(user.id, name, sha256(raw), raw[:10], self.now())
        return token, raw

    def token_user(self, raw: str | None) -> User | None:
        if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
            return None
        found = self.store.api_token_user(sha256(raw))
        if found is None:
            return None
        token, user = found
        if user.disabled:
            return None
        now = self.now()
        if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_EVERY:
            self.store.touch_api_token(token.id, now)
        return user

    def list_api_tokens(self, user: User) -> list[ApiToken]:
        return self.store.list_api_tokens(user.id)

    def revoke_api_token(self, user: User, token_id: int) -> None:
        if not self.store.revoke_api_token(user.id, token_id, self.now()):
            raise NotFound("no such token")

    # -- roles and profile -------------------------------------------------------------------
    def find(self, who: str) -> User:
        """A user by email or name (CLI)."""
        user = self.store.user_by_email(who.strip()) if "@" in who else self.store.user_by_name(who.strip())
        if user is None:
            raise NotFound(f"no user {who!r}")
        return user

    def set_role(self, user: User, role: str) -> User:
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        self.store.set_role(user.id, role)
        return self._reload(user.id)

    def disable(self, user: User, disabled: bool = True) -> User:
        self.store.set_disabled(user.id, self.now() if disabled else None)
        return self._reload(user.id)

    def set_visibility(self, user: User, show_upvotes: bool, show_submissions: bool) -> None:
        self.store.set_profile_visibility(user.id, show_upvotes, show_submissions)

    def _reload(self, user_id: int) -> User:
        """The user as stored now, after changing it."""
        user = self.store.get_user(user_id)
        assert user is not None  # users are never deleted (only disabled)
        return user


def require_member(user: User | None, *, verified: bool = True, what: str = "do that") -> User:
    if user is None:
        raise Forbidden(f"Log in to {what}.")
    if user.disabled:
        raise Forbidden("This account has been disabled.")
    if verified and not user.verified:
        raise Forbidden(f"Verify your email address to {what}: open the link we sent you.")
    return user


def require_curator(user: User | None) -> User:
    user = require_member(user, what="curate")
    if not user.is_curator:
        raise Forbidden("Only curators can do that.")
    return user


__all__ = [
    "AccountService", "MailQueue", "SignupResult", "check_password", "normalize_email", "check_name",
    "require_member", "require_curator", "ROLES", "SESSION_COOKIE", "LOGIN_FAILED", "RESET_SENT",
]
