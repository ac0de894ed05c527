"""Fixtures for the web tests (helpers live in webapp.py, importable as `webapp`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from webapp import Client, build_data_dir, make_app


@pytest.fixture(scope="session")
def web_data_dir(tmp_path_factory) -> Path:
    """A data dir with the database and search index, built once per session."""
    return build_data_dir(tmp_path_factory.mktemp("web-data"))


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
def fresh_data_dir(tmp_path, web_data_dir) -> Path:
    """A private copy of the loaded data dir, for tests that change things."""
    target = tmp_path / "data"
    shutil.copytree(web_data_dir, target)
    return target
