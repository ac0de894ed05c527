"""A real slice: arXiv arrivals of 2025-10-06..31 and Hugging Face's lists to 2025-11-07."""

from __future__ import annotations

import pytest

from dailypapers.arrivals.history import History, read_arrivals, read_picks


@pytest.fixture(scope="session")
def slice_history(request) -> History:
    fixtures = request.config.rootpath / "tests" / "fixtures" / "arrivals"
    return History.of(read_arrivals(fixtures / "arrivals.jsonl.gz"), read_picks(fixtures / "lists"))
