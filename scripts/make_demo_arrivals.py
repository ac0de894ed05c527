"""Cuts the bundled arrivals (demo/arrivals.jsonl.gz) out of the arxiv-daily-cs data.

    python scripts/make_demo_arrivals.py ../shared/data/arxiv-daily-cs [--days 45]

Keeps the papers first listed in the last DAYS calendar days of the data (by `first_listed`),
with only the fields the bulk JSONL reader uses, and writes demo/arrivals-MANIFEST.txt beside
them. Deterministic: the same input gives byte-identical files. Their vectors are made
afterwards; the manifest has the commands.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gzip
import io
import json
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE_FILE = "arxiv_cs_papers_dedup.jsonl.gz"
# What ingest/snapshot.py reads from an arxiv-daily-cs record; pdf, abs and listing_dates are dropped.
FIELDS = ("id", "title", "authors", "categories", "comment", "abstract", "first_listed")

EMBED_COMMANDS = """\
    tmp=$(mktemp -d)
    nice -n 10 .venv/bin/dailypapers --data-dir "$tmp" migrate
    nice -n 10 .venv/bin/dailypapers --data-dir "$tmp" ingest jsonl demo/arrivals.jsonl.gz
    nice -n 10 .venv/bin/dailypapers --data-dir "$tmp" embed
    nice -n 10 .venv/bin/dailypapers --data-dir "$tmp" embed --export demo/arrivals-embeddings.npz
    rm -rf "$tmp"
"""


def source_header(manifest: Path) -> str:
    """The source, commit and licence lines of the shared MANIFEST (everything before "Files here")."""
    lines = manifest.read_text(encoding="utf-8").splitlines()
    head = []
    for line in lines[2:]:  # skip the title and its underline
        if line.startswith("Files here"):
            break
        head.append(line)
    return "\n".join(head).strip("\n")


def cut(source: Path, days: int) -> tuple[list[dict], dt.date, dt.date]:
    records = []
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    last = max(dt.date.fromisoformat(r["first_listed"]) for r in records)
    first = last - dt.timedelta(days=days - 1)
    kept = [{k: r.get(k) for k in FIELDS} for r in records
            if dt.date.fromisoformat(r["first_listed"]) >= first]
    kept.sort(key=lambda r: (r["first_listed"], r["id"]))
    return kept, first, last


def picked_within(records: list[dict], lists: Path, window: int = 7) -> tuple[int, int]:
    """(papers on a Hugging Face list of demo/hf-daily within `window` days of their arrival,
    Hugging Face list days in the slice's range), read with the project's own reader."""
    from dailypapers.ingest.hf_daily import read
    from dailypapers.ingest.pipeline import Item

    listed: dict[str, list[dt.date]] = collections.defaultdict(list)
    for item in read(lists):
        if isinstance(item, Item) and item.listing is not None:
            listed[item.paper.arxiv_id].append(item.listing.day)
    picked = 0
    for r in records:
        day = dt.date.fromisoformat(r["first_listed"])
        if any(day <= d <= day + dt.timedelta(days=window) for d in listed.get(r["id"], ())):
            picked += 1
    first = min(r["first_listed"] for r in records)
    days = {d for ds in listed.values() for d in ds if d.isoformat() >= first}
    return picked, len(days)


def write_jsonl_gz(records: list[dict], path: Path) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the same records give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        for r in records:
            gz.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    path.write_bytes(buf.getvalue())


def manifest_text(records: list[dict], first: dt.date, last: dt.date, days: int, header: str,
                  out: Path) -> str:
    per_day = collections.Counter(r["first_listed"] for r in records)
    primary = collections.Counter(r["categories"][0] for r in records if r["categories"])
    counts = sorted(per_day.values())
    anywhere = collections.Counter(c for r in records for c in dict.fromkeys(r["categories"]))
    top = ", ".join(f"{c} {n:,}" for c, n in primary.most_common(8))
    listed = ", ".join(f"{c} {n:,}" for c, n in anywhere.most_common(8))
    picked, list_days = picked_within(records, REPO / "demo" / "hf-daily")
    vectors = ""
    npz = out.parent / "arrivals-embeddings.npz"
    if npz.exists():
        import numpy as np

        data = np.load(npz, allow_pickle=False)
        stale = {r["id"] for r in records} ^ {str(i) for i in data["ids"]}
        vectors = (f":\n                             {data['vectors'].shape[0]:,} x {data['vectors'].shape[1]} "
                   f"{data['vectors'].dtype}, model {data['model_id']}, {npz.stat().st_size / 1e6:.1f} MB"
                   + (f" - OUT OF DATE, {len(stale)} ids differ: remake it" if stale else ""))
    size = out.stat().st_size
    return f"""\
arrivals  (the bundled arXiv arrivals: `make run` ranks them on /papers/new)
============================================================================
Cut from    : ../shared/data/arxiv-daily-cs/{SOURCE_FILE} (the project's shared data folder)
Source of that file, as its MANIFEST.txt says:
{header}

How cut
-------
    python scripts/make_demo_arrivals.py ../shared/data/arxiv-daily-cs --days {days}

Papers whose first_listed is in the last {days} calendar days of the data ({first} .. {last}),
sorted by (first_listed, id). Kept fields: {", ".join(FIELDS)}
(the ones dailypapers' bulk JSONL reader uses; pdf, abs and listing_dates dropped). Values are
copied unchanged. gzip level 9 with mtime 0, so a rerun gives the same bytes.

Files
-----
arrivals.jsonl.gz            {len(records):,} papers, {size / 1e6:.1f} MB. first_listed becomes the paper's
                             announcement day (Paper.announced).
arrivals-embeddings.npz      their vectors, made exactly like embeddings.npz (float16, same model){vectors},
                             by these commands (9 minutes here, 4 of them CPU, on 2 busy cores):
{EMBED_COMMANDS}
Counts
------
{len(per_day)} announcement days from {min(per_day)} to {max(per_day)}; papers per day: min {counts[0]},
median {counts[len(counts) // 2]}, max {counts[-1]}.
{textwrap.fill(f"Primary (first) category: {top}{' and more' if len(primary) > 8 else ''}.", 100)}
{textwrap.fill(f"Any category, cross-lists included: {listed}{' and more' if len(anywhere) > 8 else ''}.", 100)}
The Hugging Face lists in hf-daily/ also end {last}, so the arrivals of this slice can be
labelled by those lists: {picked:,} of them were on one of the {list_days} lists from {first} on
within 7 days of their arrival (what counts as picked).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help=f"the arxiv-daily-cs folder (or its {SOURCE_FILE})")
    parser.add_argument("--days", type=int, default=45, help="calendar days to keep [default: 45]")
    parser.add_argument("--out", type=Path, default=REPO / "demo" / "arrivals.jsonl.gz")
    args = parser.parse_args(argv)
    folder = args.data if args.data.is_dir() else args.data.parent
    source = folder / SOURCE_FILE if args.data.is_dir() else args.data
    records, first, last = cut(source, args.days)
    write_jsonl_gz(records, args.out)
    manifest = args.out.parent / "arrivals-MANIFEST.txt"
    manifest.write_text(manifest_text(records, first, last, args.days, source_header(folder / "MANIFEST.txt"),
                                      args.out), encoding="utf-8")
    print(f"wrote {len(records):,} papers ({first} .. {last}) to {args.out} and {manifest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
