"""The bundled demo data (what `make run` serves): 9.9k real Hugging Face Daily Papers with their
precomputed embeddings (demo/embeddings.npz), searched with the packaged model, as a person using
the site would search them. Loading takes ~15 s, so tests build it once per module."""

from __future__ import annotations

from pathlib import Path

from webapp import make_settings

REPO = Path(__file__).resolve().parents[2]
DEMO_DAYS = REPO / "demo" / "hf-daily"
DEMO_EMBEDDINGS = REPO / "demo" / "embeddings.npz"


def build_demo_data_dir(data_dir: Path):
    """Database, lexical and vector indexes for the demo data; returns the embedder (or None when
    the packaged model cannot load)."""
    from dailypapers.ingest.jobs import ingest_hf_daily
    from dailypapers.search.embedder import load_embedder
    from dailypapers.search.embedding_jobs import import_embeddings
    from dailypapers.search.engine import SearchEngine
    from dailypapers.storage.sqlite import SQLiteStore

    embedder = load_embedder(threads=1)
    store = SQLiteStore(data_dir / "dailypapers.db")
    store.migrate()
    ingest_hf_daily(store, DEMO_DAYS)
    if embedder is not None:
        imported, _ = import_embeddings(store, DEMO_EMBEDDINGS, embedder.model_id)
        assert imported > 9000
    engine = SearchEngine(store, data_dir / "index", embedder)
    engine.sync()
    engine.close()
    store.close()
    return embedder


def make_demo_app(data_dir: Path, embedder):
    """The app and its services over a data dir from :func:`build_demo_data_dir`."""
    from dailypapers.app import build_services
    from dailypapers.web.routes import build_app

    services = build_services(make_settings(data_dir), embedder=embedder or False, arxiv=object())
    return build_app(services), services
