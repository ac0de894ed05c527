"""Ingest jobs: one function per source, each returning an IngestSummary.

The CLI calls these; they own progress bars and checkpoints, the pipeline owns
batching and commits.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from tqdm import tqdm

from dailypapers.ids import BadArxivId, parse_arxiv_id
from dailypapers.ingest import hf_daily, pipeline, snapshot
from dailypapers.ingest.arxiv_api import ArxivClient
from dailypapers.ingest.arxiv_oai import OAIHarvester
from dailypapers.ingest.pipeline import IngestSummary, Item, Rejection
from dailypapers.ingest.sources import expand_paths
from dailypapers.storage import IngestStore, PaperStore

Reporter = Callable[[Rejection], None]


def _bar(**kwargs) -> tqdm:
    # disable=None turns the bar off when stderr is not a terminal (cron, CI, pipes).
    return tqdm(disable=None, dynamic_ncols=True, **kwargs)


def ingest_hf_daily(store: PaperStore, path: Path, *, on_reject: Reporter | None = None,
                    holidays: Collection[dt.date] = ()) -> IngestSummary:
    files = expand_paths(path, hf_daily.PATTERNS)
    with _bar(total=len(files), unit="file", desc="hf-daily") as bar:
        source = hf_daily.read(path, on_file=lambda _f: bar.update(1))
        return pipeline.run(store, source, on_reject=on_reject, holidays=holidays)


def _checkpoint_key(path: Path) -> str:
    st = path.stat()
    ident = f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"
    return "jsonl:" + hashlib.sha1(ident.encode()).hexdigest()


def _position_state(key: str, position: object) -> tuple[str, str]:
    return key, str(position)


def ingest_jsonl(
    store: IngestStore,
    path: Path,
    *,
    restart: bool = False,
    on_reject: Reporter | None = None,
    on_resume: Callable[[int], None] | None = None,
    batch_size: int = pipeline.BATCH_SIZE,
    holidays: Collection[dt.date] = (),
) -> IngestSummary:
    """Stream a JSONL file; an interrupted run resumes after its last commit."""
    summary = IngestSummary()
    for file in expand_paths(path, ("*.jsonl", "*.jsonl.gz", "*.json")):
        key = _checkpoint_key(file)
        saved = store.get_state(key)
        start = 0 if restart or saved is None else int(saved)
        if start and on_resume:
            on_resume(start)
        total = file.stat().st_size if not snapshot.is_gzip(file) else None
        with _bar(total=total, initial=start if total else 0, unit="B", unit_scale=True, desc=file.name) as bar:
            source = snapshot.read(file, start=start, on_bytes=bar.update)
            summary.merge(
                pipeline.run(
                    store,
                    source,
                    batch_size=batch_size,
                    on_reject=on_reject,
                    checkpoint=functools.partial(_position_state, key),
                    holidays=holidays,
                )
            )
        store.set_state(key, "0")  # finished: a rerun reads the whole file again
    return summary


def ingest_items(
    store: PaperStore, items: Iterable[Item | Rejection], *, on_reject: Reporter | None = None
) -> IngestSummary:
    return pipeline.run(store, items, on_reject=on_reject)


def harvest_oai(
    store: IngestStore,
    settings,
    *,
    metadata_prefix: str = "arXivRaw",
    set_spec: str | None = None,
    from_date=None,
    until_date=None,
    on_reject: Reporter | None = None,
    say: Callable[[str], None] = print,
    client=None,
) -> IngestSummary:
    """Harvest page by page; each page is committed before its checkpoint moves on."""

    harvester = OAIHarvester(
        settings.arxiv_oai_url,
        store,
        metadata_prefix=metadata_prefix,
        set_spec=set_spec,
        from_date=from_date,
        until_date=until_date,
        delay=settings.arxiv_delay,
        timeout=settings.arxiv_timeout,
        client=client,
        holidays=settings.holidays,
    )
    if harvester.resumed_token:
        say(f"resuming the harvest from its saved position (token {harvester.resumed_token})")
    elif harvester.from_is_default and harvester.from_date:
        say(f"harvesting changes since the last harvest ({harvester.from_date})")
    summary = IngestSummary()
    with _bar(unit="record", desc="arxiv-oai") as bar:
        for page in harvester.pages():
            items: list[Item | Rejection] = [Item(p) for p in page.papers]
            items += [Rejection(where, reason) for where, reason in page.rejected]
            summary.merge(pipeline.run(store, items, on_reject=on_reject, holidays=settings.holidays))
            harvester.commit(page)
            if page.complete_list_size and bar.total != page.complete_list_size:
                bar.total = page.complete_list_size
                if page.cursor:
                    bar.n = page.cursor
            bar.update(len(page.papers) + len(page.rejected))
    if summary.total == 0:
        say("no new records")
    return summary


def fetch_arxiv_ids(
    store: PaperStore, settings, ids: list[str], *, on_reject: Reporter | None = None, client=None
) -> tuple[IngestSummary, list[str]]:
    """Fetch papers by id from the arXiv API; returns the summary and the ids arXiv does not know."""

    wanted: list[str] = []
    items: list[Item | Rejection] = []
    for raw in ids:
        try:
            wanted.append(str(parse_arxiv_id(raw)))
        except BadArxivId as e:
            items.append(Rejection(raw, str(e)))
    if client is None:
        client = ArxivClient(settings.arxiv_api_url, delay=settings.arxiv_delay, timeout=settings.arxiv_timeout)
    result = client.fetch(wanted) if wanted else None
    if result is not None:
        items += [Item(p) for p in result.papers]
        items += [Rejection(where, reason) for where, reason in result.rejected]
    summary = pipeline.run(store, items, on_reject=on_reject, holidays=settings.holidays)
    return summary, (result.missing if result else [])
