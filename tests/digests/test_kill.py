"""Exactly once under SIGKILL: a real `digest send` process is killed mid-batch, then rerun.

Every message the real SMTP server (aiosmtpd, in this process) accepted is checked:
every subscriber receives their digest, and nobody receives two different digests. The one
message in flight at the moment of a kill may arrive twice with the same Message-ID under
``--in-doubt resend`` (the default), or never be resent under ``--in-doubt skip``
(see dailypapers.digests.send, "The guarantee").
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict

import crashcheck
import pytest

from .conftest import DAY, add_papers, add_subscriber

pytestmark = pytest.mark.slow

N_SUBSCRIBERS = 40
RUNNER = "from dailypapers.cli import main; main(prog_name='dailypapers')"


def _env(dsettings, rate: float = 150.0) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update({
        "DAILYPAPERS_SECRET_KEY": dsettings.secret_key,
        "DAILYPAPERS_BASE_URL": dsettings.base_url,
        "DAILYPAPERS_SMTP_HOST": "127.0.0.1",
        "DAILYPAPERS_SMTP_PORT": str(dsettings.smtp_port),
        "DAILYPAPERS_SMTP_SECURITY": "none",
        "DAILYPAPERS_MAIL_FROM": dsettings.mail_from,
        "DAILYPAPERS_DIGEST_RATE": str(rate),
        "DAILYPAPERS_DIGEST_BATCH": "10",
    })
    if dsettings.database_url:  # the PostgreSQL run
        env["DAILYPAPERS_DATABASE_URL"] = dsettings.database_url
    return env


def _cmd(dsettings, day: dt.date, *extra: str) -> list[str]:
    return [sys.executable, "-c", RUNNER, "--data-dir", str(dsettings.data_dir), "digest", "send",
            "--period", "daily", "--date", day.isoformat(), *extra]


@pytest.fixture
def readers(dstore):
    days = [DAY + dt.timedelta(days=n) for n in range(4)]  # Thu, Fri, Sat, Sun
    for n, day in enumerate(days):
        add_papers(dstore, day, [dict(title=f"Day {n} paper {i}", upvotes=i) for i in range(6)], start=100 * n + 1)
    subs = [add_subscriber(dstore, f"reader{i:02d}@example.org") for i in range(N_SUBSCRIBERS)]
    return days, subs


def _by_reader(messages, period_key):
    got = defaultdict(list)
    for m in messages:
        msg = m.message
        if msg["X-Digest-Period"] != period_key:
            continue
        html = msg.get_body(("html",)).get_content()
        assert html.rstrip().endswith("</html>")  # every accepted message is whole
        got[m.rcpt[0]].append(msg["Message-ID"])
    return got


def _kill_inside_data(smtp, proc_box, k: int):
    """Kill the sender while the server holds its k-th message, before it replies 250:
    the worst moment, when the message is delivered but the sender cannot know it."""

    def on_data(sink):
        if len(sink.messages) == k and proc_box:
            os.kill(proc_box[0].pid, signal.SIGKILL)

    smtp.on_data = on_data


@pytest.mark.parametrize("policy", ["resend", "skip"])
def test_kill_while_the_server_holds_a_message(readers, dsettings, smtp, dstore, policy):
    days, subs = readers
    day = days[0]
    key = f"daily:{day.isoformat()}"
    box: list = []
    _kill_inside_data(smtp, box, k=17)
    proc = subprocess.Popen(_cmd(dsettings, day), env=_env(dsettings), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    box.append(proc)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    smtp.on_data = None
    assert len(smtp.messages) == 17
    assert dstore.digest_send_counts(key).get("sending") == 1  # the one in doubt

    done = subprocess.run(_cmd(dsettings, day, "--in-doubt", policy), env=_env(dsettings),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = _by_reader(smtp.messages, key)
    assert sorted(got) == sorted(s.email for s in subs)  # everyone got their digest
    assert all(len(set(ids)) == 1 for ids in got.values())  # nobody got two different digests
    copies = {r: len(ids) for r, ids in got.items() if len(ids) > 1}
    if policy == "resend":
        # the in-flight message was resent: one reader holds two copies of the same message
        assert list(copies.values()) == [2], copies
        assert dstore.digest_send_counts(key) == {"sent": N_SUBSCRIBERS}
    else:
        assert copies == {}  # exactly once for everyone
        assert dstore.digest_send_counts(key) == {"sent": N_SUBSCRIBERS - 1, "in_doubt": 1}
    # a third run sends nothing
    subprocess.run(_cmd(dsettings, day), env=_env(dsettings), capture_output=True, timeout=60, check=True)
    assert sum(len(v) for v in _by_reader(smtp.messages, key).values()) == N_SUBSCRIBERS + len(copies)


# PostgreSQL's send log gets the two kills above (and test_send_nodes.py); three random kills there
# would add some 100 s to the suite on this machine.
@pytest.mark.sqlite_only
def test_kill_at_random_moments(readers, dsettings, smtp, dstore):
    """Kill at an arbitrary point (composing, committing, mid-DATA...), three times."""
    days, subs = readers
    rng = random.Random(crashcheck.SEED)
    tried: list = []  # (messages accepted before the kill, then seconds)
    for day in days[1:]:
        key = f"daily:{day.isoformat()}"
        before = len(smtp.messages)
        threshold = before + rng.randrange(3, N_SUBSCRIBERS - 10)
        delay = rng.uniform(0, 0.03)
        proc = subprocess.Popen(_cmd(dsettings, day), env=_env(dsettings), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

        def killer(threshold=threshold, delay=delay, proc=proc):
            smtp.wait_for(threshold, timeout=30)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)

        t = threading.Thread(target=killer)
        t.start()
        proc.wait(timeout=60)
        t.join()
        assert proc.returncode == -signal.SIGKILL
        tried.append((threshold - before, round(delay, 3)))
        assert crashcheck.sqlite_problems(dsettings.data_dir / "dailypapers.db") == []
        done = subprocess.run(_cmd(dsettings, day), env=_env(dsettings), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        got = _by_reader(smtp.messages, key)
        assert sorted(got) == sorted(s.email for s in subs), f"missing: {set(s.email for s in subs) - set(got)}"
        assert all(len(set(ids)) == 1 for ids in got.values())
        extra = sum(len(ids) for ids in got.values()) - N_SUBSCRIBERS
        assert extra <= 1, f"{extra} duplicate copies after one kill"
        assert dstore.digest_send_counts(key) == {"sent": N_SUBSCRIBERS}
    crashcheck.report("digest send (messages, seconds)", tried)
