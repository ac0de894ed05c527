"""A member's own data and account: download everything, change the email address, delete the account.

* **Export**: one JSON document (``dailypapers-account-NAME-DATE.json``), with the profile, votes,
  comments, submissions, collections (their papers and, for the owner, the members), the member's
  own notes, reading states, list visits, subscriptions and API tokens' metadata. Never the
  password hash, a token or session hash, or a subscription's link keys (docs/accounts.md).
* **Email change**: the member gives their password and the new address; a signed link goes to
  the new address; only opening it (a POST behind it) changes the address, marks it verified and
  mails a notice to the old one. The link names the old address, so it works once.
* **Deletion**: with the password. What happens to votes, comments, collections and
  subscriptions is in storage/account_rows.py and docs/accounts.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import replace

from itsdangerous import BadSignature, URLSafeSerializer

from dailypapers.clock import utcnow
from dailypapers.community.accounts import AccountService, normalize_email, require_member
from dailypapers.errors import Invalid, NotFound
from dailypapers.models import AccountDeletion, User
from dailypapers.storage import AccountDataServiceStore, Conflict

EXPORT_FORMAT = "dailypapers-account"
EXPORT_VERSION = 1
EMAIL_CHANGE_MAX_AGE = dt.timedelta(days=1)
BAD_LINK = "This link is not valid (or was used already). Ask for a new one on your settings page."


class AccountDataService:
    def __init__(self, store: AccountDataServiceStore, accounts: AccountService, settings, *,
                 clock: Callable[[], dt.datetime] | None = None):
        self.store = store
        self.accounts = accounts
        self.settings = settings
        self.clock = clock or utcnow
        self._serializer = URLSafeSerializer(settings.signing_key(), salt="dailypapers.email-change")

    def now(self) -> dt.datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)

    # -- export ---------------------------------------------------------------------------------
    def export(self, user: User | None) -> dict:
        """Everything the site keeps about the member, as one JSON-ready document."""
        user = require_member(user, verified=False, what="download your data")
        profile = {"id": user.id, "name": user.name, "email": user.email, "role": user.role,
                   "created_at": user.created_at.isoformat(),
                   "verified_at": user.verified_at.isoformat() if user.verified_at else None,
                   "show_upvotes": user.show_upvotes, "show_submissions": user.show_submissions}
        return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": self.now().isoformat(),
                "site": self.settings.public_url, "profile": profile, **self.store.account_export(user.id)}

    def export_filename(self, user: User) -> str:
        return f"dailypapers-account-{user.name}-{self.now().date().isoformat()}.json"

    # -- email change ------------------------------------------------------------------------------
    def request_email_change(self, user: User | None, password: str, new_email: str) -> str:
        """Check the password, then mail a confirmation link to the new address. The answer is the
        same whether or not another account has that address (no probing for accounts)."""
        user = require_member(user, verified=False, what="change your email address")
        new = normalize_email(new_email)
        try:
            self.accounts.authenticate(user.email, password)
        except Invalid:
            raise Invalid("That is not your current password.", field="current") from None
        if new.lower() == user.email.lower():
            raise Invalid("That is your address already.", field="email")
        if self.store.user_by_email(new) is None:
            self.accounts.send_template("email_change", replace(user, email=new),
                                        {"link": self.email_change_link(user, new), "old_email": user.email})
        return (f"We sent a link to {new}. Open it to use that address; until then mail goes to "
                f"{user.email}, and the link works for one day.")

    def email_change_link(self, user: User, new_email: str) -> str:
        token = self._serializer.dumps({"u": user.id, "o": user.email.lower(), "n": new_email,
                                        "t": int(self.now().timestamp())})
        return f"{self.settings.public_url}/settings/email/confirm?token={token}"

    def check_email_change(self, token: str) -> tuple[User, str]:
        """(the member, the new address) for a valid link; Invalid otherwise."""
        try:
            data = self._serializer.loads(token or "")
        except BadSignature:
            raise Invalid(BAD_LINK) from None
        if not isinstance(data, dict):
            raise Invalid(BAD_LINK)
        issued = dt.datetime.fromtimestamp(int(data.get("t", 0)), dt.timezone.utc)
        if self.now() - issued > EMAIL_CHANGE_MAX_AGE:
            raise Invalid("This link has expired. Ask for a new one on your settings page.")
        user = self.store.get_user(int(data.get("u", 0)))
        if user is None or user.disabled or not secrets.compare_digest(user.email.lower(), str(data.get("o"))):
            raise Invalid(BAD_LINK)
        return user, str(data.get("n"))

    def confirm_email_change(self, token: str) -> User:
        user, new = self.check_email_change(token)
        try:
            self.store.set_email(user.id, new, self.now())
        except Conflict:
            raise Invalid(f"Another account uses {new} now; choose another address.") from None
        self.accounts.send_template("email_changed", user, {"new_email": new})  # to the old address
        changed = self.store.get_user(user.id)
        assert changed is not None  # just updated
        return changed

    # -- deletion -------------------------------------------------------------------------------------
    def delete(self, user: User | None, password: str) -> AccountDeletion:
        """Delete the member's account for good, once they gave their password."""
        user = require_member(user, verified=False, what="delete your account")
        try:
            self.accounts.authenticate(user.email, password)
        except Invalid:
            raise Invalid("That is not your password; the account is still here.", field="password") from None
        done = self.store.delete_account(user.id, self.now())
        if done is None:
            raise NotFound("no such account")
        return done


__all__ = ["AccountDataService", "EXPORT_FORMAT", "EXPORT_VERSION", "EMAIL_CHANGE_MAX_AGE"]
