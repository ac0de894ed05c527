"""What every command shares: the settings, and the store and embedder, opened on first use.

`dailypapers --help` and bad usage never touch the database or load the model.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, NoReturn

import click

from dailypapers.config import Settings, load_settings
from dailypapers.days import parse_day
from dailypapers.search.embedder import load_embedder
from dailypapers.storage import Store, open_store

EXIT_ERROR = 1
EXIT_REJECTED = 3

_UNSET: Any = object()


class Context:
    def __init__(self, overrides: dict[str, Any]):
        self.overrides = overrides
        self._settings: Settings | None = None
        self._store: Store | None = None
        self._embedder: Any = _UNSET

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.overrides)
        return self._settings

    def store(self, *, check: bool = True) -> Store:
        if self._store is None:
            self._store = open_store(self.settings.db_url)
        if check:
            self._store.check_schema()
        return self._store

    def embedder(self) -> Any:
        """The embedding model, or None when none is installed (search is then lexical only)."""
        if self._embedder is _UNSET:
            self._embedder = load_embedder(self.settings.model_dir)
        return self._embedder

    def query_embedder(self) -> Any:
        """The model loaded as the server loads it for queries (one onnxruntime thread), or None."""
        return load_embedder(self.settings.model_dir, threads=1) if self.embedder() is not None else None

    def search_engine(self, embedder: Any) -> Any:
        # Imported here: the search engine loads tantivy, which commands without search never need.
        from dailypapers.search.engine import SearchEngine

        return SearchEngine(self.store(), self.settings.index_dir, embedder,
                            read_sentences=self.settings.embed_sentences)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def parse_date_option(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option as a date (None stays None); a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=name) from None
