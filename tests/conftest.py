"""Shared fixtures: a real, migrated SQLite database in a temporary folder, and a real PostgreSQL
server (one throwaway cluster per session, a fresh database per test that asks for one).

Tests that run on both backends ask for `backend_store` (or `backend_url`): they run once on
SQLite and once on PostgreSQL. The cluster starts only when a PostgreSQL test runs; a test that
checks something SQLite-specific is marked `@pytest.mark.sqlite_only` and runs on SQLite alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pgcluster import Cluster, find_bin_dir

from dailypapers.config import Settings
from dailypapers.storage import open_store
from dailypapers.storage.postgres import PostgresStore
from dailypapers.storage.sqlite import SQLiteStore

FIXTURES = Path(__file__).parent / "fixtures"


BACKENDS = ("sqlite", "postgres")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: checks SQLite specifics; not run on PostgreSQL")


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    # A SQLite-only test gets no PostgreSQL run at all (rather than a skipped one in every report).
    # (A parametrize mark, as pytest gives the test's own marks precedence over fixture params.)
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.definition.add_marker(pytest.mark.parametrize("backend", ["sqlite"], indirect=True))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", arxiv_delay=0.0)


@pytest.fixture
def store(settings):
    s = SQLiteStore(settings.data_dir / "dailypapers.db")
    s.migrate()
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL server of our own for the session. Where PostgreSQL is not installed the tests
    that need it are skipped, except in CI (CI=true), where that is a failure: `make test` installs it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL is not installed (initdb/pg_ctl not found; Debian: apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        cluster.make_template()
    except BaseException:
        cluster.destroy()
        raise
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster):
    """The URL of a fresh, migrated database on the session's server, dropped after the test."""
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture
def pg_store(pg_url):
    s = PostgresStore(pg_url)
    yield s
    s.close()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The backend a both-backends test runs on this time."""
    return request.param


@pytest.fixture
def backend_url(backend, request) -> str | None:
    """None on SQLite (the store lives in the data folder); a fresh migrated database on PostgreSQL."""
    return request.getfixturevalue("pg_url") if backend == "postgres" else None


@pytest.fixture
def backend_store(backend_url, settings):
    """A migrated store on this run's backend."""
    s = open_store(backend_url or settings.db_url)
    s.migrate()
    yield s
    s.close()


def run_cli(*args: str, data_dir: Path, check: bool = False, env: dict | None = None, **kwargs):
    """Run the real `dailypapers` command in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "dailypapers", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=full_env,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}")
    return result


@pytest.fixture
def empty_pg_url(pg_cluster):
    """A fresh database that is not migrated yet (as `createdb` leaves it), dropped after the test."""
    url = pg_cluster.new_database(template="template0")
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture
def cli(tmp_path, backend, request):
    """The real command over a data folder of its own, on both backends: on PostgreSQL every run
    gets `--database-url` for a fresh, empty database (`cli.database_url`; None on SQLite), so
    `migrate` is the command's job there as it is on SQLite."""
    data_dir = tmp_path / "cli-data"
    url = request.getfixturevalue("empty_pg_url") if backend == "postgres" else None
    database = ("--database-url", url) if url else ()

    def run(*args, **kwargs):
        return run_cli(*database, *args, data_dir=data_dir, **kwargs)

    run.data_dir = data_dir
    run.database_url = url
    run.db_url = url or f"sqlite:///{data_dir / 'dailypapers.db'}"  # for open_store, to look inside
    return run
