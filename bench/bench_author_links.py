"""What linking author names costs the home page, and what an author's page costs, in process.

The home page (`/`) is served from the page cache: a visitor gets stored bytes, a member the
stored page personalized and gzipped at level 1 (web/personal.py). Linking each card's authors
(at most 6 per card, ``<a href="/authors/NAME">``) adds to the render on a cache miss and to the
bytes every member's copy gzips. This script measures both, in the same run, for the card
template as it is (author links) and as it was (plain names: the baseline, the `_macros.html`
from git HEAD loaded over the current templates).

It also times `PaperService.author` (an author's page on a miss: the search index's candidates
with the surname and first initial, the papers read, the name rule applied) for the most common
surname of the data and a rare one.

Data: the HF Daily Papers of tests/fixtures/hf_raw (9 days), loaded into a temporary SQLite file
with its search index, as the web tests do. Renders alternate between the two templates.

    python bench/bench_author_links.py [--n 300] [--no-append]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader
from starlette.requests import Request

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _report import REPO, append_section, median, table  # noqa: E402
from webapp import build_data_dir, make_app  # noqa: E402

from dailypapers.community.follows import author_parts  # noqa: E402
from dailypapers.web.lists import _day_context  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="renders of each template (interleaved)")
    ap.add_argument("--no-append", action="store_true", help="print only; do not append to BENCHMARKS.md")
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-authors-")) / "data"
    build_data_dir(data_dir)
    app, services = make_app(data_dir)
    site = app.state.site
    old_macros = subprocess.run(["git", "show", "HEAD:src/dailypapers/web/templates/_macros.html"], cwd=REPO,
                                capture_output=True, text=True, check=True).stdout
    baseline = site.env.overlay(loader=ChoiceLoader([DictLoader({"_macros.html": old_macros}), site.env.loader]))
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [], "app": app,
             "state": {"csrf_placeholder": True}, "scheme": "http", "server": ("testserver", 80), "root_path": ""}
    request = Request(scope)
    view = services.papers.home("upvotes")
    ctx = {"request": request, "canonical": site.absolute("/"), "me": None, **_day_context(view, "/", home=True)}
    envs = {"with author links": site.env, "baseline: plain names": baseline}
    bodies = {k: e.get_template("list.html").render(ctx).encode() for k, e in envs.items()}
    times: dict[str, list[float]] = {k: [] for k in envs}
    gz: dict[str, list[float]] = {k: [] for k in envs}
    for _ in range(args.n):
        for k, e in envs.items():
            t = time.perf_counter()
            e.get_template("list.html").render(ctx)
            times[k].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            gzip.compress(bodies[k], 1, mtime=0)
            gz[k].append((time.perf_counter() - t) * 1000)
    rows = [[k, len(view.entries), median(times[k]), median(gz[k]), len(bodies[k]), len(gzip.compress(bodies[k], 6))]
            for k in envs]
    home = table(["`/` list.html", "papers", "render ms (p50)", "gzip-1 ms (p50, a member's copy)", "bytes",
                  "gzip-6 bytes"], rows)

    surnames = collections.Counter(author_parts(a)[0] for p in services.store.iter_papers() for a in p.authors)
    common = surnames.most_common(1)[0][0]
    names = {}
    for p in services.store.iter_papers():
        for a in p.authors:
            s = author_parts(a)[0]
            if s == common and "common" not in names:
                names["common"] = a
            elif surnames[s] == 1 and "rare" not in names:
                names["rare"] = a
    author_rows = []
    for label, name in names.items():
        runs = []
        for _ in range(max(20, args.n // 10)):
            t = time.perf_counter()
            got = services.papers.author(name)
            runs.append((time.perf_counter() - t) * 1000)
        author_rows.append([f"{label} surname ({surnames[author_parts(name)[0]]} author slots): {name}", got.total,
                            median(runs)])
    author = table(["`PaperService.author` (an author page's miss)", "papers", "ms (p50)"], author_rows)
    services.store.close()

    body = (f"Data: tests/fixtures/hf_raw (9 days; the latest day's {len(view.entries)} papers on `/`), SQLite, "
            f"in process, {args.n} renders of each template, interleaved; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores.\n\n" + home + "\n\n" + author + "\n")
    print(body)
    if not args.no_append:
        append_section("Author links on list cards, and an author's page (bench_author_links.py)", None, body)


if __name__ == "__main__":
    main()
