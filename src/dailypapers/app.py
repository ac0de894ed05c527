"""The composition root: every dependency is built here or passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from dailypapers.config import Settings
from dailypapers.storage import Store, open_store


@dataclass
class Services:
    """What the web layer and the CLI call. Built once per process."""

    settings: Settings
    store: Store
    search: Any  # dailypapers.search.engine.SearchEngine
    embedder: Any  # dailypapers.search.embedder.Embedder | None
    mailer: Any = None
    arxiv: Any = None


def load_embedder(settings: Settings, *, threads: int | None = None):
    try:
        from dailypapers.search.embedder import load_embedder as load
    except ImportError:  # onnxruntime missing: lexical search only
        return None
    return load(settings.model_dir, threads=threads)


def build_services(
    settings: Settings,
    *,
    store: Store | None = None,
    embedder: Any = None,
    mailer: Any = None,
    arxiv: Any = None,
    check_schema: bool = True,
) -> Services:
    store = store or open_store(settings.db_url)
    if check_schema:
        store.check_schema()
    if embedder is None:
        # Services embed queries: a few tokens each, where a second thread only adds hand-off and
        # spin-waiting that steals the core from the next request. Bulk `embed` uses every core.
        embedder = load_embedder(settings, threads=1)
    if mailer is None:
        from dailypapers.mail import mailer_from_settings

        mailer = mailer_from_settings(settings)
    if arxiv is None:
        from dailypapers.ingest.arxiv_api import ArxivClient

        arxiv = ArxivClient(settings.arxiv_api_url, delay=settings.arxiv_delay, timeout=settings.arxiv_timeout)
    from dailypapers.search.engine import SearchEngine

    search = SearchEngine(store, settings.index_dir, embedder or None)
    return Services(settings=settings, store=store, search=search, embedder=embedder or None, mailer=mailer, arxiv=arxiv)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    embedder: Any = None,
    mailer: Any = None,
    arxiv: Any = None,
) -> Starlette:
    """Build the ASGI app. Refuses to start on an out-of-date schema."""
    from dailypapers.web.routes import build_app

    services = build_services(settings, store=store, embedder=embedder, mailer=mailer, arxiv=arxiv)
    return build_app(services)
