"""The real command line, run as a subprocess, on both backends (`cli` passes `--database-url` for a
fresh PostgreSQL database on the PostgreSQL run). Help text, SQLite's file and backup, and
`eval beir` (its own temporary database, both backends compared in one test) run once."""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

COMMANDS = [
    [], ["migrate"], ["ingest"], ["ingest", "hf-daily"], ["ingest", "jsonl"], ["ingest", "arxiv-oai"],
    ["ingest", "arxiv-ids"], ["stats"], ["serve"], ["search"], ["embed"], ["reindex"],
    ["eval"], ["eval", "beir"], ["eval", "picks"],
    ["backup"], ["users"], ["users", "create"], ["users", "promote"], ["users", "disable"], ["trending"],
    ["digest"], ["digest", "send"], ["digest", "preview"], ["schedule"],
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_migrate_ingest_stats(cli, fixtures):
    assert "schema is at version" in cli("migrate", check=True).stdout
    out = cli("ingest", "hf-daily", str(fixtures / "hf_raw"), check=True).stdout
    assert "added" in out and "0 rejected" in out
    stats = json.loads(cli("stats", "--json", check=True).stdout)
    days = len(list((fixtures / "hf_raw").glob("*.json.gz")))
    assert stats["papers"] > 100 and stats["listing_days"] == days and stats["listings"] >= stats["papers"]


def test_schedule_gives_every_job_the_database(cli):
    """The printed crontab run as cron runs it: its environment lines, then a job's command line."""
    cli("migrate", check=True)
    lines = cli("schedule", check=True).stdout.splitlines()
    cron_env = dict(line.split("=", 1) for line in lines if re.match(r"[A-Z_]+=", line))
    jobs = [shlex.split(line.split("#")[0])[5:] for line in lines if re.match(r"\s*\d", line)]
    send = next(job for job in jobs if job[3:5] == ["digest", "send"])
    assert send[:3] == ["dailypapers", "--data-dir", str(cli.data_dir)]
    if cli.database_url:
        assert cron_env["DAILYPAPERS_DATABASE_URL"] == cli.database_url
        # the password is on that line alone, never on a command line
        assert sum(cli.database_url in line for line in lines) == 1
    else:
        assert "DAILYPAPERS_DATABASE_URL" not in cron_env

    def run_job(env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
        return subprocess.run([sys.executable, "-m", "dailypapers", *send[1:]], env={**clean, **env},
                              capture_output=True, text=True, timeout=120)

    done = run_job(cron_env)
    assert done.returncode == 0, done.stderr
    if cli.database_url:
        # without that line the job would open the data folder's SQLite file, never migrated
        lost = run_job({k: v for k, v in cron_env.items() if k != "DAILYPAPERS_DATABASE_URL"})
        assert lost.returncode == 1 and "dailypapers migrate" in lost.stderr


@pytest.mark.sqlite_only
def test_data_dir_comes_from_the_environment(cli, tmp_path):
    other = tmp_path / "from-env"
    result = cli("migrate", env={"DAILYPAPERS_DATA_DIR": str(other)})
    assert result.returncode == 0
    # the --data-dir flag that `cli` passes wins over the environment
    assert not other.exists() and (cli.data_dir / "dailypapers.db").exists()


def test_rejections_give_exit_code_3(cli, tmp_path, fixtures):
    cli("migrate", check=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text((fixtures / "arxiv_daily_sample.jsonl").read_text().splitlines()[0] + "\n{oops\n")
    result = cli("ingest", "jsonl", str(bad))
    assert result.returncode == 3
    assert f"rejected {bad}:2: malformed JSON" in result.stderr
    assert "1 added" in result.stdout


def test_user_errors_are_one_line_without_traceback(cli, tmp_path):
    result = cli("stats")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error:") and "dailypapers migrate" in result.stderr
    cli("migrate", check=True)
    missing = cli("ingest", "jsonl", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 1 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad_date = cli("ingest", "arxiv-oai", "--from", "2026-13-01")
    assert bad_date.returncode == 2 and "bad date" in bad_date.stderr
    bad_env = cli("stats", env={"DAILYPAPERS_PORT": "x"})
    assert bad_env.returncode == 1 and "DAILYPAPERS_PORT" in bad_env.stderr and "Traceback" not in bad_env.stderr


@pytest.mark.sqlite_only  # PostgreSQL's pg_dump round trip: tests/storage/test_transfer.py
def test_backup_is_a_consistent_copy(cli, fixtures, tmp_path):
    import sqlite3

    cli("migrate", check=True)
    cli("ingest", "hf-daily", str(fixtures / "hf_raw"), check=True)
    target = tmp_path / "copy.db"
    assert cli("backup", str(target), check=True).returncode == 0
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0] > 100
    conn.close()
    again = cli("backup", str(target))
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.sqlite_only
def test_eval_beir_prints_every_mode_and_says_which_were_skipped(cli, tmp_path):
    """Without a model the semantic modes are skipped: the table still has a line for each mode."""
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    docs = {"d1": ("Photosynthesis in plants", "Chlorophyll absorbs light."), "d2": ("Bird migration", "Birds fly.")}
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items()))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "photosynthesis"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    no_model = tmp_path / "no-model"
    no_model.mkdir()
    result = cli("eval", "beir", str(folder), env={"DAILYPAPERS_MODEL_DIR": str(no_model)})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(lines) == {"lexical", "semantic", "hybrid"}
    assert "1.0000" in lines["lexical"]
    assert "skipped" in lines["semantic"] and "skipped" in lines["hybrid"]


@pytest.mark.sqlite_only  # compares both backends itself
def test_eval_beir_on_postgresql_gives_the_same_figures_and_wants_an_empty_database(cli, tmp_path, pg_url):
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    docs = {"d1": ("Photosynthesis in plants", "Chlorophyll absorbs light."), "d2": ("Bird migration", "Birds fly."),
            "d3": ("Plant growth", "Light and photosynthesis drive growth.")}
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, (t, x) in docs.items()))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "photosynthesis light"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td3\t2\n")
    env = {"DAILYPAPERS_MODEL_DIR": str(tmp_path / "no-model")}
    lite = cli("eval", "beir", str(folder), "--mode", "lexical", "--json", env=env)
    pg = cli("eval", "beir", str(folder), "--mode", "lexical", "--json", "--database", pg_url, env=env)
    assert lite.returncode == pg.returncode == 0, pg.stderr
    drop = lambda out: {k: v for k, v in json.loads(out)["lexical"].items() if k != "p50_ms"}  # noqa: E731
    assert drop(pg.stdout) == drop(lite.stdout)
    again = cli("eval", "beir", str(folder), "--mode", "lexical", "--database", pg_url, env=env)
    assert again.returncode == 1 and "must be empty" in again.stderr and again.stderr.count("\n") == 1
