"""Shared fixtures: a real, migrated SQLite database in a temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dailypapers.config import Settings
from dailypapers.storage.sqlite import SQLiteStore

FIXTURES = Path(__file__).parent / "fixtures"


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
def cli(tmp_path):
    data_dir = tmp_path / "cli-data"

    def run(*args, **kwargs):
        return run_cli(*args, data_dir=data_dir, **kwargs)

    run.data_dir = data_dir
    return run
