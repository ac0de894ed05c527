"""The search tests' `store` is tests/conftest.py's `backend_store`: a test that catches an index
up from the store (iter_changed, the embedding seq, the filter columns, the engine's sync) runs on
SQLite and on PostgreSQL.

Run once, on SQLite: the tests on the indexes alone (analyzers, queries, fusion, relevance), and
those over the 500 papers loaded once per module (`loaded` in test_lexical.py and test_columns.py,
`module_store` in test_engine.py): they test ranking, filters and snippets over indexes built from
the store, and the catch-up that builds them is what the both-backends tests check.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def store(backend_store):
    return backend_store
