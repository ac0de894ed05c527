"""The bundled arrivals (demo/arrivals.jsonl.gz, cut by scripts/make_demo_arrivals.py) and their
vectors (demo/arrivals-embeddings.npz), which `make demo` loads and ranks: read with the real
reader, as `dailypapers ingest jsonl` reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dailypapers.ingest import snapshot
from dailypapers.ingest.hf_daily import day_from_name
from dailypapers.ingest.pipeline import Item, Rejection
from dailypapers.search.embedder import document_text
from dailypapers.search.embedding_jobs import text_hash

DEMO = Path(__file__).resolve().parent.parent / "demo"
ARRIVALS = DEMO / "arrivals.jsonl.gz"
ARRIVAL_EMBEDDINGS = DEMO / "arrivals-embeddings.npz"


@pytest.fixture(scope="module")
def papers():
    items = list(snapshot.read(ARRIVALS))
    assert [i for i in items if isinstance(i, Rejection)] == []
    return [i.paper for i in items if isinstance(i, Item)]


def test_the_slice_parses_and_every_paper_has_its_announcement_day(papers):
    assert len(papers) > 1000
    assert len({p.arxiv_id for p in papers}) == len(papers)
    assert all(p.announced is not None for p in papers)
    days = {p.announced for p in papers if p.announced}
    span = (max(days) - min(days)).days + 1
    assert 30 <= span <= 60


def test_the_slice_ends_with_the_bundled_lists_so_its_arrivals_can_be_labelled(papers):
    last_list = max(d for d in map(day_from_name, (DEMO / "hf-daily").iterdir()) if d)
    assert max(p.announced for p in papers if p.announced) == last_list


def test_every_paper_has_a_vector_made_from_its_text_the_way_the_demo_embeddings_are(papers):
    data = np.load(ARRIVAL_EMBEDDINGS, allow_pickle=False)
    reference = np.load(DEMO / "embeddings.npz", allow_pickle=False)
    assert str(data["model_id"]) == str(reference["model_id"])
    assert data["vectors"].dtype == reference["vectors"].dtype
    assert data["vectors"].shape == (len(data["ids"]), reference["vectors"].shape[1])
    assert np.isfinite(data["vectors"]).all()
    hashes = dict(zip((str(i) for i in data["ids"]), (str(h) for h in data["text_hash"])))
    missing = [p.arxiv_id for p in papers if p.arxiv_id not in hashes]
    assert missing == []
    # `embed --import` skips a vector whose text hash no longer matches the paper.
    stale = [p.arxiv_id for p in papers if hashes[p.arxiv_id] != text_hash(document_text(p.title, p.abstract))]
    assert stale == []
