"""A member's follows in their digest, sent through a real SMTP server: the followed author's and
organization's papers come with "you follow X"; a hidden one never goes out; without follows the
same member gets none of them."""

from __future__ import annotations

import datetime as dt

import pytest

from dailypapers.community.follows import follow_key
from dailypapers.digests import Period
from dailypapers.digests.send import DigestSender
from dailypapers.mail import SMTPMailer

from .conftest import DAY, add_papers, add_subscriber, add_user

PERIOD = Period("daily", DAY)
AT = dt.datetime(2026, 8, 19, tzinfo=dt.timezone.utc)


@pytest.fixture
def mailer(dsettings):
    m = SMTPMailer("127.0.0.1", dsettings.smtp_port, security="none")
    yield m
    m.close()


def test_followed_authors_papers_go_out_with_the_reason(dstore, dsettings, mailer, smtp):
    ids = add_papers(dstore, DAY, [
        dict(title=f"Popular paper {i}", upvotes=100 - i) for i in range(4)
    ] + [
        dict(title="Quiet capsules", authors=["Geoffrey E. Hinton"], upvotes=1),
        dict(title="Quiet hidden one", authors=["G. Hinton", "Someone"], upvotes=0),
        dict(title="Yu's paper", authors=["Yu Wang"], upvotes=0),
    ])
    ada = add_user(dstore, "ada", "ada@example.org")
    bob = add_user(dstore, "bob", "bob@example.org")
    for name in ("Geoffrey Hinton", "Yi Wang"):  # "Yi Wang" is not "Yu Wang"
        dstore.add_follow(ada, "author", name, follow_key("author", name), AT)
    dstore.set_reading_state(ada, ids[5], "hidden", AT)
    add_subscriber(dstore, "ada@example.org", user_id=ada)
    add_subscriber(dstore, "bob@example.org", user_id=bob)

    report = DigestSender(dstore, dsettings, mailer, retry_base=0.01).run(PERIOD)
    assert report.sent == 2
    text = smtp.to("ada@example.org")[0].message.get_body(("plain",)).get_content()
    assert "Quiet capsules" in text and "you follow Geoffrey Hinton" in text
    assert "Quiet hidden one" not in text and "Yu's paper" not in text
    other = smtp.to("bob@example.org")[0].message.get_body(("plain",)).get_content()
    assert "Quiet capsules" not in other and "you follow" not in other
    sent = dstore.get_digest_send(dstore.get_subscription_by_email("ada@example.org").id, PERIOD.key)
    assert any(e.arxiv_id == ids[4] and "you follow Geoffrey Hinton" in e.reasons for e in sent.entries)
