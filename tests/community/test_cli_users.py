"""`dailypapers users ...` and `dailypapers trending refresh`, through click against a real database
(SQLite in the data folder, or a fresh PostgreSQL database passed with `--database-url`)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.models import Listing, Paper
from dailypapers.storage import open_store


@pytest.fixture
def run(tmp_path, backend, request):
    data = tmp_path / "cli"
    url = request.getfixturevalue("empty_pg_url") if backend == "postgres" else None
    where = ["--data-dir", str(data), *(["--database-url", url] if url else [])]
    runner = CliRunner()
    assert runner.invoke(main, [*where, "migrate"]).exit_code == 0

    def invoke(*args, input=None):
        return runner.invoke(main, [*where, *args], input=input, env={"DAILYPAPERS_SECRET_KEY": "k"})

    invoke.db_url = url or f"sqlite:///{data / 'dailypapers.db'}"
    return invoke


def test_create_promote_disable(run):
    r = run("users", "create", "cora@example.org", "cora", "--password-stdin", input="violet-tractor-mango-91\n")
    assert r.exit_code == 0, r.output
    assert "created cora <cora@example.org> member (verified)" in r.output
    r = run("users", "create", "weak@example.org", "weak", "--password-stdin", input="password1\n")
    assert r.exit_code == 1 and "common" in r.output.lower()
    r = run("users", "create", "cora@example.org", "cora2", "--no-password")
    assert r.exit_code == 1 and "email is taken" in r.output
    r = run("users", "promote", "cora")
    assert r.exit_code == 0 and "curator" in r.output
    r = run("users", "promote", "cora@example.org", "--role", "admin")
    assert "admin" in r.output
    r = run("users", "disable", "cora")
    assert r.exit_code == 0 and "disabled" in r.output
    r = run("users", "enable", "cora")
    assert "disabled" not in r.output
    r = run("users", "promote", "nobody")
    assert r.exit_code == 1 and "no user" in r.output
    store = open_store(run.db_url)
    try:
        user = store.user_by_name("cora")
        assert user.role == "admin" and user.password_hash.startswith("$argon2id$")
        assert [a.action for a in store.curator_log()] == ["enable", "disable", "role", "role"]
    finally:
        store.close()


def test_trending_refresh(run):
    store = open_store(run.db_url)
    try:
        today = dt.date.today()
        store.ingest_batch(
            [Paper(arxiv_id="2608.00001", title="T", abstract="A", authors=["X"])],
            [Listing(arxiv_id="2608.00001", day=today, upvotes=12, source="hf")],
        )
        assert store.read("SELECT trending_score FROM papers")[0][0] is None  # an import does not score
        r = run("trending", "refresh")
        assert r.exit_code == 0 and "1 paper updated" in r.output
        assert store.read("SELECT trending_score FROM papers")[0][0] is not None
        assert "0 papers updated" in run("trending", "refresh", "--all").output
    finally:
        store.close()
