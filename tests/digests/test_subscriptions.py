"""Subscribing: double opt-in, signed links, bad input; with a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from dailypapers.digests.subscriptions import MANAGE_MAX_AGE, SubscriptionService, Tokens
from dailypapers.errors import Invalid
from dailypapers.mail import SMTPMailer
from dailypapers.models import Subscription

T0 = dt.datetime(2026, 8, 20, 12, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(dstore, dsettings, clock):
    mailer = SMTPMailer("127.0.0.1", dsettings.smtp_port, security="none")
    yield SubscriptionService(dstore, dsettings, mailer, clock=clock)
    mailer.close()


def _link(received, path):
    body = received.message.get_body(("plain",)).get_content()
    m = re.search(r"https://papers\.example\.org" + re.escape(path) + r"\?token=([\w.\-]+)", body)
    assert m, body
    return m.group(1)


def test_double_opt_in_sends_one_confirmation_an_hour(service, smtp, dstore, clock):
    r = service.request("Reader@Example.ORG", frequency="daily", topics="activation steering\ncat:cs.CL sparse attention")
    assert r.sent and r.status == "confirmation_sent"
    assert r.subscription.email == "Reader@example.org" and not r.subscription.active
    assert len(smtp.messages) == 1
    msg = smtp.messages[0].message
    assert msg["Subject"] == "Confirm your Daily Papers subscription"
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    # asking again within the hour sends nothing more
    clock.t = T0 + dt.timedelta(minutes=59)
    assert service.request("reader@example.org").sent is False
    assert len(smtp.messages) == 1
    clock.t = T0 + dt.timedelta(minutes=61)
    assert service.request("reader@example.org").sent is True
    assert len(smtp.messages) == 2
    # both links work (same nonce); the first click confirms, a replay is refused
    token = _link(smtp.messages[0], "/subscribe/confirm")
    sub = service.confirm(token)
    assert sub.active and sub.manage_key
    with pytest.raises(Invalid, match="already been used"):
        service.confirm(token)
    with pytest.raises(Invalid, match="already been used"):
        service.confirm(_link(smtp.messages[1], "/subscribe/confirm"))


def test_forged_and_expired_tokens_are_refused(service, smtp, dsettings, dstore):
    service.request("a@example.org")
    token = _link(smtp.messages[0], "/subscribe/confirm")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(Invalid, match="not valid"):
        service.confirm(forged)
    other_key = Tokens("another-key-entirely-0000000")
    sub = dstore.get_subscription_by_email("a@example.org")
    with pytest.raises(Invalid, match="not valid"):
        service.confirm(other_key.confirm(sub))

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 3 * 86400

    old = URLSafeTimedSerializer(dsettings.signing_key(), salt="dailypapers.digests", signer=ThreeDaysAgo)
    expired = old.dumps({"p": "confirm", "s": sub.id, "n": sub.confirm_nonce})
    with pytest.raises(Invalid, match="expired"):
        service.confirm(expired)
    # a manage token is not a confirmation token
    with pytest.raises(Invalid, match="not valid here"):
        service.confirm(Tokens(dsettings.signing_key()).manage(sub))
    assert not dstore.get_subscription(sub.id).active


def test_tokens_are_stamped_and_aged_by_the_given_clock():
    sub = Subscription(id=7, email="a@example.org", manage_key="k" * 22)
    at = Clock()
    tokens = Tokens("a-key-for-this-test-only-0000", clock=at)
    token = tokens.manage(sub)
    at.t = T0 + dt.timedelta(seconds=5)
    assert tokens.manage(sub) != token  # a later second, another token
    at.t = T0
    assert tokens.manage(sub) == token
    at.t = T0 + dt.timedelta(seconds=MANAGE_MAX_AGE)
    assert tokens.read(token, "manage", MANAGE_MAX_AGE)["s"] == 7
    at.t += dt.timedelta(seconds=1)
    with pytest.raises(Invalid, match="expired"):
        tokens.read(token, "manage", MANAGE_MAX_AGE)
    alert = tokens.alert(7, "check")  # a saved search's alert, not a digest: its own wording
    at.t += dt.timedelta(seconds=MANAGE_MAX_AGE + 1)
    with pytest.raises(Invalid, match="expired") as refused:
        tokens.read(alert, "alert", MANAGE_MAX_AGE)
    assert "latest alert" in str(refused.value) and "digest" not in str(refused.value)


@pytest.mark.parametrize("email", [
    "", "not-an-address", "a@b", "a@@example.org", "a b@example.org", "a@example.org\r\nBcc: x@evil.org",
    "a@example.org\nX: y", "<a@example.org>", "Ann <a@example.org>", "a@-example.org", "x" * 250 + "@example.org",
    "a@example.123",
])
def test_invalid_addresses_store_and_send_nothing(service, smtp, dstore, email):
    with pytest.raises(Invalid):
        service.request(email)
    assert smtp.messages == []
    assert dstore.stats()["subscriptions"] == 0


@pytest.mark.parametrize("topics, message", [
    ([f"topic {i}" for i in range(11)], "At most 10 topics"),
    ("\n".join(f"topic {i}" for i in range(11)), "At most 10 topics"),
    (["x" * 251], "at most 250 characters"),
    (["fine", "bad\r\nBcc: evil@example.org"], "line breaks"),
    (["tab\x0bbed"], "line breaks"),
    (["2405.15738"], "paper id"),
    (["-video -images"], "nothing to search"),
])
def test_bad_topics_store_and_send_nothing(service, smtp, dstore, topics, message):
    with pytest.raises(Invalid, match=message):
        service.request("a@example.org", topics=topics)
    assert smtp.messages == [] and dstore.stats()["subscriptions"] == 0


def test_bad_schedule(service, smtp, dstore):
    with pytest.raises(Invalid):
        service.request("a@example.org", frequency="hourly")
    with pytest.raises(Invalid):
        service.request("a@example.org", frequency="weekly", weekday="9")
    with pytest.raises(Invalid):
        service.request("a@example.org", frequency="weekly")
    r = service.request("a@example.org", frequency="weekly", weekday="Friday", skip_weekends="on",
                        topics=["a", "A", " a "])
    assert (r.subscription.weekday, r.subscription.skip_weekends, r.subscription.topics) == (4, False, ["a"])


def test_confirmed_address_gets_a_manage_link_and_nothing_changes(service, smtp, dstore, clock):
    service.request("a@example.org", topics=["diffusion"])
    service.confirm(_link(smtp.messages[0], "/subscribe/confirm"))
    r = service.request("a@example.org", frequency="weekly", weekday=2, topics=["something else"])
    assert r.status == "manage_sent"
    sub = dstore.get_subscription_by_email("a@example.org")
    assert (sub.frequency, sub.topics, sub.active) == ("daily", ["diffusion"], True)
    token = _link(smtp.messages[1], "/subscriptions/manage")
    assert service.from_manage_token(token).id == sub.id
    assert service.request("a@example.org").status == "manage_recent"  # at most hourly
    assert len(smtp.messages) == 2


def test_manage_update_and_idempotent_unsubscribe(service, smtp, dstore, dsettings, clock):
    service.request("a@example.org")
    sub = service.confirm(_link(smtp.messages[0], "/subscribe/confirm"))
    token = Tokens(dsettings.signing_key()).manage(sub)
    updated = service.update(token, frequency="weekly", weekday="3", topics="rlhf\nreward models")
    assert (updated.frequency, updated.weekday, updated.topics) == ("weekly", 3, ["rlhf", "reward models"])
    with pytest.raises(Invalid, match="At most 10"):
        service.update(token, frequency="daily", topics=[str(i) + "x" for i in range(11)])
    assert dstore.get_subscription(sub.id).topics == ["rlhf", "reward models"]
    first = service.unsubscribe(token)
    again = service.unsubscribe(token)
    assert first.unsubscribed_at is not None and again.unsubscribed_at == first.unsubscribed_at
    # re-subscribing needs a new confirmation, and the old manage links die with it
    clock.t += dt.timedelta(hours=2)
    assert service.request("a@example.org").sent
    assert not dstore.get_subscription(sub.id).active
    service.confirm(_link(smtp.messages[-1], "/subscribe/confirm"))
    with pytest.raises(Invalid, match="no longer valid"):
        service.from_manage_token(token)


def test_verified_member_subscribes_without_a_second_opt_in(service, smtp, dstore):
    from .conftest import add_user

    uid = add_user(dstore, "ada", "ada@example.org")

    class User:
        id = uid
        email = "ada@example.org"
        verified_at = T0

    r = service.request("ada@example.org", topics=["steering"], include_upvotes="on", user=User())
    assert r.status == "subscribed" and r.subscription.active and r.subscription.include_upvotes
    assert r.subscription.user_id == uid and smtp.messages == []
    # someone else's address: upvotes are not theirs to use, and it needs confirmation
    r = service.request("bob@example.org", include_upvotes="on", user=User())
    assert r.status == "confirmation_sent" and not r.subscription.include_upvotes
