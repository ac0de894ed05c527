"""Fixtures for the web tests (helpers live in webapp.py, importable as `webapp`).

The web tests run on both backends: `web_backend` is a session-wide parameter, so the loaded data
(the HF fixtures and a search index synced from them) is built once per backend, and the tests
that use `app`, `services`, `client`, `web_data_dir`, `fresh_data_dir` or `data_dirs` run once on
SQLite and once on PostgreSQL. On PostgreSQL the loaded database is a template: the session's app
runs on a copy, and `fresh_data_dir` is a copy of its own (a file copy, dropped after the test).

These modules run on SQLite alone:
- test_backends.py compares the two backends itself, in one run;
- test_reading_assets.py serves static files and touches no store;
- test_base_url.py checks the URLs `serve` writes from its settings (a subprocess on the data
  folder's SQLite file);
- test_hf_client.py drives the Hugging Face client against the API's JSON, covered on both by
  test_api.py and test_backends.py;
- test_serve_prefork.py and test_connection_limits.py (new, owned by others): not checked on
  PostgreSQL yet.
A test marked `sqlite_only` runs on SQLite alone too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from webapp import Client, Databases, build_data_dir, make_app

BACKENDS = ("sqlite", "postgres")
SQLITE_ONLY_MODULES = {
    "test_backends", "test_reading_assets", "test_base_url", "test_hf_client", "test_serve_prefork",
    "test_connection_limits",
}


def pytest_generate_tests(metafunc):
    if "web_backend" not in metafunc.fixturenames:
        return
    name = metafunc.module.__name__.rsplit(".", 1)[-1]
    alone = name in SQLITE_ONLY_MODULES or metafunc.definition.get_closest_marker("sqlite_only")
    metafunc.parametrize("web_backend", ["sqlite"] if alone else list(BACKENDS), indirect=True, scope="session")


@pytest.fixture(scope="session")
def web_backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def data_dirs(web_backend, request) -> Databases:
    """Makes, copies and drops the databases of data folders on this run's backend."""
    return Databases(request.getfixturevalue("pg_cluster") if web_backend == "postgres" else None)


@pytest.fixture(scope="session")
def web_template(data_dirs, tmp_path_factory) -> Path:
    """The loaded data folder, built once per backend and never opened again: tests get copies."""
    return build_data_dir(tmp_path_factory.mktemp(f"web-template-{data_dirs.backend}"), data_dirs.new())


@pytest.fixture(scope="session")
def web_data_dir(web_template, data_dirs, tmp_path_factory) -> Path:
    """The session's data folder, shared by the tests that only read."""
    target = data_dirs.copy(web_template, tmp_path_factory.mktemp("web-data") / "data")
    yield target
    data_dirs.drop(target)


@pytest.fixture(scope="session")
def app_and_services(web_data_dir):
    app, services = make_app(web_data_dir)
    yield app, services
    services.store.close()


@pytest.fixture(scope="session")
def app(app_and_services):
    return app_and_services[0]


@pytest.fixture(scope="session")
def services(app_and_services):
    return app_and_services[1]


@pytest.fixture()
def client(app):
    c = Client(app)
    yield c
    c.close()


@pytest.fixture()
def fresh_data_dir(tmp_path, web_template, data_dirs) -> Path:
    """A private copy of the loaded data folder and its database, for tests that change things."""
    target = data_dirs.copy(web_template, tmp_path / "data")
    yield target
    data_dirs.drop(target)
