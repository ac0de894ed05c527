"""Helpers for the web and browser tests: a real migrated database loaded with real HF Daily Papers
(tests/fixtures/hf_raw: 9 days incl. the Python-repr formats of 2024-12-11 and 2025-01-10),
the real search engine with its index synced, and the app driven over real HTTP (httpx + ASGI).

A data folder holds the search index and either the SQLite file or, for PostgreSQL, a file
naming its database (DATABASE_URL_FILE): `make_app(folder)` runs on whichever it holds, and
`Databases.copy` copies a folder with its database, so a test changes only its own copy.

The clock is fixed at Sunday 2026-08-23 12:00 UTC, so `/` shows Friday 2026-08-21.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import socket
import threading
import time
from pathlib import Path

import uvicorn

from dailypapers.config import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HF_RAW = FIXTURES / "hf_raw"
NOW = dt.datetime(2026, 8, 23, 12, 0, tzinfo=dt.timezone.utc)  # a Sunday
LATEST_DAY = dt.date(2026, 8, 21)  # the Friday before


DATABASE_URL_FILE = "test-database-url"


def database_url_of(data_dir: Path) -> str | None:
    """The PostgreSQL database a data folder's data lives in; None when it is the SQLite file."""
    marker = Path(data_dir) / DATABASE_URL_FILE
    return marker.read_text().strip() if marker.exists() else None


def open_data_store(data_dir: Path, database_url: str | None = None):
    """The migrated store of a data folder; `database_url` puts its data in that PostgreSQL
    database from now on."""
    from dailypapers.storage import open_store

    data_dir.mkdir(parents=True, exist_ok=True)
    if database_url:
        (data_dir / DATABASE_URL_FILE).write_text(database_url)
    store = open_store(database_url_of(data_dir) or f"sqlite:///{data_dir / 'dailypapers.db'}")
    store.migrate()
    return store


class Databases:
    """The databases of the web tests' data folders: SQLite files inside them, or databases on the
    session's PostgreSQL cluster, where a loaded folder's database is the template of its copies
    (CREATE DATABASE ... TEMPLATE is a file copy; the template must have no open connections)."""

    def __init__(self, cluster=None):
        self.cluster = cluster

    @property
    def backend(self) -> str:
        return "postgres" if self.cluster else "sqlite"

    def new(self) -> str | None:
        """A fresh, migrated database for a folder about to be loaded (None: SQLite)."""
        return self.cluster.new_database() if self.cluster else None

    def copy(self, source: Path, target: Path) -> Path:
        shutil.copytree(source, target)
        url = database_url_of(source)
        if url:
            (target / DATABASE_URL_FILE).write_text(self.cluster.new_database(template=url.rsplit("/", 1)[1]))
        return target

    def drop(self, data_dir: Path) -> None:
        url = database_url_of(data_dir)
        if url and self.cluster:
            self.cluster.drop_database(url)


def load_store(data_dir: Path, database_url: str | None = None):
    from dailypapers.ingest.jobs import ingest_hf_daily

    store = open_data_store(data_dir, database_url)
    summary = ingest_hf_daily(store, HF_RAW)
    assert summary.rejected == 0
    return store


def build_data_dir(data_dir: Path, database_url: str | None = None) -> Path:
    """Database loaded from the fixtures plus a synced search index (no embedding model)."""
    store = load_store(data_dir, database_url)
    from dailypapers.search.engine import SearchEngine

    SearchEngine(store, data_dir / "index", None).sync()
    store.close()
    return data_dir


def make_settings(data_dir: Path, **changes) -> Settings:
    base = Settings(data_dir=data_dir, secret_key="test-secret-key-for-web-tests", base_url="http://testserver")
    if hasattr(base, "rate_search"):  # these tests search and export far more often than a person would
        base = base.replace(rate_search="100000/60", rate_export="100000/60", rate_list="100000/60",
                            rate_paper="100000/60")
    return base.replace(**changes)


from asgiclient import Client  # noqa: E402,F401  (re-exported for the web tests)


def make_app(data_dir: Path, *, clock=lambda: NOW, arxiv=None, **settings_changes):
    """`arxiv`: the services' arXiv client; by default a bare object that no test may reach (a
    lookup on it fails loudly), False for none at all (a paper the site lacks is then a 400)."""
    from dailypapers.app import build_services
    from dailypapers.web.routes import build_app

    settings_changes.setdefault("database_url", database_url_of(data_dir))
    settings = make_settings(data_dir, **settings_changes)
    services = build_services(settings, embedder=False, arxiv=object() if arxiv is None else arxiv, clock=clock)
    return build_app(services), services


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    def __init__(self, app, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def own_server(data_dir: Path):
    """A real server over a freshly loaded `data_dir` (SQLite), for tests that change its data:
    the ServerThread, with the services it serves as `.services`."""
    from dailypapers.app import build_services
    from dailypapers.web.routes import build_app

    build_data_dir(data_dir)
    services = build_services(make_settings(data_dir), embedder=False, arxiv=object(), clock=lambda: NOW)
    app = build_app(services)
    try:
        with ServerThread(app) as srv:
            app.state.site.base_url = srv.url
            srv.services = services
            yield srv
    finally:
        services.store.close()
