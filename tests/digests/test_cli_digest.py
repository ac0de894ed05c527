"""`dailypapers digest preview | send` and `schedule`, as real processes."""

from __future__ import annotations

import subprocess
import sys

from .conftest import DAY, add_papers, add_subscriber
from .test_kill import RUNNER, _env


def run(dsettings, *args, rate=0.0):
    return subprocess.run([sys.executable, "-c", RUNNER, "--data-dir", str(dsettings.data_dir), *args],
                          env=_env(dsettings, rate), capture_output=True, text=True, timeout=60)


def test_preview_renders_without_sending_or_recording(dstore, dsettings, smtp, tmp_path):
    add_papers(dstore, DAY, [dict(title="Activation steering, explained", upvotes=3), dict(title="Other", upvotes=9)])
    add_subscriber(dstore, "a@example.org", topics=["activation steering"])
    out = tmp_path / "digest.html"
    r = run(dsettings, "digest", "preview", "--email", "a@example.org", "--period", "daily",
            "--date", DAY.isoformat(), "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "Activation steering, explained" in html and "matches: activation steering" in html
    assert "https://papers.example.org/papers/" in html
    assert smtp.messages == [] and dstore.digest_send_counts(f"daily:{DAY}") == {}
    eml = tmp_path / "digest.eml"
    assert run(dsettings, "digest", "preview", "--email", "a@example.org", "--date", DAY.isoformat(),
               "--out", str(eml)).returncode == 0
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in eml.read_bytes()
    r = run(dsettings, "digest", "preview", "--email", "nobody@example.org", "--out", str(out))
    assert r.returncode == 1 and "no subscription for nobody@example.org" in r.stderr


def test_send_dry_run_then_send_then_partial_failure_exit_code(dstore, dsettings, smtp):
    add_papers(dstore, DAY, [dict(title="Paper", upvotes=3)])
    add_subscriber(dstore, "a@example.org")
    add_subscriber(dstore, "gone@example.org")
    r = run(dsettings, "digest", "send", "--period", "daily", "--date", DAY.isoformat(), "--dry-run")
    assert r.returncode == 0 and "dry run, 2 digests would be sent" in r.stdout and smtp.messages == []
    smtp.rules["gone@example.org"] = ["550 5.1.1 unknown user"]
    r = run(dsettings, "digest", "send", "--period", "daily", "--date", DAY.isoformat())
    assert r.returncode == 3 and "1 sent, 1 failed" in r.stdout, r.stdout + r.stderr
    assert [m.rcpt for m in smtp.messages] == [["a@example.org"]]
    r = run(dsettings, "digest", "send", "--period", "daily", "--date", "2026-13-01")
    assert r.returncode != 0 and "bad date" in r.stderr


def test_schedule_prints_cron_lines(dsettings, dstore):
    r = run(dsettings, "schedule")
    assert r.returncode == 0 and "digest send --period daily" in r.stdout and "embed" in r.stdout
