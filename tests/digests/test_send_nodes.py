"""Two `digest send` runs at once on two machines that share a PostgreSQL database (their own
data folders, so their own flock files): every reader still gets each digest exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import time

from dailypapers.digests import Period
from dailypapers.digests.send import DigestSender, SendLocked
from dailypapers.mail import SMTPMailer
from dailypapers.models import Listing, Paper
from dailypapers.storage.postgres import PostgresStore

from .conftest import DAY, add_subscriber


def test_two_concurrent_runs_send_each_digest_once(pg_url, dsettings, smtp, tmp_path):
    setup = PostgresStore(pg_url)
    published = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.timezone.utc)
    setup.ingest_batch([Paper(arxiv_id=f"2608.{n:05d}", title=f"Paper {n}", abstract="An abstract.", authors=["A"],
                              version=1, published=published) for n in range(1, 4)],
                       [Listing(f"2608.{n:05d}", DAY, rank=n, upvotes=10 - n) for n in range(1, 4)])
    readers = [add_subscriber(setup, f"r{i}@example.org").email for i in range(12)]
    setup.close()
    smtp.on_data = lambda sink: time.sleep(0.05)  # a slow server keeps the first run going
    start = threading.Barrier(2)
    outcomes: list = []

    def machine(name: str) -> None:
        store = PostgresStore(pg_url)
        settings = dsettings.replace(data_dir=tmp_path / name)
        mailer = SMTPMailer("127.0.0.1", settings.smtp_port, security="none")
        sender = DigestSender(store, settings, mailer, say=lambda m: None, sleep=lambda s: None)
        start.wait()
        try:
            outcomes.append(sender.run(Period("daily", DAY)).sent)
        except SendLocked:
            outcomes.append("locked")
        finally:
            mailer.close()
            store.close()

    threads = [threading.Thread(target=machine, args=(name,)) for name in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # at once: the second is refused; one after the other: the second finds nothing left to send
    assert sorted(map(str, outcomes)) in (["12", "locked"], ["0", "12"])
    assert sorted(r for m in smtp.messages for r in m.rcpt) == sorted(readers)  # one each
