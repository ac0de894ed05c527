"""Bulk JSONL: Kaggle snapshot and arxiv-daily-cs formats, streaming and resuming."""

import datetime as dt
import gzip
import json
import shutil

from dailypapers.ingest import snapshot
from dailypapers.ingest.jobs import ingest_jsonl


def test_kaggle_snapshot_format(store, fixtures):
    summary = ingest_jsonl(store, fixtures / "kaggle_sample.jsonl")
    assert (summary.added, summary.rejected) == (30, 0)
    first = json.loads((fixtures / "kaggle_sample.jsonl").read_text().splitlines()[0])
    p = store.get_paper(first["id"])
    assert p.title == first["title"]
    assert p.abstract == " ".join(first["abstract"].split())
    assert p.authors == [f"{f} {l}".strip() for l, f, _ in first["authors_parsed"]]
    assert p.categories == first["categories"].split()
    assert p.version == len(first["versions"])
    assert p.published.tzinfo is not None


def test_versions_in_kaggle_records(store, fixtures):
    ingest_jsonl(store, fixtures / "kaggle_sample.jsonl")
    versions = {store.get_paper(json.loads(l)["id"]).version for l in (fixtures / "kaggle_sample.jsonl").open()}
    assert versions == {1, 2}


def test_arxiv_daily_cs_format(store, fixtures):
    summary = ingest_jsonl(store, fixtures / "arxiv_daily_sample.jsonl")
    assert (summary.added, summary.rejected) == (30, 0)
    first = json.loads((fixtures / "arxiv_daily_sample.jsonl").read_text().splitlines()[0])
    p = store.get_paper(first["id"])
    assert p.authors == first["authors"] and p.categories == first["categories"]
    assert p.published.date() == dt.date.fromisoformat(first["first_listed"])


def test_gzip_is_read_by_content(store, fixtures, tmp_path):
    gz = tmp_path / "sample.jsonl.gz"
    with gzip.open(gz, "wb") as f:
        f.write((fixtures / "kaggle_sample.jsonl").read_bytes())
    assert ingest_jsonl(store, gz).added == 30


def test_bad_lines_are_named_and_skipped(store, fixtures, tmp_path):
    lines = (fixtures / "arxiv_daily_sample.jsonl").read_bytes().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join([
        lines[0],
        b"{broken json",
        b'{"id": "nope", "title": "t", "abstract": "a", "authors": ["x"]}',
        b'{"id": "2503.00001", "abstract": "a", "authors": ["x"]}',
        b'{"id": "2503.00002", "title": "t", "abstract": "\xff\xfe", "authors": ["x"]}',
        b"[1, 2]",
        lines[1],
    ]) + b"\n")
    summary = ingest_jsonl(store, bad)
    assert (summary.added, summary.rejected) == (2, 5)
    where = [r.where for r in summary.rejections]
    assert where == [f"{bad}:{n}" for n in (2, 3, 4, 5, 6)]
    reasons = " | ".join(r.reason for r in summary.rejections)
    assert "malformed JSON" in reasons and "not an arXiv id" in reasons and "no title" in reasons
    assert "UTF-8" in reasons and "not a JSON object" in reasons


def test_resumes_after_the_last_committed_batch(store, fixtures, tmp_path, monkeypatch):
    path = tmp_path / "big.jsonl"
    shutil.copy(fixtures / "arxiv_daily_sample.jsonl", path)

    class Stop(Exception):
        pass

    real_read = snapshot.read

    def read_then_stop(p, start=0, on_bytes=None):
        # The process "dies" while reading the 26th record.
        for n, item in enumerate(real_read(p, start=start, on_bytes=on_bytes)):
            if n == 25:
                raise Stop
            yield item

    monkeypatch.setattr(snapshot, "read", read_then_stop)
    try:
        ingest_jsonl(store, path, batch_size=10)
    except Stop:
        pass
    monkeypatch.setattr(snapshot, "read", real_read)
    assert store.stats()["papers"] == 20  # two batches of ten were committed
    resumed_at = []
    summary = ingest_jsonl(store, path, batch_size=10, on_resume=resumed_at.append)
    assert resumed_at and resumed_at[0] > 0
    assert (summary.added, summary.unchanged) == (10, 0)  # only the uncommitted tail was read
    assert store.stats()["papers"] == 30
    assert ingest_jsonl(store, path).unchanged == 30  # a finished file is read whole next time


def test_memory_is_flat_because_it_streams(fixtures):
    items = snapshot.read(fixtures / "arxiv_daily_sample.jsonl")
    first = next(items)
    assert first.paper.arxiv_id and first.position > 0  # a generator, one record at a time


def test_split_authors():
    assert snapshot.split_authors("A. One, B. Two and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert snapshot.split_authors("A. One,\n  B. Two, and C. Three") == ["A. One", "B. Two", "C. Three"]
