"""SearchEngine.matching: the yes-or-no of a saved search over given papers (the arrivals rules)."""

from __future__ import annotations

import datetime as dt

from dailypapers.models import Paper
from dailypapers.search.engine import SearchEngine

DAY = dt.date(2026, 8, 20)


def paper(n: int, title: str, abstract: str, authors=("Ada Lovelace",), categories=("cs.CL",)) -> Paper:
    return Paper(arxiv_id=f"2608.{n:05d}", title=title, abstract=abstract, authors=list(authors),
                 categories=list(categories), announced=DAY)


def test_matching_needs_the_words_and_honours_restrictions(store, tmp_path):
    store.ingest_batch([
        paper(1, "Retrieval-augmented generation for long documents", "We retrieve passages."),
        paper(2, "Speech recognition at scale", "Retrieval is not used; generation of transcripts.",
              categories=("eess.AS", "cs.CL")),
        paper(3, "Generation of images", "A diffusion model.", authors=("Grace Hopper",), categories=("cs.CV",)),
        paper(4, "Retrieval of images by text", "Contrastive training."),
    ])
    engine = SearchEngine(store, tmp_path / "index", None)
    engine.sync()
    try:
        ids = [f"2608.{n:05d}" for n in range(1, 5)]
        # both words, in any field; one of them is not enough
        assert engine.matching("retrieval generation", ids) == {"2608.00001", "2608.00002"}
        assert engine.matching("retrieval generation", ids[1:]) == {"2608.00002"}
        assert engine.matching('"retrieval-augmented generation"', ids) == {"2608.00001"}
        assert engine.matching("retrieval -images", ids) == {"2608.00001", "2608.00002"}
        assert engine.matching("cat:cs.CV", ids) == {"2608.00003"}
        assert engine.matching("author:hopper generation", ids) == {"2608.00003"}
        assert engine.matching("the of", ids) == set()  # nothing to match on
        assert engine.matching("retrieval", []) == set()
    finally:
        engine.close()
