"""Fixtures for the community tests live in community_helpers.py (a uniquely named module, so that
tests can import its helpers while other folders have their own conftest.py)."""

from community_helpers import arxiv_server, env, smtp  # noqa: F401  (fixtures)
