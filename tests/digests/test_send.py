"""Sending through a real SMTP server: batches, idempotence, 4xx retries, 5xx failures."""

from __future__ import annotations

import datetime as dt

import pytest

from dailypapers.digests import Period
from dailypapers.digests.send import DigestSender, SendLocked, send_lock
from dailypapers.mail import SMTPMailer

from .conftest import DAY, add_papers, add_subscriber

PERIOD = Period("daily", DAY)


@pytest.fixture
def mailer(dsettings):
    m = SMTPMailer("127.0.0.1", dsettings.smtp_port, security="none")
    yield m
    m.close()


@pytest.fixture
def seeded(dstore):
    add_papers(dstore, DAY, [
        dict(title=f"Paper number {i}", abstract=f"About topic{i % 3} and more.", upvotes=10 * i) for i in range(1, 9)
    ])
    return dstore


def sender(dstore, dsettings, mailer, **kw):
    kw.setdefault("retry_base", 0.01)
    return DigestSender(dstore, dsettings, mailer, **kw)


def test_sends_one_digest_each_and_a_rerun_sends_nothing(seeded, dsettings, mailer, smtp):
    subs = [add_subscriber(seeded, f"r{i}@example.org", topics=[f"topic{i % 3}"]) for i in range(25)]
    add_subscriber(seeded, "weekly@example.org", frequency="weekly", weekday=DAY.weekday())
    report = sender(seeded, dsettings, mailer).run(PERIOD)
    assert (report.sent, report.failed, report.planned) == (25, 0, 25)
    assert sorted(m.rcpt[0] for m in smtp.messages) == sorted(s.email for s in subs)
    again = sender(seeded, dsettings, mailer).run(PERIOD)
    assert again.sent == 0 and len(smtp.messages) == 25
    assert seeded.digest_send_counts(PERIOD.key) == {"sent": 25}
    msg = smtp.to("r1@example.org")[0].message
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == f"<digest.daily.20260820.{subs[1].id}@example.org>"
    assert "matches: topic1" in msg.get_body(("plain",)).get_content()
    # weekly readers get theirs from the weekly run
    weekly = sender(seeded, dsettings, mailer).run(Period("weekly", DAY))
    assert weekly.sent == 1 and smtp.to("weekly@example.org")


def test_limit_dry_run_and_unsubscribed_readers(seeded, dsettings, mailer, smtp):
    subs = [add_subscriber(seeded, f"r{i}@example.org") for i in range(12)]
    dry = sender(seeded, dsettings, mailer).run(PERIOD, dry_run=True)
    assert dry.planned == 12 and smtp.messages == [] and seeded.digest_send_counts(PERIOD.key) == {}
    first = sender(seeded, dsettings, mailer).run(PERIOD, limit=5)
    assert first.sent == 5 and len(smtp.messages) == 5
    seeded.unsubscribe_subscription(subs[-1].id, subs[-1].manage_key, dt.datetime.now(dt.timezone.utc))
    rest = sender(seeded, dsettings, mailer).run(PERIOD)
    assert rest.sent == 6 and len(smtp.messages) == 11
    assert not smtp.to(subs[-1].email)


def test_empty_digests_are_not_sent(seeded, dsettings, mailer, smtp):
    add_subscriber(seeded, "a@example.org")
    report = sender(seeded, dsettings, mailer).run(Period("daily", DAY - dt.timedelta(days=1)))
    assert report.sent == 0 and report.empty == 1 and smtp.messages == []


def test_4xx_is_retried_with_backoff(seeded, dsettings, mailer, smtp):
    add_subscriber(seeded, "slow@example.org")
    add_subscriber(seeded, "ok@example.org")
    smtp.rules["slow@example.org"] = ["451 4.3.0 try again later", "452 4.3.1 still busy"]
    sleeps = []
    import time

    def sleep(s):
        sleeps.append(s)
        time.sleep(s)

    report = sender(seeded, dsettings, mailer, sleep=sleep, retry_base=0.2).run(PERIOD)
    assert report.sent == 2 and len(smtp.to("slow@example.org")) == 1
    assert len(sleeps) == 2 and sleeps[1] > 0.3 and sleeps[0] <= 0.2  # 0.2 s, then 0.4 s


def test_4xx_after_every_attempt_waits_for_the_next_run(seeded, dsettings, mailer, smtp):
    add_subscriber(seeded, "slow@example.org")
    smtp.rules["slow@example.org"] = ["451 4.3.0 later"] * 4
    report = sender(seeded, dsettings, mailer).run(PERIOD)
    assert report.deferred == 1 and report.sent == 0
    assert seeded.digest_send_counts(PERIOD.key) == {"pending": 1}
    report = sender(seeded, dsettings, mailer).run(PERIOD)
    assert report.sent == 1 and len(smtp.to("slow@example.org")) == 1


def test_5xx_marks_the_address_failing_and_skips_it_after_three(dstore, dsettings, mailer, smtp):
    for n in range(4):
        add_papers(dstore, DAY + dt.timedelta(days=n), [dict(title=f"Day {n}", upvotes=1)], start=10 * n + 1)
    bad = add_subscriber(dstore, "gone@example.org")
    add_subscriber(dstore, "ok@example.org")
    smtp.rules["gone@example.org"] = ["550 5.1.1 no such user"] * 10
    for n in range(3):
        report = sender(dstore, dsettings, mailer).run(Period("daily", DAY + dt.timedelta(days=n)))
        assert report.failed == 1 and report.sent == 1
    assert dstore.get_subscription(bad.id).fail_count == 3
    report = sender(dstore, dsettings, mailer).run(Period("daily", DAY + dt.timedelta(days=3)))
    assert report.failed == 0 and report.sent == 1
    assert len(smtp.rules["gone@example.org"]) == 7  # not tried a fourth time
    # the failed digests' papers were never delivered, so they are not marked as sent
    assert dstore.sent_paper_ids([bad.id])[bad.id] == set()


def test_a_second_run_cannot_start_while_one_is_running(dsettings):
    with send_lock(dsettings.data_dir / "digest-send.lock"):
        with pytest.raises(SendLocked, match="another"):
            with send_lock(dsettings.data_dir / "digest-send.lock"):
                pass


def test_rate_limit(seeded, dsettings, mailer, smtp):
    import time

    for i in range(6):
        add_subscriber(seeded, f"r{i}@example.org")
    t = time.monotonic()
    report = sender(seeded, dsettings.replace(digest_rate=10.0), mailer).run(PERIOD)
    assert report.sent == 6
    assert time.monotonic() - t >= 0.45  # 10/s: one every 0.1 s after the first
